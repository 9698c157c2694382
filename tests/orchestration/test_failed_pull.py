"""A pull that fails half-way (here: a wrong JSON shape on some /data answers) fails the run,
names the requests, and leaves every raw and audit table exactly as it was."""

import dagster as dg
import duckdb
import pytest

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.server import DemoServer
from lgperf.settings import Environment


def raw_fingerprint(path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema = 'raw' OR table_name = 'lginform_sync_state' ORDER BY 1"
        ).fetchall()
        # an order-independent hash of every row of every table
        return {
            t: connection.execute(f"SELECT count(*) || ':' || coalesce(sum(hash(t::VARCHAR)), 0) FROM {t} AS t").fetchall()[0][0]
            for (t,) in tables
        }


@pytest.mark.parametrize("fault", ["wrong_shape", "server_error"])
def test_a_failed_pull_leaves_raw_exactly_as_it_was(pipeline_env, monkeypatch, fault):
    from orchestration.definitions import build_definitions

    with DemoServer() as server:
        monkeypatch.setenv("LGINFORM_BASE_URL", server.url)
        monkeypatch.setenv("LGINFORM_APPLICATION_KEY", DEMO_APPLICATION_KEY)
        monkeypatch.setenv("LGINFORM_SECRET", DEMO_SECRET)
        definitions = build_definitions(Environment.from_environ())
        job = definitions.resolve_job_def("refresh_all")
        instance = dg.DagsterInstance.ephemeral()
        assert job.execute_in_process(instance=instance, raise_on_error=False).success
        before = raw_fingerprint(pipeline_env.warehouse_path)

        # the next pull is a full one, and its second and later /data answers are broken
        config = {"ops": {"lginform_raw": {"config": {"full_refresh": True}}}}
        server.faults.add(fault, times=1000, path_prefix="/data", status=500)
        result = job.execute_in_process(instance=instance, run_config=config, raise_on_error=False)

    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE" and e.step_key == "lginform_raw")
    message = failure.event_specific_data.error.message
    assert "/data?metricType=" in message  # the failed requests are named
    assert raw_fingerprint(pipeline_env.warehouse_path) == before
    skipped = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"}
    assert "open_data" in " ".join(skipped) or not any(
        e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == dg.AssetKey(["exports", "open_data"]) for e in result.all_events
    )
