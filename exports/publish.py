"""Atomic publication of an export folder, and CSV text that a spreadsheet cannot execute."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from exports.formatting import format_number

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """Prefix a text cell that a spreadsheet would run as a formula with an apostrophe (OWASP).

    A value that is a plain number ("-3.5") is data, not a formula, and is left alone.
    """
    if not text or not text.startswith(FORMULA_TRIGGERS):
        return text
    try:
        float(text)
        return text
    except ValueError:
        return "'" + text


def format_cell(value: Any) -> str:
    """One CSV cell: empty for missing, floats as published (exports/formatting.py: the shortest
    exact spelling, no trailing .0 on whole numbers, no thousands separators)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return format_number(value, None)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise_formula(value)
    return str(value)


_QUOTE_NEEDED = re.compile(r'[,"\n\r]')


def csv_line(cells: Sequence[str]) -> str:
    """One CSV line as DuckDB's COPY writes it (exports/sql_cells.py): a cell is quoted when it
    holds a comma, a quote or a line break, CR included (Python's csv writer left a lone CR bare,
    which a reader splitting lines on CR takes for a new row)."""
    return ",".join('"' + c.replace('"', '""') + '"' if _QUOTE_NEEDED.search(c) else c for c in cells) + "\n"


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a UTF-8 CSV with \\n line ends; return the number of data rows."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(csv_line(header))
        for row in rows:
            handle.write(csv_line([format_cell(v) for v in row]))
            count += 1
    return count


@contextlib.contextmanager
def staged_folder(destination: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``destination``; on success swap it into place.

    The previous export stays byte for byte as it was until the new one is complete; if the
    block raises, the temporary folder is removed and the destination is untouched. The swap
    is one atomic exchange of the two folders where the system allows it (Linux
    ``renameat2(RENAME_EXCHANGE)``), so a reader, or a run killed at any moment, sees the old
    complete folder or the new complete one, never neither. Staging folders left by a run
    that was killed are removed first.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    previous = destination.parent / f".{destination.name}.previous"
    if previous.exists() and not destination.exists():
        os.replace(previous, destination)  # a run was killed between the two renames of the fallback below
    shutil.rmtree(previous, ignore_errors=True)
    for leftover in destination.parent.glob(f".{destination.name}.staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)  # a killed run's half-written export: never published
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.staging-", dir=destination.parent))
    try:
        yield staging
        _fsync_tree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.chmod(0o755)  # mkdtemp makes it private; the portal and BI tools read the published folder
    if destination.exists() and _exchange(staging, destination):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous export
        return
    if destination.exists():
        os.replace(destination, previous)
    os.replace(staging, destination)
    shutil.rmtree(previous, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2); False where that is not available."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False  # the file system or kernel cannot: fall back to two renames
    raise OSError(error, os.strerror(error), str(b))


def _fsync_tree(folder: Path) -> None:
    """Flush every file of the new export to disk before it is published."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
