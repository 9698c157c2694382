"""Incremental marts on the small demo: a new period costs a new period's work, and the result
equals a full build, row for row. Real demo server, real Dagster run, real dbt."""

import shutil
import subprocess
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from conftest import point_environment
from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.server import DemoServer
from lgperf.settings import DBT_PROJECT_DIR, Environment, load_pipeline_config
from orchestration.dbt import build_args, dbt_executable

INCREMENTAL_MARTS = ("fct_indicator_values", "benchmarks", "spc")


def refresh_all(env: Environment, instance: dg.DagsterInstance) -> None:
    from orchestration.definitions import build_definitions

    result = build_definitions(env).resolve_job_def("refresh_all").execute_in_process(instance=instance, raise_on_error=False)
    assert result.success


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """A warehouse after one refresh_all of the small demo (built once for the module)."""
    folder = tmp_path_factory.mktemp("first-build")
    with pytest.MonkeyPatch.context() as monkeypatch, DemoServer() as server:
        env = use_environment(monkeypatch, folder, server)
        refresh_all(env, dg.DagsterInstance.ephemeral())
    return env.warehouse_path


@pytest.fixture
def warehouse(first_build, tmp_path, monkeypatch, demo_server) -> Environment:
    """This test's copy of the first build, with the environment pointing at it."""
    env = use_environment(monkeypatch, tmp_path, demo_server)
    shutil.copy(first_build, env.warehouse_path)
    return env


def use_environment(monkeypatch, folder: Path, server: DemoServer) -> Environment:
    return point_environment(monkeypatch, folder, LGINFORM_BASE_URL=server.url,
                             LGINFORM_APPLICATION_KEY=DEMO_APPLICATION_KEY, LGINFORM_SECRET=DEMO_SECRET)


def snapshot(env: Environment) -> dict[str, list[tuple]]:
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        return {m: connection.execute(f"SELECT * FROM candidate.{m} ORDER BY ALL").fetchall() for m in INCREMENTAL_MARTS}


def builds(env: Environment) -> list[dict]:
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        cursor = connection.execute("SELECT model, mode, reason, rows_recomputed, rows_after FROM audit.mart_builds ORDER BY built_at")
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]


def dbt_build(env: Environment, *extra: str, config=None, command: str = "run") -> None:
    """dbt on the intermediate views and the marts; ``run`` skips the tests, which are not the
    subject here (``build`` runs them, as every Dagster run does)."""
    config = config or load_pipeline_config(env.config_path)
    subprocess.run(
        [dbt_executable(), command, *build_args(config, ["intermediate", "marts"], unit_tests=True)[1:], *extra, "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(env.warehouse_path.parent / "dbt-target")],
        check=True, cwd=DBT_PROJECT_DIR,
    )


def test_the_first_build_is_full(warehouse):
    assert {b["model"]: (b["mode"], b["rows_recomputed"] == b["rows_after"] > 0) for b in builds(warehouse)} == dict.fromkeys(
        INCREMENTAL_MARTS, ("full", True))


def test_a_new_period_recomputes_only_its_slices_and_equals_a_full_build(warehouse, demo_server):
    first = builds(warehouse)
    published = demo_server.publish(date(2026, 1, 31))  # a new quarter of 91003 (quarterly) is out
    assert "91003" in published
    refresh_all(warehouse, dg.DagsterInstance.ephemeral())
    second = builds(warehouse)[len(first):]
    assert {b["model"]: b["mode"] for b in second} == dict.fromkeys(INCREMENTAL_MARTS, "incremental")

    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as connection:
        new_period = connection.execute(
            "SELECT max(period_id) FROM candidate.fct_indicator_values WHERE indicator_id = '91003'").fetchall()[0][0]
        areas = connection.execute(
            "SELECT count(DISTINCT area_code) FROM candidate.fct_indicator_values WHERE indicator_id = '91003'").fetchall()[0][0]
        new_benchmark_rows = connection.execute(
            "SELECT count(*) FROM candidate.benchmarks WHERE indicator_id = '91003' AND period_id = ?", [new_period]).fetchall()[0][0]
        series_rows = connection.execute("SELECT count(*) FROM candidate.spc WHERE indicator_id = '91003'").fetchall()[0][0]
    recomputed = {b["model"]: b["rows_recomputed"] for b in second}
    # the new quarter's cells, the new quarter's group rows, and 91003's series (limits move with every point)
    assert recomputed["fct_indicator_values"] == areas == 16
    assert recomputed["benchmarks"] == new_benchmark_rows > 0
    assert recomputed["spc"] == series_rows
    assert all(b["rows_recomputed"] < b["rows_after"] for b in second)

    incremental = snapshot(warehouse)
    dbt_build(warehouse, "--full-refresh")
    assert [b["mode"] for b in builds(warehouse)[len(first) + len(second):]] == ["full"] * 3
    assert snapshot(warehouse) == incremental


def test_nothing_new_recomputes_nothing(warehouse):
    before = snapshot(warehouse)
    dbt_build(warehouse)
    last = builds(warehouse)[-3:]
    assert [(b["mode"], b["rows_recomputed"]) for b in last] == [("incremental", 0)] * 3
    assert snapshot(warehouse) == before


def test_changed_rules_rebuild_the_marts_that_depend_on_them(warehouse):
    config = load_pipeline_config(warehouse.config_path)
    fewer_points_for_limits = config.model_copy(update={"thresholds": config.thresholds.model_copy(
        update={"spc": config.thresholds.spc.model_copy(update={"min_points_for_limits": 4})})})
    before = snapshot(warehouse)["spc"]
    # build: the unit tests pin their own rule lengths, so a council's settings cannot fail them
    dbt_build(warehouse, config=fewer_points_for_limits, command="build")
    modes = {b["model"]: (b["mode"], b["reason"]) for b in builds(warehouse)[-3:]}
    assert modes["fct_indicator_values"][0] == "incremental" and modes["benchmarks"][0] == "incremental"
    assert modes["spc"] == ("rebuild", "rules changed since the last build")
    rebuilt = snapshot(warehouse)["spc"]
    assert rebuilt != before  # 8-point series no longer have trial limits
    dbt_build(warehouse, "--full-refresh", config=fewer_points_for_limits)
    assert snapshot(warehouse)["spc"] == rebuilt


def test_a_rebuilt_fact_cascades_to_the_marts_built_from_it(warehouse):
    with duckdb.connect(str(warehouse.warehouse_path)) as connection:
        # an earlier build's record tampered with: the fact table no longer trusts its own state
        connection.execute("UPDATE audit.mart_builds SET rules_fingerprint = 'stale' WHERE model = 'fct_indicator_values'").fetchall()
    dbt_build(warehouse)
    modes = {b["model"]: b["mode"] for b in builds(warehouse)[-3:]}
    assert modes == {"fct_indicator_values": "rebuild", "benchmarks": "rebuild", "spc": "rebuild"}
    assert all(len(rows) > 0 for rows in snapshot(warehouse).values())
