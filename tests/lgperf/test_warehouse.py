import duckdb
import pytest

from lgperf import warehouse


def test_initialise_is_idempotent(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        warehouse.initialise(connection)
        tables = connection.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema IN ('raw', 'audit')").fetchall()
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        assert connection.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema IN ('raw', 'audit')").fetchall() == tables


def test_a_warehouse_laid_out_by_another_version_is_refused_with_a_way_out(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA raw; CREATE TABLE raw.inbox_files (folder VARCHAR, file_name VARCHAR)").fetchall()
    with pytest.raises(warehouse.WarehouseLayoutError, match=r"raw.inbox_files differs in .*status.*make clean"):
        with warehouse.connect(path):
            pass
