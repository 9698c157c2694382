"""Reading delimited text (CSV, TXT) as councils' systems export it, shared by the inbox reader
(ingestion/files.py) and the published extracts (ingestion/extracts.py), so both decode, find the
header line, pick the delimiter and refuse an unclosed quote the same way.

The delimiter is ``csv.Sniffer``'s guess checked against the header line, not Sniffer alone: a
quoted multi-line field can mislead it, and it fails outright on some one-column or ragged samples.
"""

from __future__ import annotations

import contextlib
import csv
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from ingestion.refusals import FileRefused

__all__ = [
    "CSV_DELIMITERS",
    "MAX_CELL_CHARS",
    "SNIFF_LINES",
    "csv_cell_limit",
    "decode",
    "detect_delimiter",
    "first_non_blank_line",
    "refuse_unclosed_quote",
]

CSV_DELIMITERS = ",;\t|"
SNIFF_LINES = 20  # lines from the header on that the delimiter is guessed from
_SNIFF_CHARS = 64 * 1024  # Sniffer's regexes are slow on very long lines
MAX_CELL_CHARS = 131_072  # the csv module's default field limit, made the file reader's own


@contextlib.contextmanager
def csv_cell_limit(limit: int = MAX_CELL_CHARS) -> Iterator[None]:
    """The csv module's field limit is process-wide and other libraries raise it (frictionless
    does on import): a read pins its own limit, so a file is refused or not whatever else ran."""
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def decode(path: Path, content: bytes) -> tuple[str, str]:
    """UTF-8 (BOM or not) when it decodes strictly, else Windows-1252; anything else (bytes
    that cp1252 leaves undefined, NUL bytes of UTF-16 or binary files) is refused."""
    nul = content.find(b"\x00")
    if nul >= 0:
        what = (
            "UTF-16 text"
            if content[:2] in (b"\xff\xfe", b"\xfe\xff")
            else "a PNG image"
            if content.startswith(b"\x89PNG")
            else "a binary or UTF-16 file"
        )
        line = _line_of(content, nul)
        raise FileRefused(
            path,
            f"contains NUL bytes (first at line {line}, offset {nul}): {what}, not CSV text; save it as 'CSV UTF-8'",
        )
    bom = 3 if content.startswith(b"\xef\xbb\xbf") else 0
    try:
        return content[bom:].decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError as error:
        offset = bom + error.start
        if _UTF8_MULTIBYTE.search(content, 0, offset):
            # valid UTF-8 (é, ’, £, a BOM) before a byte that is not: read as Windows-1252 the
            # file would turn every earlier one into mojibake ("’" -> "â€™"), silently
            line = _line_of(content, offset)
            raise FileRefused(
                path,
                f"mixed text encodings: UTF-8 text, then byte "
                f"0x{content[offset]:02X} at line {line} (offset "
                f"{offset}) that is not UTF-8; save it as 'CSV UTF-8'",
            ) from error
    try:
        return content.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as error:
        raise FileRefused(
            path,
            f"unknown text encoding: byte 0x{content[error.start]:02X} at "
            f"offset {error.start} is neither UTF-8 nor Windows-1252",
        ) from error


def _line_of(content: bytes, offset: int) -> int:
    """The 1-based line holding byte ``offset``, lines ended by CRLF, LF or a lone CR."""
    return len(re.findall(rb"\r\n|\r|\n", content[:offset])) + 1


_UTF8_MULTIBYTE = re.compile(  # one well-formed non-ASCII UTF-8 sequence
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def first_non_blank_line(lines: Sequence[str]) -> int | None:
    """Index of the first line with any text; the header is on it."""
    return next((i for i, line in enumerate(lines) if line.strip()), None)


def detect_delimiter(sample_lines: Sequence[str]) -> str:
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


def refuse_unclosed_quote(path: Path, lines: Sequence[str], first: int, end: int) -> None:
    """A quote opened and never closed makes the csv module read the rest of the file as one
    cell, silently swallowing every row after it: refuse the file, naming the line. Only the
    last record can be such a cell; it is one when it spans several lines with an odd number
    of quote characters (a closed quoted cell, its doubled quotes included, has an even one)."""
    if end - first > 1 and sum(line.count('"') for line in lines[first:end]) % 2:
        raise FileRefused(
            path,
            f"a quote opened on line {first + 1} is never closed: the "
            f"{end - first - 1:,} line(s) after it would be read as one cell",
        )
