"""The drop folders as a council's file share holds them: which files wait, when one is ready
to take, the manifest an officer may put beside it, and where a file goes once handled.

A file is taken only when it is ready: with ``ready_marker``, once ``<name>.done`` sits beside
it (the share writes the marker after the copy); otherwise once its size and modification time
(and its manifest's) have not changed for ``settle_seconds``, as a copy from a network share
may still be under way. Once handled, a file moves with its marker and manifest to
``processed/`` or ``refused/`` under the time it was received and its original name, beside a
short note in plain words for the officer who dropped it (``<moved name>.txt``).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError

from ingestion.files import FileRefused

FOLDERS = ("surveys", "complaints", "returns")
MARKER_SUFFIX = ".done"
MANIFEST_SUFFIX = ".manifest"
PROCESSED, REFUSED = "processed", "refused"
MANIFEST_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class Readiness:
    """When a waiting file may be taken (``inbox.settle_seconds`` and ``inbox.ready_marker``)."""

    settle_seconds: float = 0
    marker: bool = False


def waiting_files(inbox_dir: Path, folder: str) -> list[Path]:
    """The data files waiting in one drop folder, oldest first (then by name): not hidden, not
    a marker or manifest, not the processed/ and refused/ folders."""
    if folder not in FOLDERS:  # never list a folder outside the inbox
        raise ValueError(f"{folder!r} is not an inbox folder; expected one of {', '.join(FOLDERS)}")
    directory = inbox_dir / folder
    if not directory.is_dir():
        return []
    found = [
        p
        for p in directory.iterdir()
        if not p.name.startswith(".")
        and not p.name.endswith((MARKER_SUFFIX, MANIFEST_SUFFIX))
        and (p.is_symlink() or p.is_file())
    ]
    return sorted(found, key=lambda p: (p.lstat().st_mtime_ns, p.name))


def marker_of(path: Path) -> Path:
    return path.with_name(path.name + MARKER_SUFFIX)


def manifest_of(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def fingerprint(path: Path) -> str:
    """Size and modification time of the file and of its manifest, if any: what must stay the
    same for the file to settle. The file is not read (a symlink is not followed)."""
    parts = []
    for part in (path, manifest_of(path)):
        try:
            status = part.lstat()
        except FileNotFoundError:
            continue
        parts.append(f"{status.st_size}:{status.st_mtime_ns}")
    return ";".join(parts)


def not_ready_because(path: Path, readiness: Readiness, now: float, unchanged_since: float | None = None) -> str | None:
    """None when the file may be taken; otherwise why not, in plain words. ``unchanged_since``
    is when the file was first seen with its present fingerprint (a sensor's earlier look),
    which catches a copy that keeps the source's modification time."""
    if readiness.marker:
        marker = marker_of(path)
        return None if marker.exists() else f"waiting for its marker {marker.name}"
    times = [p.lstat().st_mtime for p in (path, manifest_of(path)) if p.exists() or p.is_symlink()]
    since = max([*times, unchanged_since or 0.0])
    if now - since >= readiness.settle_seconds:
        return None
    return (
        f"changed {max(now - since, 0):.0f} s ago: taken once unchanged for "
        f"{readiness.settle_seconds:g} s (it may still be copying)"
    )


# --------------------------------------------------------------------------- the manifest


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


FileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=r"^[^/\\]+$")]


class Manifest(BaseModel):
    """``<name>.manifest`` beside a data file, e.g. ``replaces: complaints.csv``: the file
    replaces, whole, every file of those names received before it in the same folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    replaces: Annotated[tuple[FileName, ...], BeforeValidator(_as_list)] = ()


def read_manifest(path: Path) -> Manifest:
    """The data file's manifest (an empty one when there is none); a manifest that cannot be
    read refuses the data file, naming the manifest and the key."""
    manifest = manifest_of(path)
    if not manifest.exists():
        return Manifest()
    try:
        with open(manifest, "rb") as handle:
            content = handle.read(MANIFEST_MAX_BYTES + 1)
        if len(content) > MANIFEST_MAX_BYTES:
            raise FileRefused(path, f"its manifest {manifest.name} is over {MANIFEST_MAX_BYTES:,} bytes")
        document = yaml.safe_load(content.decode("utf-8")) or {}
        if not isinstance(document, dict):
            raise FileRefused(
                path, f"its manifest {manifest.name} is not lines of 'key: value' (e.g. 'replaces: {path.name}')"
            )
        return Manifest.model_validate(document)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise FileRefused(path, f"its manifest {manifest.name} cannot be read: {error}") from error
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'manifest'}: {e['msg']}" for e in error.errors())
        raise FileRefused(
            path,
            f"its manifest {manifest.name} is not valid ({problems}); "
            f"the only key is 'replaces: <file name>' or a list of names",
        ) from error


def reissued_by_name(folder: str, file_name: str, patterns: Iterable[str]) -> bool:
    """Whether ``inbox.reissue_names`` makes a file of this name replace earlier ones of it."""
    return any(fnmatch.fnmatchcase(f"{folder}/{file_name}", pattern) for pattern in patterns)


# --------------------------------------------------------------------------- filing away


def file_away(path: Path, outcome: str, received_at: datetime, note: str) -> Path:
    """Move the file (a symlink itself, never its target), its marker and manifest to
    ``processed/`` or ``refused/`` as ``<UTC time>_<original name>``, and write the note beside
    it; the name never overwrites an earlier file."""
    if outcome not in (PROCESSED, REFUSED):
        raise ValueError(f"outcome {outcome!r}: expected {PROCESSED!r} or {REFUSED!r}")
    directory = path.parent / outcome
    directory.mkdir(exist_ok=True)
    stamp = received_at.strftime("%Y-%m-%dT%H%M%SZ")
    destination = directory / f"{stamp}_{path.name}"
    attempt = 1
    while _taken(destination):
        attempt += 1
        destination = directory / f"{stamp}_{attempt}_{path.name}"
    os.rename(path, destination)
    for sidecar, suffix in ((marker_of(path), MARKER_SUFFIX), (manifest_of(path), MANIFEST_SUFFIX)):
        if sidecar.exists():
            os.rename(sidecar, destination.with_name(destination.name + suffix))
    destination.with_name(destination.name + ".txt").write_text(note, encoding="utf-8")
    return destination


def _taken(destination: Path) -> bool:
    return any(p.exists() or p.is_symlink() for p in _with_sidecars(destination))


def _with_sidecars(path: Path) -> Sequence[Path]:
    return [path, *(path.with_name(path.name + s) for s in (MARKER_SUFFIX, MANIFEST_SUFFIX, ".txt"))]
