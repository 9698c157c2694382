from datetime import UTC, datetime

import duckdb
import pytest

from ingestion.raw_load import insert_new_versions
from lgperf import warehouse


@pytest.fixture
def connection(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        yield con


def value_row(value, sha="a" * 64, period="fin_2020_21"):
    return {
        "metric_type_id": "1",
        "area_code": "E08000009",
        "period_id": period,
        "value_type": "raw",
        "value": value,
        "formatted": None if value is None else str(value),
        "value_source": "test",
        "ci_lower": None,
        "ci_upper": None,
        "publication_status": "Published",
        "source_system": "lginform",
        "source_reference": "http://127.0.0.1/data?x",
        "source_sha256": sha,
    }


def load(con, rows, run_id):
    return insert_new_versions(
        con,
        "raw.lginform_values",
        rows,
        keys=("metric_type_id", "area_code", "period_id", "value_type"),
        run_id=run_id,
        ingested_at=datetime.now(UTC),
    )


def test_loading_the_same_rows_twice_changes_nothing(connection):
    rows = [value_row(1.5), value_row(None, period="fin_2021_22")]
    assert load(connection, rows, "run-1") == 2
    assert load(connection, rows, "run-2") == 0
    assert connection.execute("SELECT count(*) FROM raw.lginform_values").fetchone()[0] == 2


def test_null_stays_null_and_is_not_a_change(connection):
    load(connection, [value_row(None)], "run-1")
    assert load(connection, [value_row(None)], "run-2") == 0
    assert connection.execute("SELECT value FROM raw.lginform_values").fetchone()[0] is None


def test_a_corrected_value_is_a_new_version_with_its_own_lineage(connection):
    load(connection, [value_row(1.5)], "run-1")
    assert load(connection, [value_row(1.7, sha="b" * 64)], "run-2") == 1
    versions = connection.execute(
        "SELECT value, source_sha256, run_id FROM raw.lginform_values ORDER BY ingested_at"
    ).fetchall()
    assert versions == [(1.5, "a" * 64, "run-1"), (1.7, "b" * 64, "run-2")]
    # and reverting to the first value is a change again, not a duplicate to drop
    assert load(connection, [value_row(1.5, sha="c" * 64)], "run-3") == 1


def test_duplicated_rows_in_one_load_are_kept_once(connection):
    assert load(connection, [value_row(2.0), value_row(2.0)], "run-1") == 1


def test_rows_missing_lineage_are_refused(connection):
    row = value_row(1.0)
    row["source_sha256"] = None
    with pytest.raises(duckdb.ConstraintException):
        load(connection, [row], "run-1")
