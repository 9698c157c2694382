"""The drop folders ``INBOX_DIR/surveys`` and ``INBOX_DIR/complaints``: each new file is read,
matched to a layout, checked row by row and loaded in one transaction.

Nothing received is lost: every file is archived (gzip, by SHA-256) in ``raw.inbox_files``
with its outcome; accepted rows go to ``raw.survey_responses`` / ``raw.complaints``; every
other row goes to ``audit.quarantine`` with its row number, column and reason, so accepted +
quarantined = received for every file. A refused file (empty, too big, too many rows or
columns, a zip bomb, formulas or external links, no layout fits, outside the inbox: a link
leaving it is refused before its target is read, even to hash it) is recorded with its
reason. Personal data (emails, phones, postcodes, NI numbers) in an id is a row problem, and
quarantined rows and their reasons carry it redacted, whatever column it came in. The same
bytes dropped twice load once; a file dropped again under the same name with other bytes is a
corrected re-issue, and staging reads only the latest version of each file name.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from ingestion.files import FileRefused, check_location, read_table, sha256_of
from ingestion.inbox_rows import CheckedRow, check_rows
from ingestion.layouts import Layout, NoLayoutFits, choose_layout
from ingestion.raw_load import insert_records
from ingestion.redaction import redact, redact_personal_data

KIND_OF_FOLDER = {"surveys": "survey", "complaints": "complaint"}
TABLE_OF_KIND = {"survey": "raw.survey_responses", "complaint": "raw.complaints"}
FREE_TEXT_FIELDS = {"complaint": ("summary",), "survey": ()}


@dataclass(frozen=True)
class FileOutcome:
    folder: str
    file_name: str
    sha256: str
    status: str  # loaded | refused | already loaded
    layout: str | None = None
    rows_received: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    reason: str | None = None
    sheet: str | None = None


def inbox_files(inbox_dir: Path, folder: str) -> list[Path]:
    """The files waiting in one drop folder, in a stable order (hidden files ignored)."""
    directory = inbox_dir / folder
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if not p.name.startswith(".") and (p.is_file() or p.is_symlink()))


def loaded_hashes(connection: duckdb.DuckDBPyConnection, folder: str) -> set[str]:
    rows = connection.execute("SELECT source_sha256 FROM raw.inbox_files WHERE folder = ?", [folder]).fetchall()
    return {r[0] for r in rows}


def ingest_folder(
    connection: duckdb.DuckDBPyConnection,
    inbox_dir: Path,
    folder: str,
    *,
    layouts: Sequence[Layout],
    vocabulary: Mapping[str, Mapping[str, str]],
    max_file_bytes: int,
    run_id: str,
) -> list[FileOutcome]:
    """Ingest every file in the folder that was not loaded before; one transaction per file."""
    if folder not in KIND_OF_FOLDER:  # never list (or hash) a folder outside the inbox
        raise ValueError(f"{folder!r} is not an inbox folder; expected one of {', '.join(KIND_OF_FOLDER)}")
    known = loaded_hashes(connection, folder)
    outcomes = []
    for path in inbox_files(inbox_dir, folder):
        try:  # a link leaving the inbox (or to a FIFO or device) is refused before its target is read, even to hash it
            check_location(path, inbox_dir)
        except FileRefused as error:
            digest = hashlib.sha256(f"refused:{folder}/{path.name}:{error.reason}".encode()).hexdigest()
            if digest in known:
                outcomes.append(FileOutcome(folder, path.name, digest, "already loaded"))
            else:
                outcomes.append(_record(connection, _refused(folder, path, digest, str(error)), None, [], run_id, set()))
                known.add(digest)
            continue
        try:
            digest = sha256_of(path)
        except OSError as error:
            digest = f"unreadable:{path.name}"
            reason = f"{path}: cannot be read: {error}"
            outcomes.append(_record(connection, _refused(folder, path, digest, reason), None, [], run_id, set()))
            continue
        if digest in known:
            outcomes.append(FileOutcome(folder, path.name, digest, "already loaded"))
            continue
        outcome, content, rows, free_text = _read(path, digest, folder, layouts, vocabulary, max_file_bytes, inbox_dir)
        outcomes.append(_record(connection, outcome, content, rows, run_id, free_text))
        known.add(digest)
    return outcomes


def _read(
    path: Path,
    digest: str,
    folder: str,
    layouts: Sequence[Layout],
    vocabulary: Mapping[str, Mapping[str, str]],
    max_file_bytes: int,
    inbox_dir: Path,
) -> tuple[FileOutcome, bytes | None, list[CheckedRow], set[str]]:
    """(outcome, the bytes to archive, the checked rows, the file columns holding free text)."""
    kind = KIND_OF_FOLDER[folder]
    try:
        table = read_table(
            path,
            expected_columns=[layout.signature for layout in layouts if layout.kind == kind],
            max_bytes=max_file_bytes,
            root=inbox_dir,
        )
        if not table.header:
            raise FileRefused(path, f"empty: no header row and no data ({path.stat().st_size:,} bytes)")
        layout = choose_layout(table.header, layouts, kind=kind, file_name=path.name)
    except (FileRefused, NoLayoutFits) as error:
        content = path.read_bytes() if path.stat().st_size <= max_file_bytes and not path.is_symlink() else None
        return _refused(folder, path, digest, str(error)), content, [], set()
    rows = check_rows(table.rows, layout, vocabulary)
    accepted = sum(r.accepted for r in rows)
    outcome = FileOutcome(folder, path.name, digest, "loaded", layout.name, len(rows), accepted, len(rows) - accepted, sheet=table.sheet)
    free_text = {layout.columns[f] for f in FREE_TEXT_FIELDS[kind] if f in layout.columns}
    return outcome, path.read_bytes(), rows, free_text


def _refused(folder: str, path: Path, digest: str, reason: str) -> FileOutcome:
    return FileOutcome(folder, path.name, digest, "refused", reason=reason)


def _record(
    connection: duckdb.DuckDBPyConnection, outcome: FileOutcome, content: bytes | None, rows: list[CheckedRow], run_id: str, free_text: set[str]
) -> FileOutcome:
    """Write the file's archive record, its accepted rows and its quarantined rows, atomically."""
    now = datetime.now(timezone.utc)
    kind = KIND_OF_FOLDER[outcome.folder]
    lineage = {"source_system": f"inbox/{outcome.folder}", "source_sha256": outcome.sha256, "ingested_at": now, "run_id": run_id}
    file_record = {
        "folder": outcome.folder, "file_name": outcome.file_name, "status": outcome.status, "layout": outcome.layout,
        "rows_received": outcome.rows_received, "rows_accepted": outcome.rows_accepted,
        "rows_quarantined": outcome.rows_quarantined, "reason": outcome.reason,
        "bytes": None if content is None else len(content),
        "content_gzip": None if content is None else gzip.compress(content, mtime=0),
        "source_reference": f"{outcome.folder}/{outcome.file_name}", **lineage,
    }
    accepted = [_raw_row(row, outcome, kind, lineage) for row in rows if row.accepted]
    quarantined = [_quarantine_row(row, outcome, lineage, free_text) for row in rows if not row.accepted]
    if outcome.status == "refused":
        quarantined.append({"run_id": run_id, "source_system": lineage["source_system"], "source_reference": file_record["source_reference"],
                            "source_sha256": outcome.sha256, "row_number": None, "column_name": None,
                            "reason": f"file refused: {outcome.reason}", "raw_record": None, "quarantined_at": now})
    connection.begin()
    try:
        insert_records(connection, "raw.inbox_files", [file_record])
        insert_records(connection, TABLE_OF_KIND[kind], accepted)
        insert_records(connection, "audit.quarantine", quarantined)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return outcome


