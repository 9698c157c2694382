"""Ingestion assets: the LG Inform API and the inbox into the ``raw`` schema."""


from pathlib import Path

import dagster as dg

from ingestion.inbox import land_inbox_files, scan_inbox
from ingestion.lginform.load import KEYS as LGINFORM_TABLES
from ingestion.lginform.load import load_pull
from ingestion.lginform.pull import pull_lginform
from orchestration.dbt import WAREHOUSE_POOL
from orchestration.resources import LgInformApi, PipelineSettings, WarehouseResource

INGESTION_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["raw", table], group_name="ingestion", description=f"raw.{table}, loaded from the LG Inform API with lineage")
        for table in LGINFORM_TABLES
    ],
    pool=WAREHOUSE_POOL,
    retry_policy=INGESTION_RETRY,
    can_subset=False,
)
def lginform_raw(context: dg.AssetExecutionContext, lginform: LgInformApi, settings: PipelineSettings, warehouse: WarehouseResource):
    """Pull the configured metric types, areas and periods; load what changed, in one transaction."""
    config = settings.load()
    client = lginform.client(config)
    try:
        result = pull_lginform(
            client,
            metric_types=config.lginform.metric_types,
            areas=config.lginform.areas,
            periods=config.lginform.periods,
            batch_size=config.lginform.batch_size,
        )
    finally:
        client.close()
    with warehouse.connect() as connection:
        inserted = load_pull(connection, result, run_id=context.run.run_id, request_log=client.request_log)
    context.log.info(f"LG Inform: {len(result.responses)} requests, {result.bytes:,} bytes, rows inserted {inserted}")
    for table in LGINFORM_TABLES:
        yield dg.MaterializeResult(
            asset_key=["raw", table],
            metadata={
                "rows_received": len(result.rows[table]),
                "rows_inserted": inserted[table],
                "requests": len(result.responses),
                "bytes": result.bytes,
            },
        )


@dg.asset(key=["raw", "inbox_files"], group_name="ingestion", pool=WAREHOUSE_POOL)
def inbox_files(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Land every survey and complaints file in the inbox by its SHA-256 (parsed by the readers)."""
    config = settings.load()
    files = scan_inbox(Path(settings.inbox_dir), max_file_bytes=config.inbox.max_file_bytes)
    with warehouse.connect() as connection:
        inserted = land_inbox_files(connection, files, run_id=context.run.run_id)
    return dg.MaterializeResult(
        metadata={"files_seen": len(files), "files_inserted": inserted, "bytes": sum(f.bytes for f in files)}
    )
