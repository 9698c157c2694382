"""The quality gate's record in the audit tables: every outcome (``audit.validation_results``)
and each failed expectation's rows, numbered (``audit.failing_rows``), unmasked: the audit
schema is for those who may read personal data. What the auditor's folder shows of them is
masked and written by ``exports/quality_report.py``.

Plain SQL on a DuckDB connection: the tables are laid out in ``lgperf/warehouse.py``. An
outcome is anything shaped like ``expectations.runner.ExpectationOutcome`` (``Outcome``), so
that the core need not import the room that judges.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb
import pandas as pd


class Outcome(Protocol):
    """What is recorded of one expectation's outcome."""

    @property
    def expectation(self) -> str: ...
    @property
    def kwargs(self) -> dict[str, Any]: ...
    @property
    def severity(self) -> str: ...
    @property
    def success(self) -> bool: ...
    @property
    def observed_value(self) -> Any: ...
    @property
    def element_count(self) -> int | None: ...
    @property
    def unexpected_count(self) -> int | None: ...
    @property
    def failing_sample(self) -> list[Any]: ...
    @property
    def why(self) -> str | None: ...
    @property
    def failing_rows(self) -> list[dict[str, Any]]: ...


def as_json(value: Any) -> str | None:
    """A value as the audit tables keep it (NaN as null, a file's bytes as a note of their size);
    the kwargs' text also names a failed expectation's rows file, so both sides use this."""

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


def record_outcomes(
    connection: duckdb.DuckDBPyConnection, run_id: str, suite: str, target: str, outcomes: Sequence[Outcome]
) -> None:
    """A suite's outcomes and every failed expectation's rows, as found."""
    now = datetime.now(UTC)
    frame = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "suite": suite,
                "target": target,
                "expectation": o.expectation,
                "kwargs": as_json(o.kwargs),
                "severity": o.severity,
                "success": o.success,
                "observed_value": as_json(o.observed_value),
                "element_count": o.element_count,
                "unexpected_count": o.unexpected_count,
                "failing_sample": as_json(o.failing_sample),
                "validated_at": now,
                "why": o.why,
            }
            for o in outcomes
        ]
    )
    rows = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "suite": suite,
                "expectation": o.expectation,
                "kwargs": as_json(o.kwargs),
                "row_number": number,
                "row_json": as_json(row),
                "recorded_at": now,
            }
            for o in outcomes
            if not o.success
            for number, row in enumerate(o.failing_rows, start=1)
        ],
        columns=["run_id", "suite", "expectation", "kwargs", "row_number", "row_json", "recorded_at"],
    )
    connection.register("_outcomes", frame)
    connection.execute("INSERT INTO audit.validation_results SELECT * FROM _outcomes").fetchall()
    connection.unregister("_outcomes")
    if len(rows):
        connection.register("_failing_rows", rows)
        connection.execute("INSERT INTO audit.failing_rows SELECT * FROM _failing_rows").fetchall()
        connection.unregister("_failing_rows")


def validated_runs(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The runs that recorded outcomes: what the quality report covers."""
    return [r[0] for r in connection.execute("SELECT DISTINCT run_id FROM audit.validation_results").fetchall()]
