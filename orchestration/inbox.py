"""The inbox: one asset that ingests the survey and complaints drop folders, and a sensor per
folder that starts it when a file arrives (cursor-based; the run key is the file's hash)."""

import json
from pathlib import Path

import dagster as dg

from ingestion.files import sha256_of
from ingestion.inbox import KIND_OF_FOLDER, ingest_folder, inbox_files
from ingestion.layouts import load_layouts, load_vocabulary
from lgperf.settings import project_path
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource, claim_origin

INBOX_TABLES = ("inbox_files", "survey_responses", "complaints")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["raw", "inbox_files"], group_name="ingestion", description="raw.inbox_files: every file received, archived by SHA-256 with its outcome"),
        dg.AssetSpec(["raw", "survey_responses"], group_name="ingestion", description="raw.survey_responses: accepted resident-survey rows, canonical"),
        dg.AssetSpec(["raw", "complaints"], group_name="ingestion", description="raw.complaints: accepted complaint rows, canonical, summary redacted beside the original"),
    ],
    pool=WAREHOUSE_POOL,
    can_subset=False,
)
def inbox_raw(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: WarehouseResource):
    """Read every new file in INBOX_DIR/surveys and INBOX_DIR/complaints, check it row by row
    and load it; refused files and rejected rows are kept with their reasons."""
    config = settings.load()
    layouts_dir = project_path(config.inbox.layouts_dir)
    layouts, vocabulary = load_layouts(layouts_dir), load_vocabulary(layouts_dir)
    outcomes = []
    with warehouse.connect() as connection:
        claim_origin(context, connection, demo=settings.demo, where=f"the warehouse {warehouse.database}")
        for folder in KIND_OF_FOLDER:
            outcomes += ingest_folder(
                connection, Path(settings.inbox_dir), folder, layouts=layouts, vocabulary=vocabulary,
                max_file_bytes=config.inbox.max_file_bytes, run_id=context.run.run_id,
            )
    new = [o for o in outcomes if o.status != "already loaded"]
    for outcome in new:
        if outcome.status == "refused":
            context.log.warning(f"refused {outcome.folder}/{outcome.file_name}: {outcome.reason}")
        else:
            context.log.info(
                f"{outcome.folder}/{outcome.file_name} ({outcome.layout}): {outcome.rows_received} rows received, "
                f"{outcome.rows_accepted} accepted, {outcome.rows_quarantined} quarantined"
            )
    summary = {
        "files_seen": len(outcomes),
        "files_loaded": sum(o.status == "loaded" for o in new),
        "files_refused": sum(o.status == "refused" for o in new),
        "refused": dg.MetadataValue.json({f"{o.folder}/{o.file_name}": o.reason for o in new if o.status == "refused"}),
    }
    yield dg.MaterializeResult(asset_key=["raw", "inbox_files"], metadata=summary)
    for table, folder in (("survey_responses", "surveys"), ("complaints", "complaints")):
        mine = [o for o in new if o.folder == folder]
        yield dg.MaterializeResult(
            asset_key=["raw", table],
            metadata={
                "files_loaded": sum(o.status == "loaded" for o in mine),
                "rows_received": sum(o.rows_received for o in mine),
                "rows_inserted": sum(o.rows_accepted for o in mine),
                "rows_quarantined": sum(o.rows_quarantined for o in mine),
            },
        )


inbox_job = dg.define_asset_job(
    "inbox_job",
    selection=dg.AssetSelection.assets(inbox_raw).downstream() - dg.AssetSelection.groups("exports"),
    description="Ingest new inbox files and rebuild what reads them (exports wait for the scheduled refresh).",
)


def _inbox_sensor(folder: str) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{folder}_inbox",
        job=inbox_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"A run per new or changed file in INBOX_DIR/{folder}; the run key is the file's SHA-256.",
    )
    def _sensor(context: dg.SensorEvaluationContext, settings: PipelineSettings):
        inbox = Path(settings.inbox_dir)
        seen: dict[str, dict[str, str]] = json.loads(context.cursor or "{}")
        for path in inbox_files(inbox, folder):
            stat = path.lstat()
            fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}"
            if seen.get(path.name, {}).get("stat") == fingerprint:
                continue  # unchanged since the last look: not hashed again
            # a symlink is not followed here; the asset refuses one that leaves the inbox
            digest = f"link:{path.name}:{fingerprint}" if path.is_symlink() else sha256_of(path)
            if seen.get(path.name, {}).get("sha256") != digest:
                yield dg.RunRequest(run_key=f"{folder}:{digest}", tags={"lgperf/inbox_file": f"{folder}/{path.name}"})
            seen[path.name] = {"stat": fingerprint, "sha256": digest}
        context.update_cursor(json.dumps(seen, sort_keys=True))

    return _sensor


surveys_inbox_sensor = _inbox_sensor("surveys")
complaints_inbox_sensor = _inbox_sensor("complaints")
