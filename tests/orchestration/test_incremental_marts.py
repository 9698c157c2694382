"""Incremental marts on the small demo: a new period costs a new period's work, and the result
equals a full build, row for row. Real demo server, real Dagster run, real dbt."""

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import ingest_and_build, point_environment

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.server import DemoServer
from lgperf.settings import DBT_PROJECT_DIR, Environment, load_pipeline_config
from orchestration.dbt import build_args, dbt_executable

# A scenario of several whole-pipeline refreshes (a minute or more): `make soak` runs it, `make test` leaves it out.
pytestmark = pytest.mark.soak

# the incremental models, by schema: the staging values (as large as the fact) and three marts
INCREMENTAL = {
    "stg_lginform__values": "staging",
    "fct_indicator_values": "candidate",
    "benchmarks": "candidate",
    "spc": "candidate",
}
INCREMENTAL_MARTS = tuple(INCREMENTAL)


def refresh_all(env: Environment, instance: dg.DagsterInstance) -> None:
    """refresh_all's ingestion and dbt build, as a real Dagster run (what is published is not the subject)."""
    assert ingest_and_build(env, instance).success


@pytest.fixture
def warehouse(demo_baseline, tmp_path, monkeypatch, demo_server) -> Environment:
    """This test's copy of the warehouse after one refresh_all of the small demo (conftest's
    demo_baseline: its incremental models' first, full build), the environment pointing at it."""
    env = use_environment(monkeypatch, tmp_path, demo_server)
    shutil.copy(demo_baseline / "warehouse.duckdb", env.warehouse_path)
    return env


def use_environment(monkeypatch, folder: Path, server: DemoServer) -> Environment:
    return point_environment(
        monkeypatch,
        folder,
        LGINFORM_BASE_URL=server.url,
        LGINFORM_APPLICATION_KEY=DEMO_APPLICATION_KEY,
        LGINFORM_SECRET=DEMO_SECRET,
    )


def snapshot(env: Environment) -> dict[str, list[tuple]]:
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        # computed_at says which build computed a row, so it differs between equal builds by design
        return {
            m: connection.execute(f"SELECT * EXCLUDE (computed_at) FROM {schema}.{m} ORDER BY ALL").fetchall()
            for m, schema in INCREMENTAL.items()
        }


def builds(env: Environment) -> list[dict]:
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        cursor = connection.execute(
            "SELECT model, mode, reason, rows_recomputed, rows_after FROM audit.mart_builds ORDER BY built_at"
        )
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]


def dbt_build(env: Environment, *extra: str, config=None, command: str = "run") -> None:
    """dbt on the staging values, the intermediate models and the marts; ``run`` skips the tests, which are not the
    subject here (``build`` runs them, as every Dagster run does)."""
    config = config or load_pipeline_config(env.config_path)
    subprocess.run(
        [
            dbt_executable(),
            command,
            *build_args(config, ["staging", "intermediate", "marts"], unit_tests=True)[1:],
            *extra,
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(env.warehouse_path.parent / "dbt-target"),
        ],
        check=True,
        cwd=DBT_PROJECT_DIR,
    )


def test_the_first_build_is_full(warehouse):
    assert {
        b["model"]: (b["mode"], b["rows_recomputed"] == b["rows_after"] > 0) for b in builds(warehouse)
    } == dict.fromkeys(INCREMENTAL_MARTS, ("full", True))


