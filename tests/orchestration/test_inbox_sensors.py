"""The inbox sensor: every file that has settled becomes one run; nothing before it settles;
nothing while an inbox run is unfinished."""

import os
import time

import dagster as dg
import duckdb
import pytest
from conftest import point_environment, small_config

from orchestration.inbox_raw import inbox_raw
from orchestration.jobs import inbox_job
from orchestration.resources import build_resources
from orchestration.sensors import inbox_sensor
from tests.reliability.bad_files import complaints, csv_bytes, surveys

SETTLE = 1.0


@pytest.fixture
def env(tmp_path, monkeypatch):
    config = small_config()
    config["inbox"] = {"settle_seconds": SETTLE}
    return point_environment(monkeypatch, tmp_path, config=config)


def evaluate(env, instance, cursor=None):
    resources = {"settings": build_resources(env)["settings"]}
    with dg.build_sensor_context(cursor=cursor, resources=resources, instance=instance) as context:
        result = inbox_sensor.evaluate_tick(context)
        return result.run_requests or [], result.cursor, result.skip_message


def test_twelve_settled_files_make_one_run_and_the_run_takes_them_all(env):
    instance = dg.DagsterInstance.ephemeral()
    for folder, rows in (("surveys", surveys), ("complaints", complaints)):
        (env.inbox_dir / folder).mkdir(parents=True)
        for month in range(1, 7):
            (env.inbox_dir / folder / f"{folder}_{month:02d}.csv").write_bytes(csv_bytes(rows(month)))
    requests, cursor, skipped = evaluate(env, instance)
    assert requests == [] and skipped == "12 file(s) waiting, none ready"  # just dropped: not settled yet
    time.sleep(SETTLE + 0.1)
    [request], cursor, _ = evaluate(env, instance, cursor)
    files = request.run_config["ops"]["inbox_raw"]["config"]["files"]
    assert sorted(files) == sorted(f"{f}/{f}_{m:02d}.csv" for f in ("surveys", "complaints") for m in range(1, 7))
    assert request.tags["lgperf/inbox_files"] == "12"

    result = dg.materialize(
        [inbox_raw], run_config=request.run_config, resources=build_resources(env), instance=instance
    )
    assert result.success
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        runs = connection.execute(
            "SELECT count(*), count(DISTINCT run_id), min(run_id) FROM raw.inbox_files"
        ).fetchall()
    assert runs == [(12, 1, result.run_id)]
    for folder in ("surveys", "complaints"):
        assert sorted(p.name for p in (env.inbox_dir / folder).iterdir()) == ["processed"]
        assert len(list((env.inbox_dir / folder / "processed").glob("*.csv"))) == 6
    assert evaluate(env, instance, cursor)[2] == "the inbox is empty"


def test_a_copy_that_keeps_the_source_time_is_taken_only_once_it_stops_growing(env):
    instance = dg.DagsterInstance.ephemeral()
    folder = env.inbox_dir / "complaints"
    folder.mkdir(parents=True)
    path = folder / "complaints.csv"
    content = csv_bytes(complaints(200))
    long_ago = time.time() - 86_400
    cursor = None
    for part in range(1, 5):  # a copy that sets the source's modification time from the start
        path.write_bytes(content[: len(content) * part // 4])
        os.utime(path, (long_ago, long_ago))
        requests, cursor, skipped = evaluate(env, instance, cursor)
        assert requests == [] and skipped == "1 file(s) waiting, none ready", part
        time.sleep(SETTLE * 0.6)
    time.sleep(SETTLE * 0.6)
    [request], cursor, _ = evaluate(env, instance, cursor)
    assert request.run_config["ops"]["inbox_raw"]["config"]["files"] == ["complaints/complaints.csv"]


def test_no_run_while_an_inbox_run_is_unfinished(env):
    instance = dg.DagsterInstance.ephemeral()
    (env.inbox_dir / "surveys").mkdir(parents=True)
    (env.inbox_dir / "surveys" / "wave.csv").write_bytes(csv_bytes(surveys(2)))
    _, cursor, _ = evaluate(env, instance)
    time.sleep(SETTLE + 0.1)
    job = dg.Definitions(assets=[inbox_raw], jobs=[inbox_job], resources=build_resources(env)).resolve_job_def(
        "inbox_job"
    )
    running = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
    requests, cursor, skipped = evaluate(env, instance, cursor)
    assert requests == [] and skipped == f"1 file(s) ready; an inbox run ({running.run_id}) is still unfinished"
    instance.report_run_failed(running)
    [request], _, _ = evaluate(env, instance, cursor)
    assert request.run_config["ops"]["inbox_raw"]["config"]["files"] == ["surveys/wave.csv"]
