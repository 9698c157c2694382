"""Read a file dropped in the inbox (CSV, delimited text or XLSX) into one uniform table.

Councils send what their systems export: UTF-8 with or without a BOM, Windows-1252 with
semicolons, quoted multi-line fields, workbooks with title rows, merged group headings above
the real header and notes on other sheets. ``read_table`` hides those differences and keeps
every data row it finds, blank ones included, each with the row number a person sees in the
file, so the caller can account for every row it received.

A file that is unsafe or unreadable as a whole raises ``FileRefused``: too big, not a zip, a
zip bomb (checked with ``zipfile`` before openpyxl parses any XML), formulas, external links,
more than ``MAX_ROWS`` rows or ``MAX_COLUMNS`` columns (a sheet's extent is taken from the
cells holding values, so a stray cell at XFD1048576 is refused at once instead of being walked
cell by cell), NUL bytes, an unknown encoding or UTF-8 mixed with other bytes (named by line),
a quote never closed (which would swallow the rest of the file into one cell), an unsupported
extension or a path leaving the inbox. The zip checks read the workbook part (for links) with
the standard library's expat, as openpyxl parses (2.4+ limits entity expansion; external
entities are not fetched).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import stat
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.constants import ARC_CONTENT_TYPES, ARC_WORKBOOK, XLSM, XLSX, XLTM, XLTX

from ingestion.csv_text import (
    SNIFF_LINES,
    csv_cell_limit,
    decode,
    detect_delimiter,
    first_non_blank_line,
    refuse_unclosed_quote,
)
from ingestion.refusals import FileRefused

__all__ = [
    "FileChanging",
    "FileRefused",
    "Received",
    "SUPPORTED_EXTENSIONS",
    "Table",
    "check_location",
    "parse_table",
    "read_once",
    "read_table",
]

MiB = 1024 * 1024
SUPPORTED_EXTENSIONS = (".csv", ".txt", ".xlsx")
HEADER_SCAN_ROWS = 20  # how far down a sheet the header row may be
MAX_ROWS = 200_000  # rows in one file: a survey wave or a year of complaints is far fewer
MAX_COLUMNS = 1_000  # columns in one file: every layout has fewer than 20


@dataclass(frozen=True)
class Table:
    """A file's rows as ``(row number in the file, {header: cell})``, in file order.

    CSV cells are stripped ``str`` ("" when empty); XLSX cells keep openpyxl's type (None
    when empty). ``sheet`` is set for XLSX, ``encoding`` and ``delimiter`` for CSV.
    """

    path: Path
    sheet: str | None
    header: list[str]
    rows: list[tuple[int, dict[str, object]]]
    encoding: str | None
    delimiter: str | None


@dataclass(frozen=True)
class Received:
    """A file's bytes as read once: the same bytes are hashed, parsed and archived."""

    path: Path
    content: bytes
    sha256: str
    size: int
    mtime_ns: int


