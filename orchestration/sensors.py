"""The sensors: the auditor's quality report rewritten after every refresh (passed or failed), and
an inbox run started for the files that are ready."""

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from ingestion.drop_folder import FOLDERS, fingerprint, not_ready_because, waiting_files
from orchestration.inbox_raw import readiness
from orchestration.jobs import inbox_job, quality_report_job, refresh_all
from orchestration.resources import PipelineSettings

SENSOR_INTERVAL_SECONDS = 30


def quality_report_after(status: dg.DagsterRunStatus) -> dg.SensorDefinition:
    """A sensor asking for the quality report once per refresh_all run that ends in ``status``."""

    @dg.run_status_sensor(
        name=f"quality_report_after_{status.value.lower()}",
        run_status=status,
        monitored_jobs=[refresh_all],
        request_job=quality_report_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(context: dg.RunStatusSensorContext):
        return dg.RunRequest(run_key=f"quality-after-{context.dagster_run.run_id}")

    return _sensor


quality_report_after_success = quality_report_after(dg.DagsterRunStatus.SUCCESS)
quality_report_after_failure = quality_report_after(dg.DagsterRunStatus.FAILURE)

_UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.sensor(
    name="inbox",
    job=inbox_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="One run for every file that is ready in INBOX_DIR/surveys, complaints and returns: settled "
    "(size and time unchanged for inbox.settle_seconds over the sensor's looks) or marked (<name>.done).",
)
def inbox_sensor(context: dg.SensorEvaluationContext, settings: PipelineSettings):
    """The cursor keeps, per waiting file, its fingerprint (size and time, not its bytes: nothing
    is read here) and when it was first seen so; a file is ready once that fingerprint has held
    for the settle time. While an inbox run is unfinished no other starts: the next look batches
    whatever arrived meanwhile."""
    inbox, rule = Path(settings.inbox_dir), readiness(settings.load().inbox)
    now = time.time()
    earlier: dict[str, dict] = json.loads(context.cursor or "{}")
    sightings, ready = {}, []
    for folder in FOLDERS:
        for path in waiting_files(inbox, folder):
            name, seen = f"{folder}/{path.name}", fingerprint(path)
            since = earlier[name]["since"] if earlier.get(name, {}).get("stat") == seen else now
            sightings[name] = {"stat": seen, "since": since}
            if not_ready_because(path, rule, now, unchanged_since=since) is None:
                ready.append(name)
    context.update_cursor(json.dumps(sightings, sort_keys=True))
    if not ready:
        return dg.SkipReason(f"{len(sightings)} file(s) waiting, none ready" if sightings else "the inbox is empty")
    unfinished = context.instance.get_runs(dg.RunsFilter(job_name=inbox_job.name, statuses=_UNFINISHED), limit=1)
    if unfinished:
        return dg.SkipReason(f"{len(ready)} file(s) ready; an inbox run ({unfinished[0].run_id}) is still unfinished")
    # the key names these files as they are now: a failed run is not repeated for the same files unchanged
    key = hashlib.sha256(json.dumps([[n, sightings[n]["stat"]] for n in ready]).encode()).hexdigest()
    return dg.RunRequest(
        run_key=f"inbox:{key}",
        run_config={"ops": {"inbox_raw": {"config": {"files": ready}}}},
        tags={"lgperf/inbox_files": str(len(ready))},
    )
