"""The BI export: every mart as Parquet (by financial year for the marts with a period) and in a
DuckDB copy that BI tools open read-only."""

import csv
import shutil
from pathlib import Path

import duckdb

from exports.bi import BI_DATABASE, UNSUPPRESSED_DATABASE, bi_folder, mart_tables, write_bi
from exports.controlled_counts import POLICIES
from exports.disclosure import SUPPRESSED
from exports.open_data import write_open_data
from exports.partitions import MANIFEST

BY_YEAR = {
    "fct_indicator_values",
    "benchmarks",
    "spc",
    "indicator_performance",
    "dim_periods",
    "revisions",
    "return_drafts",
}


def parquet_of(connection: duckdb.DuckDBPyConnection, folder: Path, table: str) -> list[tuple]:
    """A mart as BI reads it from Parquet: its one file, or its financial years read as one hive-partitioned table."""
    if table in BY_YEAR:
        return connection.execute(
            "SELECT * EXCLUDE (financial_year) FROM read_parquet(?, hive_partitioning = true) ORDER BY ALL",
            [str(folder / table / "*" / "*.parquet")],
        ).fetchall()
    return connection.execute(
        "SELECT * FROM read_parquet(?) ORDER BY ALL", [str(folder / f"{table}.parquet")]
    ).fetchall()


def test_every_mart_is_in_parquet_and_in_the_read_only_copy_with_the_same_rows(demo_baseline, tmp_path):
    live = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_baseline / "warehouse.duckdb", live)
    with duckdb.connect(str(live)) as connection:
        rows = write_bi(connection, tmp_path / "bi", disclosure_min_count=5)
        tables = mart_tables(connection)
        expected = {
            t: connection.execute(f"SELECT * FROM marts.{t} ORDER BY ALL").fetchall()
            for t in tables
            if t not in POLICIES
        }
    assert (
        set(rows)
        == set(tables)
        >= {
            "fct_indicator_values",
            "benchmarks",
            "spc",
            "indicator_performance",
            "resident_satisfaction",
            "complaints_summary",
            "complaints_by_ward",
            "dim_areas",
            "dim_indicators",
            "dim_periods",
        }
    )
    with duckdb.connect(str(tmp_path / "bi" / BI_DATABASE), read_only=True) as bi:
        for table, content in expected.items():
            if not content and table in BY_YEAR:  # revisions in the first publication: no file, an empty table
                assert not list((tmp_path / "bi").glob(f"{table}*")) and rows[table] == 0, table
                continue
            copied = bi.execute(f"SELECT * FROM marts.{table} ORDER BY ALL").fetchall()
            assert parquet_of(bi, tmp_path / "bi", table) == copied == content and rows[table] == len(content), table
    # BI reads its copy while the pipeline holds the live warehouse for writing
    with (
        duckdb.connect(str(live)) as writer,
        duckdb.connect(str(tmp_path / "bi" / BI_DATABASE), read_only=True) as reader,
    ):
        writer.execute("CREATE TABLE marts.scratch AS SELECT 1 AS x").fetchall()
        assert reader.execute("SELECT count(*) FROM marts.spc").fetchall()[0][0] == len(expected["spc"])


def test_marts_with_a_period_are_hive_partitioned_by_financial_year_and_read_back_whole(demo_baseline, tmp_path):
    live = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_baseline / "warehouse.duckdb", live)
    folder = tmp_path / "bi"
    with duckdb.connect(str(live)) as connection:
        connection.execute(
            "INSERT INTO marts.benchmarks (comparison_group_id, indicator_id, period_id, area_code, value) "
            "VALUES ('england', '90005', 'mystery_period', 'E08000009', 2.5)"
        ).fetchall()
        write_bi(connection, folder, disclosure_min_count=5, publication_id="first", demo=True)
        first = {p: p.stat() for p in folder.rglob("*.parquet")}
        mart = connection.execute("SELECT *, true AS demonstration_data FROM marts.benchmarks ORDER BY ALL").fetchall()
        starts = connection.execute(
            "SELECT DISTINCT year(period_start) - (month(period_start) < 4)::INT "
            "FROM marts.benchmarks LEFT JOIN marts.dim_periods USING (period_id)"
        ).fetchall()
        years = {"unknown" if y is None else f"{y}-{(y + 1) % 100:02d}" for (y,) in starts}
        types = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'marts' AND table_name = 'benchmarks' ORDER BY ordinal_position"
        ).fetchall()
        write_bi(connection, folder, disclosure_min_count=5, publication_id="second", demo=True)
    assert {p.name for p in (folder / "benchmarks").iterdir()} == {f"financial_year={y}" for y in years}
    assert (folder / "benchmarks" / "financial_year=unknown" / "benchmarks.parquet").exists()
    assert not (folder / "benchmarks.parquet").exists() and (folder / "dim_areas.parquet").exists()
    assert not list(folder.glob("complaints_summary/*"))  # counts of people: one file, controlled as a whole
    with duckdb.connect() as reader:
        path = str(folder / "benchmarks" / "*" / "*.parquet")
        assert (
            reader.execute(
                "SELECT * EXCLUDE (financial_year) FROM read_parquet(?, hive_partitioning = true) ORDER BY ALL", [path]
            ).fetchall()
            == mart
        )
        assert {
            y
            for (y,) in reader.execute(
                "SELECT DISTINCT financial_year FROM read_parquet(?, hive_partitioning = true)", [path]
            ).fetchall()
        } == years
        for parquet in first:  # nothing that changes per publication in a file: a second publication keeps them all
            metadata = dict(
                reader.execute(
                    "SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)", [str(parquet)]
                ).fetchall()
            )
            assert "publication" not in metadata and metadata["demonstration_data"].startswith("true"), parquet
    kept = [
        p for p, stat in first.items() if p.stat().st_ino == stat.st_ino and p.stat().st_mtime_ns == stat.st_mtime_ns
    ]
    assert {p.parent.parent.name for p in kept} >= {"benchmarks", "fct_indicator_values", "spc"}
    assert len(kept) == sum(p.parent.name.startswith("financial_year=") for p in first)
    with duckdb.connect(str(folder / BI_DATABASE), read_only=True) as bi:
        assert bi.execute("SELECT * FROM marts.benchmarks ORDER BY ALL").fetchall() == mart
        assert bi.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'marts' "
            "AND table_name = 'benchmarks' ORDER BY ordinal_position"
        ).fetchall() == [*types, ("demonstration_data", "BOOLEAN")]
        assert dict(bi.execute("SELECT key, value FROM main.about").fetchall())["publication"] == "second"
    assert '"publication": "first"' in (folder / MANIFEST).read_text(encoding="utf-8")


