"""The BI export: every mart as Parquet and in a DuckDB copy that BI tools open read-only."""

import shutil

import duckdb

from exports.bi import BI_DATABASE, mart_tables, write_bi


def test_every_mart_is_in_parquet_and_in_the_read_only_copy_with_the_same_rows(demo_baseline, tmp_path):
    live = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_baseline / "warehouse.duckdb", live)
    with duckdb.connect(str(live)) as connection:
        rows = write_bi(connection, tmp_path / "bi")
        tables = mart_tables(connection)
        expected = {t: connection.execute(f"SELECT * FROM marts.{t} ORDER BY ALL").fetchall() for t in tables}
    assert set(rows) == set(tables) >= {"fct_indicator_values", "benchmarks", "spc", "indicator_performance",
                                         "resident_satisfaction", "complaints_summary", "dim_areas", "dim_indicators", "dim_periods"}
    with duckdb.connect(str(tmp_path / "bi" / BI_DATABASE), read_only=True) as bi:
        for table, content in expected.items():
            parquet = bi.execute(f"SELECT * FROM read_parquet(?) ORDER BY ALL", [str(tmp_path / "bi" / f"{table}.parquet")]).fetchall()
            copied = bi.execute(f"SELECT * FROM marts.{table} ORDER BY ALL").fetchall()
            assert parquet == copied == content and rows[table] == len(content)
    # BI reads its copy while the pipeline holds the live warehouse for writing
    with duckdb.connect(str(live)) as writer, duckdb.connect(str(tmp_path / "bi" / BI_DATABASE), read_only=True) as reader:
        writer.execute("CREATE TABLE marts.scratch AS SELECT 1 AS x").fetchall()
        assert reader.execute("SELECT count(*) FROM marts.spc").fetchall()[0][0] == len(expected["spc"])
