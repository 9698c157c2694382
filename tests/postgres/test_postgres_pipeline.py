"""The pipeline with WAREHOUSE=postgres on a real server (see conftest.py): dbt builds the marts
there, the gate's frames run there, and the exports read them from there.

Both runs start from the same landed rows (the DuckDB file of one real run of the small demo),
so every check must reach the same verdict on the same number of rows, and every exported file
must say the same thing: the report and the open-data package byte for byte, the BI Parquet
files column for column and value for value."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import duckdb
import psycopg2
import pytest

from exports.partitions import MANIFEST
from tests.conftest import point_environment, run_assets
from tests.postgres.conftest import create_database

# A scenario of several whole-pipeline refreshes (a minute or more): `make soak` runs it, `make test` leaves it out.
pytestmark = pytest.mark.soak

REPO = Path(__file__).parents[2]

MART_SUITES = (
    "benchmarks",
    "complaints_by_ward",
    "complaints_summary",
    "fct_indicator_values",
    "indicator_performance",
    "resident_satisfaction",
)


@pytest.fixture(scope="module")
def run_on_postgres(demo_baseline, postgres_server, tmp_path_factory):
    """The transformation and exports groups (their checks included) run by Dagster with
    WAREHOUSE=postgres, on a copy of the baseline's landed rows, into a database of its own;
    Dagster's own storage (runs, events, the warehouse pool's slots) on the same server too, as
    the project's dagster-postgres.yaml sets it, in a database ``dagster``."""
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.resources import ensure_warehouse_pool

    folder = tmp_path_factory.mktemp("pipeline-on-postgres")
    shutil.copy(demo_baseline / "warehouse.duckdb", folder / "warehouse.duckdb")
    create_database(postgres_server, "lgperf_pipeline")
    create_database(postgres_server, "dagster")
    dagster_database = f"postgres@{postgres_server['PGHOST']}:{postgres_server['PGPORT']}/dagster"
    home = folder / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster-postgres.yaml", home / "dagster.yaml")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        monkeypatch.setenv("DAGSTER_POSTGRES_URL", f"postgresql+psycopg2://{dagster_database}")
        env = point_environment(
            monkeypatch,
            folder,  # the baseline's small demo config
            **{**postgres_server, "PGDATABASE": "lgperf_pipeline", "WAREHOUSE": "postgres"},
        )
        assert env.warehouse == "postgres"
        selection = dg.AssetSelection.groups("transformation", "publish", "exports")
        with dg.DagsterInstance.get() as instance:
            storage = (type(instance.run_storage).__name__, type(instance.event_log_storage).__name__)
            ensure_warehouse_pool(instance)
            result = run_assets(build_definitions(env), "on_postgres", selection, instance)
    return {
        "folder": folder,
        "result": result,
        "database": {**postgres_server, "PGDATABASE": "lgperf_pipeline"},
        "dagster": {"url": f"postgresql://{dagster_database}", "storage": storage},
    }


def test_dagster_keeps_the_run_on_postgres_storage(run_on_postgres):
    """The run above, with dagster-postgres.yaml as DAGSTER_HOME's instance: its run, its events
    and the warehouse pool's slots are in PostgreSQL, so every machine sharing it queues on it."""
    assert run_on_postgres["dagster"]["storage"] == ("PostgresRunStorage", "PostgresEventLogStorage")
    run_id = run_on_postgres["result"].run_id
    with psycopg2.connect(run_on_postgres["dagster"]["url"]) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT status FROM runs WHERE run_id = %s", (run_id,))
        assert cursor.fetchall() == [("SUCCESS",)]
        cursor.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            (run_id,),
        )
        assert cursor.fetchall()[0][0] >= 20
        cursor.execute("SELECT DISTINCT concurrency_key FROM concurrency_slots")
        assert ("warehouse",) in cursor.fetchall()


