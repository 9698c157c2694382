"""What the quality report's "Files received" section says: a receipt per inbox file version, for the officer
who dropped it.

Each row of ``raw.inbox_files`` (newest first, capped) says when the file came, whether it loaded
or was refused and why, its layout and rows received = accepted + quarantined. Its quarantined
rows (``audit.quarantine``) are grouped by column and reason, the quoted values in a reason
replaced by '…' so that "'4' is not an allowed stage" and "'9' is not an allowed stage" count as
one problem; the first rows of each group are shown so the officer can find and fix them.

The page sits beside the open data, so those rows are masked as the rest of the report masks a
personal column (``expectations/masking.py``). A quarantined row is keyed by the FILE's column
names, so ``fields_of_layout`` (layout name -> {file column: canonical field}) says which column
is which field; its mappings compare file columns as the layouts do (the caller builds them from
the layouts: exports does not import ingestion). A column the layout does not map, and every
column when the layout is not in the mapping, is masked as free text: the safe side.

The words and markup are the template ``exports/templates/quality/receipts.html.j2``.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from expectations.masking import Mask
from expectations.personal import KINDS, NONE, Personal

RECEIPTS_SHOWN = 200  # file versions, newest first
ROWS_SHOWN_PER_GROUP = 3
SUITE_OF_FOLDER = {"complaints": "raw_complaints", "surveys": "raw_survey_responses"}
# canonical fields of a file row that hold free text: the suites declare the staged, redacted
# column (summary_redacted), the file has the summary as written
FREE_TEXT_FIELDS = frozenset({"summary"})

# a value a reason quotes, as Python's repr spells it; a quote after a letter is an apostrophe (don't)
_QUOTED = re.compile(r"""(?<!\w)(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")
# a number a reason carries unquoted: the row a duplicate was first seen on, a spreadsheet's numeric
# weight; a scale's size ("5 points") says which scale and stays
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]| points)")
# a file version's receipt number, newest first: the same in the files' query and their rows'
_RECEIPT = "row_number() OVER (ORDER BY ingested_at DESC, folder, file_name)"


def reason_group(column: str | None, reason: str) -> str:
    """The problem a quarantined row has, without its values: "Stage: '…' is not an allowed stage"."""
    general = _NUMBER.sub("…", _QUOTED.sub("'…'", reason))
    return f"{column}: {general}" if column else general


@dataclass
class _Group:
    key: str
    count: int = 0
    rows: list[tuple[int, str | None, str, dict[str, Any]]] = field(default_factory=list)  # the first few


def _identifier_text(value: Any) -> Any:
    """An id as staging keeps it (stripped; 100234.0 from a spreadsheet is 100234), so that its
    pseudonym is the one the rest of the report shows for the same case."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.strip() if isinstance(value, str) else value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _RowMasker:
    """Masks a quarantined row of one file, keyed by its file columns, and the reason quoting it."""

    def __init__(self, key: bytes, declared: Personal, fields: Mapping[str, str]) -> None:
        self._key, self._declared, self._fields = key, declared, fields

    def _kind(self, column: str) -> str | None:
        canonical = self._fields.get(column)
        if canonical is None or canonical in FREE_TEXT_FIELDS:
            return "free_text"  # a column the layout does not map: whatever it holds, it is not shown
        return self._declared.kind(canonical)

    def row(self, record: Mapping[str, Any]) -> dict[str, Any]:
        kinds = {column: self._kind(column) for column in record}
        mask = Mask(self._key, Personal(**{k: frozenset(c for c, kind in kinds.items() if kind == k) for k in KINDS}))
        as_kept = {c: _identifier_text(v) if kinds[c] == "identifiers" else v for c, v in record.items()}
        # a blank cell stays blank: that a value is missing is not personal (and is often the problem)
        return {c: v if _blank(v) else mask.value(c, v) for c, v in as_kept.items()}

    def reason(self, reason: str, record: Mapping[str, Any], masked: Mapping[str, Any]) -> str:
        """The reason with every quoted value that is a masked cell of the row shown as that cell is."""
        replacement: dict[str, str] = {}
        for column, value in record.items():
            if masked[column] != value and not _blank(value):
                for text in {str(value), str(_identifier_text(value))}:
                    replacement[text] = str(masked[column])

        def mask(quoted: re.Match[str]) -> str:
            try:
                text = ast.literal_eval(quoted.group(0))
            except (ValueError, SyntaxError):
                return quoted.group(0)
            return repr(replacement[text]) if text in replacement else quoted.group(0)

        return _QUOTED.sub(mask, reason)


def _rows_by_file(connection: duckdb.DuckDBPyConnection, limit: int) -> Iterator[tuple]:
    """(receipt number, row number, column, reason, raw record) of the shown files' quarantined rows."""
    cursor = connection.execute(
        f"""
        WITH shown AS (
            SELECT {_RECEIPT} AS receipt, source_system, source_sha256, run_id
            FROM raw.inbox_files QUALIFY receipt <= ?)
        SELECT shown.receipt, q.row_number, q.column_name, q.reason, q.raw_record
        FROM shown JOIN audit.quarantine AS q
          ON q.source_system = shown.source_system AND q.source_sha256 = shown.source_sha256 AND q.run_id = shown.run_id
        WHERE q.row_number IS NOT NULL  -- a refused file's one row says why: raw.inbox_files.reason has it
        ORDER BY shown.receipt, q.row_number
        """,
        [limit],
    )
    while batch := cursor.fetchmany(10_000):
        yield from batch


