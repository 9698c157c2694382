"""Ingestion assets: the LG Inform API and published extracts, and the council's indicator library, into ``raw``."""

from datetime import UTC, datetime

import dagster as dg

from ingestion.extracts import pending_extracts
from ingestion.lginform.client import NotAuthorised, UsageLimitExceeded
from ingestion.lginform.load import KEYS as LGINFORM_TABLES
from ingestion.lginform.load import load_pull, loaded_extract_hashes, read_last_pulls
from ingestion.lginform.pull import PullResult, PullStopped, pull_lginform, request_fingerprint
from ingestion.library import FILES, LibraryError, loaded_digests, read_library_file
from ingestion.raw_load import insert_records
from lgperf.settings import project_path
from orchestration.resources import WAREHOUSE_POOL, LgInformApi, PipelineSettings, WarehouseResource, claim_origin

# For the unexpected (a lost connection to the warehouse, a full disk for a moment): the API
# client has its own bounded retries, so its failures are final for this step (see below).
INGESTION_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


class LgInformPullConfig(dg.Config):
    """Run configuration: ask for every metric type, changed or not (or set
    ``lginform.full_refresh`` in pipeline.yml)."""

    full_refresh: bool = False


def metric_types_current(result: PullResult, on_failure: str) -> dg.AssetCheckResult:
    """Whether every metric type asked for loaded whole; those that did not are named with why."""
    behind = result.behind
    return dg.AssetCheckResult(
        asset_key=["raw", "lginform_values"],
        check_name="metric_types_current",
        passed=not behind,
        severity=dg.AssetCheckSeverity.ERROR if on_failure == "fail" else dg.AssetCheckSeverity.WARN,
        description=(
            "every metric type asked for loaded"
            if not behind
            else f"{len(behind)} metric type(s) behind, asked again on the next run: "
            + "; ".join(f"{m}: {' / '.join(reasons)}" for m, reasons in sorted(behind.items()))
        ),
        metadata={
            "metric_types_behind": dg.MetadataValue.json(sorted(behind)),
            "refused_answers": len(result.refused),
            "notes": dg.MetadataValue.json(result.notes),
        },
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", table],
            group_name="ingestion",
            description=f"raw.{table}: LG Inform API answers and published extracts, with lineage",
        )
        for table in LGINFORM_TABLES
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "metric_types_current",
            asset=["raw", "lginform_values"],
            description="Every configured metric type loaded in this pull; an answer that could not be understood "
            "holds back its own metric types (named, with the request and the reason), which are asked for again on "
            "the next run",
        )
    ],
    pool=WAREHOUSE_POOL,
    retry_policy=INGESTION_RETRY,
    can_subset=False,
)
def indicators_raw(
    context: dg.AssetExecutionContext,
    config: LgInformPullConfig,
    lginform: LgInformApi,
    settings: PipelineSettings,
    warehouse: WarehouseResource,
):
    """Pull what changed since the last successful pull, read new extract files, and load it
    all in one transaction. A failure that affects everything leaves raw as it was; an answer
    that cannot be understood holds back only its own metric types (see the check)."""
    pipeline = settings.load()
    api = pipeline.lginform
    fingerprint = request_fingerprint(api.areas, api.periods)
    with warehouse.connect() as connection:
        claim_origin(context, connection, demo=settings.demo, where=f"the warehouse {warehouse.database}")
        last_pulls = read_last_pulls(connection, fingerprint)
        extracts = pending_extracts(pipeline.extracts, loaded_extract_hashes(connection))
    client = lginform.client(pipeline)
    try:
        result = pull_lginform(
            client,
            metric_types=api.metric_types,
            areas=api.areas,
            periods=api.periods,
            batch_size=api.batch_size,
            last_pulls=last_pulls,
            full_refresh=config.full_refresh or api.full_refresh,
        )
    except (NotAuthorised, UsageLimitExceeded) as error:
        # the operator must act: retrying the step would only spend the allowance
        raise dg.Failure(description=str(error), allow_retries=False) from None
    except PullStopped as error:
        raise dg.Failure(
            description=str(error), metadata={"failed_request": error.cause.request}, allow_retries=False
        ) from None
    finally:
        client.close()
    with warehouse.connect() as connection:
        inserted = load_pull(
            connection,
            result,
            run_id=context.run.run_id,
            request_log=client.request_log,
            extracts=extracts,
            fingerprint=fingerprint,
        )
    context.log.info(
        f"LG Inform: {len(result.responses)} requests, {result.bytes:,} bytes; metric types fetched "
        f"{len(result.fetched_metric_types)}, unchanged and skipped {len(result.skipped_metric_types)}; "
        f"extract files read {len(extracts)}; rows inserted {inserted}"
    )
    shared = {
        "requests": len(result.responses),
        "bytes": result.bytes,
        "metric_types_fetched": len(result.fetched_metric_types),
        "metric_types_unchanged_skipped": len(result.skipped_metric_types),
        "changed_since": str(result.changed_since) if result.changed_since else "full pull",
        "extract_files_read": len(extracts),
        "extract_rows_quarantined": inserted["quarantined"],
        "duplicate_rows_dropped": result.duplicate_rows_dropped,
        "metric_types_behind": dg.MetadataValue.json(sorted(result.behind)),
    }
    for note in result.notes:
        context.log.warning(f"LG Inform: {note}")
    for metric_type, reasons in sorted(result.behind.items()):
        context.log.warning(
            f"LG Inform: metric type {metric_type} is behind (asked again next run): {' / '.join(reasons)}"
        )
    if result.duplicate_rows_dropped:
        context.log.warning(
            f"LG Inform: {result.duplicate_rows_dropped} identical duplicate row(s) in /data answers were loaded once"
        )
    for table in LGINFORM_TABLES:
        received = len(result.rows[table]) + sum(len(e.tables.get(table, [])) for e in extracts)
        yield dg.MaterializeResult(
            asset_key=["raw", table], metadata={"rows_received": received, "rows_inserted": inserted[table], **shared}
        )
    yield metric_types_current(result, api.on_metric_type_failure)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", f"library_{kind}"],
            group_name="ingestion",
            description=f"raw.library_{kind}: the council's indicator library ({kind}), every version",
        )
        for kind in FILES
    ],
    pool=WAREHOUSE_POOL,
    can_subset=False,
)
def library_raw(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: WarehouseResource):
    """Load each library file whole when its bytes changed (by SHA-256); staging reads the latest."""
    config = settings.load()
    with warehouse.connect() as connection:
        loaded = loaded_digests(connection)
        now = datetime.now(UTC)
        for kind, (_, _, table) in FILES.items():
            try:
                digest, rows = read_library_file(kind, project_path(getattr(config.library, kind)))
            except LibraryError as error:
                raise dg.Failure(description=str(error), allow_retries=False) from None
            new = [] if digest in loaded else [{**r, "ingested_at": now, "run_id": context.run.run_id} for r in rows]
            insert_records(connection, table, new)
            yield dg.MaterializeResult(
                asset_key=["raw", f"library_{kind}"], metadata={"entries": len(rows), "rows_inserted": len(new)}
            )
