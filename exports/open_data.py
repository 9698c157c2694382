"""The open-data export: public marts as CSV in a stable row order (a Frictionless data package
around them comes with the exports issue)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from exports.publish import staged_folder, write_csv

INDICATOR_VALUES_COLUMNS = ("indicator_id", "area_code", "period_id", "value")


def write_open_data(connection: duckdb.DuckDBPyConnection, destination: Path) -> dict[str, int]:
    """Write ``indicator_values.csv`` into ``destination`` atomically; return rows per file."""
    cursor = connection.execute(
        f"SELECT {', '.join(INDICATOR_VALUES_COLUMNS)} FROM marts.fct_indicator_values "
        "ORDER BY indicator_id, area_code, period_id"
    )
    with staged_folder(destination) as folder:
        rows = write_csv(folder / "indicator_values.csv", INDICATOR_VALUES_COLUMNS, iter(cursor.fetchone, None))
    return {"indicator_values.csv": rows}
