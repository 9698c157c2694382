"""Generators of bad inbox files, made at test time (no binary fixtures in the repository).

Every generator returns bytes; the table in ``test_bad_input.py`` writes them into a
temporary inbox. Survey rows follow the council CSV layout
(``ingestion/layouts/trafford_residents_survey_csv.yml``), complaint rows the CRM export
(``crm_complaints_csv.yml``).
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
import zlib

import openpyxl

SURVEY_COLUMNS = [
    "RespondentID",
    "FieldworkStart",
    "FieldworkEnd",
    "Weight",
    "AgeBand",
    "Sex",
    "Ethnicity",
    "Disability",
    "Ward",
    "Q1_LocalArea",
    "Q2_RunsThings",
    "Q3_ValueForMoney",
    "Q4_ActsOnConcerns",
    "Q5_KeptInformed",
    "Q6_Trust",
]
_SURVEY_GOOD = [
    "R1",
    "01/03/2025",
    "28/03/2025",
    "1.2",
    "25-34",
    "Female",
    "White British",
    "No",
    "Urmston",
    "Very satisfied",
    "Fairly satisfied",
    "Tend to agree",
    "Don't know",
    "Fairly well informed",
    "A fair amount",
]
COMPLAINT_COLUMNS = [
    "Case Ref",
    "Date Received",
    "Stage",
    "Service Area",
    "Contact Channel",
    "Category",
    "Summary",
    "Target Date",
    "Date Responded",
    "Outcome",
    "Ward",
]
_COMPLAINT_GOOD = [
    "C1",
    "01/04/2025 09:30",
    "Stage 1",
    "Highways",
    "Email",
    "Delay",
    "Pothole on Moss Lane not fixed",
    "15/04/2025",
    "14/04/2025",
    "Upheld",
    "Sale Moor",
]


def survey(respondent_id: str | int = "R1", **cells: str) -> dict[str, str]:
    """One good survey row; keyword arguments replace cells by column name."""
    row = dict(zip(SURVEY_COLUMNS, _SURVEY_GOOD))
    row["RespondentID"] = str(respondent_id)
    row.update(cells)
    return row


def complaint(case_ref: str = "C1", **cells: str) -> dict[str, str]:
    row = dict(zip(COMPLAINT_COLUMNS, _COMPLAINT_GOOD))
    row["Case Ref"] = case_ref
    row.update({k.replace("_", " "): v for k, v in cells.items()})
    return row


def surveys(count: int, **cells: str) -> list[dict[str, str]]:
    return [survey(f"R{i}", **cells) for i in range(1, count + 1)]


def complaints(count: int, **cells: str) -> list[dict[str, str]]:
    return [complaint(f"C{i}", **cells) for i in range(1, count + 1)]


def csv_text(
    rows: list[dict[str, str]],
    *,
    columns: list[str] | None = None,
    delimiter: str = ",",
    newline: str = "\r\n",
    trailing_delimiter: str = "",
) -> str:
    """Rows as CSV text (csv.writer quotes what needs quoting); ``trailing_delimiter`` is
    "all" (header and rows) or "rows" (data rows only)."""
    columns = columns or list(rows[0])
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(columns + ([""] if trailing_delimiter == "all" else []))
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns] + ([""] if trailing_delimiter else []))
    return buffer.getvalue()


def csv_bytes(rows: list[dict[str, str]], *, encoding: str = "utf-8", **options) -> bytes:
    return csv_text(rows, **options).encode(encoding)


def header_only(columns: list[str]) -> bytes:
    return (",".join(columns) + "\r\n").encode()


def sparse_csv(rows: int, columns: list[str]) -> bytes:
    """A header, two good rows, then ``rows`` rows of delimiters only: mostly empty, ~15 MB."""
    good = csv_text(surveys(2), columns=columns)
    return (good + ("," * (len(columns) - 1) + "\n") * rows).encode()


def wide_csv(width: int) -> bytes:
    """The survey header and one row, each followed by ``width`` more empty-named cells."""
    row = survey()
    return (",".join(SURVEY_COLUMNS) + ",x" * width + "\n" + ",".join(row.values()) + ",1" * width + "\n").encode()


def workbook(rows: list[list], *, formula_at: str | None = None, far_cell: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    for row in rows:
        sheet.append(row)
    if formula_at:
        sheet[formula_at] = "=SUM(1,2)"
    if far_cell:
        sheet[far_cell] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def survey_workbook(rows: list[dict[str, object]], **options) -> bytes:
    return workbook([SURVEY_COLUMNS, *[[row.get(c) for c in SURVEY_COLUMNS] for row in rows]], **options)


def with_members(xlsx: bytes, extra: dict[str, bytes]) -> bytes:
    """The workbook with more zip members (e.g. an external link part)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        for name, data in extra.items():
            target.writestr(name, data)
    return buffer.getvalue()


EXTERNAL_LINK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1">'
    b'<sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>'
)


def zeros_deflated(gibibytes: float) -> tuple[bytes, int]:
    """(a raw deflate stream, the size it inflates to): that many GiB of zeros in ~1 MB.
    After the first MiB the window is all zeros, so every further MiB compresses to the same
    bytes: they are repeated rather than computed, and the stream is built in milliseconds."""
    mib = bytes(1 << 20)
    count = int(gibibytes * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(mib) + compressor.flush(zlib.Z_SYNC_FLUSH)
    steady = compressor.compress(mib) + compressor.flush(zlib.Z_SYNC_FLUSH)
    again = compressor.compress(mib) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert steady == again
    return first + steady * (count - 1) + compressor.flush(zlib.Z_FINISH), count << 20


def raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written byte by byte: (name, deflated data, crc32, declared uncompressed size).
    zipfile would compute the sizes itself; a bomb needs to state them, or to lie."""
    local, central = io.BytesIO(), io.BytesIO()
    for name, data, crc, size in members:
        encoded = name.encode()
        offset = local.tell()
        local.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0))
        local.write(encoded + data)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        central.write(encoded)
    directory = central.getvalue()
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), local.tell(), 0)
    return local.getvalue() + directory + end


def xlsx_bomb(*, gibibytes: float, lie: bool) -> bytes:
    """A real survey workbook whose sheet is replaced by ``gibibytes`` of zeros. With ``lie``
    the zip's directory declares the sheet as 20 KB, so only reading it could tell."""
    good = survey_workbook(surveys(1))
    members = []
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        for item in archive.infolist():
            data = archive.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                stream, size = zeros_deflated(gibibytes)
                members.append((item.filename, stream, 0, 20_000 if lie else min(size, 0xFFFFFFFF)))
                continue
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            members.append((item.filename, compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data)))
    return raw_zip(members)


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