class FileChanging(OSError):
    """The file changed while it was being read (still being copied, or rewritten): it is left
    where it is for the next look, neither taken nor refused."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(f"{path}: {what} while it was being read; left for the next look")
        self.path = path


def read_once(path: Path, *, max_bytes: int, root: Path | None = None) -> Received:
    """Read the file whole, once, and prove it did not change meanwhile: the size, modification
    and change times and the inode are the same before and after the read, and the path still
    names the file read. A file over ``max_bytes`` is refused without reading it."""
    path = Path(path)
    check_location(path, root)
    # O_NONBLOCK: a FIFO swapped in after the location check must not block the open
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
        before = os.fstat(handle.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise FileRefused(path, "not a regular file")
        if before.st_size > max_bytes:
            raise FileRefused(path, f"too big: {before.st_size:,} bytes, the limit is {max_bytes:,}")
        content = _read_chunks(handle, max_bytes + 1)
        after = os.fstat(handle.fileno())
    try:
        now = os.stat(path)
    except OSError as error:
        raise FileChanging(path, f"it was moved or deleted ({error.strerror})") from error
    if _identity(before) != _identity(after) or len(content) != after.st_size:
        raise FileChanging(path, "it changed")
    if (now.st_dev, now.st_ino) != (after.st_dev, after.st_ino) or _identity(now) != _identity(after):
        raise FileChanging(path, "it was replaced")
    if len(content) > max_bytes:
        raise FileRefused(path, f"too big: over {max_bytes:,} bytes")
    return Received(path, content, hashlib.sha256(content).hexdigest(), len(content), after.st_mtime_ns)


def _identity(status: os.stat_result) -> tuple[int, int, int, int]:
    return status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


def _read_chunks(handle: Any, limit: int) -> bytes:
    """At most ``limit`` bytes, read a mebibyte at a time."""
    chunks, read = [], 0
    while read < limit:
        chunk = handle.read(min(MiB, limit - read))
        if not chunk:
            break
        chunks.append(chunk)
        read += len(chunk)
    return b"".join(chunks)


def read_table(
    path: Path,
    *,
    expected_columns: Iterable[set[str]] = (),
    max_bytes: int,
    max_uncompressed_bytes: int = 200 * MiB,
    max_compression_ratio: float = 100,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    root: Path | None = None,
) -> Table:
    """Read a CSV/TXT or XLSX file (``parse_table`` on the bytes of ``read_once``)."""
    path = Path(path)
    _check_extension(path)
    received = read_once(path, max_bytes=max_bytes, root=root)
    return parse_table(
        path,
        received.content,
        expected_columns=expected_columns,
        max_uncompressed_bytes=max_uncompressed_bytes,
        max_compression_ratio=max_compression_ratio,
        max_rows=max_rows,
        max_columns=max_columns,
    )


def parse_table(
    path: Path,
    content: bytes,
    *,
    expected_columns: Iterable[set[str]] = (),
    max_uncompressed_bytes: int = 200 * MiB,
    max_compression_ratio: float = 100,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> Table:
    """Parse a file's bytes; ``path`` names it (its extension says CSV or XLSX) and is never
    read again. ``expected_columns`` are the column-name signatures the caller knows, used to
    find the sheet and header row in a workbook. A file with more than ``max_rows`` rows or
    ``max_columns`` columns is refused before its cells are kept (a sparse sheet with one cell
    at XFD1048576 would otherwise be 17 billion cells)."""
    path = Path(path)
    _check_extension(path)
    if not content:
        return Table(path, None, [], [], None, None)
    if path.suffix.lower() == ".xlsx":
        _check_zip(path, content, max_uncompressed_bytes, max_compression_ratio)
        return _read_xlsx(path, content, [set(s) for s in expected_columns], max_rows, max_columns)
    return _read_csv(path, content, max_rows, max_columns)


def _check_extension(path: Path) -> None:
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise FileRefused(
            path,
            f"unsupported file type {path.suffix or '(none)'!r}; expected one of {', '.join(SUPPORTED_EXTENSIONS)}",
        )


# --------------------------------------------------------------------------- file checks


def check_location(path: Path, root: Path | None) -> None:
    """Refuse a path (a symlink, or ``..``) that resolves outside ``root``, and anything that
    is not a regular file: reading a FIFO or device would block or never end."""
    try:
        resolved = path.resolve(strict=True)
        mode = os.stat(resolved).st_mode
    except OSError as error:
        raise FileRefused(path, f"cannot be read: {error}") from error
    if root is not None and not resolved.is_relative_to(Path(root).resolve()):
        raise FileRefused(path, f"resolves to {resolved}, outside {root}")
    if not stat.S_ISREG(mode):
        raise FileRefused(path, "not a regular file")


def _check_zip(path: Path, content: bytes, max_uncompressed: int, max_ratio: float) -> None:
    """Refuse a broken zip, a zip bomb or a workbook linking other files, before openpyxl
    parses it. zipfile never returns more than a member's declared size, so the declared
    sizes checked first bound what this check and openpyxl can inflate later."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise FileRefused(path, f"not a valid XLSX (zip) file: {error}") from error
    with archive:
        members = archive.infolist()
        uncompressed = sum(m.file_size for m in members)
        compressed = sum(m.compress_size for m in members)
        if uncompressed > max_uncompressed:
            raise FileRefused(
                path, f"zip bomb suspected: {uncompressed:,} bytes uncompressed, the limit is {max_uncompressed:,}"
            )
        if uncompressed > max_ratio * max(compressed, 1):
            raise FileRefused(
                path,
                f"zip bomb suspected: compression ratio "
                f"{uncompressed / max(compressed, 1):,.0f}:1, the limit is "
                f"{max_ratio:g}:1",
            )
        links = [m.filename for m in members if m.filename.lower().startswith("xl/externallinks/")]
        if links:
            raise FileRefused(path, f"external links to other workbooks are not accepted ({', '.join(links)})")
        if _names_external_links(archive):
            raise FileRefused(path, "external links to other workbooks are not accepted")


