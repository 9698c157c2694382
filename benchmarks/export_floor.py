"""The exports' floor: plain DuckDB ``COPY`` writing the data the exports write, on the
warehouse the pipeline built, into a temporary folder.

* every table of schema ``marts``: one Parquet file, ``COPY marts.<table> TO ... (FORMAT parquet)``;
* every open-data resource (``exports/open_data.py`` RESOURCES): its columns of its mart, its
  ``where``, ordered by its primary key, as one CSV with a header.

It depends on what the exports write (the same rows and columns), not on how they lay their
files out on disk. It leaves out what the exports add: disclosure control of counts of people,
formula neutralising and cell formatting in the CSVs, the rows' stable order and metadata in
the Parquet files, the BI DuckDB copy, the data package's descriptor and the reports.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from exports.bi import mart_tables
from exports.open_data import RESOURCES


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write_export_floor(connection: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Write the floor's files into ``folder``; return the files written and their rows."""
    written: dict[str, int] = {}
    for table in mart_tables(connection):
        path = folder / f"{table}.parquet"
        written[path.name] = connection.execute(f"COPY marts.{table} TO {_literal(path)} (FORMAT parquet)").fetchall()[
            0
        ][0]
    for resource in RESOURCES:
        path = folder / f"{resource.name}.csv"
        select = (
            f"SELECT {', '.join(resource.columns)} FROM marts.{resource.mart} WHERE {resource.where} "
            f"ORDER BY {', '.join(resource.primary_key)}"
        )
        written[path.name] = connection.execute(f"COPY ({select}) TO {_literal(path)} (FORMAT csv, HEADER)").fetchall()[
            0
        ][0]
    return written


def time_export_floor(warehouse: Path, repeats: int) -> dict[str, object]:
    """Median seconds of :func:`write_export_floor` over ``repeats``, each into a fresh
    temporary folder (removed after), on a read-only connection with the pipeline's own
    DuckDB settings (lgperf/warehouse.py connection_config)."""
    from lgperf.warehouse import connection_config

    seconds: list[float] = []
    written: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True, config=connection_config()) as connection:
        for _ in range(max(1, repeats)):
            folder = Path(tempfile.mkdtemp(prefix="lgperf-bench-export-floor-"))
            try:
                started = time.perf_counter()
                written = write_export_floor(connection, folder)
                seconds.append(time.perf_counter() - started)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    return {
        "export_floor_seconds": statistics.median(seconds),
        "export_floor_files": len(written),
        "export_floor_rows": sum(written.values()),
    }
