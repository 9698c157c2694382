"""The BI export: every mart as Parquet, and a DuckDB file holding a copy of the marts, so
BI tools read ``EXPORT_DIR/bi/`` and never open (or lock) the live warehouse.

A mart with a period (and no counts of people) is written hive-style, one file per financial
year of its period (``bi/benchmarks/financial_year=2023-24/benchmarks.parquet``), and a year
unchanged since the previous export is kept as it was (exports/partitions.py); the other marts
are one ``<mart>.parquet``. The DuckDB copy is loaded from the Parquet files just written.

Counts of people are controlled as in the open data (exports/controlled_counts.py): a withheld
count is empty and the row's ``suppressed_columns`` names it. Only a council that configures
``bi.unsuppressed_counts`` gets them as they are, and then in ``bi-unsuppressed/`` with
``_unsuppressed`` in the database's name, never in ``bi/``. Every Parquet file and the
database's ``main.about`` table say which, which publication, and whether it is the demo's
synthetic data (the demo's tables also carry a ``demonstration_data`` column). The publication is
named in ``about`` and ``partitions.json`` only, not in the Parquet files, so that a file
unchanged from one publication to the next keeps its bytes.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb

from exports.controlled_counts import POLICIES, controlled, controlled_columns
from exports.disclosure import SUPPRESSED
from exports.partitions import Manifest, export_partitions, has_periods, prepare_financial_years
from exports.publish import staged_folder
from exports.sql_cells import sql_literal

CONTROLLED_FOLDER, UNSUPPRESSED_FOLDER = "bi", "bi-unsuppressed"
BI_DATABASE = "lgperf_marts.duckdb"  # catalog lgperf_marts, schema marts (as in the warehouse)
UNSUPPRESSED_DATABASE = "lgperf_marts_unsuppressed.duckdb"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def mart_tables(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of schema ``marts``, each a plain identifier (they reach SQL by name)."""
    names = [
        r[0]
        for r in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
    ]
    unsafe = [n for n in names if not _IDENTIFIER.match(n)]
    if unsafe:
        raise ValueError(f"marts tables with names that are not plain identifiers: {unsafe}")
    return names


def bi_folder(unsuppressed: bool) -> str:
    return UNSUPPRESSED_FOLDER if unsuppressed else CONTROLLED_FOLDER


def write_bi(
    connection: duckdb.DuckDBPyConnection,
    destination: Path,
    *,
    disclosure_min_count: int,
    unsuppressed: bool = False,
    publication_id: str | None = None,
    demo: bool = False,
) -> dict[str, int]:
    """Write the Parquet files (one per mart, or per financial year) and the DuckDB copy atomically;
    return rows per mart.
    The other kind of BI copy (controlled or unsuppressed) beside it is removed: one is current."""
    about = {
        "publication": publication_id or "",
        "disclosure_control": (
            "none: unsuppressed counts of people, for officers only, not for publication"
            if unsuppressed
            else f"counts of people below {disclosure_min_count}, and figures that would reveal them, withheld "
            "(empty, named in suppressed_columns), as in the open data"
        ),
        **(
            {"demonstration_data": "true: synthetic values from the pipeline's demo, not published statistics"}
            if demo
            else {}
        ),
    }
    # what every Parquet file says: nothing that changes from one publication to the next
    metadata = (
        "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in about.items() if k != "publication") + "}"
    )

    def parquet(connection: duckdb.DuckDBPyConnection, rows: str, target: Path) -> None:
        # rows in a stable order, so an unchanged mart gives the same file
        connection.execute(
            f"COPY ({rows} ORDER BY ALL) TO {sql_literal(target)} (FORMAT parquet, KV_METADATA {metadata})"
        ).fetchall()

    rows: dict[str, int] = {}
    manifest = Manifest(destination, publication_id)  # the export as published before: its unchanged years are kept
    prepare_financial_years(connection)
    with staged_folder(destination) as folder:
        database = folder / (UNSUPPRESSED_DATABASE if unsuppressed else BI_DATABASE)
        connection.execute(f"ATTACH {sql_literal(database)} AS bi_copy").fetchall()
        try:
            connection.execute("CREATE SCHEMA bi_copy.marts").fetchall()
            connection.execute("CREATE TABLE bi_copy.main.about (key VARCHAR, value VARCHAR)").fetchall()
            connection.executemany("INSERT INTO bi_copy.main.about VALUES (?, ?)", list(about.items()))
            for table in mart_tables(connection):
                source = _source(connection, table, disclosure_min_count, unsuppressed, demo)
                if table not in POLICIES and has_periods(connection, table):
                    written = export_partitions(
                        connection,
                        folder,
                        manifest,
                        source,
                        f"parquet {metadata}",
                        lambda year, table=table: f"{table}/financial_year={year}/{table}.parquet",
                        parquet,
                    )
                    files = [folder / path for path, _ in written]
                else:
                    parquet(connection, source, folder / f"{table}.parquet")
                    files = [folder / f"{table}.parquet"]
                rows[table] = _load_copy(connection, table, source, files)
        finally:
            connection.execute("DETACH bi_copy").fetchall()
            connection.execute("DROP TABLE IF EXISTS temp.main.bi_suppressed").fetchall()
        manifest.write(folder)
    shutil.rmtree(destination.parent / bi_folder(not unsuppressed), ignore_errors=True)
    return rows