_WORKBOOK_TYPES = {XLSX, XLSM, XLTX, XLTM}  # the content types openpyxl opens as the workbook part


def _names_external_links(archive: zipfile.ZipFile) -> bool:
    """Whether a workbook part (openpyxl's candidates: the parts of a workbook content type, and
    xl/workbook.xml) lists ``externalReferences``, which openpyxl follows to whatever part their
    relationship names, not only to xl/externalLinks/. A part that cannot be read or parsed is
    left to openpyxl, which refuses the workbook as unreadable."""

    def parsed(name: str) -> ElementTree.Element | None:
        try:
            return ElementTree.fromstring(archive.read(name))
        except Exception:  # zipfile, zlib and expat raise many types for a broken part
            return None

    parts = {ARC_WORKBOOK}
    types = parsed(ARC_CONTENT_TYPES) if ARC_CONTENT_TYPES in archive.namelist() else None
    if types is not None:
        parts |= {
            override.get("PartName", "").removeprefix("/")
            for override in types
            if _local_name(override.tag) == "Override" and override.get("ContentType") in _WORKBOOK_TYPES
        }
    for part in sorted(parts & set(archive.namelist())):
        workbook = parsed(part)
        if workbook is not None and any(_local_name(e.tag) == "externalReference" for e in workbook.iter()):
            return True
    return False


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


# --------------------------------------------------------------------------- CSV


def _read_csv(path: Path, content: bytes, max_rows: int = MAX_ROWS, max_columns: int = MAX_COLUMNS) -> Table:
    text, encoding = decode(path, content)
    lines = list(io.StringIO(text, newline=""))  # physical lines, each ended by \r\n, \n or \r
    start = first_non_blank_line(lines)
    if start is None:
        return Table(path, None, [], [], encoding, None)
    delimiter = detect_delimiter(lines[start : start + SNIFF_LINES])
    reader = csv.reader(lines[start:], delimiter=delimiter, strict=False)
    records: list[tuple[int, list[str]]] = []
    try:
        with csv_cell_limit():
            line_before = 0
            for cells in reader:
                if len(cells) > max_columns:
                    raise FileRefused(
                        path,
                        f"too wide: line {start + line_before + 1} has {len(cells):,} "
                        f"columns, the limit is {max_columns:,}",
                    )
                if len(records) > max_rows:  # the header and max_rows data rows are kept
                    raise FileRefused(path, f"too many rows: over {max_rows:,} data rows; split it into smaller files")
                records.append((start + line_before + 1, [c.strip() for c in cells]))
                line_before = reader.line_num
    except csv.Error as error:
        raise FileRefused(path, f"unreadable CSV near line {start + reader.line_num}: {error}") from error
    refuse_unclosed_quote(path, lines, records[-1][0] - 1 if records else 0, start + reader.line_num)
    while records and not records[-1][1]:
        records.pop()  # empty lines at the very end carry nothing
    (_, raw_header), body = records[0], records[1:]
    header, columns = _name_columns(
        path, raw_header, [cells for _, cells in body], blank=lambda v: v == "", unnamed=lambda i: str(i + 1)
    )
    rows = [(number, {name: _cell(cells, i, "") for name, i in zip(header, columns)}) for number, cells in body]
    return Table(path, None, header, rows, encoding, delimiter)


# --------------------------------------------------------------------------- XLSX


