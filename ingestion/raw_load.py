"""Idempotent loads into the ``raw`` schema.

Raw tables are append-only version histories: a row is inserted only when its content differs
from the latest version of the same key, so re-loading the same response or file changes
nothing, and a corrected value arrives as a new version with its own lineage. Staging picks
the latest version per key. Each load runs in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

LINEAGE = ("source_system", "source_reference", "source_sha256", "ingested_at", "run_id")


def insert_new_versions(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    run_id: str,
    ingested_at: datetime,
) -> int:
    """Insert the rows whose content is not already the latest version of their key."""
    if not rows:
        return 0
    columns = [c for c in _columns(connection, table)]
    content = [c for c in columns if c not in LINEAGE and c not in keys]
    frame = pd.DataFrame.from_records(list(rows))
    frame["ingested_at"] = ingested_at
    frame["run_id"] = run_id
    frame = frame.reindex(columns=columns).drop_duplicates(subset=list(keys), keep="first")
    same_key = " AND ".join(f"cur.{k} = n.{k}" for k in keys)
    same_content = "".join(f" AND cur.{c} IS NOT DISTINCT FROM n.{c}" for c in content)
    partition = ", ".join(keys)
    connection.register("_incoming", frame)
    try:
        before = _count(connection, table)
        connection.execute(
            f"""
            INSERT INTO {table}
            SELECT n.* FROM _incoming AS n
            WHERE NOT EXISTS (
                SELECT 1 FROM (
                    SELECT * FROM {table}
                    QUALIFY row_number() OVER (PARTITION BY {partition}
                        ORDER BY ingested_at DESC, source_sha256 DESC) = 1
                ) AS cur
                WHERE {same_key}{same_content}
            )
            """
        ).fetchall()
        return _count(connection, table) - before
    finally:
        connection.unregister("_incoming")


def insert_records(
    connection: duckdb.DuckDBPyConnection, table: str, records: Sequence[dict[str, Any]], *, upsert: bool = False
) -> int:
    """Insert records by column name (a column the table lacks is an error, not dropped)."""
    if not records:
        return 0
    frame = pd.DataFrame.from_records(list(records))
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    connection.register("_records", frame)
    try:
        verb = "INSERT OR REPLACE" if upsert else "INSERT"
        connection.execute(f"{verb} INTO {table} ({columns}) SELECT {columns} FROM _records").fetchall()
    finally:
        connection.unregister("_records")
    return len(frame)


def _columns(connection: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        r[0]
        for r in connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
    ]


def _count(connection: duckdb.DuckDBPyConnection, table: str) -> int:
    return connection.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
