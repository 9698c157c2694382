"""The inbox: one asset that ingests the survey, complaints and returns drop folders (its job is
in orchestration/jobs.py, the sensor that starts it in orchestration/sensors.py)."""

from pathlib import Path

import dagster as dg

from ingestion.drop_folder import FOLDERS, Readiness
from ingestion.inbox_folder import ALREADY_RECEIVED, GONE, LOADED, REFUSED_STATUS, WAITING, ingest_folder
from ingestion.layouts import load_layouts, load_vocabulary
from lgperf.settings import InboxSettings, project_path
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource, claim_origin

INBOX_TABLES = ("inbox_files", "survey_responses", "complaints", "officer_returns", "return_approvals")


class InboxRun(dg.Config):
    """``files``: the "folder/name" a sensor found ready; none given, the asset judges readiness
    itself from each file's modification time (or marker)."""

    files: list[str] | None = None


def readiness(inbox: InboxSettings) -> Readiness:
    return Readiness(settle_seconds=inbox.settle_seconds, marker=inbox.ready_marker)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", "inbox_files"],
            group_name="ingestion",
            description="raw.inbox_files: every file received, archived by SHA-256 with its outcome",
        ),
        dg.AssetSpec(
            ["raw", "survey_responses"],
            group_name="ingestion",
            description="raw.survey_responses: accepted resident-survey rows, canonical",
        ),
        dg.AssetSpec(
            ["raw", "complaints"],
            group_name="ingestion",
            description="raw.complaints: accepted complaint rows, canonical, summary redacted beside the original",
        ),
        dg.AssetSpec(
            ["raw", "officer_returns"],
            group_name="ingestion",
            description="raw.officer_returns: accepted rows of officers' returns, each a draft until approved",
        ),
        dg.AssetSpec(
            ["raw", "return_approvals"],
            group_name="ingestion",
            description="raw.return_approvals: the performance team's decisions on drafts, who and when (an approved "
            "local value is also written to raw.lginform_values, source inbox/returns)",
        ),
    ],
    pool=WAREHOUSE_POOL,
    can_subset=False,
)
def inbox_raw(
    context: dg.AssetExecutionContext, config: InboxRun, settings: PipelineSettings, warehouse: WarehouseResource
):
    """Read every ready file in INBOX_DIR/surveys, complaints and returns once, check it row by
    row, load it and move it to processed/ or refused/; refused files and rejected rows are kept
    with their reasons."""
    pipeline = settings.load()
    layouts_dir = project_path(pipeline.inbox.layouts_dir)
    layouts, vocabulary = load_layouts(layouts_dir), load_vocabulary(layouts_dir)
    chosen = (
        None
        if config.files is None
        else {f: [n.split("/", 1)[1] for n in config.files if n.startswith(f + "/")] for f in FOLDERS}
    )
    outcomes = []
    with warehouse.connect() as connection:
        claim_origin(context, connection, demo=settings.demo, where=f"the warehouse {warehouse.database}")
        for folder in FOLDERS:
            outcomes += ingest_folder(
                connection,
                Path(settings.inbox_dir),
                folder,
                layouts=layouts,
                vocabulary=vocabulary,
                max_file_bytes=pipeline.inbox.max_file_bytes,
                run_id=context.run.run_id,
                readiness=readiness(pipeline.inbox),
                reissue_names=pipeline.inbox.reissue_names,
                only=None if chosen is None else chosen[folder],
                council=pipeline.council,
            )
    for o in outcomes:
        name = f"{o.folder}/{o.file_name}"
        if o.status == REFUSED_STATUS:
            context.log.warning(f"refused {name}: {o.reason}")
        elif o.status == LOADED:
            context.log.info(
                f"{name} ({o.layout}): {o.rows_received} rows received, {o.rows_accepted} accepted, "
                f"{o.rows_quarantined} quarantined"
                + (f"; replaces {', '.join(o.replaces)} whole" if o.replaces else "")
            )
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
        "refused": dg.MetadataValue.json(
            {f"{o.folder}/{o.file_name}": o.reason for o in taken if o.status == REFUSED_STATUS}
        ),
        "waiting": dg.MetadataValue.json(
            {f"{o.folder}/{o.file_name}": o.reason for o in outcomes if o.status == WAITING}
        ),
    }
    yield dg.MaterializeResult(asset_key=["raw", "inbox_files"], metadata=summary)
    for table, folder, kind in (
        ("survey_responses", "surveys", None),
        ("complaints", "complaints", None),
        ("officer_returns", "returns", "return"),
        ("return_approvals", "returns", "approval"),
    ):
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
