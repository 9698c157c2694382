"""Read a file dropped in the inbox (CSV, delimited text or XLSX) into one uniform table.

Councils send what their systems export: UTF-8 with or without a BOM, Windows-1252 with
semicolons, quoted multi-line fields, workbooks with title rows, merged group headings above
the real header and notes on other sheets. ``read_table`` hides those differences and keeps
every data row it finds, blank ones included, each with the row number a person sees in the
file, so the caller can account for every row it received.

A file that is unsafe or unreadable as a whole raises ``FileRefused``: too big, not a zip, a
zip bomb (checked with ``zipfile`` before openpyxl parses any XML), formulas, external links,
an unknown encoding, an unsupported extension or a path leaving the inbox. openpyxl parses with
the standard library's expat (2.4+ limits entity expansion; external entities are not fetched).
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

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["FileRefused", "Table", "read_table", "sha256_of", "SUPPORTED_EXTENSIONS"]

MiB = 1024 * 1024
SUPPORTED_EXTENSIONS = (".csv", ".txt", ".xlsx")
CSV_DELIMITERS = ",;\t|"
HEADER_SCAN_ROWS = 20  # how far down a sheet the header row may be
_SNIFF_LINES = 20
_SNIFF_CHARS = 64 * 1024  # Sniffer's regexes are slow on very long lines


class FileRefused(ValueError):
    """The whole file is refused; the message starts with the file's path."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


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


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in chunks; a FIFO or device (even via a symlink) is an OSError,
    so hashing never blocks or reads forever."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(f"not a regular file: {path}")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(MiB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_table(
    path: Path,
    *,
    expected_columns: Iterable[set[str]] = (),
    max_bytes: int,
    max_uncompressed_bytes: int = 200 * MiB,
    max_compression_ratio: float = 100,
    root: Path | None = None,
) -> Table:
    """Read a CSV/TXT or XLSX file; ``expected_columns`` are the column-name signatures the
    caller knows, used to find the sheet and header row in a workbook."""
    path = Path(path)
    extension = path.suffix.lower()
    if extension not in SUPPORTED_EXTENSIONS:
        raise FileRefused(path, f"unsupported file type {path.suffix or '(none)'!r}; "
                                f"expected one of {', '.join(SUPPORTED_EXTENSIONS)}")
    _check_location(path, root)
    content = _read_bounded(path, max_bytes)
    if not content:
        return Table(path, None, [], [], None, None)
    if extension == ".xlsx":
        _check_zip(path, content, max_uncompressed_bytes, max_compression_ratio)
        return _read_xlsx(path, content, [set(s) for s in expected_columns])
    return _read_csv(path, content)


# --------------------------------------------------------------------------- file checks


def _check_location(path: Path, root: Path | None) -> None:
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


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    """Read at most ``max_bytes`` + 1 bytes, so a file growing after a size check is caught
    too; every later check looks at these bytes, never at the file again."""
    size = path.stat().st_size
    if size > max_bytes:
        raise FileRefused(path, f"too big: {size:,} bytes, the limit is {max_bytes:,}")
    with open(path, "rb") as handle:
        content = handle.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise FileRefused(path, f"too big: over {max_bytes:,} bytes (it grew while being read)")
    return content


