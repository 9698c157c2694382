"""Bad files and payloads through the real inbox ingestion: real files in a temporary inbox,
a real DuckDB warehouse, no mocks.

Each case in ``CASES`` says what was dropped and what must come of it: the file loaded with
so many rows accepted and these rows quarantined (row number, column and reason), or the
whole file refused with a reason naming it. For every case, whatever the outcome, nothing
received is lost (accepted + quarantined = received, in the outcome, in ``raw.inbox_files``
and in the rows actually written) and the planted personal data appears nowhere but in the
restricted free-text columns of raw (``summary``, ``extra``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ingestion.files import FileRefused, read_table
from ingestion.inbox_folder import ingest_folder
from ingestion.layouts import load_layouts, load_vocabulary
from lgperf import warehouse
from tests.reliability import bad_files as bf
from tests.reliability.bad_files import complaint, complaints, csv_bytes, survey, surveys

LAYOUTS = load_layouts()
VOCABULARY = load_vocabulary()
MAX_BYTES = 50 * 1024 * 1024  # the pipeline's default inbox.max_file_bytes

# personal data planted in the cases below; it may stay only in raw's restricted free text
EMAIL, PHONE, NI, POSTCODE = "jo.bloggs@example.com", "07700 900123", "QQ 12 34 56 C", "M33 7ZP"
PLANTED = (EMAIL, PHONE, NI, POSTCODE, "07700 900456", "sam.smith@example.org")


@dataclass(frozen=True)
class Case:
    id: str
    what: str
    expected: str
    folder: str  # surveys | complaints
    name: str  # the file's name in the drop folder
    content: Callable[[], bytes]
    status: str  # loaded | refused
    received: int = 0
    accepted: int = 0
    problems: dict[int, tuple[str | None, str]] = field(
        default_factory=dict
    )  # row -> (column, reason: exact, or "...fragment")
    refusal: str = ""  # a fragment of the refusal reason
    max_bytes: int = MAX_BYTES
    seconds: float = 20.0  # an upper bound on the ingestion's time
    check: Callable | None = None  # more assertions: check(connection, outcome)
    family: str = "bad input"


def raw_column(connection, table: str, column: str) -> list:
    return [r[0] for r in connection.execute(f"SELECT {column} FROM raw.{table} ORDER BY row_number").fetchall()]


# ------------------------------------------------------------------------- extra checks


def summaries_as_received(*expected: str):
    def check(connection, outcome):
        assert raw_column(connection, "complaints", "summary") == list(expected)

    return check


def wards(*expected: str):
    def check(connection, outcome):
        assert raw_column(connection, "survey_responses", "ward") == list(expected)

    return check


def row_numbers(*expected: int):
    def check(connection, outcome):
        table = "survey_responses" if outcome.folder == "surveys" else "complaints"
        assert raw_column(connection, table, "row_number") == list(expected)

    return check


def extra_kept(connection, outcome):
    extras = [json.loads(e) for e in raw_column(connection, "survey_responses", "extra")]
    assert extras == [
        {"Comments": "Bins fine", "Interviewer": "K7"},
        {"Comments": "Call me on " + PHONE, "Interviewer": "K7"},
    ]


def no_extra(connection, outcome):
    assert raw_column(connection, "survey_responses", "extra") == [None, None, None]


def weights(*expected: float):
    def check(connection, outcome):
        assert raw_column(connection, "survey_responses", "weight") == list(expected)

    return check


def xlsx_values(connection, outcome):
    rows = connection.execute(
        "SELECT respondent_id, weight, fieldwork_start::VARCHAR FROM raw.survey_responses ORDER BY row_number"
    ).fetchall()
    assert rows == [("100234", 1.5, "2025-03-01"), ("R2", 1.2, "2025-03-01")]


def long_summary(connection, outcome):
    [summary] = raw_column(connection, "complaints", "summary")
    assert len(summary) == 100_000 and set(summary) == {"x"}


def multi_line_summary(connection, outcome):
    assert raw_column(connection, "complaints", "summary")[0] == "Bin not emptied.\nRang twice.\r\nStill waiting."
    assert raw_column(connection, "complaints", "row_number") == [2, 5]


def pii_only_in_summary(connection, outcome):
    [(summary, redacted, counts)] = connection.execute(
        "SELECT summary, summary_redacted, redaction_counts FROM raw.complaints"
    ).fetchall()
    assert EMAIL in summary and PHONE in summary  # as received, in the restricted column
    assert not any(p in redacted for p in PLANTED)
    assert {k: v for k, v in json.loads(counts).items() if v} == {
        "name": 1,
        "email": 1,
        "phone": 1,
        "postcode": 1,
        "ni_number": 1,
    }
    # the quarantined rows keep their (redacted) cells and the ids the auditor needs
    records = {
        r[0]: json.loads(r[1])
        for r in connection.execute(
            "SELECT row_number, raw_record FROM audit.quarantine WHERE row_number IS NOT NULL"
        ).fetchall()
    }
    assert records[2]["Service Area"] == "[email]" and records[2]["Case Ref"] == "C1"
    assert records[3]["Category"] == "Call [phone]" and records[4]["Case Ref"] == "[ni_number]"


# ------------------------------------------------------------------------- the table

FORMULAS = ['=HYPERLINK("http://evil.example/","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0"]
SMART = "Paid £65 for garden waste and it’s “still” missed"


def _cp1252():
    return csv_bytes(
        [complaint("C1", Summary=SMART, Ward="St Mary’s"), complaint("C2", Summary="£10 charge")],
        encoding="cp1252",
        delimiter=";",
    )


def _utf8_then_bad_byte():
    return (
        csv_bytes(surveys(2, Ward="St Mary’s"))
        + b"R9,01/03/2025,28/03/2025,1,25-34,Female,White British,No,Caf\xe9\r\n"
    )


def _unclosed_quote():
    lines = bf.csv_text(complaints(4)).splitlines(keepends=True)
    lines[2] = 'C2,01/04/2025,Stage 1,Highways,Email,Delay,"He said, wait\r\n'  # line 3: the quote never closes
    return "".join(lines).encode()


def _typed_workbook():
    from datetime import datetime

    first = {
        **survey(Weight="1.5"),
        "RespondentID": 100234,
        "FieldworkStart": datetime(2025, 3, 1),
        "FieldworkEnd": datetime(2025, 3, 28),
    }
    return bf.survey_workbook([first, survey("R2"), survey("R3", Weight="1,000")])


def _semicolon_decimal_comma():
    return csv_bytes([survey("R1"), survey("R2", Weight="1,2")], delimiter=";")


CASES = [
    # --- encodings
    Case(
        "cp1252-pound-smart-quotes",
        "complaints CSV in Windows-1252 (';') with £, ’ and “ ”",
        "decoded as cp1252; 2 rows accepted, text as written",
        "complaints",
        "crm_cp1252.csv",
        _cp1252,
        "loaded",
        2,
        2,
        check=summaries_as_received(SMART, "£10 charge"),
    ),
    Case(
        "latin-1",
        "survey CSV in ISO-8859-1 with é and £ in an extra column",
        "decoded (latin-1 is cp1252 there); 2 rows accepted",
        "surveys",
        "latin1.csv",
        lambda: csv_bytes([survey("R1", Comments="Café £5"), survey("R2", Comments="ok")], encoding="latin-1"),
        "loaded",
        2,
        2,
    ),
    Case(
        "utf16-bom",
        "survey CSV saved as UTF-16 with BOM (Excel 'Unicode text', tabs)",
        "file refused: NUL bytes, UTF-16 text, save as CSV UTF-8",
        "surveys",
        "unicode.csv",
        lambda: b"\xff\xfe" + bf.csv_text(surveys(2), delimiter="\t").encode("utf-16-le"),
        "refused",
        refusal="contains NUL bytes (first at line 1, offset 3): UTF-16 text, not CSV text; save it as 'CSV UTF-8'",
    ),
    Case(
        "invalid-utf8-after-utf8",
        "UTF-8 survey CSV (’ in a ward) with one invalid byte 0xE9 on line 4",
        "file refused as mixed encodings, naming line 4 (not silently read as cp1252 mojibake)",
        "surveys",
        "mixed.csv",
        _utf8_then_bad_byte,
        "refused",
        refusal="mixed text encodings: UTF-8 text, then byte 0xE9 at line 4",
    ),
    Case(
        "byte-in-neither-encoding",
        "ASCII survey CSV with byte 0x81 (undefined in UTF-8 and cp1252)",
        "file refused: neither UTF-8 nor Windows-1252, naming the offset",
        "surveys",
        "undefined.csv",
        lambda: csv_bytes(surveys(1)) + b"R2\x81,x\r\n",
        "refused",
        refusal="is neither UTF-8 nor Windows-1252",
    ),
    Case(
        "utf8-bom-then-cp1252",
        "UTF-8 BOM on a file whose £ is a cp1252 byte",
        "file refused as mixed encodings (the BOM is UTF-8, 0xA3 is not)",
        "complaints",
        "bom_cp1252.csv",
        lambda: b"\xef\xbb\xbf" + csv_bytes([complaint("C1", Summary="£5")], encoding="cp1252"),
        "refused",
        refusal="mixed text encodings: UTF-8 text, then byte 0xA3 at line 2",
    ),
    Case(
        "bom-in-header",
        "UTF-8 survey CSV with a BOM before the header",
        "BOM stripped, header recognised; 2 rows accepted",
        "surveys",
        "bom.csv",
        lambda: b"\xef\xbb\xbf" + csv_bytes(surveys(2)),
        "loaded",
        2,
        2,
    ),
    # --- delimiters and line structure
    *[
        Case(
            f"delimiter-{name}",
            f"survey CSV delimited by {name}",
            "delimiter detected; 3 rows accepted",
            "surveys",
            f"{name}.csv",
            (lambda d=d: csv_bytes(surveys(3), delimiter=d)),
            "loaded",
            3,
            3,
        )
        for name, d in (("semicolon", ";"), ("tab", "\t"), ("pipe", "|"))
    ],
    Case(
        "semicolon-decimal-comma",
        "semicolon CSV with a decimal-comma weight '1,2'",
        "row 3 quarantined: Weight not a number; 1 accepted",
        "surveys",
        "decimal_comma.csv",
        _semicolon_decimal_comma,
        "loaded",
        2,
        1,
        {3: ("Weight", "weight '1,2' is not a number")},
    ),
    *[
        Case(
            f"line-endings-{name}",
            f"survey CSV with {name} line endings",
            "3 rows accepted, numbered 2, 3, 4",
            "surveys",
            f"{name.lower()}.csv",
            (lambda nl=nl: csv_bytes(surveys(3), newline=nl)),
            "loaded",
            3,
            3,
            check=row_numbers(2, 3, 4),
        )
        for name, nl in (("CRLF", "\r\n"), ("LF", "\n"), ("CR", "\r"))
    ],
    Case(
        "trailing-delimiter-all",
        "a trailing comma on the header and every row",
        "the empty trailing column dropped; 3 rows accepted, nothing in extra",
        "surveys",
        "trailing_all.csv",
        lambda: csv_bytes(surveys(3), trailing_delimiter="all"),
        "loaded",
        3,
        3,
        check=no_extra,
    ),
    Case(
        "trailing-delimiter-rows",
        "a trailing comma on data rows only",
        "the unnamed empty column dropped; 3 rows accepted",
        "surveys",
        "trailing_rows.csv",
        lambda: csv_bytes(surveys(3), trailing_delimiter="rows"),
        "loaded",
        3,
        3,
        check=no_extra,
    ),
    Case(
        "quoted-newlines",
        "a complaint summary over three lines (quoted, LF and CRLF inside)",
        "kept as one cell; rows numbered by the line they start on (2, 5, 6)",
        "complaints",
        "multiline.csv",
        lambda: csv_bytes(
            [
                complaint("C1", Summary="Bin not emptied.\nRang twice.\r\nStill waiting."),
                complaint("C2"),
                complaint("C3", Stage="Stage 9"),
            ]
        ),
        "loaded",
        3,
        2,
        {6: ("Stage", "'Stage 9' is not an allowed stage")},
        check=multi_line_summary,
    ),
    Case(
        "unclosed-quote",
        "a quote opened in a summary on line 3 and never closed",
        "file refused naming line 3 (the csv module would swallow the rest of the file as one cell)",
        "complaints",
        "unclosed.csv",
        _unclosed_quote,
        "refused",
        refusal="a quote opened on line 3 is never closed",
    ),
    Case(
        "nul-byte-in-cell",
        "a NUL byte inside a cell on line 3",
        "file refused, naming line 3",
        "surveys",
        "nul.csv",
        lambda: csv_bytes([survey("R1"), survey("R2\x00")]),
        "refused",
        refusal="contains NUL bytes (first at line 3",
    ),
    Case(
        "very-long-cell",
        "a 100,000-character complaint summary",
        "accepted whole (1 row)",
        "complaints",
        "long.csv",
        lambda: csv_bytes([complaint("C1", Summary="x" * 100_000)]),
        "loaded",
        1,
        1,
        check=long_summary,
    ),
    Case(
        "cell-over-csv-limit",
        "a 200,000-character cell (over the csv module's 131,072 field limit)",
        "file refused naming line 2 and the limit",
        "complaints",
        "too_long.csv",
        lambda: csv_bytes([complaint("C1", Summary="x" * 200_000)]),
        "refused",
        refusal="unreadable CSV near line 2: field larger than field limit (131072)",
    ),
    # --- columns
    Case(
        "missing-required-column",
        "survey CSV without the Weight column",
        "file refused, naming the missing column 'Weight'",
        "surveys",
        "no_weight.csv",
        lambda: csv_bytes(surveys(2), columns=[c for c in bf.SURVEY_COLUMNS if c != "Weight"]),
        "refused",
        refusal="no survey layout fits its header; the closest, trafford_residents_survey_csv, "
        "is missing column(s) 'Weight'",
    ),
    Case(
        "missing-complaint-columns",
        "complaints CSV without 'Service Area' and 'Stage'",
        "file refused, naming both columns",
        "complaints",
        "no_service.csv",
        lambda: csv_bytes(
            complaints(2), columns=[c for c in bf.COMPLAINT_COLUMNS if c not in ("Service Area", "Stage")]
        ),
        "refused",
        refusal="missing column(s) 'Stage', 'Service Area'",
    ),
    Case(
        "extra-unknown-columns",
        "survey CSV with unknown columns Comments and Interviewer (a phone number in one)",
        "2 rows accepted; the unknown columns kept in raw.extra only",
        "surveys",
        "extra.csv",
        lambda: csv_bytes(
            [
                survey("R1", Comments="Bins fine", Interviewer="K7"),
                survey("R2", Comments="Call me on " + PHONE, Interviewer="K7"),
            ]
        ),
        "loaded",
        2,
        2,
        check=extra_kept,
    ),
    Case(
        "duplicate-column-names",
        "survey CSV with the Ward column twice",
        "file refused: duplicate column names",
        "surveys",
        "two_wards.csv",
        lambda: csv_bytes([{**survey(), "Ward ": "Bowdon"}]).replace(b"Ward ", b"ward", 1),
        "refused",
        refusal="duplicate column names in the header: 'Ward', 'ward'",
    ),
    Case(
        "header-in-other-case",
        "survey header in lower case with extra spaces",
        "labels matched; 2 rows accepted",
        "surveys",
        "lower.csv",
        lambda: csv_bytes(surveys(2)).replace(b"RespondentID,", b" respondentid ,", 1).replace(b"Weight", b"WEIGHT", 1),
        "loaded",
        2,
        2,
    ),
    # --- empty and huge
    Case(
        "empty-0-bytes",
        "an empty survey file (0 bytes)",
        "file refused: empty (0 bytes)",
        "surveys",
        "empty.csv",
        lambda: b"",
        "refused",
        refusal="empty: no header row and no data (0 bytes)",
    ),
    Case(
        "blank-lines-only",
        "a complaints file of blank lines and spaces",
        "file refused: empty",
        "complaints",
        "blank.csv",
        lambda: b"\r\n   \r\n\r\n",
        "refused",
        refusal="empty: no header row and no data (9 bytes)",
    ),
    Case(
        "header-only",
        "a survey CSV with the header and no rows",
        "loaded with 0 rows",
        "surveys",
        "header.csv",
        lambda: bf.header_only(bf.SURVEY_COLUMNS),
        "loaded",
        0,
        0,
    ),
    Case(
        "blank-rows-inside",
        "delimiter-only rows between data rows",
        "rows 3 and 5 quarantined as blank rows",
        "surveys",
        "gaps.csv",
        lambda: csv_bytes([survey("R1"), {}, survey("R2"), {}, survey("R3")], columns=bf.SURVEY_COLUMNS),
        "loaded",
        5,
        3,
        {3: (None, "blank row"), 5: (None, "blank row")},
    ),
    Case(
        "million-sparse-rows",
        "15 MB survey CSV: 2 rows then 1,000,000 delimiter-only rows",
        "file refused in seconds: over 200,000 data rows",
        "surveys",
        "sparse.csv",
        lambda: bf.sparse_csv(1_000_000, bf.SURVEY_COLUMNS),
        "refused",
        refusal="too many rows: over 200,000 data rows; split it into smaller files",
        seconds=15,
    ),
    Case(
        "sparse-under-the-limit",
        "survey CSV: 2 rows then 20,000 delimiter-only rows (under the row limit)",
        "every blank row quarantined as 'blank row' with its line; 2 accepted; bounded time",
        "surveys",
        "sparse_small.csv",
        lambda: bf.sparse_csv(20_000, bf.SURVEY_COLUMNS),
        "loaded",
        20_002,
        2,
        {line: (None, "blank row") for line in range(4, 20_004)},
        seconds=10,
    ),
    Case(
        "very-wide-rows",
        "survey CSV 20,015 columns wide",
        "file refused: too wide (limit 1,000 columns)",
        "surveys",
        "wide.csv",
        lambda: bf.wide_csv(20_000),
        "refused",
        refusal="too wide: line 1 has 20,015 columns",
    ),
    Case(
        "xlsx-sparse-far-column",
        "XLSX survey with one stray cell at XFD1048576 (17 billion cells of range)",
        "file refused at once: too wide",
        "surveys",
        "stray.xlsx",
        lambda: bf.survey_workbook(surveys(2), far_cell="XFD1048576"),
        "refused",
        refusal="too wide: sheet 'Data' has a value in column XFD (16,384), the limit is 1,000 columns",
        seconds=5,
    ),
    Case(
        "xlsx-sparse-far-row",
        "XLSX survey with one stray cell on row 1,048,576",
        "file refused at once: too many rows",
        "surveys",
        "stray_row.xlsx",
        lambda: bf.survey_workbook(surveys(2), far_cell="B1048576"),
        "refused",
        refusal="too many rows: sheet 'Data' has a value on row 1,048,576",
        seconds=5,
    ),
    Case(
        "over-size-limit",
        "a survey CSV over inbox.max_file_bytes",
        "file refused: too big, naming the limit",
        "surveys",
        "big.csv",
        lambda: csv_bytes(surveys(100)),
        "refused",
        refusal="bytes, the limit is 5,000",
        max_bytes=5_000,
    ),
    # --- workbooks and files that are not what they say
    Case(
        "xlsx-formulas",
        "XLSX survey with a formula in D2",
        "file refused naming the cell Data!D2",
        "surveys",
        "formula.xlsx",
        lambda: bf.survey_workbook(surveys(2), formula_at="D2"),
        "refused",
        refusal="contains formulas (first at Data!D2); paste values and send it again",
    ),
    Case(
        "xlsx-external-links",
        "XLSX survey with an external link part",
        "file refused: external links",
        "surveys",
        "linked.xlsx",
        lambda: bf.with_members(
            bf.survey_workbook(surveys(1)), {"xl/externalLinks/externalLink1.xml": bf.EXTERNAL_LINK}
        ),
        "refused",
        refusal="external links to other workbooks are not accepted (xl/externalLinks/externalLink1.xml)",
    ),
    Case(
        "xlsx-zip-bomb",
        "a 2 MB XLSX whose sheet inflates to 2 GiB",
        "refused from the zip directory, before inflating",
        "surveys",
        "bomb.xlsx",
        lambda: bf.xlsx_bomb(gibibytes=2, lie=False),
        "refused",
        refusal="zip bomb suspected: 2,147,",
        seconds=5,
    ),
    Case(
        "xlsx-zip-bomb-lying",
        "the same bomb with its directory declaring the sheet as 20 KB",
        "refused as unreadable; at most the declared 20 KB inflated",
        "surveys",
        "liar.xlsx",
        lambda: bf.xlsx_bomb(gibibytes=2, lie=True),
        "refused",
        refusal="not a readable XLSX workbook",
        seconds=5,
    ),
    Case(
        "csv-named-xlsx",
        "a CSV file named .xlsx",
        "file refused: not a valid XLSX (zip)",
        "surveys",
        "wave.xlsx",
        lambda: csv_bytes(surveys(2)),
        "refused",
        refusal="not a valid XLSX (zip) file: File is not a zip file",
    ),
    Case(
        "png-named-csv",
        "a PNG image named .csv",
        "file refused: NUL bytes, a PNG image",
        "complaints",
        "photo.csv",
        lambda: bf.PNG,
        "refused",
        refusal="a PNG image, not CSV text",
    ),
    Case(
        "zip-not-workbook",
        "a zip of a text file named .xlsx",
        "file refused: not a readable XLSX workbook",
        "surveys",
        "archive.xlsx",
        lambda: bf.with_members(bf.raw_zip([]), {"notes.txt": b"hello"}),
        "refused",
        refusal="not a readable XLSX workbook",
    ),
    Case(
        "unsupported-extension",
        "a PDF dropped in the surveys folder",
        "file refused: unsupported file type '.pdf'",
        "surveys",
        "report.pdf",
        lambda: b"%PDF-1.7\n",
        "refused",
        refusal="unsupported file type '.pdf'",
    ),
    Case(
        "xlsx-numbers-as-text",
        "XLSX: weight as text '1.5', id as a number, weight '1,000' with a thousands separator, real dates",
        "text numbers read; '1,000' quarantined as not a number; 2 accepted",
        "surveys",
        "types.xlsx",
        _typed_workbook,
        "loaded",
        3,
        2,
        {4: ("Weight", "weight '1,000' is not a number")},
        check=xlsx_values,
    ),
    # --- dates, weights, duplicates
    Case(
        "dates-three-formats",
        "fieldwork dates as dd/mm/yyyy, ISO, '3 March 2025', 30/02/2025, 2025-02-30, end before start",
        "dd/mm/yyyy accepted; the others quarantined naming the column and the layout's format",
        "surveys",
        "dates.csv",
        lambda: csv_bytes(
            [
                survey("R1"),
                survey("R2", FieldworkStart="2025-03-01"),
                survey("R3", FieldworkStart="3 March 2025"),
                survey("R4", FieldworkEnd="30/02/2025"),
                survey("R5", FieldworkEnd="2025-02-30"),
                survey("R6", FieldworkEnd="01/02/2025"),
            ]
        ),
        "loaded",
        6,
        1,
        {
            3: ("FieldworkStart", "'2025-03-01' is not a date (%d/%m/%Y)"),
            4: ("FieldworkStart", "'3 March 2025' is not a date (%d/%m/%Y)"),
            5: ("FieldworkEnd", "'30/02/2025' is not a date (%d/%m/%Y)"),
            6: ("FieldworkEnd", "'2025-02-30' is not a date (%d/%m/%Y)"),
            7: ("FieldworkEnd", "fieldwork ends before it starts"),
        },
    ),
    Case(
        "complaint-date-formats",
        "complaint dates with and without a time, ISO, and 31/04/2025",
        "the layout's two formats accepted; ISO and 31 April quarantined",
        "complaints",
        "dates.csv",
        lambda: csv_bytes(
            [
                complaint("C1"),
                complaint("C2", **{"Date Received": "01/04/2025"}),
                complaint("C3", **{"Date Received": "2025-04-01"}),
                complaint("C4", **{"Target Date": "31/04/2025"}),
            ]
        ),
        "loaded",
        4,
        2,
        {
            4: ("Date Received", "'2025-04-01' is not a date (%d/%m/%Y %H:%M or %d/%m/%Y)"),
            5: ("Target Date", "'31/04/2025' is not a date (%d/%m/%Y %H:%M or %d/%m/%Y)"),
        },
    ),
    Case(
        "weights",
        "survey weights: negative, zero, NaN, inf, text, blank, '-2+3', ' 2.5 '",
        "each bad weight quarantined with its reason; 1.2 and 2.5 accepted",
        "surveys",
        "weights.csv",
        lambda: csv_bytes(
            [
                survey("R1"),
                survey("R2", Weight="-1"),
                survey("R3", Weight="0"),
                survey("R4", Weight="nan"),
                survey("R5", Weight="inf"),
                survey("R6", Weight="heavy"),
                survey("R7", Weight=""),
                survey("R8", Weight="-2+3"),
                survey("R9", Weight=" 2.5 "),
            ]
        ),
        "loaded",
        9,
        2,
        {
            3: ("Weight", "weight '-1' must be a positive number"),
            4: ("Weight", "weight '0' must be a positive number"),
            5: ("Weight", "weight 'nan' must be a positive number"),
            6: ("Weight", "weight 'inf' must be a positive number"),
            7: ("Weight", "weight 'heavy' is not a number"),
            8: ("Weight", "missing weight"),
            9: ("Weight", "weight '-2+3' is not a number"),
        },
        check=weights(1.2, 2.5),
    ),
    Case(
        "duplicate-respondent-ids",
        "respondent R1 three times in one file",
        "rows 4 and 5 quarantined naming row 2",
        "surveys",
        "dupes.csv",
        lambda: csv_bytes([survey("R1"), survey("R2"), survey("R1"), survey("R1", Ward="Bowdon")]),
        "loaded",
        4,
        2,
        {
            4: ("RespondentID", "duplicate respondent id 'R1': first seen on row 2"),
            5: ("RespondentID", "duplicate respondent id 'R1': first seen on row 2"),
        },
    ),
    Case(
        "duplicate-complaint-ids",
        "complaint CRM-2025-000001 twice in one file",
        "row 3 quarantined naming row 2",
        "complaints",
        "dupes.csv",
        lambda: csv_bytes([complaint("CRM-2025-000001"), complaint("CRM-2025-000001", Outcome="Not upheld")]),
        "loaded",
        2,
        1,
        {3: ("Case Ref", "duplicate complaint id 'CRM-2025-000001': first seen on row 2")},
    ),
    # --- personal data where it does not belong, formula injection
    Case(
        "pii-in-label-columns",
        "email in Service Area, phone in Category, NI number as Case Ref, postcode as Ward, phone as channel; "
        "all of them in one summary",
        "the 5 rows quarantined with the data redacted in reason and record; the summary row accepted, "
        "redacted beside the original",
        "complaints",
        "pii.csv",
        lambda: csv_bytes(
            [
                complaint("C1", **{"Service Area": EMAIL}),
                complaint("C2", Category="Call " + PHONE),
                complaint(NI),
                complaint("C4", Ward=POSTCODE),
                complaint("C5", **{"Contact Channel": "07700 900456"}),
                complaint("C6", Summary=f"Mrs Patel ({EMAIL}, {PHONE}) of {POSTCODE}, NI {NI}, is unhappy"),
            ]
        ),
        "loaded",
        6,
        1,
        {
            2: ("Service Area", "'[email]' is not an allowed service"),
            3: ("Category", "'Call [phone]' is not an allowed theme"),
            4: ("Case Ref", "complaint id holds personal data (ni_number), not an id"),
            5: ("Ward", "'[postcode]' is not an allowed ward"),
            6: ("Contact Channel", "'[phone]' is not an allowed channel"),
        },
        check=pii_only_in_summary,
    ),
    Case(
        "pii-in-survey-ids",
        "an email as RespondentID and a postcode as Ward in a survey file",
        "both rows quarantined, redacted; nothing reaches raw.survey_responses",
        "surveys",
        "pii.csv",
        lambda: csv_bytes([survey("sam.smith@example.org"), survey("R2", Ward=POSTCODE), survey("R3")]),
        "loaded",
        3,
        1,
        {
            2: ("RespondentID", "respondent id holds personal data (email), not an id"),
            3: ("Ward", "'[postcode]' is not an allowed ward"),
        },
    ),
    Case(
        "formula-injection",
        "=HYPERLINK(...), +cmd, -2+3 and @SUM in summaries, ids and a service",
        "summaries kept verbatim as text (exports defuse them); formula-like ids and the service quarantined",
        "complaints",
        "formulas.csv",
        lambda: csv_bytes(
            [
                *(complaint(f"C{i}", Summary=f) for i, f in enumerate(FORMULAS, 1)),
                complaint('=HYPERLINK("http://evil.example/")'),
                complaint("@SUM(A1)"),
                complaint("-2+3"),
                complaint("C8", **{"Service Area": "+cmd"}),
            ]
        ),
        "loaded",
        8,
        4,
        {
            6: ("Case Ref", "...starts with '=', which a spreadsheet would run as a formula"),
            7: ("Case Ref", "complaint id '@SUM(A1)' starts with '@', which a spreadsheet would run as a formula"),
            8: ("Case Ref", "complaint id '-2+3' starts with '-', which a spreadsheet would run as a formula"),
            9: ("Service Area", "'+cmd' is not an allowed service"),
        },
        check=summaries_as_received(*FORMULAS),
    ),
]


@pytest.fixture
def connection(tmp_path):
    with warehouse.connect(tmp_path / "warehouse.duckdb") as con:
        yield con


def ingest(connection, inbox: Path, folder: str, *, run_id: str = "run", max_bytes: int = MAX_BYTES):
    return ingest_folder(
        connection, inbox, folder, layouts=LAYOUTS, vocabulary=VOCABULARY, max_file_bytes=max_bytes, run_id=run_id
    )


def assert_nothing_lost(connection) -> None:
    """For every file received: accepted + quarantined = received, in raw.inbox_files and in
    the rows written (a refused file: 0 rows and one file-level quarantine row)."""
    files = connection.execute(
        "SELECT folder, file_name, source_sha256, status, rows_received, rows_accepted, rows_quarantined "
        "FROM raw.inbox_files"
    ).fetchall()
    assert files
    for folder, name, sha, status, received, accepted, quarantined in files:
        assert accepted + quarantined == received, name
        table = "raw.survey_responses" if folder == "surveys" else "raw.complaints"
        written = connection.execute(f"SELECT count(*) FROM {table} WHERE source_sha256 = ?", [sha]).fetchall()[0][0]
        held = connection.execute(
            "SELECT count(*) FILTER (WHERE row_number IS NOT NULL), count(*) FILTER (WHERE row_number IS NULL) "
            "FROM audit.quarantine WHERE source_sha256 = ?",
            [sha],
        ).fetchall()[0]
        assert (written, held[0]) == (accepted, quarantined), name
        assert held[1] == (1 if status == "refused" else 0), name
        if status == "refused":
            assert received == 0


def assert_no_personal_data_outside_restricted_raw(connection) -> None:
    """The planted personal data is nowhere but raw.complaints.summary and the raw extra
    columns (and the archived file), which the gate frames leave out."""
    texts = []
    for table, restricted in (
        ("raw.survey_responses", {"extra"}),
        ("raw.complaints", {"summary", "extra"}),
        ("raw.inbox_files", {"content_gzip"}),
        ("audit.quarantine", set()),
    ):
        columns = [
            c
            for (c,) in connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema || '.' || table_name = ? "
                "AND data_type = 'VARCHAR'",
                [table],
            ).fetchall()
            if c not in restricted
        ]
        for row in connection.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall():
            texts += [v for v in row if v]
    leaked = {p for p in PLANTED for text in texts if p in text or p.replace(" ", "") in text}
    assert not leaked


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_file(case: Case, tried, tmp_path, connection):
    tried(case.what, case.expected, case.family)
    inbox = tmp_path / "inbox"
    (inbox / case.folder).mkdir(parents=True)
    (inbox / case.folder / case.name).write_bytes(case.content())
    started = time.monotonic()
    [outcome] = ingest(connection, inbox, case.folder, max_bytes=case.max_bytes)
    assert time.monotonic() - started < case.seconds
    assert outcome.status == case.status, outcome.reason
    stored = connection.execute(
        "SELECT file_name, status, reason, rows_received, rows_accepted, rows_quarantined FROM raw.inbox_files"
    ).fetchall()
    if case.status == "refused":
        assert case.refusal in outcome.reason
        assert case.name in outcome.reason  # the reason names the file
        assert stored == [(case.name, "refused", outcome.reason, 0, 0, 0)]
        [(reference, reason)] = connection.execute("SELECT source_reference, reason FROM audit.quarantine").fetchall()
        assert (reference, reason) == (f"{case.folder}/{case.name}", f"file refused: {outcome.reason}")
    else:
        assert (outcome.rows_received, outcome.rows_accepted, outcome.rows_quarantined) == (
            case.received,
            case.accepted,
            case.received - case.accepted,
        ), outcome
        assert stored == [(case.name, "loaded", None, case.received, case.accepted, case.received - case.accepted)]
        quarantined = {
            row: (reference, column, reason)
            for row, reference, column, reason in connection.execute(
                "SELECT row_number, source_reference, column_name, reason FROM audit.quarantine"
            ).fetchall()
        }
        assert set(quarantined) == set(case.problems)
        for row, (column, reason) in case.problems.items():
            reference, got_column, got_reason = quarantined[row]
            assert reference.startswith(f"{case.folder}/{case.name}") and reference.endswith(
                f"#row={row}"
            )  # file and row
            assert got_column == column
            assert got_reason.endswith(reason[3:]) if reason.startswith("...") else got_reason == reason
    if case.check:
        case.check(connection, outcome)
    assert_nothing_lost(connection)
    assert_no_personal_data_outside_restricted_raw(connection)


# ------------------------------------------------------------------------- across files


def test_the_same_file_dropped_twice_loads_once(tried, tmp_path, connection):
    tried(
        "the same survey file dropped twice (again in a later run, and a copy under another name)",
        "loaded once: 3 rows; the repeat and the renamed copy 'already received', nothing inserted, "
        "all filed in processed/",
        "bad input",
    )
    inbox = tmp_path / "inbox"
    (inbox / "surveys").mkdir(parents=True)
    content = csv_bytes(surveys(3))
    (inbox / "surveys" / "wave.csv").write_bytes(content)
    [first] = ingest(connection, inbox, "surveys")
    (inbox / "surveys" / "wave.csv").write_bytes(content)
    [again] = ingest(connection, inbox, "surveys", run_id="again")
    (inbox / "surveys" / "wave (1).csv").write_bytes(content)
    outcomes = ingest(connection, inbox, "surveys", run_id="third")
    assert (first.status, first.rows_accepted) == ("loaded", 3)
    assert again.status == "already received"
    assert [(o.file_name, o.status) for o in outcomes] == [("wave (1).csv", "already received")]
    assert len(list((inbox / "surveys" / "processed").glob("*.csv"))) == 3
    assert connection.execute("SELECT count(*), count(DISTINCT run_id) FROM raw.survey_responses").fetchall() == [
        (3, 1)
    ]
    assert connection.execute("SELECT count(*) FROM raw.inbox_files").fetchall() == [(1,)]
    assert_nothing_lost(connection)


def test_duplicate_ids_across_files_are_all_kept_in_raw(tried, tmp_path, connection):
    tried(
        "respondent R1 and complaint C1 in two files each (a later export)",
        "both files loaded; raw keeps every version with its file (staging keeps the later file's)",
        "bad input",
    )
    inbox = tmp_path / "inbox"
    for folder, first, second in (
        ("surveys", csv_bytes(surveys(2)), csv_bytes([survey("R1", Ward="Bowdon")])),
        ("complaints", csv_bytes(complaints(2)), csv_bytes([complaint("C1", Outcome="Not upheld")])),
    ):
        (inbox / folder).mkdir(parents=True)
        (inbox / folder / "a_first.csv").write_bytes(first)
        (inbox / folder / "b_second.csv").write_bytes(second)
        outcomes = ingest(connection, inbox, folder)
        assert [(o.file_name, o.status, o.rows_accepted, o.rows_quarantined) for o in outcomes] == [
            ("a_first.csv", "loaded", 2, 0),
            ("b_second.csv", "loaded", 1, 0),
        ]
    assert connection.execute(
        "SELECT file_name, ward FROM raw.survey_responses WHERE respondent_id = 'R1' ORDER BY 1"
    ).fetchall() == [("a_first.csv", "Urmston"), ("b_second.csv", "Bowdon")]
    assert connection.execute(
        "SELECT file_name, outcome FROM raw.complaints WHERE complaint_id = 'C1' ORDER BY 1"
    ).fetchall() == [("a_first.csv", "upheld"), ("b_second.csv", "not_upheld")]
    assert_nothing_lost(connection)


# ------------------------------------------------------------------------- paths (security)


def test_a_traversal_path_is_refused_by_the_reader(tried, tmp_path):
    tried(
        "read '../../etc/passwd.csv' relative to the surveys folder (it exists outside the inbox)",
        "refused: resolves outside the inbox, named",
        "security",
    )
    inbox = tmp_path / "inbox"
    (inbox / "surveys").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd.csv").write_bytes(csv_bytes(surveys(1)))
    path = inbox / "surveys" / ".." / ".." / "etc" / "passwd.csv"
    with pytest.raises(FileRefused, match=r"passwd\.csv: resolves to .*/etc/passwd\.csv, outside .*/inbox$"):
        read_table(path, max_bytes=MAX_BYTES, root=inbox)


def test_an_absolute_path_outside_the_inbox_is_refused_by_the_reader(tried, tmp_path):
    tried("read an absolute path outside the inbox", "refused: outside the inbox", "security")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(csv_bytes(surveys(1)))
    with pytest.raises(FileRefused, match=r"elsewhere\.csv: resolves to .*, outside "):
        read_table(outside.absolute(), max_bytes=MAX_BYTES, root=inbox)


@pytest.mark.parametrize("target", ["file", "directory", "fifo", "etc-passwd"])
def test_a_symlink_leaving_the_inbox_is_refused_without_reading_its_target(target, tried, tmp_path, connection):
    described = {"file": "a CSV file", "directory": "a directory", "fifo": "a FIFO", "etc-passwd": "/etc/passwd"}[
        target
    ]
    tried(
        f"a symlink in surveys/ to {described} outside the inbox",
        "refused naming the link; the target is neither read (not even hashed) nor archived; no rows",
        "security",
    )
    inbox = tmp_path / "inbox"
    (inbox / "surveys").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    if target == "file":
        destination = outside / "secret.csv"
        destination.write_bytes(csv_bytes(surveys(2)))
    elif target == "directory":
        destination = outside
    elif target == "fifo":
        destination = outside / "pipe.csv"
        os.mkfifo(destination)  # reading it would block forever
    else:
        destination = Path("/etc/passwd")
    (inbox / "surveys" / "wave.csv").symlink_to(destination)
    [outcome] = ingest(connection, inbox, "surveys")
    assert outcome.status == "refused"
    assert "wave.csv" in outcome.reason and ("outside" in outcome.reason or "not a regular file" in outcome.reason)
    assert connection.execute("SELECT content_gzip IS NULL, rows_received FROM raw.inbox_files").fetchall() == [
        (True, 0)
    ]
    if target == "file":
        from hashlib import sha256

        assert outcome.sha256 != sha256(destination.read_bytes()).hexdigest()  # never hashed
    link = outcome.filed_as  # the link itself moved to refused/, its target untouched
    assert link.parent.name == "refused" and link.is_symlink() and os.readlink(link) == str(destination)
    assert "was refused" in link.with_name(link.name + ".txt").read_text(encoding="utf-8")
    (inbox / "surveys" / "wave.csv").symlink_to(destination)  # dropped again
    [again] = ingest(connection, inbox, "surveys", run_id="again")
    assert again.status == "already received"  # refused once, not recorded again on every run
    assert_nothing_lost(connection)


def test_a_folder_outside_the_inbox_is_never_listed(tried, tmp_path, connection):
    tried(
        "ingest the folder '../../etc' instead of surveys/complaints",
        "ValueError before any file is listed or read",
        "security",
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with pytest.raises(
        ValueError, match=r"'\.\./\.\./etc' is not an inbox folder; expected one of surveys, complaints"
    ):
        ingest(connection, inbox, "../../etc")
    assert connection.execute("SELECT count(*) FROM raw.inbox_files").fetchall() == [(0,)]


# ------------------------------------------------------------------------- published extracts

TIDY_HEADER = "area_code,area_name,period,indicator,measure,unit,value\r\n"
TIDY_ROW = "E08000009,Trafford,2021/22,Recycling,Percentage,Waste,45.2\r\n"


@dataclass(frozen=True)
class ExtractCase:
    id: str
    what: str
    expected: str
    content: bytes
    error: str = ""  # a fragment of the ExtractError, when the file is refused
    received: int = 0
    values: dict[int, float | None] = field(default_factory=dict)  # row -> value accepted
    problems: dict[int, tuple[str | None, str]] = field(default_factory=dict)  # row -> (column, reason)
    format: str = "tidy"


EXTRACT_CASES = [
    ExtractCase(
        "empty", "an empty tidy extract (0 bytes)", "refused: empty, naming the file", b"", error="empty: no header row"
    ),
    ExtractCase("header-only", "a tidy extract with only its header", "read: 0 rows", TIDY_HEADER.encode()),
    ExtractCase(
        "cp1252",
        "a tidy extract in Windows-1252 (£ in an area name)",
        "decoded; 1 row accepted",
        (TIDY_HEADER + TIDY_ROW.replace("Trafford,", "Trafford £,")).encode("cp1252"),
        received=1,
        values={2: 45.2},
    ),
    ExtractCase(
        "png",
        "a PNG image configured as an extract",
        "refused: NUL bytes, a PNG image",
        bf.PNG,
        error="a PNG image, not CSV text",
    ),
    ExtractCase(
        "blank-lines-and-quoted-newline",
        "blank lines and a quoted newline before rows",
        "rows numbered by their line in the file (3 and 6), as in source_reference",
        (
            TIDY_HEADER
            + "\r\n"
            + TIDY_ROW.replace("Trafford,", '"Traf\r\nford",')
            + ",,,,,,\r\n"
            + TIDY_ROW.replace("2021/22", "2022/23")
        ).encode(),
        received=2,
        values={3: 45.2, 6: 45.2},
    ),
    ExtractCase(
        "short-row",
        "a row cut short after 4 of 7 cells",
        "refused naming line 2 (not a silent null value)",
        (TIDY_HEADER + "E08000009,Trafford,2021/22,Recycling\r\n" + TIDY_ROW).encode(),
        error="line 2 has 4 cells but the header has 7",
    ),
    ExtractCase(
        "long-row",
        "a row with two cells more than the header",
        "refused naming line 2 (not shifted into the wrong columns)",
        (TIDY_HEADER + TIDY_ROW.strip() + ",x,y\r\n").encode(),
        error="line 2 has 9 cells but the header has 7",
    ),
    ExtractCase(
        "unclosed-quote",
        "an extract with a quote never closed on line 2",
        "refused naming line 2",
        (TIDY_HEADER + TIDY_ROW.replace("Trafford,", '"Trafford,') + TIDY_ROW).encode(),
        error="a quote opened on line 2 is never closed",
    ),
    ExtractCase(
        "numbers",
        "values '1,234.5' (thousands separator), '..', '=1+2' and 'high'",
        "1234.5 and null accepted; '=1+2' and 'high' quarantined naming row and column",
        (
            TIDY_HEADER
            + "".join(
                TIDY_ROW.replace("2021/22", p).replace("45.2", v)
                for p, v in (("2019/20", '"1,234.5"'), ("2020/21", ".."), ("2021/22", "=1+2"), ("2022/23", "high"))
            )
        ).encode(),
        received=4,
        values={2: 1234.5, 3: None},
        problems={4: ("value", "value '=1+2' is not a number"), 5: ("value", "value 'high' is not a number")},
    ),
    ExtractCase(
        "lginform-trailing-delimiter",
        "an LG Inform data.csv with a trailing delimiter and a semicolon separator",
        "the empty column dropped, not read as a period; 2 values accepted",
        b"area;area label;2022/23;2023/24;\r\nE08000009;Trafford;45.2;46.1;\r\n",
        received=2,
        format="lginform_csv",
    ),
]


@pytest.mark.parametrize("case", EXTRACT_CASES, ids=[c.id for c in EXTRACT_CASES])
def test_bad_extract(case: ExtractCase, tried, tmp_path):
    from ingestion.extracts import ExtractError, read_extract
    from lgperf.settings import LgInformCsvExtract, TidyExtract

    tried(f"published extract: {case.what}", case.expected, "bad input")
    path = tmp_path / "extract.csv"
    path.write_bytes(case.content)
    extract = (
        TidyExtract(path=str(path), format="tidy", indicators=[{"indicator": "Recycling", "metric_type": "L0003"}])
        if case.format == "tidy"
        else LgInformCsvExtract(path=str(path), format="lginform_csv", metric_type="91023")
    )
    if case.error:
        with pytest.raises(ExtractError) as caught:
            read_extract(extract)
        assert str(caught.value).startswith(f"{path}: ") and case.error in str(caught.value)
        return
    result = read_extract(extract)
    assert result.rows_received == case.received == result.rows_accepted + len(result.quarantined)  # nothing lost
    accepted = {int(v["source_reference"].rsplit("=", 1)[1]): v["value"] for v in result.tables["lginform_values"]}
    if case.format == "tidy":
        assert accepted == case.values
    else:
        assert sorted(v["period_id"] for v in result.tables["lginform_values"]) == ["2022/23", "2023/24"]
        assert [v["value"] for v in result.tables["lginform_values"]] == [45.2, 46.1]
    assert {q["row_number"]: (q["column_name"], q["reason"]) for q in result.quarantined} == case.problems