def _load_copy(connection: duckdb.DuckDBPyConnection, table: str, source: str, files: list[Path]) -> int:
    """The mart into the DuckDB copy from its Parquet files (already in order: no second sort), with
    the mart's own column types; the number of rows."""
    connection.execute(f"CREATE TABLE bi_copy.marts.{table} AS {source} LIMIT 0").fetchall()
    if files:  # a mart with a period and no rows has no file
        listed = "[" + ", ".join(sql_literal(f) for f in files) + "]"
        connection.execute(
            f"INSERT INTO bi_copy.marts.{table} BY NAME SELECT * FROM read_parquet({listed}, hive_partitioning = false)"
        ).fetchall()
    return connection.execute(f"SELECT count(*) FROM bi_copy.marts.{table}").fetchall()[0][0]


def _source(connection: duckdb.DuckDBPyConnection, table: str, threshold: int, unsuppressed: bool, demo: bool) -> str:
    """The SELECT that gives one mart as the BI copy holds it."""
    flag = ", true AS demonstration_data" if demo else ""
    if table not in POLICIES or unsuppressed:
        return f"SELECT *{flag} FROM marts.{table}"
    policy = POLICIES[table]
    result = controlled(connection, table, threshold)
    columns = [c for c in result.columns if c in controlled_columns(table)]
    connection.execute("DROP TABLE IF EXISTS temp.main.bi_suppressed").fetchall()
    connection.execute(
        f"CREATE TEMP TABLE bi_suppressed AS SELECT {', '.join(policy.key)}, []::VARCHAR[] AS suppressed "
        f"FROM marts.{table} LIMIT 0"
    ).fetchall()
    withheld = [[row[k] for k in policy.key] + [[c for c in columns if row[c] == SUPPRESSED]] for row in result.rows]
    if any(w[-1] for w in withheld):
        connection.executemany(
            f"INSERT INTO bi_suppressed VALUES ({', '.join('?' * (len(policy.key) + 1))})",
            [w for w in withheld if w[-1]],
        )
    replaced = ", ".join(
        f"CASE WHEN list_contains(s.suppressed, {sql_literal(c)}) THEN NULL ELSE t.{c} END AS {c}" for c in columns
    )
    return (
        f"SELECT t.* REPLACE ({replaced}), array_to_string(coalesce(s.suppressed, []), ', ') "
        f"AS suppressed_columns{flag} FROM marts.{table} AS t LEFT JOIN bi_suppressed AS s "
        f"USING ({', '.join(policy.key)})"
    )
