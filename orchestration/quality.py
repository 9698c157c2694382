"""The quality gate's parts: how a suite's outcomes are recorded for the auditor, reported to
Dagster, and given their parameters; and the auditor's quality report asset. The suites run
inside the publish step (orchestration/publication.py): an error that fails blocks the
publication, a warning is recorded. Every outcome is kept in ``audit.validation_results`` and
each failed expectation's rows in ``audit.failing_rows``, as found; what is written to the
auditor's folder (EXPORT_DIR/quality, beside the open data) is masked (``expectations/masking.py``).
"""


import json
import math
from pathlib import Path
from datetime import datetime, timezone
from typing import Any

import dagster as dg
import pandas as pd

from exports.publish import write_csv
from exports.quality_report import failing_rows_file
from expectations.masking import Mask
from expectations.runner import ExpectationOutcome, Suite
from lgperf.publication import EPOCH
from orchestration.resources import PipelineSettings, WarehouseResource



def _json(value: Any) -> str | None:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return None
        if isinstance(v, (bytes, bytearray, memoryview)):  # a file's content: where it is kept, not its bytes again
            return f"[{len(v):,} bytes, kept in the source table]"
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return None if value is None else json.dumps(clean(value), default=str, sort_keys=True)


def record_outcomes(warehouse: WarehouseResource, run_id: str, suite: Suite, outcomes: list[ExpectationOutcome]) -> None:
    """The outcomes (``audit.validation_results``) and every failed expectation's rows, numbered
    (``audit.failing_rows``), unmasked: the audit schema is for those who may read personal data."""
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
                "why": o.why,
            }
            for o in outcomes
        ]
    )
    rows = pd.DataFrame(
        [
            {"run_id": run_id, "suite": suite.name, "expectation": o.expectation, "kwargs": _json(o.kwargs),
             "row_number": number, "row_json": _json(row), "recorded_at": now}
            for o in outcomes if not o.success
            for number, row in enumerate(o.failing_rows, start=1)
        ],
        columns=["run_id", "suite", "expectation", "kwargs", "row_number", "row_json", "recorded_at"],
    )
    with warehouse.connect() as connection:
        connection.register("_outcomes", frame)
        connection.execute("INSERT INTO audit.validation_results SELECT * FROM _outcomes").fetchall()
        connection.unregister("_outcomes")
        if len(rows):
            connection.register("_failing_rows", rows)
            connection.execute("INSERT INTO audit.failing_rows SELECT * FROM _failing_rows").fetchall()
            connection.unregister("_failing_rows")


def _describe(outcome: ExpectationOutcome) -> str:
    column = outcome.kwargs.get("column") or ",".join(outcome.kwargs.get("column_list", []))
    what = f"{outcome.expectation}({column})" if column else outcome.expectation
    return f"{what} [{outcome.severity}] {outcome.why or ''}".strip()


def check_result(suite: Suite, outcomes: list[ExpectationOutcome], docs_page: Path | None = None, *,
                 asset_key: dg.AssetKey | None = None, waived_by: str | None = None) -> dg.AssetCheckResult:
    """The suite's outcome as a Dagster check result; a blocking failure that a named person
    waived for this publication is reported as a warning that says so."""
    failed = [o for o in outcomes if not o.success]
    blocking = [o for o in failed if o.severity == "error"]
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=f"gx_{suite.name}" if asset_key is not None else None,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if blocking and not waived_by else dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(outcomes) - len(failed)}/{len(outcomes)} expectations met"
            + (f"; failed: {'; '.join(_describe(o) for o in failed)}" if failed else "")
            + (f"; WAIVED for this publication by {waived_by}" if blocking and waived_by else "")
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


def frame_parameters(settings: PipelineSettings, run_id: str, published_through: datetime) -> dict[str, Any]:
    """What the frame queries may ask for (see expectations/frames/_README.md)."""
    config = settings.load()
    freshness = config.thresholds.freshness
    days = freshness.max_days_after_period_end
    return {
        "run_id": run_id,
        "published_through": published_through,
        "council": config.council,
        "as_of": freshness.judged_on(),
        "max_days_annually": days["annually"],
        "max_days_quarterly": days["quarterly"],
        "max_days_monthly": days["monthly"],
    }


def new_rows_since(connection: Any, suite: Suite) -> datetime:
    """For a suite that checks new rows only (``meta.new_rows``): the newest ``computed_at`` its
    table has in ``marts`` (the rows published so far); every row computed later is new. With
    nothing published (or a table published before it had the column), every row is new."""
    column = suite.new_rows_column
    present = connection.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = $table "
        "AND column_name = $column", {"table": suite.table, "column": column}).fetchall()[0][0]
    if not present:
        return EPOCH
    newest = connection.execute(f'SELECT max("{column}") FROM marts.{suite.table}').fetchall()[0][0]
    return newest or EPOCH


def drift_bounds(published_rows: int | None, max_share: float) -> dict[str, int | None]:
    """The rows a table may have, given its count at the last publication that went out:
    losing more than ``max_share`` of them fails (error), growing by more than it warns. A
    blocked attempt never becomes the baseline. Nothing published yet: no bound."""
    if published_rows is None:
        return {"previous_rows_min": 0, "previous_rows_max": None}
    return {"previous_rows_min": math.floor(published_rows * (1 - max_share)),
            "previous_rows_max": math.ceil(published_rows * (1 + max_share))}


def write_failing_rows(quality_dir: Path, run_id: str, suite: Suite, outcomes: list[ExpectationOutcome], mask: Mask) -> None:
    """Each failed expectation's rows (up to the runner's limit) as CSV, masked, for the report to link."""
    for outcome in outcomes:
        if outcome.success or not outcome.failing_rows:
            continue
        path = quality_dir / failing_rows_file(run_id, suite.name, outcome.expectation, _json(outcome.kwargs) or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [mask.row(row) for row in outcome.failing_rows]
        columns = list(rows[0])
        write_csv(path, columns, ([row[c] for c in columns] for row in rows))