def _groups(connection: duckdb.DuckDBPyConnection, limit: int) -> dict[int, dict[str, _Group]]:
    """Per receipt, its quarantined rows grouped by problem, with the first rows of each."""
    groups: dict[int, dict[str, _Group]] = {}
    for receipt, row_number, column, reason, raw_record in _rows_by_file(connection, limit):
        key = reason_group(column, reason)
        group = groups.setdefault(receipt, {}).setdefault(key, _Group(key))
        group.count += 1
        if len(group.rows) < ROWS_SHOWN_PER_GROUP:
            group.rows.append((row_number, column, reason, json.loads(raw_record) if raw_record else {}))
    return groups


def _group(group: _Group, masker: _RowMasker) -> dict[str, Any]:
    """One problem's first rows, masked, under the columns any of them has."""
    columns = list(dict.fromkeys(c for *_, record in group.rows for c in record))
    rows = f"{group.count:,} row" + ("s" if group.count > 1 else "")
    shown = f"the first {len(group.rows)} of {rows}" if group.count > len(group.rows) else rows
    first_rows = []
    for row_number, column, reason, record in group.rows:
        masked = masker.row(record)
        first_rows.append(
            {
                "row_number": row_number,
                "column": column,
                "reason": masker.reason(reason, record, masked),
                "cells": [masked.get(c) for c in columns],
            }
        )
    return {"problem": group.key, "count": group.count, "shown": shown, "columns": columns, "rows": first_rows}


def received_files(
    connection: duckdb.DuckDBPyConnection,
    key: bytes,
    declared: Mapping[str, Personal],
    fields_of_layout: Mapping[str, Mapping[str, str]],
    *,
    limit: int = RECEIPTS_SHOWN,
) -> dict[str, Any] | None:
    """What the section says (None when nothing was ever received), for the quality report's template
    ``quality/receipts.html.j2``: the files shown, newest first, each with its problems, most frequent
    first. ``declared``: personal.load(); ``key``: the warehouse's pseudonym key."""
    total = connection.execute("SELECT count(*) FROM raw.inbox_files").fetchall()[0][0]
    if not total:
        return None
    files = connection.execute(
        f"""
        SELECT {_RECEIPT} AS receipt, ingested_at, folder, file_name, status, reason, layout,
               rows_received, rows_accepted, rows_quarantined, replaces
        FROM raw.inbox_files QUALIFY receipt <= ? ORDER BY receipt
        """,
        [limit],
    ).fetchall()
    groups = _groups(connection, limit)
    shown = []
    for (
        receipt,
        ingested_at,
        folder,
        file_name,
        status,
        reason,
        layout,
        received,
        accepted,
        quarantined,
        replaces,
    ) in files:
        by_problem = sorted(groups.get(receipt, {}).values(), key=lambda g: (-g.count, g.key))
        masker = _RowMasker(
            key, declared.get(SUITE_OF_FOLDER.get(folder, ""), NONE), fields_of_layout.get(layout or "", {})
        )
        shown.append(
            {
                "name": f"{folder}/{file_name}",
                "ingested_at": ingested_at,
                "status": status,
                "reason": reason,
                "layout": layout,
                "received": received,
                "accepted": accepted,
                "quarantined": quarantined,
                "replaces": ", ".join(replaces.split("/")) if replaces else None,
                "problems": [_group(g, masker) for g in by_problem],
            }
        )
    return {"total": total, "limit": limit, "rows_shown": ROWS_SHOWN_PER_GROUP, "files": shown}