def test_counts_of_people_in_the_bi_copy_are_the_open_data_figures(demo_baseline, tmp_path):
    """One disclosure policy: a count the open data marks c is empty in BI and named in suppressed_columns."""
    live = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_baseline / "warehouse.duckdb", live)
    with duckdb.connect(str(live)) as connection:
        write_bi(connection, tmp_path / "bi", disclosure_min_count=5, publication_id="p1")
        write_open_data(connection, tmp_path / "open-data", disclosure_min_count=5)
    with duckdb.connect(str(tmp_path / "bi" / BI_DATABASE), read_only=True) as bi:
        assert dict(bi.execute("SELECT key, value FROM main.about").fetchall())["disclosure_control"].startswith(
            "counts of people below 5"
        )
        for mart, policy in POLICIES.items():
            with (tmp_path / "open-data" / f"{mart}.csv").open(encoding="utf-8", newline="") as handle:
                published = {tuple(r[k] for k in policy.key): r for r in csv.DictReader(handle)}
            cursor = bi.execute(f"SELECT * FROM marts.{mart}")
            names = [d[0] for d in cursor.description]
            withheld = 0
            for values in cursor.fetchall():
                row = dict(zip(names, values))
                csv_row = published[tuple(str(row[k]) for k in policy.key)]
                named = set(filter(None, row["suppressed_columns"].split(", ")))
                for column in policy.counts:
                    if csv_row[column] == SUPPRESSED:
                        assert row[column] is None and column in named
                        withheld += 1
                    elif row[column] is None:  # nothing to count (no previous year to compare with)
                        assert csv_row[column] == "" and column not in named
                    else:
                        assert str(row[column]) == csv_row[column] and column not in named
                        assert not 0 < row[column] < 5
            assert withheld > 0, mart  # the demo has small groups: the check compared something


def test_unsuppressed_counts_only_when_configured_and_named_so(demo_baseline, tmp_path):
    live = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_baseline / "warehouse.duckdb", live)
    exports = tmp_path / "exports"
    with duckdb.connect(str(live)) as connection:
        write_bi(connection, exports / bi_folder(False), disclosure_min_count=5)
        write_bi(connection, exports / bi_folder(True), disclosure_min_count=5, unsuppressed=True)
        small = connection.execute(
            "SELECT count(*) FROM marts.complaints_summary WHERE received BETWEEN 1 AND 4"
        ).fetchall()[0][0]
    assert small > 0
    # one BI copy is current: the controlled one was removed when the unsuppressed one was written
    assert sorted(p.name for p in exports.iterdir()) == ["bi-unsuppressed"]
    folder = exports / "bi-unsuppressed"
    assert (folder / UNSUPPRESSED_DATABASE).exists() and not (folder / BI_DATABASE).exists()
    with duckdb.connect(str(folder / UNSUPPRESSED_DATABASE), read_only=True) as bi:
        assert "officers only" in dict(bi.execute("SELECT key, value FROM main.about").fetchall())["disclosure_control"]
        assert (
            bi.execute("SELECT count(*) FROM marts.complaints_summary WHERE received BETWEEN 1 AND 4").fetchall()[0][0]
            == small
        )
        metadata = dict(
            bi.execute(
                "SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)",
                [str(folder / "complaints_summary.parquet")],
            ).fetchall()
        )
    assert "unsuppressed" in metadata["disclosure_control"] and "demonstration_data" not in metadata
