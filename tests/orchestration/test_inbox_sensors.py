"""The inbox sensors: a run per new or changed file, keyed by its hash; nothing for a file seen."""

import hashlib
import os

import dagster as dg

from orchestration.inbox import complaints_inbox_sensor, surveys_inbox_sensor
from orchestration.resources import PipelineSettings


def evaluate(sensor, settings, cursor=None):
    with dg.build_sensor_context(cursor=cursor, resources={"settings": settings}) as context:
        result = sensor.evaluate_tick(context)
        return result.run_requests or [], result.cursor


def test_a_run_per_new_file_keyed_by_its_hash_and_none_for_files_seen(pipeline_env, tmp_path):
    settings = PipelineSettings(config_path=str(pipeline_env.config_path), export_dir=str(pipeline_env.export_dir),
                                inbox_dir=str(pipeline_env.inbox_dir))
    folder = pipeline_env.inbox_dir / "surveys"
    folder.mkdir(parents=True)
    first = folder / "wave1.csv"
    first.write_text("RespondentID\nR1\n", encoding="utf-8")
    requests, cursor = evaluate(surveys_inbox_sensor, settings)
    assert [r.run_key for r in requests] == [f"surveys:{hashlib.sha256(first.read_bytes()).hexdigest()}"]
    assert requests[0].tags["lgperf/inbox_file"] == "surveys/wave1.csv"

    requests, cursor = evaluate(surveys_inbox_sensor, settings, cursor)
    assert requests == []  # seen, unchanged: not even hashed again

    second = folder / "wave2.csv"
    second.write_text("RespondentID\nR2\n", encoding="utf-8")
    first.write_text("RespondentID\nR1\nR3\n", encoding="utf-8")  # a corrected re-issue
    os.utime(first, ns=(1, 1))
    requests, cursor = evaluate(surveys_inbox_sensor, settings, cursor)
    assert sorted(r.run_key for r in requests) == sorted(
        f"surveys:{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in (first, second)
    )
    # the other folder's sensor sees none of this
    assert evaluate(complaints_inbox_sensor, settings)[0] == []
