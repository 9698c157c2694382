"""Large marts exported one file per financial year, and a file whose rows did not change kept as it was.

A new period then costs one new file, not a rewrite of every year: each partition has a
fingerprint computed in SQL over exactly the rows and columns its file holds, and the export
folder keeps a manifest (``partitions.json``: per file its fingerprint, rows, bytes and the
publication that wrote it). When the previous export has the file with the same fingerprint, it
is hard-linked into the new export (bytes and modification time kept) instead of written again.

The fingerprint is the row count, the XOR and the sum of DuckDB's 64-bit ``hash`` of every row
(order-free, so no sort is needed to compute it, and the sum catches what XOR cancels), together
with what else shapes the bytes: the columns and their types, the file format and its options,
the DuckDB version (its hash and writers may change with it) and the session's time zone (it
spells timestamps). Two different partitions share a fingerprint only if all of that collides.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from exports.sql_cells import sql_literal

MANIFEST = "partitions.json"
UNKNOWN = "unknown"  # rows whose period dim_periods does not know (or has no start for): kept, not dropped
PERIODS = "temp.main.export_financial_years"


def prepare_financial_years(connection: duckdb.DuckDBPyConnection) -> None:
    """A temporary table of each period of ``marts.dim_periods`` with the financial year it starts
    in (April to March, labelled ``2023-24``)."""
    year = "(year(period_start) - CASE WHEN month(period_start) < 4 THEN 1 ELSE 0 END)"
    label = f"{year}::VARCHAR || '-' || lpad((({year} + 1) % 100)::VARCHAR, 2, '0')"
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE export_financial_years AS SELECT period_id, "
        f"coalesce(min({label}), '{UNKNOWN}') AS financial_year FROM marts.dim_periods "
        f"WHERE period_id IS NOT NULL GROUP BY period_id"
    ).fetchall()


def has_periods(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        connection.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = ? "
            "AND column_name = 'period_id'",
            [table],
        ).fetchall()[0][0]
    )


def with_year(source: str) -> str:
    """``source`` (a SELECT with a period_id) as ``source`` with each row's ``financial_year``."""
    return (
        f"SELECT source.*, coalesce(years.financial_year, '{UNKNOWN}') AS financial_year FROM ({source}) AS source "
        f"LEFT JOIN {PERIODS} AS years ON source.period_id = years.period_id"
    )


def in_year(source: str, label: str) -> str:
    """The rows of ``source`` in one financial year, with the columns of ``source`` only."""
    return f"SELECT * EXCLUDE (financial_year) FROM ({with_year(source)}) WHERE financial_year = {sql_literal(label)}"


@dataclass(frozen=True)
class Partition:
    label: str
    rows: int
    fingerprint: str


def partitions(connection: duckdb.DuckDBPyConnection, source: str, shape: str) -> list[Partition]:
    """The financial years of ``source`` with their rows and fingerprints, in label order.
    ``shape`` names what else decides a file's bytes (format, options, metadata)."""
    columns = connection.execute(f"SELECT column_name, column_type FROM (DESCRIBE {source})").fetchall()
    row = "hash(" + ", ".join(f'"{name}"' for name, _ in columns) + ")"
    groups = connection.execute(
        f"SELECT financial_year, count(*), bit_xor({row}), sum({row}::HUGEINT)::VARCHAR FROM ({with_year(source)}) "
        "GROUP BY financial_year ORDER BY financial_year"
    ).fetchall()
    context = [
        duckdb.__version__,
        connection.execute("SELECT current_setting('TimeZone')").fetchall()[0][0],
        shape,
        columns,
    ]
    return [
        Partition(label, rows, hashlib.sha256(json.dumps([*context, label, rows, xor, total]).encode()).hexdigest())
        for label, rows, xor, total in groups
    ]


class Manifest:
    """The files of one export as the previous publication left them, and as this one writes them."""

    def __init__(self, previous: Path, publication_id: str | None):
        self.previous, self.publication_id = previous, publication_id
        self.files: dict[str, dict[str, Any]] = {}
        try:
            self.before = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            self.before = {}  # no previous export (or an unreadable manifest): every file is written

    def reuse(self, folder: Path, path: str, partition: Partition) -> bool:
        """Hard-link the previous export's file into ``folder`` when it holds this partition as it is."""
        before, old = self.before.get(path), self.previous / path
        if not isinstance(before, dict) or before.get("fingerprint") != partition.fingerprint:
            return False
        try:
            if not old.is_file() or old.stat().st_size != before.get("bytes"):
                return False  # gone or altered since: write it afresh
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            keep(old, folder / path)
        except OSError:
            return False
        self.files[path] = {**before, "rows": partition.rows}
        return True

    def record(self, folder: Path, path: str, partition: Partition) -> None:
        """A file this publication wrote."""
        self.files[path] = {
            "fingerprint": partition.fingerprint,
            "rows": partition.rows,
            "bytes": (folder / path).stat().st_size,
            "publication": self.publication_id,
        }

    def annotate(self, path: str, **facts: Any) -> None:
        """Add ``facts`` to a file's entry; they stay with it while the file is kept."""
        self.files[path].update(facts)

    def write(self, folder: Path) -> None:
        text = json.dumps({"files": dict(sorted(self.files.items()))}, indent=2, sort_keys=True)
        (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")


def keep(old: Path, target: Path) -> None:
    """The previous export's file in the new export, unchanged: hard-linked, so its bytes and
    modification time stay; copied with its times on a file system without hard links."""
    try:
        os.link(old, target)
    except OSError:
        shutil.copy2(old, target)


def write_or_keep(folder: Path, previous: Path, path: str, text: str) -> None:
    """Write ``text`` to ``folder/path``, or hard-link the previous export's file when it holds exactly
    that text, so a file whose content did not change keeps its modification time (as a kept partition)."""
    data, target, old = text.encode("utf-8"), folder / path, previous / path
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if old.is_file() and old.stat().st_size == len(data) and old.read_bytes() == data:
            keep(old, target)
            return
    except OSError:
        pass  # unreadable: written afresh
    target.write_bytes(data)


Writer = Callable[[duckdb.DuckDBPyConnection, str, Path], object]  # connection, the rows' SELECT, the file


def export_partitions(
    connection: duckdb.DuckDBPyConnection,
    folder: Path,
    manifest: Manifest,
    source: str,
    shape: str,
    path_of: Callable[[str], str],
    write: Writer,
) -> list[tuple[str, Partition]]:
    """Each financial year of ``source`` into ``folder/path_of(label)``: kept from the previous export
    when unchanged, else ``write(connection, rows_sql, target)``. Returns (path, partition) per file."""
    written = []
    for partition in partitions(connection, source, shape):
        path = path_of(partition.label)
        if not manifest.reuse(folder, path, partition):
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            write(connection, in_year(source, partition.label), folder / path)
            manifest.record(folder, path, partition)
        written.append((path, partition))
    return written
