"""The warehouse's state, to compare before and after a fault."""

from __future__ import annotations

from pathlib import Path

import duckdb


def table_fingerprints(path: Path, where: str) -> dict[str, str]:
    """Each table that ``where`` selects from information_schema.tables -> its row count and an
    order-independent hash of its rows."""
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            f"SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE {where} ORDER BY 1"
        ).fetchall()
        return {
            t: connection.execute(
                f"SELECT count(*) || ':' || coalesce(sum(hash(t::VARCHAR)), 0) FROM {t} AS t"
            ).fetchall()[0][0]
            for (t,) in tables
        }