def _read_xlsx(
    path: Path, content: bytes, signatures: list[set[str]], max_rows: int = MAX_ROWS, max_columns: int = MAX_COLUMNS
) -> Table:
    workbook = _open_workbook(path, content)
    try:
        _refuse_formulas(path, workbook)
        sheets = [_bound_sheet(path, worksheet, max_rows, max_columns) for worksheet in workbook.worksheets]
        sheet, header_row = _find_header(sheets, signatures)
        if sheet is None:
            return Table(path, None, [], [], None, None)
        if header_row is None:  # an empty sheet
            return Table(path, sheet.title, [], [], None, None)
        grid = [list(values) for values in sheet.first_rows()]
        raw_header, body = grid[header_row - 1], grid[header_row:]
        while body and all(v is None for v in body[-1]):
            body.pop()  # formatting-only rows below the data
        header, columns = _name_columns(
            path,
            [None if v is None else str(v).strip() for v in raw_header],
            body,
            blank=lambda v: v is None or v == "",
            unnamed=get_column_letter,
        )
        rows = [
            (header_row + 1 + i, {name: _cell(values, c, None) for name, c in zip(header, columns)})
            for i, values in enumerate(body)
        ]
        return Table(path, sheet.title, header, rows, None, None)
    finally:
        workbook.close()


def _open_workbook(path: Path, content: bytes) -> openpyxl.Workbook:
    """Full (not read-only) mode to see merged cells; formulas kept, not cached values."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions
            return openpyxl.load_workbook(io.BytesIO(content), read_only=False, data_only=False)
    except Exception as error:  # openpyxl raises many types for a broken workbook
        raise FileRefused(path, f"not a readable XLSX workbook: {type(error).__name__}: {error}") from error


def _refuse_formulas(path: Path, workbook: openpyxl.Workbook) -> None:
    """A formula's value is whatever Excel last computed, or nothing: refuse, naming a cell."""
    for sheet in workbook.worksheets:
        # the cells stored, never the sheet's whole range (iter_rows would create every cell)
        formulas = sorted(
            (cell.row, cell.column, cell.coordinate) for cell in _stored_cells(sheet) if cell.data_type == "f"
        )
        if formulas:
            raise FileRefused(
                path, f"contains formulas (first at {sheet.title}!{formulas[0][2]}); paste values and send it again"
            )


def _stored_cells(sheet: Worksheet) -> list[Any]:
    """The cells the sheet file holds, read from openpyxl's private store (``Worksheet._cells``):
    openpyxl has no public way to list them, and its public iteration creates every cell of the
    range it walks (17 billion for one stray cell at XFD1048576). Read only, never changed."""
    return list(sheet._cells.values())


@dataclass(frozen=True)
class _BoundSheet:
    """A worksheet and the extent of its cells holding values (at least A1, as openpyxl counts an
    empty sheet). Every read walks within it, never over styled empty cells beyond the data."""

    sheet: Worksheet
    rows: int
    columns: int

    @property
    def title(self) -> str:
        return self.sheet.title

    def first_rows(self, count: int | None = None, *, values_only: bool = True) -> list[tuple[Any, ...]]:
        """The first ``count`` rows (all of them without one), as values or as cells."""
        last = self.rows if count is None else min(count, self.rows)
        return list(self.sheet.iter_rows(max_row=last, max_col=self.columns, values_only=values_only))


def _bound_sheet(path: Path, sheet: Worksheet, max_rows: int, max_columns: int) -> _BoundSheet:
    """Refuse a sheet whose cells holding a value reach beyond the limits; else the sheet bound
    to those cells, so that reading it never walks empty styled space."""
    filled = [(cell.row, cell.column) for cell in _stored_cells(sheet) if not _blank_cell(cell.value)]
    last_row = max((r for r, _ in filled), default=0)
    last_column = max((c for _, c in filled), default=0)
    if last_column > max_columns:
        raise FileRefused(
            path,
            f"too wide: sheet {sheet.title!r} has a value in column "
            f"{get_column_letter(last_column)} ({last_column:,}), the limit is "
            f"{max_columns:,} columns",
        )
    if last_row > max_rows + HEADER_SCAN_ROWS:
        raise FileRefused(
            path,
            f"too many rows: sheet {sheet.title!r} has a value on row "
            f"{last_row:,}, the limit is {max_rows:,} data rows; split it into "
            f"smaller files",
        )
    return _BoundSheet(sheet, max(last_row, 1), max(last_column, 1))


