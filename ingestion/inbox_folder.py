"""The drop folders ``INBOX_DIR/surveys`` and ``INBOX_DIR/complaints``: each ready file is read
once, matched to a layout, checked row by row and loaded in one transaction, then filed away.

Nothing received is lost: every file is archived (gzip, by SHA-256) in ``raw.inbox_files``
with its outcome; accepted rows go to ``raw.survey_responses`` / ``raw.complaints``; every
other row goes to ``audit.quarantine`` with its row number, column and reason, so accepted +
quarantined = received for every file. The bytes hashed are the bytes parsed and archived:
the file is read once (``files.read_once``), and a file that changes while it is read is left
for the next look. A refused file (empty, too big, too many rows or columns, a zip bomb,
formulas or external links, no layout fits, a bad manifest, outside the inbox: a link leaving
it is refused before its target is read) is recorded with its reason. Personal data (emails,
phones, postcodes, NI numbers) in an id is a row problem, and quarantined rows and their
reasons carry it redacted, whatever column it came in.

Records, not file names, decide what replaces what: staging keeps, per complaint id and stage
or per respondent and wave, the record from the file received last; a file replaces earlier
files whole only when its manifest says so (``replaces:``) or ``inbox.reissue_names`` names
it (the names it replaces are kept in ``raw.inbox_files.replaces``). The same bytes dropped
twice load once. Once handled, a file moves to ``processed/`` or ``refused/`` (drop_folder.py).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from ingestion import inbox_notes, officer_returns
from ingestion.drop_folder import (
    PROCESSED,
    REFUSED,
    Readiness,
    file_away,
    not_ready_because,
    read_manifest,
    reissued_by_name,
    waiting_files,
)
from ingestion.files import FileChanging, FileRefused, Received, parse_table, read_once
from ingestion.inbox_rows import CheckedRow, check_rows
from ingestion.layouts import Layout, NoLayoutFits, choose_layout
from ingestion.officer_returns import (
    APPROVAL_KIND,
    RETURN_KIND,
    SIGNATURES,
    NotAReturn,
    ReturnContext,
    approved_values,
    kind_of,
    return_context,
)
from ingestion.raw_load import insert_records
from ingestion.redaction import redact, redact_personal_data

RETURNS = "returns"  # officers' returns and the performance team's approvals: checked by officer_returns.py
KIND_OF_FOLDER = {"surveys": "survey", "complaints": "complaint"}
TABLE_OF_KIND = {
    "survey": "raw.survey_responses",
    "complaint": "raw.complaints",
    RETURN_KIND: "raw.officer_returns",
    APPROVAL_KIND: "raw.return_approvals",
}
FREE_TEXT_FIELDS = {"complaint": ("summary",), "survey": ()}
REPLACES_SEPARATOR = "/"  # never in a file name

LOADED, REFUSED_STATUS = "loaded", "refused"
ALREADY_RECEIVED = "already received"  # the same bytes as a file received before: not recorded again
WAITING = "waiting"  # not ready (settling, no marker) or changing while read: left in place
GONE = "gone"  # asked for by a sensor but no longer in the folder


@dataclass(frozen=True)
class FileOutcome:
    folder: str
    file_name: str
    sha256: str | None
    status: str  # loaded | refused | already received | waiting | gone
    layout: str | None = None
    rows_received: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    reason: str | None = None
    sheet: str | None = None
    received_at: datetime | None = None
    replaces: tuple[str, ...] = ()
    filed_as: Path | None = None  # where it was moved (processed/ or refused/)
    filing_error: str | None = None  # why it could not be moved (it is taken again, as a repeat, next time)


@dataclass(frozen=True)
class _Earlier:
    file_name: str
    status: str
    received_at: datetime


def received_versions(connection: duckdb.DuckDBPyConnection, folder: str) -> dict[str, _Earlier]:
    """SHA-256 -> the file version received with those bytes."""
    rows = connection.execute(
        "SELECT source_sha256, file_name, status, ingested_at FROM raw.inbox_files WHERE folder = ?", [folder]
    ).fetchall()
    return {sha: _Earlier(name, status, at) for sha, name, status, at in rows}


def ingest_folder(
    connection: duckdb.DuckDBPyConnection,
    inbox_dir: Path,
    folder: str,
    *,
    layouts: Sequence[Layout],
    vocabulary: Mapping[str, Mapping[str, str]],
    max_file_bytes: int,
    run_id: str,
    readiness: Readiness = Readiness(),  # noqa: B008 (a frozen dataclass: one shared default is safe)
    reissue_names: Sequence[str] = (),
    only: Collection[str] | None = None,
    council: str | None = None,
) -> list[FileOutcome]:
    """Ingest the ready files waiting in the folder, oldest first, one transaction per file, and
    file each away. ``only``: the file names a sensor found ready (it judged readiness over
    several looks); without it, readiness is judged here from the files' times or markers.
    ``council`` (a GSS code): whose value an approved officer's return gives (returns/ only)."""
    if folder == RETURNS and council is None:
        raise ValueError("the returns folder needs the council's GSS code: approved values are the council's")
    waiting = waiting_files(inbox_dir, folder)  # refuses a folder outside the inbox before anything is read
    known = received_versions(connection, folder)
    outcomes = [
        FileOutcome(folder, name, None, GONE, reason="no longer in the folder (handled by another run, or removed)")
        for name in sorted(set(only or ()) - {p.name for p in waiting})
    ]
    for path in waiting:
        if only is not None:
            if path.name not in only:
                continue
        else:
            why = not_ready_because(path, readiness, time.time())
            if why:
                outcomes.append(FileOutcome(folder, path.name, None, WAITING, reason=why))
                continue
        outcome = _take(
            connection,
            path,
            inbox_dir,
            folder,
            known,
            layouts,
            vocabulary,
            max_file_bytes,
            run_id,
            reissue_names,
            council,
        )
        outcomes.append(outcome)
    return outcomes