def test_a_new_period_recomputes_only_its_slices_and_equals_a_full_build(warehouse, demo_server):
    first = builds(warehouse)
    published = demo_server.publish(date(2026, 1, 31))  # a new quarter of 91003 (quarterly) is out
    assert "91003" in published
    refresh_all(warehouse, dg.DagsterInstance.ephemeral())
    second = builds(warehouse)[len(first) :]
    assert {b["model"]: b["mode"] for b in second} == dict.fromkeys(INCREMENTAL_MARTS, "incremental")

    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as connection:
        new_period = connection.execute(
            "SELECT max(period_id) FROM candidate.fct_indicator_values WHERE indicator_id = '91003'"
        ).fetchall()[0][0]
        areas = connection.execute(
            "SELECT count(DISTINCT area_code) FROM candidate.fct_indicator_values WHERE indicator_id = '91003'"
        ).fetchall()[0][0]
        new_benchmark_rows = connection.execute(
            "SELECT count(*) FROM candidate.benchmarks WHERE indicator_id = '91003' AND period_id = ?", [new_period]
        ).fetchall()[0][0]
        series_rows = connection.execute("SELECT count(*) FROM candidate.spc WHERE indicator_id = '91003'").fetchall()[
            0
        ][0]
        new_raw_rows = connection.execute(
            "SELECT count(*) FROM raw.lginform_values WHERE ingested_at > (SELECT min(built_at) FROM audit.mart_builds)"
        ).fetchall()[0][0]
    recomputed = {b["model"]: b["rows_recomputed"] for b in second}
    assert (
        recomputed["stg_lginform__values"] == new_raw_rows > 0
    )  # each new raw value is a new cell's preferred version
    # the new quarter's cells, the new quarter's group rows, and 91003's series (limits move with every point)
    assert recomputed["fct_indicator_values"] == areas == 16
    assert recomputed["benchmarks"] == new_benchmark_rows > 0
    assert recomputed["spc"] == series_rows
    assert all(b["rows_recomputed"] < b["rows_after"] for b in second)

    incremental = snapshot(warehouse)
    dbt_build(warehouse, "--full-refresh")
    assert [b["mode"] for b in builds(warehouse)[len(first) + len(second) :]] == ["full"] * 4
    assert snapshot(warehouse) == incremental


def test_nothing_new_recomputes_nothing(warehouse):
    before = snapshot(warehouse)
    dbt_build(warehouse)
    last = builds(warehouse)[-4:]
    assert [(b["mode"], b["rows_recomputed"]) for b in last] == [("incremental", 0)] * 4
    assert snapshot(warehouse) == before


def test_changed_rules_rebuild_the_marts_that_depend_on_them(warehouse):
    config = load_pipeline_config(warehouse.config_path)
    fewer_points_for_limits = config.model_copy(
        update={
            "thresholds": config.thresholds.model_copy(
                update={"spc": config.thresholds.spc.model_copy(update={"min_points_for_limits": 4})}
            )
        }
    )
    before = snapshot(warehouse)["spc"]
    # build: the unit tests pin their own rule lengths, so a council's settings cannot fail them
    dbt_build(warehouse, config=fewer_points_for_limits, command="build")
    modes = {b["model"]: (b["mode"], b["reason"]) for b in builds(warehouse)[-4:]}
    assert modes["fct_indicator_values"][0] == "incremental" and modes["benchmarks"][0] == "incremental"
    assert modes["spc"] == ("rebuild", "rules changed since the last build")
    rebuilt = snapshot(warehouse)["spc"]
    assert rebuilt != before  # 8-point series no longer have trial limits
    dbt_build(warehouse, "--full-refresh", config=fewer_points_for_limits)
    assert snapshot(warehouse)["spc"] == rebuilt


def test_a_rebuilt_fact_cascades_to_the_marts_built_from_it(warehouse):
    with duckdb.connect(str(warehouse.warehouse_path)) as connection:
        # an earlier build's record tampered with: the fact table no longer trusts its own state
        connection.execute(
            "UPDATE audit.mart_builds SET rules_fingerprint = 'stale' WHERE model = 'fct_indicator_values'"
        ).fetchall()
    dbt_build(warehouse)
    modes = {b["model"]: b["mode"] for b in builds(warehouse)[-4:]}
    assert modes == {
        "stg_lginform__values": "incremental",
        "fct_indicator_values": "rebuild",
        "benchmarks": "rebuild",
        "spc": "rebuild",
    }
    assert all(len(rows) > 0 for rows in snapshot(warehouse).values())


def dbt_statuses(env: Environment, command: str, *selection: str) -> dict[str, str]:
    """Run dbt ``command`` (no unit tests) and return each data test's status by its name."""
    config = load_pipeline_config(env.config_path)
    target = env.warehouse_path.parent / "dbt-target"
    subprocess.run(
        [
            dbt_executable(),
            command,
            *build_args(config, selection)[1:],
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
        ],
        check=False,
        cwd=DBT_PROJECT_DIR,
    )
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    return {r["unique_id"].split(".")[2]: r["status"] for r in results if r["unique_id"].startswith("test.")}


