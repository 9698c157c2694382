"""The BI export: every mart as Parquet, and a DuckDB file holding a copy of the marts, so
BI tools read ``EXPORT_DIR/bi/`` and never open (or lock) the live warehouse."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from exports.publish import staged_folder

BI_DATABASE = "lgperf_marts.duckdb"  # catalog lgperf_marts, schema marts (as in the warehouse)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def mart_tables(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of schema ``marts``, each a plain identifier (they reach SQL by name)."""
    names = [r[0] for r in connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' AND table_type = 'BASE TABLE' "
        "ORDER BY table_name").fetchall()]
    unsafe = [n for n in names if not _IDENTIFIER.match(n)]
    if unsafe:
        raise ValueError(f"marts tables with names that are not plain identifiers: {unsafe}")
    return names


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write_bi(connection: duckdb.DuckDBPyConnection, destination: Path) -> dict[str, int]:
    """Write ``<mart>.parquet`` per mart and ``lgperf_marts.duckdb`` atomically; return rows per mart."""
    rows: dict[str, int] = {}
    with staged_folder(destination) as folder:
        connection.execute(f"ATTACH {_literal(folder / BI_DATABASE)} AS bi_copy").fetchall()
        try:
            connection.execute("CREATE SCHEMA bi_copy.marts").fetchall()
            for table in mart_tables(connection):
                # rows in a stable order, so an unchanged mart gives the same file
                connection.execute(
                    f"COPY (SELECT * FROM marts.{table} ORDER BY ALL) TO {_literal(folder / f'{table}.parquet')} (FORMAT parquet)"
                ).fetchall()
                connection.execute(f"CREATE TABLE bi_copy.marts.{table} AS SELECT * FROM marts.{table} ORDER BY ALL").fetchall()
                rows[table] = connection.execute(f"SELECT count(*) FROM bi_copy.marts.{table}").fetchall()[0][0]
        finally:
            connection.execute("DETACH bi_copy").fetchall()
    return rows