def _find_header(sheets: Sequence[_BoundSheet], signatures: list[set[str]]) -> tuple[_BoundSheet | None, int | None]:
    """(sheet, 1-based header row). With signatures: the row, in the first 20 of any sheet,
    holding the most names of one signature (first sheet, then first row, wins a tie). Without
    one, or if no row holds any name: the first sheet's header by layout alone."""
    if not sheets:
        return None, None
    best: tuple[int, _BoundSheet | None, int | None] = (0, None, None)
    keyed = [{_label_key(name) for name in s} for s in signatures]
    for sheet in sheets:
        for number, values in enumerate(sheet.first_rows(HEADER_SCAN_ROWS), start=1):
            names = {_label_key(v) for v in values if not _blank_cell(v)}
            score = max((len(names & signature) for signature in keyed), default=0)
            if score > best[0]:
                best = (score, sheet, number)
    if best[1] is not None:
        return best[1], best[2]
    return sheets[0], _header_by_layout(sheets[0])


def _header_by_layout(sheet: _BoundSheet) -> int | None:
    """The first row with two or more names that is not a merged group heading and is followed
    by a row no wider than itself (data); failing that, the widest row at the top."""
    rows = sheet.first_rows(HEADER_SCAN_ROWS + 1)
    widths = [sum(not _blank_cell(v) for v in values) for values in rows]
    group_rows = _merged_group_rows(sheet)
    for number in range(1, min(len(rows), HEADER_SCAN_ROWS) + 1):
        if widths[number - 1] < 2 or number in group_rows:
            continue
        following = widths[number] if number < len(rows) else 0
        if 0 < following <= widths[number - 1]:
            return number
    if not any(widths):
        return None
    return max(range(len(widths[:HEADER_SCAN_ROWS])), key=widths.__getitem__) + 1


def _merged_group_rows(sheet: _BoundSheet) -> set[int]:
    """Rows where every filled cell heads a merge spanning several columns: "Respondent
    profile" over A:I is a group heading, not a column name."""
    spans = {(r.min_row, r.min_col) for r in sheet.sheet.merged_cells.ranges if r.max_col > r.min_col}
    rows: dict[int, bool] = {}
    for row in sheet.first_rows(HEADER_SCAN_ROWS, values_only=False):
        for cell in row:
            if isinstance(cell, MergedCell) or _blank_cell(cell.value):
                continue
            rows[cell.row] = rows.get(cell.row, True) and (cell.row, cell.column) in spans
    return {number for number, grouped in rows.items() if grouped}


# --------------------------------------------------------------------------- shared


def _name_columns(
    path: Path, raw_header: Sequence[str | None], body: Sequence[Sequence[Any]], *, blank, unnamed
) -> tuple[list[str], list[int]]:
    """(header names, their column indices). A column without a name is dropped when it holds
    no data and called "Unnamed: <column>" when it does, so no value is lost; the same name
    twice (compared as layouts compare labels) is refused, as one column would hide the other."""
    width = max([len(raw_header), *(len(cells) for cells in body)])
    header, columns = [], []
    for index in range(width):
        name = raw_header[index] if index < len(raw_header) else None
        if name:
            header.append(name)
        elif any(not blank(_cell(cells, index, None)) for cells in body):
            header.append(f"Unnamed: {unnamed(index)}")
        else:
            continue
        columns.append(index)
    keys = [_label_key(name) for name in header]
    duplicates = sorted({n for n, k in zip(header, keys) if keys.count(k) > 1})
    if duplicates:
        raise FileRefused(path, f"duplicate column names in the header: {', '.join(map(repr, duplicates))}")
    return header, columns


def _cell(cells: Sequence[Any], index: int, missing: Any) -> Any:
    return cells[index] if index < len(cells) else missing


def _blank_cell(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _label_key(value: Any) -> str:
    """Header names compare like layouts compare them: NFKC, curly quotes straightened,
    spaces collapsed, case folded."""
    text = unicodedata.normalize("NFKC", str(value)).replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text).strip().casefold()
