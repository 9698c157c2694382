"""The gate's record in the audit tables (lgperf/audit.py), on a small DuckDB warehouse."""

from __future__ import annotations

import json
import math

import duckdb

from expectations.runner import ExpectationOutcome
from lgperf import audit, warehouse


def test_outcomes_and_the_failing_rows_are_recorded_as_found():
    met = ExpectationOutcome("expect_column_values_to_not_be_null", {"column": "id"}, "error", True, None, 3, 0, [])
    failed = ExpectationOutcome(
        "expect_column_values_to_be_between",
        {"column": "v", "min_value": 0},
        "warning",
        False,
        None,
        3,
        2,
        [-1, math.nan],
        "a value is not negative",
        [{"id": "a", "v": -1, "file": b"abc"}, {"id": "b", "v": math.nan, "file": None}],
    )
    with duckdb.connect() as connection:
        warehouse.initialise(connection)
        assert audit.validated_runs(connection) == []
        audit.record_outcomes(connection, "r1", "s", "marts.t", [met, failed])
        results = connection.execute(
            "SELECT suite, target, expectation, kwargs, severity, success, failing_sample, "
            "why FROM audit.validation_results ORDER BY success"
        ).fetchall()
        rows = connection.execute("SELECT row_number, row_json FROM audit.failing_rows ORDER BY 1").fetchall()
        assert audit.validated_runs(connection) == ["r1"]
    assert results[0] == (
        "s",
        "marts.t",
        "expect_column_values_to_be_between",
        '{"column": "v", "min_value": 0}',
        "warning",
        False,
        "[-1, null]",
        "a value is not negative",
    )
    assert results[1][5] is True and len(results) == 2
    assert [(n, json.loads(j)) for n, j in rows] == [
        (1, {"file": "[3 bytes, kept in the source table]", "id": "a", "v": -1}),
        (2, {"file": None, "id": "b", "v": None}),
    ]
