"""The quality gate: each Great Expectations suite runs as a blocking asset check on its table.

An error-severity expectation that fails stops everything downstream of the table in the same
run (exports included); a warning is reported and does not block. Every outcome is kept in
``audit.validation_results`` for the auditor.
"""


import json
import math
from pathlib import Path
from datetime import datetime, timezone
from typing import Any

import dagster as dg
import pandas as pd

from exports.quality_report import write_quality_report
from expectations.runner import ExpectationOutcome, Suite, load_suites, validate
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource


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


def check_result(suite: Suite, outcomes: list[ExpectationOutcome]) -> dg.AssetCheckResult:
    failed = [o for o in outcomes if not o.success]
    blocking = [o for o in failed if o.severity == "error"]
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(outcomes) - len(failed)}/{len(outcomes)} expectations met"
            + (f"; failed: {', '.join(sorted({o.expectation for o in failed}))}" if failed else "")
        ),
        metadata={
            "suite": suite.name,
            "expectations": len(outcomes),
            "failed_errors": len(blocking),
            "failed_warnings": len(failed) - len(blocking),
            "failures": dg.MetadataValue.json(
                [{"expectation": o.expectation, "kwargs": o.kwargs, "severity": o.severity, "unexpected_count": o.unexpected_count} for o in failed]
            ),
        },
    )


def _suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([suite.schema, suite.table]),
        name=f"gx_{suite.name}",
        description=suite.document.get("meta", {}).get("description", f"Great Expectations suite {suite.name}"),
        blocking=True,
        pool=WAREHOUSE_POOL,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as connection:
            # schema and table were validated as identifiers when the suite was loaded
            frame = connection.execute(f"SELECT * FROM {suite.schema}.{suite.table}").df()
        outcomes = validate(frame, suite)
        record_outcomes(warehouse, context.run.run_id, suite, outcomes)
        return check_result(suite, outcomes)

    return _check


def build_quality_checks() -> list[dg.AssetChecksDefinition]:
    return [_suite_check(suite) for suite in load_suites()]


@dg.asset(
    key=["quality", "report"],
    group_name="quality",
    pool=WAREHOUSE_POOL,
    description="EXPORT_DIR/quality/index.html: every validation run, for the auditor. "
    "Refreshed after each refresh run, whether it passed or was blocked.",
)
def quality_report(settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    destination = Path(settings.export_dir) / "quality"
    with warehouse.connect() as connection:
        runs = write_quality_report(connection, destination)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(destination / "index.html")), "runs": runs})
