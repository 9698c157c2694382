"""The quality gate: each Great Expectations suite runs as a blocking asset check on its table.

An error-severity expectation that fails stops everything downstream of the table in the same
run (exports included); a warning is reported and does not block. Every outcome is kept in
``audit.validation_results`` for the auditor.
"""


import json
import math
from pathlib import Path
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
from typing import Any

import dagster as dg
import pandas as pd

from exports.quality_report import write_quality_report
from exports.publish import write_csv
from exports.quality_report import failing_rows_file
from expectations.runner import ExpectationOutcome, Suite, load_suites, read_frame, validate
from orchestration.exports import EXPORT_KEYS
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource

LONDON = ZoneInfo("Europe/London")


def _json(value: Any) -> str | None:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return None if value is None else json.dumps(clean(value), default=str, sort_keys=True)


def record_outcomes(warehouse: WarehouseResource, run_id: str, suite: Suite, outcomes: list[ExpectationOutcome]) -> None:
    now = datetime.now(timezone.utc)
    frame = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "suite": suite.name,
                "target": suite.target,
                "expectation": o.expectation,
                "kwargs": _json(o.kwargs),
                "severity": o.severity,
                "success": o.success,
                "observed_value": _json(o.observed_value),
                "element_count": o.element_count,
                "unexpected_count": o.unexpected_count,
                "failing_sample": _json(o.failing_sample),
                "validated_at": now,
            }
            for o in outcomes
        ]
    )
    with warehouse.connect() as connection:
        connection.register("_outcomes", frame)
        connection.execute("INSERT INTO audit.validation_results SELECT * FROM _outcomes").fetchall()
        connection.unregister("_outcomes")


def _describe(outcome: ExpectationOutcome) -> str:
    column = outcome.kwargs.get("column") or ",".join(outcome.kwargs.get("column_list", []))
    what = f"{outcome.expectation}({column})" if column else outcome.expectation
    return f"{what} [{outcome.severity}] {outcome.why or ''}".strip()


def check_result(suite: Suite, outcomes: list[ExpectationOutcome], docs_page: Path | None = None) -> dg.AssetCheckResult:
    failed = [o for o in outcomes if not o.success]
    blocking = [o for o in failed if o.severity == "error"]
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(outcomes) - len(failed)}/{len(outcomes)} expectations met"
            + (f"; failed: {'; '.join(_describe(o) for o in failed)}" if failed else "")
        ),
        metadata={
            "suite": suite.name,
            "expectations": len(outcomes),
            "failed_errors": len(blocking),
            "failed_warnings": len(failed) - len(blocking),
            "failures": dg.MetadataValue.json(
                [{"expectation": o.expectation, "kwargs": o.kwargs, "severity": o.severity, "unexpected_count": o.unexpected_count,
                  "why": o.why} for o in failed]
            ),
            **({"data_docs": dg.MetadataValue.path(str(docs_page))} if docs_page else {}),
        },
    )


def frame_parameters(settings: PipelineSettings, run_id: str) -> dict[str, Any]:
    """What the frame queries may ask for (see expectations/frames/_README.md)."""
    config = settings.load()
    freshness = config.thresholds.freshness
    days = freshness.max_days_after_period_end
    return {
        "run_id": run_id,
        "council": config.council,
        "as_of": freshness.as_of or datetime.now(LONDON).date(),
        "max_days_annually": days["annually"],
        "max_days_quarterly": days["quarterly"],
        "max_days_monthly": days["monthly"],
    }


def row_count_bounds(connection, suite: Suite, run_id: str, max_share: float) -> dict[str, int | None]:
    """The rows the table may have, given the previous run's count: losing more than
    ``max_share`` of them fails (error), growing by more than it warns. No previous run: no bound."""
    previous = connection.execute(
        """
        SELECT observed_value FROM audit.validation_results
        WHERE suite = ? AND run_id <> ? AND expectation = 'expect_table_row_count_to_be_between' AND observed_value IS NOT NULL
        ORDER BY validated_at DESC LIMIT 1
        """,
        [suite.name, run_id],
    ).fetchall()
    if not previous:
        return {"previous_rows_min": 0, "previous_rows_max": None}
    rows = int(json.loads(previous[0][0]))
    return {"previous_rows_min": math.floor(rows * (1 - max_share)), "previous_rows_max": math.ceil(rows * (1 + max_share))}


def write_failing_rows(quality_dir: Path, run_id: str, suite: Suite, outcomes: list[ExpectationOutcome]) -> None:
    """Each failed expectation's rows (up to the runner's limit) as CSV, for the report to link."""
    for outcome in outcomes:
        if outcome.success or not outcome.failing_rows:
            continue
        path = quality_dir / failing_rows_file(run_id, suite.name, outcome.expectation, _json(outcome.kwargs) or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        columns = list(outcome.failing_rows[0])
        write_csv(path, columns, ([row[c] for c in columns] for row in outcome.failing_rows))


def _suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset)),
        name=f"gx_{suite.name}",
        description=suite.document.get("meta", {}).get("description", f"Great Expectations suite {suite.name}"),
        blocking=True,
        pool=WAREHOUSE_POOL,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings) -> dg.AssetCheckResult:
        run_id = context.run.run_id
        quality_dir = Path(settings.export_dir) / "quality"
        # a raw table is read where ingestion landed it (the DuckDB file); a mart where dbt built it
        reading = warehouse.connect() if suite.schema == "raw" else warehouse.marts_query()
        with reading as connection:
            frame = read_frame(connection, suite, frame_parameters(settings, run_id))
        with warehouse.connect() as connection:
            bounds = row_count_bounds(connection, suite, run_id, settings.load().thresholds.row_count_drift_max_share)
        validation = validate(frame, suite, expectation_parameters=bounds, docs_dir=quality_dir / "gx", run_name=run_id)
        record_outcomes(warehouse, run_id, suite, validation.outcomes)
        write_failing_rows(quality_dir, run_id, suite, validation.outcomes)
        return check_result(suite, validation.outcomes, validation.docs_page)

    return _check


def build_quality_checks() -> list[dg.AssetChecksDefinition]:
    return [_suite_check(suite) for suite in load_suites()]


def exports_written_by_run(context: dg.AssetExecutionContext, run_ids: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Every export asset, and for each run the exports it materialised (from the Dagster instance)."""
    exports = sorted(key.to_user_string() for key in EXPORT_KEYS)
    written: dict[str, list[str]] = {}
    for run_id in run_ids:
        records = context.instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
        written[run_id] = sorted({r.event_log_entry.dagster_event.asset_key.to_user_string() for r in records} & set(exports))
    return exports, written


@dg.asset(
    key=["quality", "report"],
    group_name="quality",
    pool=WAREHOUSE_POOL,
    description="EXPORT_DIR/quality/index.html: every validation run for the auditor, with which exports each run "
    "wrote or had blocked, links to the GX Data Docs (quality/gx/) and the failing rows (quality/failing/). "
    "Refreshed after each refresh run, whether it passed or was blocked.",
)
def quality_report(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    destination = Path(settings.export_dir) / "quality"
    with warehouse.connect() as connection:
        run_ids = [r[0] for r in connection.execute("SELECT DISTINCT run_id FROM audit.validation_results").fetchall()]
        exports, written = exports_written_by_run(context, run_ids)
        runs = write_quality_report(connection, destination, exports_written=written, exports=exports)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(destination / "index.html")), "runs": runs})