def _take(
    connection: duckdb.DuckDBPyConnection,
    path: Path,
    inbox_dir: Path,
    folder: str,
    known: dict[str, _Earlier],
    layouts: Sequence[Layout],
    vocabulary: Mapping[str, Mapping[str, str]],
    max_file_bytes: int,
    run_id: str,
    reissue_names: Sequence[str],
    council: str | None,
) -> FileOutcome:
    """Read one file once, record it (unless its bytes were received before) and file it away."""
    received_at = datetime.now(UTC)
    try:  # a link leaving the inbox (or to a FIFO or device) is refused before its target is read (read_once)
        received = read_once(path, max_bytes=max_file_bytes, root=inbox_dir)
    except FileChanging as error:
        return FileOutcome(folder, path.name, None, WAITING, reason=str(error))
    except (FileRefused, OSError) as error:  # refused unread: the digest names the refusal, not the bytes
        reason = str(error) if isinstance(error, FileRefused) else f"{path}: cannot be read: {error}"
        digest = hashlib.sha256(f"refused:{folder}/{path.name}:{reason}".encode()).hexdigest()
        if digest in known:
            return _file_repeat(path, folder, digest, known[digest], received_at)
        outcome = _refused(folder, path, digest, reason, received_at)
        _record(connection, outcome, None, [], run_id, set())
        known[digest] = _Earlier(path.name, REFUSED_STATUS, received_at)
        return _file(path, outcome, REFUSED, inbox_notes.refused_note(folder, path.name, received_at, reason))
    if received.sha256 in known:
        return _file_repeat(path, folder, received.sha256, known[received.sha256], received_at)
    if folder == RETURNS:  # the drafts received so far, as of this file (an approval may name a return of this run)
        context = return_context(connection)
        outcome, rows, free_text = _read_return(received, context, received_at)
        values = (
            approved_values(
                rows,
                context,
                council=council or "",
                approval_file=path.name,
                sha256=received.sha256,
                received_at=received_at,
                run_id=run_id,
            )
            if outcome.layout == APPROVAL_KIND
            else []
        )
    else:
        outcome, rows, free_text = _read(received, folder, layouts, vocabulary, known, reissue_names, received_at)
        values = []
    _record(connection, outcome, received.content, rows, run_id, free_text, values)
    known[received.sha256] = _Earlier(path.name, outcome.status, received_at)
    if outcome.status == REFUSED_STATUS:
        return _file(
            path, outcome, REFUSED, inbox_notes.refused_note(folder, path.name, received_at, outcome.reason or "")
        )
    problems = [(r.row_number, r.problems[0][0], _row_reason(r)) for r in rows if not r.accepted]
    note = inbox_notes.loaded_note(
        folder,
        path.name,
        received_at,
        outcome.layout or "",
        outcome.rows_received,
        outcome.rows_accepted,
        problems,
        outcome.replaces,
    )
    return _file(path, outcome, PROCESSED, note)