def test_an_incremental_build_tests_the_rows_it_computed_and_keys_across_the_whole_table(warehouse):
    """A data test on an incremental model checks the rows its build computed (macros/scoped_tests.sql):
    a row an earlier build computed, spoilt since behind dbt's back, is not re-read by the next
    incremental build, while `dbt test` alone reads the whole table; the key's uniqueness is
    always checked across old and new rows."""
    with duckdb.connect(str(warehouse.warehouse_path)) as connection:
        connection.execute(
            "UPDATE candidate.fct_indicator_values SET source_reference = NULL "
            "WHERE (indicator_id, area_code, period_id) IN "
            "(SELECT indicator_id, area_code, period_id FROM candidate.fct_indicator_values LIMIT 1)"
        ).fetchall()
    not_null = "not_null_fct_indicator_values_source_reference"
    unique = "unique_combination_of_columns_fct_indicator_values_indicator_id__area_code__period_id"
    built = dbt_statuses(warehouse, "build", "fct_indicator_values")
    assert built[not_null] == "pass" and built[unique] == "pass"  # nothing new: no row of this build is spoilt
    assert dbt_statuses(warehouse, "test", "fct_indicator_values")[not_null] == "fail"  # the whole table

    with duckdb.connect(str(warehouse.warehouse_path)) as connection:  # an old row twice
        connection.execute(
            "INSERT INTO candidate.fct_indicator_values "
            "SELECT * FROM candidate.fct_indicator_values WHERE source_reference IS NOT NULL LIMIT 1"
        ).fetchall()
    built = dbt_statuses(warehouse, "build", "fct_indicator_values")
    assert built[unique] == "fail" and built[not_null] == "pass"


def test_a_new_period_the_spelling_rules_read_rebuilds_nothing_and_one_they_cannot_read_rebuilds(warehouse):
    """The API's period list decides a cell's period only where the spelling rules cannot read an
    id: a new financial year (readable) leaves every model incremental; an id they cannot read
    (a spelling received earlier may now be recognised as it) rebuilds the values and what follows."""

    def add_api_period(period_id: str) -> None:
        with duckdb.connect(str(warehouse.warehouse_path)) as connection:
            connection.execute(
                "INSERT INTO raw.lginform_periods SELECT $id, $id, start_date, end_date, period_type, source_system, "
                "source_reference, source_sha256, now(), run_id FROM raw.lginform_periods LIMIT 1",
                {"id": period_id},
            ).fetchall()

    add_api_period("fin_2031_32")
    dbt_build(warehouse)
    assert {b["model"]: b["mode"] for b in builds(warehouse)[-4:]} == dict.fromkeys(INCREMENTAL_MARTS, "incremental")
    add_api_period("special_2031")  # not a spelling the rules know
    dbt_build(warehouse)
    assert {b["model"]: (b["mode"], b["reason"]) for b in builds(warehouse)[-4:]} == dict.fromkeys(
        INCREMENTAL_MARTS, ("rebuild", "rules changed since the last build")
    )


def test_spc_rebuilds_whole_when_most_of_its_series_received_values(warehouse):
    """Slice by slice costs more than all at once when most slices changed: spc rebuilds whole,
    and says so with the counts, when at least half of its series received input."""
    with duckdb.connect(str(warehouse.warehouse_path)) as connection:
        series = connection.execute(
            "SELECT count(*) FROM (SELECT DISTINCT indicator_id, area_code FROM candidate.spc)"
        ).fetchall()[0][0]
        connection.execute(
            "UPDATE candidate.fct_indicator_values SET ingested_at = now()"
        ).fetchall()  # every series: new input
    before = snapshot(warehouse)["spc"]
    dbt_build(warehouse)
    spc = [b for b in builds(warehouse) if b["model"] == "spc"][-1]
    changed = int(spc["reason"].split(" of ")[0])  # the fact's series, of which spc holds those with values
    assert (
        spc["mode"] == "rebuild" and changed >= series and f" of {series} slices received input since " in spc["reason"]
    )
    assert spc["rows_recomputed"] == spc["rows_after"] and snapshot(warehouse)["spc"] == before
