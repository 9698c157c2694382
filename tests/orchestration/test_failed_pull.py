"""Through a real Dagster run: a service that is down fails the run and leaves raw exactly as
it was; answers that cannot be understood hold back their own metric types, the run goes on,
and the check on raw.lginform_values names what is behind."""

import shutil

import dagster as dg
import duckdb
import pytest
import yaml

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.server import DemoServer
from ingestion.lginform.load import KEYS
from tests.conftest import point_environment

FULL_REFRESH = {"ops": {"indicators_raw": {"config": {"full_refresh": True}}}}


def raw_fingerprint(path, *, without=()) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema = 'raw' OR table_name = 'lginform_sync_state' ORDER BY 1"
        ).fetchall()
        # an order-independent hash of every row of every table
        return {
            t: connection.execute(
                f"SELECT count(*) || ':' || coalesce(sum(hash(t::VARCHAR)), 0) FROM {t} AS t"
            ).fetchall()[0][0]
            for (t,) in tables
            if t not in without
        }


def check_result(result: dg.ExecuteInProcessResult, name: str):
    return next(
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == name
    )


@pytest.fixture
def job(demo_baseline, tmp_path, monkeypatch):
    """A copy of the demo after one clean refresh, and a full-refresh run of it against a demo server."""
    from orchestration.definitions import build_definitions

    folder = tmp_path / "pipeline"
    shutil.copytree(demo_baseline, folder)
    with DemoServer() as server:
        env = point_environment(
            monkeypatch,
            folder,
            config=yaml.safe_load((folder / "pipeline.yml").read_text()),
            LGINFORM_BASE_URL=server.url,
            LGINFORM_APPLICATION_KEY=DEMO_APPLICATION_KEY,
            LGINFORM_SECRET=DEMO_SECRET,
        )
        definitions = build_definitions(env)

        def run(selection=None):
            job = definitions.resolve_job_def("refresh_all")
            return job.execute_in_process(
                instance=dg.DagsterInstance.ephemeral(),
                run_config=FULL_REFRESH,
                asset_selection=selection,
                raise_on_error=False,
            )

        yield env, server, run


def test_a_service_that_is_down_fails_the_run_and_leaves_raw_exactly_as_it_was(job):
    env, server, run = job
    before = raw_fingerprint(env.warehouse_path)
    server.faults.add("server_error", times=1000, path_prefix="/data", status=500)
    result = run()

    assert not result.success
    failure = next(
        e for e in result.all_events if e.event_type_value == "STEP_FAILURE" and e.step_key == "indicators_raw"
    )
    message = failure.event_specific_data.error.message
    assert "did not answer within the retry policy" in message and "/data?metricType=" in message
    assert raw_fingerprint(env.warehouse_path) == before
    assert not any(
        e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key.path[0] in ("candidate", "marts", "exports")
        for e in result.all_events
    )


@pytest.mark.parametrize("on_failure", ["fail", "warn"])
def test_refused_answers_hold_back_their_metric_types_and_the_check_names_them(job, on_failure):
    from orchestration.run import failed_error_checks

    env, server, run = job
    config = yaml.safe_load(env.config_path.read_text(encoding="utf-8"))
    config["lginform"]["on_metric_type_failure"] = on_failure
    env.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    # the raw responses table gains the refused body (archived); every other raw table stays as it was
    before = raw_fingerprint(env.warehouse_path, without=("raw.lginform_responses",))
    server.faults.add("wrong_shape", times=1000, path_prefix="/data")
    result = run(selection=[dg.AssetKey(["raw", table]) for table in KEYS])
    assert result.success  # the pull went through; what is behind is the check's to say

    check = check_result(result, "metric_types_current")
    assert not check.passed
    # "fail": make run / lgperf exit non-zero; "warn": the run succeeds with the warning
    assert check.severity == (dg.AssetCheckSeverity.ERROR if on_failure == "fail" else dg.AssetCheckSeverity.WARN)
    assert [c.check_name for c in failed_error_checks(result)] == (
        ["metric_types_current"] if on_failure == "fail" else []
    )
    behind = check.metadata["metric_types_behind"].value
    assert behind == ["90005", "90101", "91003", "91023"]
    assert "4 metric type(s) behind, asked again on the next run" in check.description
    assert raw_fingerprint(env.warehouse_path, without=("raw.lginform_responses",)) == before
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        refused = connection.execute(
            "SELECT count(*), count(DISTINCT metric_types) FROM audit.api_requests WHERE error LIKE "
            "'unexpected JSON shape%'"
        ).fetchall()
    assert refused == [(4, 2)]  # two batches of two metric types, each asked for two area tokens
