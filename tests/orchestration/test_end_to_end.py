"""End to end on the small demo: real demo HTTP server, real DuckDB, real dbt, real GX, a real
Dagster instance built from the project's dagster.yaml, in temporary folders."""

import hashlib
import re
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import RUN_OUTPUT, SMALL_METRIC_TYPES, point_environment

from demo.catalogue import TRAFFORD, build_catalogue
from demo.synthetic_inbox import demo_manifest
from exports.formatting import format_number

PROJECT = Path(__file__).parents[2]


@pytest.fixture
def dagster_home(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def expected_values(periods: int = 8) -> set[tuple[str, str, str, float | None]]:
    """What the demo catalogue says the small demo must load: every cell, nulls included."""
    catalogue = build_catalogue()
    areas = set(catalogue.areas_for_group_or_code("Trafford_CIPFA_Near_Neighbours")) | {TRAFFORD}
    cells = set()
    for metric in SMALL_METRIC_TYPES:
        for period in catalogue.periods_for(metric)[-periods:]:
            for area in areas:
                value = catalogue.value(metric, area, period.identifier)
                cells.add((metric, area, period.identifier, None if value is None else float(value)))
    return cells


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def query(env, sql: str) -> list[tuple]:
    return query_file(env.warehouse_path, sql)


def query_file(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_make_run_twice_loads_once_and_exports_the_same_bytes(demo_baseline, demo_second_run, monkeypatch):
    """The first `make run` is conftest's demo_baseline (orchestration.run's main on an empty
    folder, what it printed kept); the second is conftest's demo_second_run, the same again on a
    copy of it with the same inputs."""
    first, second = demo_baseline / "warehouse.duckdb", demo_second_run / "warehouse.duckdb"
    exports, inbox = demo_baseline / "exports", demo_baseline / "inbox"
    first_out = (demo_baseline / RUN_OUTPUT).read_text(encoding="utf-8")
    expected = expected_values()
    loaded = set(query_file(first, "SELECT indicator_id, area_code, period_id, value FROM marts.fct_indicator_values"))
    assert loaded == expected  # every cell as the API served it; null stays null
    assert any(v is None for *_, v in loaded)

    files = sorted((exports / "open-data" / "indicator_values").glob("*.csv"))  # one per financial year
    lines = []
    for csv_path in files:
        text = csv_path.read_text(encoding="utf-8").splitlines()
        assert text[0] == "indicator_id,area_code,period_id,value"
        assert text[1:] == sorted(text[1:])  # stable row order
        lines += text[1:]
    assert len(lines) == len(expected)
    # a known real value: Oflog ASC5 for Trafford reaches the export as published
    catalogue = build_catalogue()
    latest = catalogue.periods_for("90005")[-1].identifier
    assert f"90005,{TRAFFORD},{latest},{catalogue.value('90005', TRAFFORD, latest):g}" in lines

    # one line per stage, in order, with counts and seconds; dbt's
    # and Dagster's own output in the log file named at the end
    stages = [
        line.split()[0] for line in first_out.split("== summary ==")[0].splitlines() if re.search(r"\d+\.\d s$", line)
    ]
    assert stages == ["ingestion", "transformation", "publication", "exports", "quality"], first_out
    assert re.search(r"\n  ingestion +\d+ assets, [\d,]+ new rows, \d+ inbox files", first_out)
    assert len(first_out.splitlines()) <= 40, first_out  # the demo's whole output fits on one screen
    log = Path(re.search(r"log \(dbt and Dagster\) +(\S+)\n", first_out).group(1))
    assert log.parent == demo_baseline / "dagster_home" / "logs" and log.name.startswith("run-")
    logged = log.read_text(encoding="utf-8")
    assert "Running with dbt=" in logged and "STEP_SUCCESS" in logged  # dbt's and Dagster's own lines
    assert "Running with dbt=" not in first_out and "STEP_SUCCESS" not in first_out
    assert re.search(rf"lginform\s+raw\.lginform_values\s+{len(expected):,} / {len(expected):,}\n", first_out)
    # the one failure is a warning: Oflog's ASC5 and the ASCOF 90101 series end in 2022/23 and
    # 2021/22, longer before the demo's date than an annual indicator allows
    assert re.search(
        r"checks: \d+ passed, 1 failed\n    FAILED marts/publication:gx_fct_indicator_values \(warn\)\n"
        r"      freshness: the latest period is not older than the indicator's frequency allows "
        r"\(thresholds.freshness\): [1-9][\d,]* rows do not \(the quality report lists them\)\n",
        first_out,
    )
    assert str(exports / "open-data") in first_out
    # the demo inbox was dropped and landed, file by file
    surveys = query_file(first, "SELECT count(*) FROM raw.inbox_files WHERE folder = 'surveys'")[0][0]
    assert surveys == len([p for p in (inbox / "surveys" / "processed").iterdir() if p.suffix != ".txt"]) >= 2
    assert [p.name for p in (inbox / "surveys").iterdir()] == ["processed"]  # each taken, filed away
    # every demo row is either accepted or quarantined, as the demo planted it
    received, accepted, quarantined = query_file(
        first, "SELECT sum(rows_received), sum(rows_accepted), sum(rows_quarantined) FROM raw.inbox_files"
    )[0]
    manifest = demo_manifest()
    assert received == sum(f.rows_received for f in manifest) == accepted + quarantined
    assert quarantined == sum(
        n for f in manifest for r, n in f.messy_reasons.items() if r != "corrected_record_from_earlier_file"
    )
    staged = query_file(
        first,
        "SELECT (SELECT count(*) FROM staging.stg_inbox__survey_responses), "
        "(SELECT count(*) FROM staging.stg_inbox__complaints)",
    )[0]
    corrected = sum(f.messy_reasons.get("corrected_record_from_earlier_file", 0) for f in manifest)
    surveys_accepted, complaints_accepted = query_file(
        first, "SELECT (SELECT count(*) FROM raw.survey_responses), (SELECT count(*) FROM raw.complaints)"
    )[0]
    assert staged == (surveys_accepted, complaints_accepted - corrected)  # the corrected record replaces the first

    counts = (
        "SELECT (SELECT count(*) FROM raw.lginform_values), (SELECT count(*) FROM raw.inbox_files), "
        "(SELECT count(*) FROM raw.lginform_responses WHERE endpoint = '/data')"
    )
    second_out = (demo_second_run / RUN_OUTPUT).read_text(encoding="utf-8")
    assert re.search(rf"lginform\s+raw\.lginform_values\s+{len(expected):,} / 0\n", second_out)
    second_log = Path(re.search(r"log \(dbt and Dagster\) +(\S+)\n", second_out).group(1))
    assert second_log.parent == demo_second_run / "dagster_home" / "logs"
    assert "Running with dbt=" in second_log.read_text(encoding="utf-8")
    assert query_file(second, counts) == query_file(first, counts)
    # the second run asked what changed, made no /data call, and kept that answer too
    assert query_file(
        second, "SELECT count(*) FROM raw.lginform_responses WHERE request LIKE '%dataChangedSince=%'"
    ) == [(1,)]
    assert digest(demo_second_run / "exports" / "open-data") == digest(demo_baseline / "exports" / "open-data")
    # both runs are in the instance's history, and the auditor's report covers both
    monkeypatch.setenv("DAGSTER_HOME", str(demo_second_run / "dagster_home"))  # its dagster.yaml reads it
    with dg.DagsterInstance.from_config(str(demo_second_run / "dagster_home")) as instance:
        assert len(instance.get_runs(dg.RunsFilter(job_name="refresh_all"))) == 2
    report = (demo_second_run / "exports" / "quality" / "index.html").read_text(encoding="utf-8")
    assert report.count("gate passed") == 2


def test_every_value_traces_to_its_stored_response(demo_baseline):
    """On conftest's demo_baseline: one real refresh_all of the small demo, shared by the suite."""
    warehouse = demo_baseline / "warehouse.duckdb"
    assert query_file(warehouse, "SELECT count(*) FROM marts.fct_indicator_values")[0][0] > 500
    untraced = query_file(
        warehouse,
        """
        SELECT count(*) FROM marts.fct_indicator_values f
        LEFT JOIN raw.lginform_responses r ON r.sha256 = f.source_sha256 AND r.request = f.source_reference
        WHERE r.sha256 IS NULL OR f.run_id <> r.run_id
        """,
    )[0][0]
    assert untraced == 0
    stored = query_file(
        warehouse, "SELECT request, body_gzip, sha256 FROM raw.lginform_responses WHERE endpoint = '/data' LIMIT 1"
    )[0]
    import gzip

    assert hashlib.sha256(gzip.decompress(stored[1])).hexdigest() == stored[2]
    assert "ApplicationKey" not in stored[0] and "Signature" not in stored[0]


@pytest.mark.soak  # a refresh of its own (the publication flow and the gate's cases cover blocking too): make soak
def test_a_failed_gate_blocks_the_export_and_leaves_the_old_one_untouched(demo_baseline, tmp_path, monkeypatch):
    from orchestration.definitions import build_definitions

    shutil.copytree(demo_baseline, tmp_path / "run")  # after a good run, its export published
    pipeline_env = point_environment(monkeypatch, tmp_path / "run")
    job = build_definitions(pipeline_env).resolve_job_def("refresh_all")
    instance = dg.DagsterInstance.ephemeral()
    export = pipeline_env.export_dir / "open-data"
    assert (export / "datapackage.json").exists()
    before = digest(export)

    # a raw row whose lineage hash is not a SHA-256: dbt's tests pass, the GX suite does not
    with duckdb.connect(str(pipeline_env.warehouse_path)) as connection:
        connection.execute(
            """
            INSERT INTO raw.lginform_values (metric_type_id, area_code, period_id, value_type, value,
                source_system, source_reference, source_sha256, ingested_at, run_id)
            VALUES ('91003', 'E08000009', 'fin_2024_25_q1', 'raw', 12.5, 'lginform', 'planted by a test',
                'planted-by-test', ?, 'test')
            """,
            [datetime.now(UTC)],
        ).fetchall()

    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    evaluations = {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    gate = evaluations["gx_fct_indicator_values"]
    assert not gate.passed and gate.severity == dg.AssetCheckSeverity.ERROR
    materialised = {e.asset_key for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert dg.AssetKey(["exports", "open_data"]) not in materialised
    assert digest(export) == before  # byte for byte
    failures = query(
        pipeline_env,
        f"SELECT suite, expectation, unexpected_count, failing_sample FROM audit.validation_results "
        f"WHERE run_id = '{result.run_id}' AND NOT success AND severity = 'error' ORDER BY suite",
    )
    # the raw suite judges the row as loaded (not yet published), the fact's suite as built into the candidate
    assert failures == [
        ("fct_indicator_values", "expect_column_values_to_match_regex", 1, '["planted-by-test"]'),
        ("raw_lginform_values", "expect_column_values_to_match_regex", 1, '["planted-by-test"]'),
    ]


def test_the_project_instance_limits_the_warehouse_pool_to_one(dagster_home):
    instance = dg.DagsterInstance.get()
    assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
    assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 2


def test_the_scorecard_narrative_uses_only_the_rows_own_numbers(demo_baseline):
    """On conftest's demo_baseline: one real refresh_all of the small demo, shared by the suite."""
    with duckdb.connect(str(demo_baseline / "warehouse.duckdb"), read_only=True) as connection:
        cursor = connection.execute("SELECT * FROM marts.indicator_performance")
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, r)) for r in cursor.fetchall()]
    assert {r["indicator_id"] for r in rows} == set(SMALL_METRIC_TYPES)
    assert any(
        r["neighbours_rank"] is not None and r["neighbours_size"] == 16 for r in rows
    )  # Trafford among its 15 neighbours
    for row in rows:
        assert format_number(row["value"], row["output_precision"]) in row["narrative"]
        unexplained = narrative_numbers(row) - row_numbers(row)
        assert not unexplained, (unexplained, row["narrative"])


NUMBER = re.compile(
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
)  # a whole number as written, "4,321.5" one number, not three


def narrative_numbers(row: dict) -> set[str]:
    return set(NUMBER.findall(row["narrative"]))


def row_numbers(row: dict) -> set[str]:
    """Every number the row's other columns hold, as they are written (a period label's "2024/25"
    gives 2024 and 25) and as the report shows them (the indicator's precision, half away from zero)."""
    numbers = set()
    for column, value in row.items():
        if column == "narrative" or value is None:
            continue
        numbers |= set(NUMBER.findall(str(value)))
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            numbers |= set(NUMBER.findall(format_number(value, row["output_precision"])))
    return numbers


def test_the_narrative_check_sees_a_number_the_row_does_not_hold():
    row = {
        "narrative": "Claimants fell to 4321 in 2024/25 from 4410.",
        "value": 4321.0,
        "previous_value": 4410.0,
        "output_precision": 0,
        "period_label": "2024/25",
    }
    assert narrative_numbers(row) - row_numbers(row) == set()
    assert narrative_numbers(row | {"narrative": "Claimants fell to 4321, 2 fewer."}) - row_numbers(row) == {"2"}
    assert narrative_numbers(row | {"narrative": "Claimants: 4322."}) - row_numbers(row) == {"4322"}
