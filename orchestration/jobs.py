"""The jobs: what a run materialises. Their schedules are in orchestration/schedules.py, the
sensors that start runs in orchestration/sensors.py."""

import dagster as dg

from orchestration.inbox_raw import inbox_raw

REFRESH_GROUPS = ("ingestion", "transformation", "publish", "exports")

refresh_all = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.groups(*REFRESH_GROUPS),
    description="Ingest, build the candidate marts, audit them, publish them if nothing blocks, and export what was "
    "published.",
)

quality_report_job = dg.define_asset_job(
    "quality_report_job",
    selection=dg.AssetSelection.groups("quality"),
    description="Rewrite the auditor's quality report from audit.validation_results.",
)

inbox_job = dg.define_asset_job(
    "inbox_job",
    selection=dg.AssetSelection.assets(inbox_raw).downstream() - dg.AssetSelection.groups("exports"),
    description="Ingest the inbox files that are ready and rebuild what reads them (exports wait for the scheduled "
    "refresh).",
)