def test_dbt_built_the_marts_on_the_server_not_in_the_file(run_on_postgres, demo_baseline):
    assert run_on_postgres["result"].success
    database = run_on_postgres["database"]
    with psycopg2.connect(
        host=database["PGHOST"], port=database["PGPORT"], user="postgres", dbname=database["PGDATABASE"]
    ) as server:
        cursor = server.cursor()
        cursor.execute("SELECT count(*) FROM marts.fct_indicator_values")
        on_server = cursor.fetchall()[0][0]
        cursor.execute("SELECT count(*) FROM raw.lginform_values")
        raw_on_server = cursor.fetchall()[0][0]
    with duckdb.connect(str(demo_baseline / "warehouse.duckdb"), read_only=True) as baseline:
        assert on_server == baseline.execute("SELECT count(*) FROM marts.fct_indicator_values").fetchall()[0][0] > 500
        assert raw_on_server == baseline.execute("SELECT count(*) FROM raw.lginform_values").fetchall()[0][0]
    # the landing file's marts are the copy it came with: this run wrote none there
    with duckdb.connect(str(run_on_postgres["folder"] / "warehouse.duckdb"), read_only=True) as landing:
        builds = landing.execute("SELECT count(*) FROM audit.mart_builds").fetchall()[0][0]
    with duckdb.connect(str(demo_baseline / "warehouse.duckdb"), read_only=True) as baseline:
        assert builds == baseline.execute("SELECT count(*) FROM audit.mart_builds").fetchall()[0][0]


