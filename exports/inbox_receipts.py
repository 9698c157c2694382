"""The quality report's "Files received" section: a receipt per inbox file version, for the officer who dropped it.

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
"""

from __future__ import annotations

import ast
import html
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


def _text(value: Any) -> str:
    return html.escape("" if value is None else f"{value:,}" if isinstance(value, int) else str(value))


def _group_html(group: _Group, masker: _RowMasker) -> str:
    columns = list(dict.fromkeys(c for *_, record in group.rows for c in record))
    rows = f"{group.count:,} row" + ("s" if group.count > 1 else "")
    shown = f"the first {len(group.rows)} of {rows}" if group.count > len(group.rows) else rows
    parts = [
        f"<table class='rows quarantined'><caption>{_text(group.key)}: {shown}</caption><tr><th>row</th>"
        "<th>column</th><th>reason</th>" + "".join(f"<th>{_text(c)}</th>" for c in columns) + "</tr>"
    ]
    for row_number, column, reason, record in group.rows:
        masked = masker.row(record)
        parts.append(
            f"<tr><td class='row-number'>{_text(row_number)}</td><td>{_text(column)}</td>"
            f"<td>{_text(masker.reason(reason, record, masked))}</td>"
            + "".join(f"<td>{_text(masked.get(c))}</td>" for c in columns)
            + "</tr>"
        )
    return "".join(parts) + "</table>"


def _problems_html(by_problem: list[_Group], masker: _RowMasker) -> str:
    """The count of rows per problem, most frequent first, then each problem's first rows."""
    counts = "".join(
        f"<tr><td class='problem'>{_text(g.key)}</td><td class='count'>{_text(g.count)}</td></tr>" for g in by_problem
    )
    return (
        "<table class='reason-groups'><tr><th>problem</th><th>rows</th></tr>"
        + counts
        + "</table>"
        + "".join(_group_html(g, masker) for g in by_problem)
    )


def receipts_section(
    connection: duckdb.DuckDBPyConnection,
    key: bytes,
    declared: Mapping[str, Personal],
    fields_of_layout: Mapping[str, Mapping[str, str]],
    *,
    limit: int = RECEIPTS_SHOWN,
) -> str:
    """The section's HTML ('' when nothing was ever received). ``declared``: personal.load();
    ``key``: the warehouse's pseudonym key."""
    total = connection.execute("SELECT count(*) FROM raw.inbox_files").fetchall()[0][0]
    if not total:
        return ""
    files = connection.execute(
        f"""
        SELECT {_RECEIPT} AS receipt, ingested_at, folder, file_name, status, reason, layout,
               rows_received, rows_accepted, rows_quarantined, replaces
        FROM raw.inbox_files QUALIFY receipt <= ? ORDER BY receipt
        """,
        [limit],
    ).fetchall()
    groups = _groups(connection, limit)
    capped = (
        f" The latest {limit:,} of the {total:,} file versions received are shown; the older ones are in "
        "the warehouse (<code>raw.inbox_files</code>)."
        if total > limit
        else ""
    )
    parts = [
        "<h2 id='files-received'>Files received</h2><p>A receipt for every file dropped in the inbox "
        "(<code>surveys</code> and <code>complaints</code>), newest first, one per version of a file (a file "
        "dropped again with other bytes is a new version): whether it loaded or was refused, and why; of the rows "
        "received, how many were accepted and how many quarantined, the quarantined ones grouped by the problem, "
        f"most frequent first, with the first {ROWS_SHOWN_PER_GROUP} rows of each so they can be found and "
        "corrected in the file. Their personal data is masked as above; a column the layout does not use is "
        f"removed as free text. Every quarantined row, as received, is in <code>audit.quarantine</code>.{capped}</p>"
    ]
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
        name = f"{folder}/{file_name}"
        parts.append(
            f"<section class='receipt' data-file='{html.escape(name)}'><h3>{_text(name)}</h3>"
            f"<p>Received at {_text(ingested_at)}: "
        )
        if status == "refused":
            parts.append(
                f"<span class='fail'>refused</span>, no row was loaded, because: "
                f"<span class='refusal'>{_text(reason)}</span></p></section>"
            )
            continue
        replaced = (
            f" It replaced, whole, the earlier file(s) named {_text(', '.join(replaces.split('/')))}: their "
            "records it does not hold were withdrawn."
            if replaces
            else ""
        )
        parts.append(
            f"<span class='pass'>{_text(status)}</span> with the layout <code>{_text(layout)}</code>.{replaced}</p>"
            "<table class='counts'><tr><th>rows received</th><th>accepted</th><th>quarantined</th></tr>"
            f"<tr><td class='received'>{_text(received)}</td><td class='accepted'>{_text(accepted)}</td>"
            f"<td class='quarantined'>{_text(quarantined)}</td></tr></table>"
            f"<p class='balance'>{_text(accepted)} accepted + {_text(quarantined)} quarantined = "
            f"{_text(received)} received</p>"
        )
        by_problem = sorted(groups.get(receipt, {}).values(), key=lambda g: (-g.count, g.key))
        if by_problem:
            personal = declared.get(SUITE_OF_FOLDER.get(folder, ""), NONE)
            parts.append(_problems_html(by_problem, _RowMasker(key, personal, fields_of_layout.get(layout or "", {}))))
        parts.append("</section>")
    return "".join(parts)
