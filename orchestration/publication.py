"""The publish barrier: audit the candidate marts with every Great Expectations suite, then
publish them into ``marts`` in one transaction, or record the block and stop.

One asset, ``marts/publication``, so that nothing can reach ``marts`` (and so the exports)
without its audit: the suites are its checks. A blocked attempt is recorded, its checks say
why, and the run fails; ``marts`` and every export stay as they were. A named person may
waive a blocking check for one publication (``lgperf waive``).
"""

import functools
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from expectations.masking import Mask
from expectations.parameters import drift_bounds, frame_parameters
from expectations.runner import Judge, load_suites, validate_in_warehouse
from exports.quality_report import write_failing_rows
from lgperf import audit, pseudonyms
from lgperf import publication as wap
from orchestration.quality import check_result
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource

PUBLICATION_KEY = dg.AssetKey(["marts", "publication"])
SUITES = load_suites()


def publish_if_nothing_blocks(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: WarehouseResource
):
    """The publication asset's body: every suite's checks, then publish or record the block."""
    run_id = context.run.run_id
    publication_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{run_id[:8]}"
    quality_dir = Path(settings.export_dir) / "quality"
    config = settings.load()
    with warehouse.connect() as connection:
        through = wap.published_through(connection)
        raw_now = wap.raw_through(connection)
        baseline = wap.published_row_counts(connection)
        key = pseudonyms.key(connection)  # for the identifiers in the failing rows written to quality/
    parameters = frame_parameters(config, run_id, through)

    failed_errors: list[str] = []
    validations = []
    judge = Judge(quality_dir / "gx")  # one GX context for every suite, its Data Docs rendered once
    for suite in SUITES:
        bounds = drift_bounds(baseline.get(suite.table), config.thresholds.row_count_drift_max_share)
        reading = warehouse.connect() if suite.schema == "raw" else warehouse.marts_query()
        with reading as connection:
            # a suite of new rows only checks the rows computed since its table was last published
            values = dict(parameters)
            if suite.new_rows_column:
                values["new_rows_since"] = wap.new_rows_since(connection, suite.table, suite.new_rows_column)
            validation = validate_in_warehouse(
                connection, suite, values, expectation_parameters=bounds, judge=judge, run_name=run_id
            )
        with warehouse.connect() as connection:
            audit.record_outcomes(connection, run_id, suite.name, suite.target, validation.outcomes)
        write_failing_rows(quality_dir, run_id, suite, validation.outcomes, Mask(key, suite.personal))
        if any(not o.success and o.severity == "error" for o in validation.outcomes):
            failed_errors.append(f"gx_{suite.name}")
        validations.append((suite, validation))
    judge.render_docs()

    with warehouse.connect() as connection:
        waivers = wap.open_waivers(connection, failed_errors)
    decided = wap.decide(failed_errors, waivers)
    decision, unwaived, decided_by = decided.decision, decided.blocked_by, decided.decided_by
    for suite, validation in validations:
        waiver = waivers.get(f"gx_{suite.name}")
        yield check_result(
            suite,
            validation.outcomes,
            validation.docs_page,
            asset_key=PUBLICATION_KEY,
            waived_by=f"{waiver[1]} (waiver {waiver[0]})" if waiver else None,
        )

    if decision == "blocked":
        with warehouse.connect() as connection:
            wap.record(
                connection,
                publication_id=publication_id,
                run_id=run_id,
                decision=decision,
                decided_by=decided_by,
                fingerprint=None,
                raw_through=raw_now,
                row_counts={},
            )
        raise dg.Failure(
            description=f"publication {publication_id} blocked by {', '.join(unwaived)}: marts and every export are "
            "left as they were. Correct the data (a new version, or quarantine the rows), or have a named person waive "
            "the check for one publication: lgperf waive --help",
            metadata={"publication_id": publication_id, "blocked_by": dg.MetadataValue.json(unwaived)},
            allow_retries=False,
        )

    with warehouse.audit_and_marts() as (connection, store):
        names = wap.tables(store, wap.CANDIDATE)
        counts = wap.row_counts(store, wap.CANDIDATE, names)
        # unless nothing changed: then marts (and so the exports' bytes) stay as the publication that made them
        state, state_id = wap.publish(store, publication_id, names, datetime.now(UTC))
        wap.record(
            connection,
            publication_id=publication_id,
            run_id=run_id,
            decision=decision,
            decided_by=decided_by,
            fingerprint=state,
            raw_through=raw_now,
            row_counts=counts,
            waivers=[w for w, _ in waivers.values()],
            state_of=state_id,
        )
        wap.use_waivers(connection, [w for w, _ in waivers.values()], publication_id)
    context.log.info(
        f"publication {publication_id}: {decision}"
        + ("" if state_id == publication_id else f" (the same state as publication {state_id})")
    )
    yield dg.MaterializeResult(
        metadata={
            "publication_id": publication_id,
            "decision": decision,
            "state_of": state_id,
            "tables": len(names),
            "waived": dg.MetadataValue.json(decided_by),
        }
    )


@functools.cache
def publication() -> dg.AssetsDefinition:
    """The publication asset, downstream of every candidate mart dbt builds (read from dbt's
    manifest, so built when the code location loads, not on import)."""
    from orchestration.dbt import candidate_mart_keys

    @dg.asset(
        key=PUBLICATION_KEY,
        group_name="publish",
        deps=candidate_mart_keys(),
        pool=WAREHOUSE_POOL,
        check_specs=[
            dg.AssetCheckSpec(
                f"gx_{suite.name}",
                asset=PUBLICATION_KEY,
                description=suite.document.get("meta", {}).get("description", f"Great Expectations suite {suite.name}"),
            )
            for suite in SUITES
        ],
        description="Schema marts: what was published. Every Great Expectations suite judges the candidate marts and "
        "the raw rows not yet published; only when none fails at error severity (or a named person waived it for this "
        "publication) does one transaction replace marts with the candidate. Every attempt is a row of "
        "audit.publications.",
    )
    def _publication(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: WarehouseResource):
        yield from publish_if_nothing_blocks(context, settings, warehouse)

    return _publication