def _check_zip(path: Path, content: bytes, max_uncompressed: int, max_ratio: float) -> None:
    """Refuse a broken zip, a zip bomb or a workbook linking other files, from the zip's
    directory alone. zipfile never returns more than a member's declared size, so the
    declared sizes checked here bound what openpyxl can inflate later."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise FileRefused(path, f"not a valid XLSX (zip) file: {error}") from error
    uncompressed = sum(m.file_size for m in members)
    compressed = sum(m.compress_size for m in members)
    if uncompressed > max_uncompressed:
        raise FileRefused(path, f"zip bomb suspected: {uncompressed:,} bytes uncompressed, "
                                f"the limit is {max_uncompressed:,}")
    if uncompressed > max_ratio * max(compressed, 1):
        raise FileRefused(path, f"zip bomb suspected: compression ratio "
                                f"{uncompressed / max(compressed, 1):,.0f}:1, the limit is "
                                f"{max_ratio:g}:1")
    links = [m.filename for m in members if m.filename.lower().startswith("xl/externallinks/")]
    if links:
        raise FileRefused(path, f"external links to other workbooks are not accepted "
                                f"({', '.join(links)})")


# --------------------------------------------------------------------------- CSV


def _read_csv(path: Path, content: bytes) -> Table:
    text, encoding = _decode(path, content)
    lines = list(io.StringIO(text, newline=""))  # physical lines, each ended by \r\n, \n or \r
    start = _first_non_blank_line(lines)
    if start is None:
        return Table(path, None, [], [], encoding, None)
    delimiter = _detect_delimiter(lines[start:start + _SNIFF_LINES])
    reader = csv.reader(lines[start:], delimiter=delimiter, strict=False)
    records: list[tuple[int, list[str]]] = []
    try:
        line_before = 0
        for cells in reader:
            records.append((start + line_before + 1, [c.strip() for c in cells]))
            line_before = reader.line_num
    except csv.Error as error:
        raise FileRefused(path, f"unreadable CSV near line {start + reader.line_num}: "
                                f"{error}") from error
    while records and not records[-1][1]:
        records.pop()  # empty lines at the very end carry nothing
    (_, raw_header), body = records[0], records[1:]
    header, columns = _name_columns(path, raw_header, [cells for _, cells in body],
                                    blank=lambda v: v == "", unnamed=lambda i: str(i + 1))
    rows = [(number, {name: _cell(cells, i, "") for name, i in zip(header, columns)})
            for number, cells in body]
    return Table(path, None, header, rows, encoding, delimiter)


def _decode(path: Path, content: bytes) -> tuple[str, str]:
    """UTF-8 (BOM or not) when it decodes strictly, else Windows-1252; anything else (bytes
    that cp1252 leaves undefined, NUL bytes of UTF-16 or binary files) is refused."""
    if b"\x00" in content:
        raise FileRefused(path, "contains NUL bytes: a binary or UTF-16 file, not CSV text; "
                                "save it as 'CSV UTF-8'")
    try:
        text = content.decode("utf-8-sig")
        return text, "utf-8-sig" if content.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as error:
        raise FileRefused(path, f"unknown text encoding: byte 0x{content[error.start]:02X} at "
                                f"offset {error.start} is neither UTF-8 nor Windows-1252") from error


def _first_non_blank_line(lines: Sequence[str]) -> int | None:
    """Index of the first line with any text; the header is on it."""
    return next((i for i, line in enumerate(lines) if line.strip()), None)


def _detect_delimiter(sample_lines: Sequence[str]) -> str:
    """csv.Sniffer on the first lines; if it fails or picks a character missing from the
    header line (a quoted multi-line field can mislead it), count in the header line."""
    header_line = sample_lines[0]
    try:
        sample = "".join(sample_lines)[:_SNIFF_CHARS]
        sniffed = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed and sniffed in header_line:
        return sniffed
    counts = {d: header_line.count(d) for d in CSV_DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


# --------------------------------------------------------------------------- XLSX


def _read_xlsx(path: Path, content: bytes, signatures: list[set[str]]) -> Table:
    workbook = _open_workbook(path, content)
    try:
        if getattr(workbook, "_external_links", None):
            raise FileRefused(path, "external links to other workbooks are not accepted")
        _refuse_formulas(path, workbook)
        sheet, header_row = _find_header(workbook.worksheets, signatures)
        if sheet is None:
            return Table(path, None, [], [], None, None)
        if header_row is None:  # an empty sheet
            return Table(path, sheet.title, [], [], None, None)
        grid = _sheet_values(sheet)
        raw_header, body = grid[header_row - 1], grid[header_row:]
        while body and all(v is None for v in body[-1]):
            body.pop()  # formatting-only rows below the data
        header, columns = _name_columns(
            path, [None if v is None else str(v).strip() for v in raw_header], body,
            blank=lambda v: v is None or v == "", unnamed=get_column_letter)
        rows = [(header_row + 1 + i, {name: _cell(values, c, None) for name, c in zip(header, columns)})
                for i, values in enumerate(body)]
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
        raise FileRefused(path, f"not a readable XLSX workbook: {type(error).__name__}: "
                                f"{error}") from error


def _refuse_formulas(path: Path, workbook: openpyxl.Workbook) -> None:
    """A formula's value is whatever Excel last computed, or nothing: refuse, naming a cell."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    raise FileRefused(path, f"contains formulas (first at {sheet.title}!"
                                            f"{cell.coordinate}); paste values and send it again")


def _sheet_values(sheet: Worksheet) -> list[list[Any]]:
    return [list(values) for values in sheet.iter_rows(values_only=True)]


def _find_header(sheets: Sequence[Worksheet],
                 signatures: list[set[str]]) -> tuple[Worksheet | None, int | None]:
    """(sheet, 1-based header row). With signatures: the row, in the first 20 of any sheet,
    holding the most names of one signature (first sheet, then first row, wins a tie). Without
    one, or if no row holds any name: the first sheet's header by layout alone."""
    if not sheets:
        return None, None
    best: tuple[int, Worksheet | None, int | None] = (0, None, None)
    keyed = [{_label_key(name) for name in s} for s in signatures]
    for sheet in sheets:
        for number, values in enumerate(_top_rows(sheet), start=1):
            names = {_label_key(v) for v in values if not _blank_cell(v)}
            score = max((len(names & signature) for signature in keyed), default=0)
            if score > best[0]:
                best = (score, sheet, number)
    if best[1] is not None:
        return best[1], best[2]
    return sheets[0], _header_by_layout(sheets[0])


def _header_by_layout(sheet: Worksheet) -> int | None:
    """The first row with two or more names that is not a merged group heading and is followed
    by a row no wider than itself (data); failing that, the widest row at the top."""
    rows = _top_rows(sheet, HEADER_SCAN_ROWS + 1)
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


def _merged_group_rows(sheet: Worksheet) -> set[int]:
    """Rows where every filled cell heads a merge spanning several columns: "Respondent
    profile" over A:I is a group heading, not a column name."""
    spans = {(r.min_row, r.min_col) for r in sheet.merged_cells.ranges if r.max_col > r.min_col}
    rows: dict[int, bool] = {}
    for row in sheet.iter_rows(max_row=HEADER_SCAN_ROWS):
        for cell in row:
            if isinstance(cell, MergedCell) or _blank_cell(cell.value):
                continue
            rows[cell.row] = rows.get(cell.row, True) and (cell.row, cell.column) in spans
    return {number for number, grouped in rows.items() if grouped}


def _top_rows(sheet: Worksheet, count: int = HEADER_SCAN_ROWS) -> list[tuple[Any, ...]]:
    return list(sheet.iter_rows(max_row=min(count, sheet.max_row), values_only=True))


# --------------------------------------------------------------------------- shared


def _name_columns(path: Path, raw_header: Sequence[str | None], body: Sequence[Sequence[Any]],
                  *, blank, unnamed) -> tuple[list[str], list[int]]:
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
        raise FileRefused(path, f"duplicate column names in the header: "
                                f"{', '.join(map(repr, duplicates))}")
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