def _reference(outcome: FileOutcome, row: CheckedRow) -> str:
    sheet = f"#sheet={outcome.sheet}" if outcome.sheet else ""
    return f"{outcome.folder}/{outcome.file_name}{sheet}#row={row.row_number}"


def _raw_row(row: CheckedRow, outcome: FileOutcome, kind: str, lineage: dict[str, Any]) -> dict[str, Any]:
    record = {**row.canonical, "file_name": outcome.file_name, "row_number": row.row_number, "layout": outcome.layout,
              "extra": _json(row.extra) if row.extra else None, "source_reference": _reference(outcome, row), **lineage}
    if kind == "complaint":
        redacted = redact(row.canonical.get("summary"))
        record["summary_redacted"] = redacted.text
        record["redaction_counts"] = _json(redacted.counts)
    return record


def _quarantine_row(row: CheckedRow, outcome: FileOutcome, lineage: dict[str, Any], free_text: set[str]) -> dict[str, Any]:
    """The row as received, its free text (and any unmapped column) redacted: audit.quarantine
    is outside raw."""
    redact_columns = free_text | set(row.extra)
    # every other cell too, where it holds an email, phone, postcode or NI number: a Service
    # cell with an address in it, or the reason quoting that cell, must not carry it out of raw
    record = {k: (redact(v).text if k in redact_columns else redact_personal_data(v)) if isinstance(v, str) else v
              for k, v in row.record.items()}
    column, _ = row.problems[0]
    return {
        "run_id": lineage["run_id"], "source_system": lineage["source_system"], "source_reference": _reference(outcome, row),
        "source_sha256": outcome.sha256, "row_number": row.row_number, "column_name": column,
        "reason": "; ".join(_redact_reason(reason, row.record) for _, reason in row.problems), "raw_record": _json(record),
        "quarantined_at": lineage["ingested_at"],
    }


def _redact_reason(reason: str, record: dict[str, Any]) -> str:
    """The reason with any cell it quotes redacted as that cell is ("'[email]' is not an
    allowed service"), then whatever personal data is left."""
    for value in record.values():
        if isinstance(value, str) and value and value in reason:
            reason = reason.replace(value, redact_personal_data(value))
    return redact_personal_data(reason)


def _json(value: Any) -> str:
    def default(v: Any) -> Any:
        return v.isoformat() if isinstance(v, (date, datetime)) else str(v)

    return json.dumps(value, default=default, ensure_ascii=False, sort_keys=True)
