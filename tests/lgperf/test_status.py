"""What ``lgperf run``'s summary reads of one run (lgperf/status.py), on a small DuckDB warehouse."""

from __future__ import annotations

import json

import duckdb
import pytest

from lgperf import status, warehouse


@pytest.fixture
def connection():
    with duckdb.connect() as connection:
        warehouse.initialise(connection)
        yield connection


def test_rows_per_source_counts_the_rows_in_raw_and_those_the_run_inserted(connection):
    for code, run_id in (("E1", "r1"), ("E2", "r0"), ("E3", "r1")):
        connection.execute(
            "INSERT INTO raw.lginform_areas VALUES (?, 'A', NULL, 'lginform', 'ref', 'sha', now(), ?)", [code, run_id]
        ).fetchall()
    connection.execute(
        "INSERT INTO audit.quarantine VALUES ('r0', 's', 'ref', NULL, 1, NULL, 'why', NULL, now())"
    ).fetchall()
    assert status.rows_per_source(connection, "r1") == [("lginform_areas", "lginform", 3, 2)]
    assert status.quarantined(connection, "r1") == (1, 0)


def test_the_publication_of_a_run_names_the_checks_that_blocked_it_not_those_waived(connection):
    assert status.publication_of_run(connection, "r1") is None
    decided_by = json.dumps([{"check": "gx_a"}, {"check": "gx_b", "waiver": "W1", "waived_by": "Jane Smith"}])
    connection.execute(
        "INSERT INTO audit.publications VALUES ('p1', 'r1', 'blocked', now(), ?, NULL, NULL, '{}', NULL, NULL)",
        [decided_by],
    ).fetchall()
    assert status.publication_of_run(connection, "r1") == status.RunPublication("p1", "blocked", None, ["gx_a"])


def test_the_failed_expectations_of_a_run_are_in_plain_words_with_their_rows(connection):
    rows = [  # run, suite, expectation, success, unexpected rows, why
        ("r1", "complaints", "expect_column_values_to_not_be_null", False, 3, "every complaint has an id"),
        ("r1", "complaints", "expect_column_values_to_be_between", False, 40, "days to respond are 0 to 365"),
        ("r1", "complaints", "expect_table_row_count_to_be_between", True, None, "some complaints arrived"),
        ("r1", "benchmarks", "expect_column_to_exist", False, None, None),
        ("r0", "complaints", "expect_column_values_to_not_be_null", False, 9, "every complaint has an id"),
    ]
    for run_id, suite, expectation, success, unexpected, why in rows:
        connection.execute(
            "INSERT INTO audit.validation_results VALUES (?, ?, 'marts.x', ?, '{}', 'warning', ?, NULL, 100, ?, NULL, "
            "now(), ?)",
            [run_id, suite, expectation, success, unexpected, why],
        ).fetchall()
    assert status.failed_expectations(connection, "r1") == [
        ("benchmarks", "expect_column_to_exist", None),  # no words recorded: the expectation's name
        ("complaints", "days to respond are 0 to 365", 40),  # most failing rows first
        ("complaints", "every complaint has an id", 3),
    ]
    assert status.failed_expectations(connection, "r2") == []