def _file(path: Path, outcome: FileOutcome, where: str, note: str) -> FileOutcome:
    """Move the handled file; a move that fails leaves it for the next run, which sees a repeat."""
    try:
        return dataclasses.replace(outcome, filed_as=file_away(path, where, outcome.received_at, note))
    except OSError as error:
        return dataclasses.replace(outcome, filing_error=f"could not move it to {where}/: {error}")


def _file_repeat(path: Path, folder: str, digest: str, earlier: _Earlier, received_at: datetime) -> FileOutcome:
    outcome = FileOutcome(
        folder,
        path.name,
        digest,
        ALREADY_RECEIVED,
        received_at=received_at,
        reason=f"the same bytes as {earlier.file_name}, received {earlier.received_at} ({earlier.status})",
    )
    note = inbox_notes.repeat_note(
        folder, path.name, received_at, earlier.file_name, earlier.received_at, earlier.status
    )
    return _file(path, outcome, REFUSED if earlier.status == REFUSED_STATUS else PROCESSED, note)


def _read(
    received: Received,
    folder: str,
    layouts: Sequence[Layout],
    vocabulary: Mapping[str, Mapping[str, str]],
    known: Mapping[str, _Earlier],
    reissue_names: Sequence[str],
    received_at: datetime,
) -> tuple[FileOutcome, list[CheckedRow], set[str]]:
    """(outcome, the checked rows, the file columns holding free text), from the bytes read."""
    kind, path = KIND_OF_FOLDER[folder], received.path
    try:
        replaces = _replaces(path, folder, known, reissue_names)
        table = parse_table(
            path, received.content, expected_columns=[layout.signature for layout in layouts if layout.kind == kind]
        )
        if not table.header:
            raise FileRefused(path, f"empty: no header row and no data ({received.size:,} bytes)")
        layout = choose_layout(table.header, layouts, kind=kind, file_name=path.name)
    except (FileRefused, NoLayoutFits) as error:
        return _refused(folder, path, received.sha256, str(error), received_at), [], set()
    rows = check_rows(table.rows, layout, vocabulary)
    accepted = sum(r.accepted for r in rows)
    outcome = FileOutcome(
        folder,
        path.name,
        received.sha256,
        LOADED,
        layout.name,
        len(rows),
        accepted,
        len(rows) - accepted,
        sheet=table.sheet,
        received_at=received_at,
        replaces=replaces,
    )
    free_text = {layout.columns[f] for f in FREE_TEXT_FIELDS[kind] if f in layout.columns}
    return outcome, rows, free_text


def _read_return(
    received: Received, context: ReturnContext, received_at: datetime
) -> tuple[FileOutcome, list[CheckedRow], set[str]]:
    """(outcome, the checked rows, the free-text columns) of an officer's return or an approvals sheet."""
    path = received.path
    try:
        table = parse_table(path, received.content, expected_columns=list(SIGNATURES.values()))
        if not table.header:
            raise FileRefused(path, f"empty: no header row and no data ({received.size:,} bytes)")
        kind = kind_of(table.header)
    except (FileRefused, NotAReturn) as error:
        return _refused(RETURNS, path, received.sha256, str(error), received_at), [], set()
    rows = officer_returns.check_rows(kind, table.rows, context, sha256=received.sha256, received_at=received_at)
    accepted = sum(r.accepted for r in rows)
    outcome = FileOutcome(
        RETURNS,
        path.name,
        received.sha256,
        LOADED,
        kind,
        len(rows),
        accepted,
        len(rows) - accepted,
        sheet=table.sheet,
        received_at=received_at,
    )
    return outcome, rows, set(officer_returns.FREE_TEXT[kind])


def _replaces(path: Path, folder: str, known: Mapping[str, _Earlier], reissue_names: Sequence[str]) -> tuple[str, ...]:
    """The earlier file names this file replaces whole: its manifest's (each must name a file
    loaded before in this folder, or the file is refused: a misspelt name must not leave the
    old records standing unnoticed), and its own name under ``inbox.reissue_names``."""
    named = set(read_manifest(path).replaces)
    loaded = {e.file_name for e in known.values() if e.status == LOADED}
    unknown = sorted(named - loaded)
    if unknown:
        raise FileRefused(
            path,
            f"its manifest says it replaces {', '.join(map(repr, unknown))}, but no file of that name "
            f"was loaded in {folder}/ (loaded: {', '.join(sorted(loaded)) or 'none'})",
        )
    if reissued_by_name(folder, path.name, reissue_names):
        named.add(path.name)
    return tuple(sorted(named))


