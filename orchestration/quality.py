"""The quality gate's outcomes as Dagster sees them: a suite's outcomes as an asset check result.

The suites run inside the publish step (orchestration/publication.py): an error that fails
blocks the publication, a warning is recorded. The plain parts live in the rooms that own
them: the outcomes are recorded in the audit tables by ``lgperf/audit.py``, the failing rows
written masked for the auditor by ``exports/quality_report.py``, the frames' parameters and
drift bounds given by ``expectations/parameters.py``.
"""

from pathlib import Path

import dagster as dg

from expectations.runner import ExpectationOutcome, Suite


def _describe(outcome: ExpectationOutcome) -> str:
    column = outcome.kwargs.get("column") or ",".join(outcome.kwargs.get("column_list", []))
    what = f"{outcome.expectation}({column})" if column else outcome.expectation
    return f"{what} [{outcome.severity}] {outcome.why or ''}".strip()


def check_result(
    suite: Suite,
    outcomes: list[ExpectationOutcome],
    docs_page: Path | None = None,
    *,
    asset_key: dg.AssetKey | None = None,
    waived_by: str | None = None,
) -> dg.AssetCheckResult:
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
                [
                    {
                        "expectation": o.expectation,
                        "kwargs": o.kwargs,
                        "severity": o.severity,
                        "unexpected_count": o.unexpected_count,
                        "why": o.why,
                    }
                    for o in failed
                ]
            ),
            **({"data_docs": dg.MetadataValue.path(str(docs_page))} if docs_page else {}),
        },
    )
