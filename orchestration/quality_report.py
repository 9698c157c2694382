"""The auditor's quality report as an asset: rewritten after every refresh run, published or blocked."""

from pathlib import Path

import dagster as dg

from exports.quality_report import read_drafts_waiting, read_revisions, write_quality_report
from ingestion.layouts import fields_of_layouts, load_layouts
from lgperf import audit, origin
from lgperf.settings import project_path
from orchestration.exports import EXPORT_KEYS
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource


def exports_written_by_run(
    context: dg.AssetExecutionContext, run_ids: list[str]
) -> tuple[list[str], dict[str, list[str]]]:
    """Every export asset, and for each run the exports it materialised (from the Dagster instance)."""
    exports = sorted(key.to_user_string() for key in EXPORT_KEYS)
    written: dict[str, list[str]] = {}
    for run_id in run_ids:
        records = context.instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        written[run_id] = sorted(
            {r.event_log_entry.dagster_event.asset_key.to_user_string() for r in records} & set(exports)
        )
    return exports, written


@dg.asset(
    key=["quality", "report"],
    group_name="quality",
    pool=WAREHOUSE_POOL,
    description="EXPORT_DIR/quality/index.html: every attempt to publish for the auditor: its decision, the exports "
    "it wrote or had blocked, its waivers and revisions, every check in plain words, "
    "a receipt per inbox file received, links to the GX Data Docs (quality/gx/) and the failing rows "
    "(quality/failing/). Refreshed after each refresh run, whether it passed or was blocked.",
)
def quality_report(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    destination = Path(settings.export_dir) / "quality"
    fields_of_layout = fields_of_layouts(load_layouts(project_path(settings.load().inbox.layouts_dir)))
    with warehouse.audit_and_marts() as (connection, store):
        run_ids = audit.validated_runs(connection)
        exports, written = exports_written_by_run(context, run_ids)
        runs = write_quality_report(
            connection,
            destination,
            exports_written=written,
            exports=exports,
            revisions=read_revisions(store),
            demo=origin.is_demo(connection),
            fields_of_layout=fields_of_layout,
            drafts_waiting=read_drafts_waiting(store),
        )
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(destination / "index.html")), "runs": runs})
