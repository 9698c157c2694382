"""The drop folders: list the files waiting in ``INBOX_DIR/surveys`` and ``INBOX_DIR/complaints``
and land them in ``raw.inbox_files`` by SHA-256, so the same file dropped twice lands once.

Parsing the files into canonical survey and complaint rows is the readers' job (issue 4); this
module only proves where each file came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from ingestion.raw_load import insert_new_versions

INBOX_FOLDERS = ("surveys", "complaints")
ACCEPTED_SUFFIXES = frozenset({".csv", ".txt", ".xlsx"})


class InboxError(ValueError):
    """A file that cannot be taken from the inbox; the message names it."""


@dataclass(frozen=True)
class InboxFile:
    folder: str
    path: Path
    sha256: str
    bytes: int


def scan_inbox(inbox_dir: Path, *, max_file_bytes: int) -> list[InboxFile]:
    """Every file in the drop folders, in a stable order; refuses files outside the inbox or too big."""
    root = inbox_dir.resolve()
    found: list[InboxFile] = []
    for folder in INBOX_FOLDERS:
        directory = root / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            resolved = path.resolve()
            if not resolved.is_relative_to(root):
                raise InboxError(f"{path}: resolves to {resolved}, outside the inbox {root}; refused")
            if path.suffix.lower() not in ACCEPTED_SUFFIXES:
                raise InboxError(f"{path}: unsupported file type {path.suffix!r} (expected CSV or XLSX)")
            size = resolved.stat().st_size
            if size > max_file_bytes:
                raise InboxError(f"{path}: {size:,} bytes is over the limit of {max_file_bytes:,} (inbox.max_file_bytes)")
            found.append(InboxFile(folder, resolved, _sha256(resolved), size))
    return found


def land_inbox_files(connection: duckdb.DuckDBPyConnection, files: list[InboxFile], *, run_id: str) -> int:
    rows = [
        {
            "folder": f.folder,
            "file_name": f.path.name,
            "bytes": f.bytes,
            "source_system": f"inbox/{f.folder}",
            "source_reference": f"{f.folder}/{f.path.name}",
            "source_sha256": f.sha256,
        }
        for f in files
    ]
    return insert_new_versions(
        connection, "raw.inbox_files", rows, keys=("source_sha256",), run_id=run_id, ingested_at=datetime.now(timezone.utc)
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
