"""A canary key and secret, used for real against the demo server through Dagster runs with
faults on, must never appear in logs, stored requests, exceptions, Dagster's event log or the
exports."""

import logging

import dagster as dg
import duckdb

from demo.server import DemoServer
from lgperf.settings import Environment

CANARY_KEY = "canary-key-5b1e0a"
CANARY_SECRET = "canary-secret-9c4d77"


def warehouse_text(path) -> str:
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema IN ('raw', 'audit', 'marts', 'staging')"
        ).fetchall()
        return "\n".join(
            str(row[0])
            for schema, table, column in tables
            for row in connection.execute(f'SELECT DISTINCT "{column}" FROM {schema}.{table}').fetchall()
        )


def test_the_canary_credentials_never_leak(pipeline_env, monkeypatch, caplog, capsys):
    from orchestration.definitions import build_definitions

    with DemoServer(application_key=CANARY_KEY, secret=CANARY_SECRET) as server:
        monkeypatch.delenv("LGPERF_DEMO")  # a real service, not the demo
        monkeypatch.setenv("LGINFORM_BASE_URL", server.url)
        monkeypatch.setenv("LGINFORM_APPLICATION_KEY", CANARY_KEY)
        monkeypatch.setenv("LGINFORM_SECRET", CANARY_SECRET)
        definitions = build_definitions(Environment.from_environ())
        job = definitions.resolve_job_def("refresh_all")
        instance = dg.DagsterInstance.ephemeral()
        server.faults.add("rate_limit", times=1, retry_after=0)
        server.faults.add("server_error", times=1, status=502)
        with caplog.at_level(logging.DEBUG):
            passed = job.execute_in_process(instance=instance, raise_on_error=False)
            server.faults.add("usage_limit", times=50, path_prefix="/periods")
            failed = job.execute_in_process(instance=instance, raise_on_error=False)
        assert len(server.requests) > 5  # the canaries were really used

    assert passed.success and not failed.success
    failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
    assert "usage allowance is used up" in failure.event_specific_data.error.message

    texts = [caplog.text, *capsys.readouterr(), warehouse_text(pipeline_env.warehouse_path)]
    for run in (passed, failed):
        texts += [dg.serialize_value(entry) for entry in instance.all_logs(run.run_id)]
        texts.append(str(instance.get_run_by_id(run.run_id)))
    texts += [p.read_text(errors="replace") for p in pipeline_env.export_dir.rglob("*") if p.is_file()]
    everything = "\n".join(texts)
    assert "retrying after attempt" in everything  # the faults were logged ...
    for secret in (CANARY_KEY, CANARY_SECRET, "Signature=", "ApplicationKey="):
        assert secret not in everything  # ... without the credentials