def _verdicts(warehouse: Path, run_id: str | None) -> dict[tuple, tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        run = run_id or connection.execute("SELECT min(run_id) FROM audit.validation_results").fetchall()[0][0]
        rows = connection.execute(
            "SELECT suite, expectation, kwargs, success, element_count, unexpected_count FROM audit.validation_results "
            "WHERE run_id = ? AND suite IN (SELECT unnest(?)) "
            "AND expectation <> 'expect_table_row_count_to_be_between'",
            [run, list(MART_SUITES)],
        ).fetchall()
    return {row[:3]: row[3:] for row in rows}


def test_every_check_on_the_marts_reaches_the_same_verdict_on_postgres(run_on_postgres, demo_baseline):
    on_postgres = _verdicts(run_on_postgres["folder"] / "warehouse.duckdb", run_on_postgres["result"].run_id)
    on_duckdb = _verdicts(demo_baseline / "warehouse.duckdb", None)
    assert len(on_duckdb) > 60 and {suite for suite, _, _ in on_duckdb} == set(MART_SUITES)
    assert on_postgres == on_duckdb


PRINTED = "report.pdf"


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _publication(folder: Path) -> str:
    return json.loads((folder / "exports" / "open-data" / "datapackage.json").read_text(encoding="utf-8"))[
        "publication"
    ]


def test_the_report_and_open_data_package_are_byte_for_byte_duckdbs(run_on_postgres, demo_baseline):
    """Byte for byte but for the id of the publication each carries (each warehouse published its own)."""
    ours, theirs = _publication(run_on_postgres["folder"]).encode(), _publication(demo_baseline).encode()
    assert ours != theirs
    database = run_on_postgres["database"]
    with psycopg2.connect(
        host=database["PGHOST"], port=database["PGPORT"], user="postgres", dbname=database["PGDATABASE"]
    ) as server:
        cursor = server.cursor()
        cursor.execute("SELECT publication_id FROM marts.publication")
        assert cursor.fetchall() == [(ours.decode(),)]  # the server's marts say which publication they are
    for export in ("report", "open-data"):
        expected, actual = demo_baseline / "exports" / export, run_on_postgres["folder"] / "exports" / export
        assert _files(actual) == _files(expected) and _files(expected), export
        different = [
            name
            for name in _files(expected)
            if name not in (MANIFEST, PRINTED)
            and (actual / name).read_bytes().replace(ours, theirs) != (expected / name).read_bytes()
        ]
        assert different == [], export
    # report.pdf carries the publication id in its compressed page text: compared page by page as text
    pypdf = pytest.importorskip("pypdf", reason="pypdf is a test dependency (pyproject.toml [test])")
    pages = [
        [page.extract_text() for page in pypdf.PdfReader(folder / "exports" / "report" / PRINTED).pages]
        for folder in (run_on_postgres["folder"], demo_baseline)
    ]
    assert [text.replace(ours.decode(), theirs.decode()) for text in pages[0]] == pages[1] and len(pages[1]) > 1
    # the manifest lists the same files and rows (a fingerprint
    # hashes the mirrored marts' values and types: not compared)
    listed = [
        {
            path: (entry["rows"], entry["bytes"])
            for path, entry in json.loads((folder / "exports" / "open-data" / MANIFEST).read_text(encoding="utf-8"))[
                "files"
            ].items()
        }
        for folder in (run_on_postgres["folder"], demo_baseline)
    ]
    assert listed[0] == listed[1] and listed[0]


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    return a == b


def test_the_bi_parquet_files_hold_duckdbs_columns_and_values(run_on_postgres, demo_baseline):
    expected, actual = demo_baseline / "exports" / "bi", run_on_postgres["folder"] / "exports" / "bi"
    assert _files(actual) == _files(expected)
    # every mart, and the publication they are (its id, time and fingerprint are each warehouse's own)
    parquet = [
        name
        for name in _files(expected)
        if name.endswith(".parquet") and name != "publication.parquet" and not name.startswith("revisions/")
    ]  # a mart with a period: one file per financial year
    assert {name.split("/")[0].removesuffix(".parquet") for name in parquet} == {
        "benchmarks",
        "complaints_by_ward",
        "complaints_summary",
        "dim_areas",
        "dim_indicators",
        "dim_periods",
        "fct_indicator_values",
        "indicator_performance",
        "resident_satisfaction",
        "spc",
        "spc_rebase_proposals",
    }
    assert (actual / "publication.parquet").exists()
    with duckdb.connect() as reader:
        for name in parquet:
            schema = "SELECT name, type FROM parquet_schema(?) ORDER BY name"
            assert (
                reader.execute(schema, [str(actual / name)]).fetchall()
                == reader.execute(schema, [str(expected / name)]).fetchall()
            ), name
            # written in a stable order (ORDER BY ALL); computed_at
            # says which build computed a row, each warehouse's own
            columns = [
                c for (c,) in reader.execute("SELECT name FROM parquet_schema(?)", [str(expected / name)]).fetchall()
            ]
            rows = f"SELECT * {'EXCLUDE (computed_at) ' if 'computed_at' in columns else ''}FROM read_parquet(?)"
            mine, theirs = (
                reader.execute(rows, [str(actual / name)]).fetchall(),
                reader.execute(rows, [str(expected / name)]).fetchall(),
            )
            assert len(mine) == len(theirs) > (-1 if name == "spc_rebase_proposals.parquet" else 0), (
                name
            )  # none in the small demo
            mismatches = [(name, a, b) for x, y in zip(mine, theirs) for a, b in zip(x, y) if not _same(a, b)]
            assert mismatches == [], mismatches[:5]


def test_the_reader_binds_parameters_and_keeps_types_nulls_and_empty_text_apart(postgres_server, monkeypatch):
    import datetime

    from lgperf import postgres

    for name, value in postgres_server.items():
        monkeypatch.setenv(name, value)
    with postgres.reader() as reader:
        result = reader.execute(
            "SELECT $text AS text, '' AS empty, NULL::text AS missing, $day AS day, 0.1::float8 + 0.2::float8 AS sum, "
            "'a%b' LIKE $pattern AS matched, 3::bigint AS count, now() AS stamped",
            {"text": 'O\'Brien; DROP TABLE x --\n"quoted"', "day": datetime.date(2026, 3, 31), "pattern": "a%"},
        )
        assert [(d[0], str(d[1])) for d in result.description] == [
            ("text", "VARCHAR"),
            ("empty", "VARCHAR"),
            ("missing", "VARCHAR"),
            ("day", "DATE"),
            ("sum", "DOUBLE"),
            ("matched", "BOOLEAN"),
            ("count", "BIGINT"),
            ("stamped", "TIMESTAMP WITH TIME ZONE"),
        ]
        row = result.fetchall()[0]
        assert row[:7] == (
            'O\'Brien; DROP TABLE x --\n"quoted"',
            "",
            None,
            datetime.date(2026, 3, 31),
            0.30000000000000004,
            True,
            3,
        )
        assert reader.execute("SELECT count(*) AS n FROM pg_class WHERE relname = ?", ["no such table"]).fetchall() == [
            (0,)
        ]
        assert reader.execute("SELECT 1 AS n WHERE false").fetchall() == []
        with pytest.raises(ValueError, match=r"result: no DuckDB type for PostgreSQL column\(s\) blob \(bytea\)"):
            reader.execute("SELECT '\\x00'::bytea AS blob")


def test_a_blocked_publication_on_postgres_leaves_the_servers_marts_and_the_exports_as_they_were(
    run_on_postgres, monkeypatch
):
    """Runs last: it breaks the server's candidate. The publish step judges it there, records the
    block in the landing file's audit, and neither the server's marts nor any export changes."""
    import dagster as dg

    from orchestration.definitions import build_definitions

    folder, database = run_on_postgres["folder"], run_on_postgres["database"]

    def server_state() -> list[tuple]:
        with psycopg2.connect(
            host=database["PGHOST"], port=database["PGPORT"], user="postgres", dbname=database["PGDATABASE"]
        ) as server:
            cursor = server.cursor()
            cursor.execute(
                "SELECT 'fct', count(*), sum(hashtext(t::text)::numeric) FROM marts.fct_indicator_values AS t "
                "UNION ALL SELECT 'publication', count(*), sum(hashtext(p::text)::numeric) FROM marts.publication AS p"
            )
            return cursor.fetchall()

    before, exports_before = (
        server_state(),
        {p: (folder / "exports" / p).read_bytes() for p in _files(folder / "exports") if not p.startswith("quality/")},
    )
    with psycopg2.connect(
        host=database["PGHOST"], port=database["PGPORT"], user="postgres", dbname=database["PGDATABASE"]
    ) as server:
        server.cursor().execute(
            "UPDATE candidate.fct_indicator_values SET value = 112.5 WHERE indicator_id = '90005' "
            "AND area_code = 'E08000009'"
        )
    env = point_environment(monkeypatch, folder, **{**database, "WAREHOUSE": "postgres"})
    selection = dg.AssetSelection.groups("publish", "exports")
    result = run_assets(build_definitions(env), "publish_on_postgres", selection)

    assert not result.success
    assert server_state() == before
    assert {
        p: (folder / "exports" / p).read_bytes() for p in _files(folder / "exports") if not p.startswith("quality/")
    } == exports_before
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as landing:
        decision, decided_by = landing.execute(
            "SELECT decision, decided_by FROM audit.publications ORDER BY decided_at DESC LIMIT 1"
        ).fetchall()[0]
    assert decision == "blocked" and json.loads(decided_by) == [{"check": "gx_fct_indicator_values"}]


def test_the_warehouse_scan_on_postgres_counts_what_gx_counts_on_whole_frames(run_on_postgres, monkeypatch):
    """Runs after the blocked publication, on the candidate it left broken, broken further: a phone
    number and a postcode in the narrative (PostgreSQL writes the regexes' word boundary \\b as \\y),
    repeated keys, values out of set. The gate's SQL scan on the server and GX over the whole frame
    in pandas reach the same verdict and counts on every expectation of every mart suite."""
    import datetime

    from expectations.runner import load_suites, read_frame, validate, validate_in_warehouse
    from lgperf import postgres
    from lgperf.publication import EPOCH

    database = run_on_postgres["database"]
    with psycopg2.connect(
        host=database["PGHOST"], port=database["PGPORT"], user="postgres", dbname=database["PGDATABASE"]
    ) as server:
        cursor = server.cursor()
        cursor.execute(
            "UPDATE candidate.indicator_performance "
            "SET narrative = narrative || ' Ring 0161 496 0123 or visit M32 0TH.' "
            "WHERE indicator_id IN (SELECT indicator_id FROM candidate.indicator_performance ORDER BY 1 LIMIT 2)"
        )
        cursor.execute("INSERT INTO candidate.benchmarks SELECT * FROM candidate.benchmarks LIMIT 2")
        cursor.execute(
            "UPDATE candidate.benchmarks SET quartile_band = 6 "
            "WHERE ctid IN (SELECT ctid FROM candidate.benchmarks LIMIT 5)"
        )
    for name, value in database.items():
        monkeypatch.setenv(name, value)
    parameters = {
        "run_id": None,
        "published_through": EPOCH,
        "council": "E08000009",
        "as_of": datetime.date(2025, 11, 1),
        "max_days_annually": 730,
        "max_days_quarterly": 365,
        "max_days_monthly": 180,
        "new_rows_since": EPOCH,
    }  # as if nothing were published: every row is new
    bounds = {"previous_rows_min": 0, "previous_rows_max": None}
    failed = set()
    with postgres.reader() as reader:
        for suite in (s for s in load_suites() if s.name in MART_SUITES):
            reduced = validate_in_warehouse(reader, suite, parameters, expectation_parameters=bounds).outcomes
            whole = validate(read_frame(reader, suite, parameters), suite, expectation_parameters=bounds).outcomes
            for mine, yardstick in zip(reduced, whole, strict=True):
                assert (mine.success, mine.element_count, mine.unexpected_count) == (
                    yardstick.success,
                    yardstick.element_count,
                    yardstick.unexpected_count,
                ), (suite.name, mine.expectation, mine.kwargs)
            failed |= {(suite.name, o.expectation, o.kwargs.get("column")) for o in reduced if not o.success}
    assert {
        ("indicator_performance", "expect_column_values_to_not_match_regex_list", "narrative"),
        ("benchmarks", "expect_column_values_to_be_in_set", "quartile_band"),
        ("benchmarks", "expect_compound_columns_to_be_unique", None),
        ("fct_indicator_values", "expect_column_values_to_be_between", "value"),
    } <= failed
