import duckdb
import pytest

from lgperf import warehouse


def test_initialise_is_idempotent(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        warehouse.initialise(connection)
        tables = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema IN ('raw', 'audit')"
        ).fetchall()
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        assert (
            connection.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema IN ('raw', 'audit')"
            ).fetchall()
            == tables
        )


def test_a_warehouse_laid_out_by_another_version_is_refused_with_a_way_out(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "CREATE SCHEMA raw; CREATE TABLE raw.inbox_files (folder VARCHAR, file_name VARCHAR)"
        ).fetchall()
    with pytest.raises(warehouse.WarehouseLayoutError, match=r"raw.inbox_files differs in .*status.*make clean"):
        with warehouse.connect(path):
            pass


def test_a_column_a_newer_version_appended_is_added_and_old_rows_keep_their_values(tmp_path):
    """audit.api_requests gained metric_types (the metric types a refused answer held back):
    a warehouse from before it migrates itself, its rows kept with the new column null."""
    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as connection:
        connection.execute("ALTER TABLE audit.api_requests DROP COLUMN metric_types").fetchall()
        connection.execute(
            "INSERT INTO audit.api_requests VALUES ('r1', 'http://x/data', 200, 1, 10, NULL, NULL, now())"
        ).fetchall()
    with warehouse.connect(path) as connection:
        rows = connection.execute("SELECT run_id, status, metric_types FROM audit.api_requests").fetchall()
        columns = [r[0] for r in connection.execute("DESCRIBE audit.api_requests").fetchall()]
    assert rows == [("r1", 200, None)]
    assert columns[-1] == "metric_types"


def test_a_library_from_before_its_later_columns_gains_them(tmp_path):
    """raw.library_indicators gained the SPC baseline columns, compare_as and no_change_within
    after the lineage columns: an older warehouse migrates itself, its entries read as having none."""
    later = ["spc_freeze_after_points", "spc_rebase_periods", "spc_rebase_record", "compare_as", "no_change_within"]
    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as connection:
        for column in later:
            connection.execute(f"ALTER TABLE raw.library_indicators DROP COLUMN {column}").fetchall()
        connection.execute(
            "INSERT INTO raw.library_indicators VALUES ('1', 'o', 'r', 'impact', 'citizen', 'p', NULL, '', "
            "'library', 'indicators.yml#indicators[0]', 'abc', now(), 'run1')"
        ).fetchall()
    with warehouse.connect(path) as connection:
        rows = connection.execute(f"SELECT indicator_id, {', '.join(later)} FROM raw.library_indicators").fetchall()
    assert rows == [("1", None, None, None, None, None)]
