"""The inbox: one asset that ingests the survey and complaints drop folders, and one sensor that
starts it with every file that is ready, in one run."""

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from ingestion.drop_folder import FOLDERS, Readiness, fingerprint, not_ready_because, waiting_files
from ingestion.inbox import ALREADY_RECEIVED, GONE, LOADED, REFUSED_STATUS, WAITING, ingest_folder
from ingestion.layouts import load_layouts, load_vocabulary
from lgperf.settings import InboxSettings, project_path
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource, claim_origin

INBOX_TABLES = ("inbox_files", "survey_responses", "complaints", "officer_returns", "return_approvals")
SENSOR_INTERVAL_SECONDS = 30


class InboxRun(dg.Config):
    """``files``: the "folder/name" a sensor found ready; none given, the asset judges readiness
    itself from each file's modification time (or marker)."""

    files: list[str] | None = None


def readiness(inbox: InboxSettings) -> Readiness:
    return Readiness(settle_seconds=inbox.settle_seconds, marker=inbox.ready_marker)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["raw", "inbox_files"], group_name="ingestion", description="raw.inbox_files: every file received, archived by SHA-256 with its outcome"),
        dg.AssetSpec(["raw", "survey_responses"], group_name="ingestion", description="raw.survey_responses: accepted resident-survey rows, canonical"),
        dg.AssetSpec(["raw", "complaints"], group_name="ingestion", description="raw.complaints: accepted complaint rows, canonical, summary redacted beside the original"),
        dg.AssetSpec(["raw", "officer_returns"], group_name="ingestion", description="raw.officer_returns: accepted rows of officers' returns, each a draft until approved"),
        dg.AssetSpec(["raw", "return_approvals"], group_name="ingestion", description="raw.return_approvals: the performance team's decisions on drafts, who and when (an approved local value is also written to raw.lginform_values, source inbox/returns)"),
    ],
    pool=WAREHOUSE_POOL,
    can_subset=False,
)
def inbox_raw(context: dg.AssetExecutionContext, config: InboxRun, settings: PipelineSettings, warehouse: WarehouseResource):
    """Read every ready file in INBOX_DIR/surveys, complaints and returns once, check it row by
    row, load it and move it to processed/ or refused/; refused files and rejected rows are kept
    with their reasons."""
    pipeline = settings.load()
    layouts_dir = project_path(pipeline.inbox.layouts_dir)
    layouts, vocabulary = load_layouts(layouts_dir), load_vocabulary(layouts_dir)
    chosen = None if config.files is None else {f: [n.split("/", 1)[1] for n in config.files if n.startswith(f + "/")] for f in FOLDERS}
    outcomes = []
    with warehouse.connect() as connection:
        claim_origin(context, connection, demo=settings.demo, where=f"the warehouse {warehouse.database}")
        for folder in FOLDERS:
            outcomes += ingest_folder(
                connection, Path(settings.inbox_dir), folder, layouts=layouts, vocabulary=vocabulary,
                max_file_bytes=pipeline.inbox.max_file_bytes, run_id=context.run.run_id,
                readiness=readiness(pipeline.inbox), reissue_names=pipeline.inbox.reissue_names,
                only=None if chosen is None else chosen[folder], council=pipeline.council,
            )
    for o in outcomes:
        name = f"{o.folder}/{o.file_name}"
        if o.status == REFUSED_STATUS:
            context.log.warning(f"refused {name}: {o.reason}")
        elif o.status == LOADED:
            context.log.info(f"{name} ({o.layout}): {o.rows_received} rows received, {o.rows_accepted} accepted, "
                             f"{o.rows_quarantined} quarantined" + (f"; replaces {', '.join(o.replaces)} whole" if o.replaces else ""))
        elif o.status in (WAITING, GONE, ALREADY_RECEIVED):
            context.log.info(f"{name}: {o.status}: {o.reason}")
        if o.filing_error:
            context.log.warning(f"{name}: {o.filing_error}")
    taken = [o for o in outcomes if o.status in (LOADED, REFUSED_STATUS)]
    summary = {
        "files_seen": len(outcomes),
        "files_loaded": sum(o.status == LOADED for o in taken),
        "files_refused": sum(o.status == REFUSED_STATUS for o in taken),
        "files_repeated": sum(o.status == ALREADY_RECEIVED for o in outcomes),
        "files_waiting": sum(o.status == WAITING for o in outcomes),
        "refused": dg.MetadataValue.json({f"{o.folder}/{o.file_name}": o.reason for o in taken if o.status == REFUSED_STATUS}),
        "waiting": dg.MetadataValue.json({f"{o.folder}/{o.file_name}": o.reason for o in outcomes if o.status == WAITING}),
    }
    yield dg.MaterializeResult(asset_key=["raw", "inbox_files"], metadata=summary)
    for table, folder, kind in (("survey_responses", "surveys", None), ("complaints", "complaints", None),
                                ("officer_returns", "returns", "return"), ("return_approvals", "returns", "approval")):
        mine = [o for o in taken if o.folder == folder and (kind is None or o.layout == kind)]
        yield dg.MaterializeResult(
            asset_key=["raw", table],
            metadata={
                "files_loaded": sum(o.status == LOADED for o in mine),
                "rows_received": sum(o.rows_received for o in mine),
                "rows_inserted": sum(o.rows_accepted for o in mine),
                "rows_quarantined": sum(o.rows_quarantined for o in mine),
            },
        )


inbox_job = dg.define_asset_job(
    "inbox_job",
    selection=dg.AssetSelection.assets(inbox_raw).downstream() - dg.AssetSelection.groups("exports"),
    description="Ingest the inbox files that are ready and rebuild what reads them (exports wait for the scheduled refresh).",
)

_UNFINISHED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED]


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
    return dg.RunRequest(run_key=f"inbox:{key}", run_config={"ops": {"inbox_raw": {"config": {"files": ready}}}},
                         tags={"lgperf/inbox_files": str(len(ready))})