def _refused(folder: str, path: Path, digest: str, reason: str, received_at: datetime) -> FileOutcome:
    return FileOutcome(folder, path.name, digest, REFUSED_STATUS, reason=reason, received_at=received_at)


def _record(
    connection: duckdb.DuckDBPyConnection,
    outcome: FileOutcome,
    content: bytes | None,
    rows: list[CheckedRow],
    run_id: str,
    free_text: set[str],
    approved: Sequence[dict[str, Any]] = (),
) -> FileOutcome:
    """Write the file's archive record, its accepted rows, its quarantined rows and the values an
    approvals file approves, atomically."""
    now = outcome.received_at or datetime.now(UTC)
    kind = outcome.layout if outcome.folder == RETURNS else KIND_OF_FOLDER[outcome.folder]
    lineage = {
        "source_system": f"inbox/{outcome.folder}",
        "source_sha256": outcome.sha256,
        "ingested_at": now,
        "run_id": run_id,
    }
    file_record = {
        "folder": outcome.folder,
        "file_name": outcome.file_name,
        "status": outcome.status,
        "layout": outcome.layout,
        "rows_received": outcome.rows_received,
        "rows_accepted": outcome.rows_accepted,
        "rows_quarantined": outcome.rows_quarantined,
        "reason": outcome.reason,
        "bytes": None if content is None else len(content),
        "content_gzip": None if content is None else gzip.compress(content, mtime=0),
        "source_reference": f"{outcome.folder}/{outcome.file_name}",
        **lineage,
        "replaces": REPLACES_SEPARATOR.join(outcome.replaces) or None,
    }
    accepted = [_raw_row(row, outcome, kind, lineage) for row in rows if row.accepted]
    quarantined = [_quarantine_row(row, outcome, lineage, free_text) for row in rows if not row.accepted]
    if outcome.status == REFUSED_STATUS:
        quarantined.append(
            {
                "run_id": run_id,
                "source_system": lineage["source_system"],
                "source_reference": file_record["source_reference"],
                "source_sha256": outcome.sha256,
                "row_number": None,
                "column_name": None,
                "reason": f"file refused: {outcome.reason}",
                "raw_record": None,
                "quarantined_at": now,
            }
        )
    connection.begin()
    try:
        insert_records(connection, "raw.inbox_files", [file_record])
        if kind is not None:  # a refused return has no kind, and no rows
            insert_records(connection, TABLE_OF_KIND[kind], accepted)
        insert_records(connection, "raw.lginform_values", list(approved))
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
    record = {
        **row.canonical,
        "file_name": outcome.file_name,
        "row_number": row.row_number,
        "extra": _json(row.extra) if row.extra else None,
        "source_reference": _reference(outcome, row),
        **lineage,
    }
    if outcome.folder != RETURNS:
        record["layout"] = outcome.layout
    if kind == "complaint":
        redacted = redact(row.canonical.get("summary"))
        record["summary_redacted"] = redacted.text
        record["redaction_counts"] = _json(redacted.counts)
    return record


def _quarantine_row(
    row: CheckedRow, outcome: FileOutcome, lineage: dict[str, Any], free_text: set[str]
) -> dict[str, Any]:
    """The row as received, its free text (and any unmapped column) redacted: audit.quarantine
    is outside raw."""
    redact_columns = free_text | set(row.extra)
    # every other cell too, where it holds an email, phone, postcode or NI number: a Service
    # cell with an address in it, or the reason quoting that cell, must not carry it out of raw
    record = {
        k: (redact(v).text if k in redact_columns else redact_personal_data(v)) if isinstance(v, str) else v
        for k, v in row.record.items()
    }
    column, _ = row.problems[0]
    return {
        "run_id": lineage["run_id"],
        "source_system": lineage["source_system"],
        "source_reference": _reference(outcome, row),
        "source_sha256": outcome.sha256,
        "row_number": row.row_number,
        "column_name": column,
        "reason": _row_reason(row),
        "raw_record": _json(record),
        "quarantined_at": lineage["ingested_at"],
    }


def _row_reason(row: CheckedRow) -> str:
    """Every problem of a rejected row, as the quarantine and the officer's note word it."""
    return "; ".join(_redact_reason(reason, row.record) for _, reason in row.problems)


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
