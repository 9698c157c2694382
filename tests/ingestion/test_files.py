"""ingestion.files: every inbox file shape reads into the same table; unsafe files are refused."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Font

from demo.synthetic_inbox import demo_manifest, write_demo_inbox
from ingestion import files
from ingestion.files import FileRefused, Table, read_once, read_table

MAX = 10_000_000


def read(path: Path, **kwargs) -> Table:
    return read_table(path, max_bytes=kwargs.pop("max_bytes", MAX), **kwargs)


def write_csv(
    path: Path, rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8", lineterminator: str = "\r\n"
) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def save(workbook: Workbook, path: Path) -> Path:
    workbook.save(path)
    return path


def refused(path: Path, match: str, **kwargs) -> FileRefused:
    with pytest.raises(FileRefused, match=match) as caught:
        read(path, **kwargs)
    assert str(caught.value).startswith(str(path))
    assert isinstance(caught.value, ValueError)
    return caught.value


@pytest.fixture
def no_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if openpyxl is asked to open the workbook."""

    def forbidden(*args, **kwargs):
        raise AssertionError("openpyxl must not open this file")

    monkeypatch.setattr(files.openpyxl, "load_workbook", forbidden)


# --------------------------------------------------------------------------- the demo inbox

_DEMO_FORMATS = {  # file name -> (encoding, delimiter, sheet, first header names)
    "trafford_residents_survey_2024_spring_cp1252.csv": ("cp1252", ";", None, ["RespondentID", "FieldworkStart"]),
    "trafford_residents_survey_2024_autumn.csv": ("utf-8-sig", ",", None, ["RespondentID", "FieldworkStart"]),
    "trafford_residents_survey_2025_spring.csv": ("utf-8-sig", ",", None, ["RespondentID", "FieldworkStart"]),
    "trafford_residents_survey_2025_autumn.csv": ("utf-8-sig", ",", None, ["RespondentID", "FieldworkStart"]),
    "trafford_residents_panel_2025_winter.xlsx": (None, None, "Data", ["Resp_No", "Fieldwork start"]),
    "crm_complaints_2024-25.csv": ("utf-8", ",", None, ["Case Ref", "Date Received"]),
    "crm_complaints_2025-26_h1.csv": ("utf-8", ",", None, ["Case Ref", "Date Received"]),
    "casework_log_2025-26_q3.xlsx": (None, None, "Complaints", ["Reference", "Received"]),
}


@pytest.fixture(scope="module")
def demo_inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inbox = tmp_path_factory.mktemp("inbox")
    write_demo_inbox(inbox)
    return inbox


@pytest.mark.parametrize("index", range(len(demo_manifest())))
@pytest.mark.parametrize("with_signatures", [False, True])
def test_demo_files_read_with_their_header_row_count_and_format(demo_inbox: Path, index: int, with_signatures: bool):
    entry = demo_manifest(demo_inbox)[index]
    encoding, delimiter, sheet, first_names = _DEMO_FORMATS[entry.path.name]
    signatures = (
        [{"Resp_No", "Wt", "Ward", "Q1 Local area"}, {"Reference", "Received", "Decision"}] if with_signatures else []
    )
    table = read(entry.path, expected_columns=signatures)
    assert (table.encoding, table.delimiter, table.sheet) == (encoding, delimiter, sheet)
    assert table.header[:2] == first_names
    assert len(table.rows) == entry.rows_received  # blank rows included
    assert all(set(record) == set(table.header) for _, record in table.rows)


def test_demo_csv_row_numbers_are_physical_lines_despite_multi_line_summaries(demo_inbox: Path):
    path = demo_inbox / "complaints" / "crm_complaints_2024-25.csv"
    lines = list(io.StringIO(path.read_text("utf-8"), newline=""))
    table = read(path)
    assert table.rows[-1][0] < len(lines)  # multi-line fields: more lines than records
    for number, record in table.rows:
        if record["Case Ref"]:
            assert lines[number - 1].startswith(record["Case Ref"])


def test_demo_xlsx_keeps_types_and_spreadsheet_row_numbers(demo_inbox: Path):
    panel = read(demo_inbox / "surveys" / "trafford_residents_panel_2025_winter.xlsx")
    number, record = panel.rows[0]
    assert number == 5  # two title rows, the merged group row, the header on row 4
    assert isinstance(record["Fieldwork start"], datetime)
    assert isinstance(record["Wt"], float)
    casework = read(demo_inbox / "complaints" / "casework_log_2025-26_q3.xlsx")
    assert casework.rows[0][0] == 3
    assert casework.rows[0][1]["Received"] == datetime(2025, 10, 1)


# --------------------------------------------------------------------------- CSV


@pytest.mark.parametrize(("delimiter", "suffix"), [(",", ".csv"), (";", ".csv"), ("\t", ".txt"), ("|", ".csv")])
def test_delimiters_are_detected(tmp_path: Path, delimiter: str, suffix: str):
    path = write_csv(
        tmp_path / f"data{suffix}",
        [["id", "ward", "note"], ["1", "Sale Moor", "a, b; c"], ["2", "Village", ""]],
        delimiter=delimiter,
    )
    table = read(path)
    assert table.delimiter == delimiter
    assert table.header == ["id", "ward", "note"]
    assert table.rows == [
        (2, {"id": "1", "ward": "Sale Moor", "note": "a, b; c"}),
        (3, {"id": "2", "ward": "Village", "note": ""}),
    ]


def test_utf8_with_and_without_bom(tmp_path: Path):
    rows = [["Ward", "Comment"], ["St Mary's", "Café – fine"]]
    with_bom = read(write_csv(tmp_path / "bom.csv", rows, encoding="utf-8-sig"))
    without = read(write_csv(tmp_path / "plain.csv", rows, encoding="utf-8"))
    assert (with_bom.encoding, without.encoding) == ("utf-8-sig", "utf-8")
    assert with_bom.header == without.header == ["Ward", "Comment"]  # no BOM left on the first name
    assert with_bom.rows == without.rows == [(2, {"Ward": "St Mary's", "Comment": "Café – fine"})]


def test_cp1252_with_pound_sign_and_curly_apostrophe(tmp_path: Path):
    path = write_csv(
        tmp_path / "old.csv",
        [["Ward", "Comment"], ["St Mary’s", "Paid £65 – it’s missed"]],
        delimiter=";",
        encoding="cp1252",
    )
    table = read(path)
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert table.rows[0][1] == {"Ward": "St Mary’s", "Comment": "Paid £65 – it’s missed"}


@pytest.mark.parametrize("byte", [b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"])
def test_bytes_neither_utf8_nor_cp1252_are_refused(tmp_path: Path, byte: bytes):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"id,name\r\n1,caf" + byte + b"\r\n")
    refused(path, "neither UTF-8 nor Windows-1252")


def test_utf16_is_refused_not_misread_as_cp1252(tmp_path: Path):
    path = tmp_path / "unicode.txt"
    path.write_bytes("id\tname\r\n1\tx\r\n".encode("utf-16"))
    refused(path, "NUL bytes")


def test_multi_line_quoted_field_keeps_its_first_line_number(tmp_path: Path):
    path = tmp_path / "crm.csv"
    path.write_bytes(b'Case Ref,Summary,Ward\r\nA1,"Dear Sir,\r\nthe bin\nwas missed",Urmston\r\nA2,short,Sale\r\n')
    table = read(path)
    assert table.rows == [
        (2, {"Case Ref": "A1", "Summary": "Dear Sir,\r\nthe bin\nwas missed", "Ward": "Urmston"}),
        (5, {"Case Ref": "A2", "Summary": "short", "Ward": "Sale"}),
    ]


def test_blank_lines_are_kept_except_at_the_end_and_before_the_header(tmp_path: Path):
    path = tmp_path / "gaps.csv"
    path.write_bytes(b"\r\n\r\nid,ward\r\n1,Bowdon\r\n\r\n,\r\n 2 , Hale \r\n\r\n\r\n")
    table = read(path)
    assert table.header == ["id", "ward"]
    assert table.rows == [
        (4, {"id": "1", "ward": "Bowdon"}),
        (5, {"id": "", "ward": ""}),
        (6, {"id": "", "ward": ""}),
        (7, {"id": "2", "ward": "Hale"}),
    ]


def test_empty_and_header_only_files_give_no_rows(tmp_path: Path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert read(empty).rows == []
    bom_only = tmp_path / "bom.csv"
    bom_only.write_bytes(b"\xef\xbb\xbf\r\n")
    assert read(bom_only).header == []
    header_only = read(write_csv(tmp_path / "header.csv", [["id", "ward"]]))
    assert (header_only.header, header_only.rows) == (["id", "ward"], [])
    workbook = Workbook()
    workbook.active.append(["id", "ward"])
    assert read(save(workbook, tmp_path / "header.xlsx")).rows == []
    assert read(save(Workbook(), tmp_path / "blank.xlsx")).rows == []


def test_duplicate_header_names_are_refused(tmp_path: Path):
    error = refused(
        write_csv(tmp_path / "dup.csv", [["id", "Ward", "Ward", "id", "x"], ["1", "a", "b", "2", "y"]]),
        "duplicate column names",
    )
    assert "'Ward'" in str(error) and "'id'" in str(error)
    workbook = Workbook()
    workbook.active.append(["id", "Ward", "Ward ", "WARD"])  # the same label to a layout
    workbook.active.append([1, "a", "b", "c"])
    refused(save(workbook, tmp_path / "dup.xlsx"), "duplicate column names in the header: 'WARD', 'Ward'$")


def test_unnamed_columns_are_kept_when_they_hold_data_and_dropped_when_empty(tmp_path: Path):
    path = write_csv(
        tmp_path / "extra.csv", [["id", "", "ward", ""], ["1", "x", "Bowdon", ""], ["2", "", "Hale", "", "late"]]
    )
    table = read(path)
    assert table.header == ["id", "Unnamed: 2", "ward", "Unnamed: 5"]
    assert table.rows[1] == (3, {"id": "2", "Unnamed: 2": "", "ward": "Hale", "Unnamed: 5": "late"})


# --------------------------------------------------------------------------- XLSX


def _agency_workbook() -> Workbook:
    """Notes first; then title rows, a merged group heading and the header on row 4."""
    workbook = Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["About this file"])
    notes.append(["Ward", "Meaning"])  # holds one expected name: must lose to the data sheet
    notes.append(["Bowdon", "a ward"])
    data = workbook.create_sheet("Responses")
    data["A1"] = "Residents' Panel"
    data["A1"].font = Font(bold=True)
    data["A2"] = "Fieldwork: January 2025"
    data["A3"], data["D3"] = "Respondent profile", "Questions"
    data.merge_cells("A3:C3")
    data.merge_cells("D3:E3")
    data.append(["Resp_No", "Fieldwork start", "Ward", "Q1 Local area", "Q2 Trust"])
    data.append([101, date(2025, 1, 13), "Bowdon", 1, 2])
    data.append([None, None, None, None, None])
    data.append([102, date(2025, 1, 14), "Sale Moor", 9, None])
    return workbook


def test_xlsx_sheet_and_header_row_found_by_signature(tmp_path: Path):
    path = save(_agency_workbook(), tmp_path / "panel.xlsx")
    table = read(path, expected_columns=[{"Reference", "Received"}, {"Resp_No", "Ward", "Q1 Local area", "Wt"}])
    assert table.sheet == "Responses"
    assert table.header == ["Resp_No", "Fieldwork start", "Ward", "Q1 Local area", "Q2 Trust"]
    assert [number for number, _ in table.rows] == [5, 6, 7]
    assert table.rows[0][1] == {
        "Resp_No": 101,
        "Fieldwork start": datetime(2025, 1, 13),
        "Ward": "Bowdon",
        "Q1 Local area": 1,
        "Q2 Trust": 2,
    }
    assert all(value is None for value in table.rows[1][1].values())  # an interior blank row is kept
    assert (table.encoding, table.delimiter) == (None, None)


def test_xlsx_signature_names_compare_like_layout_labels(tmp_path: Path):
    path = save(_agency_workbook(), tmp_path / "panel.xlsx")
    assert read(path, expected_columns=[{"resp_no", "q1  local AREA"}]).sheet == "Responses"


def test_xlsx_without_signatures_skips_title_rows_and_the_merged_group_heading(tmp_path: Path):
    workbook = _agency_workbook()
    workbook.move_sheet("Responses", offset=-1)
    table = read(save(workbook, tmp_path / "panel.xlsx"))
    assert table.sheet == "Responses"
    assert table.header[0] == "Resp_No" and table.rows[0][0] == 5


def test_xlsx_trailing_formatting_rows_and_empty_columns_are_dropped(tmp_path: Path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "when"])
    sheet.append([1, datetime(2025, 10, 1, 9, 30)])
    sheet["A3"].number_format = "dd/mm/yyyy"  # rows 3..40 and column H: formatting only
    sheet["H40"].font = Font(bold=True)
    sheet["B2"].number_format = "dd/mm/yyyy hh:mm"
    table = read(save(workbook, tmp_path / "styled.xlsx"))
    assert table.header == ["id", "when"]
    assert table.rows == [(2, {"id": 1, "when": datetime(2025, 10, 1, 9, 30)})]


def test_excel_dates_come_back_as_datetime(tmp_path: Path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Reference", "Received"])
    sheet.append(["CX-1", date(2025, 12, 31)])
    sheet["B2"].number_format = "dd/mm/yyyy"
    value = read(save(workbook, tmp_path / "dates.xlsx")).rows[0][1]["Received"]
    assert value == datetime(2025, 12, 31) and isinstance(value, datetime)


def test_a_formula_anywhere_is_refused_naming_its_cell(tmp_path: Path):
    workbook = _agency_workbook()
    workbook["Responses"]["E7"] = "=SUM(D5:D6)"
    refused(save(workbook, tmp_path / "formula.xlsx"), r"Responses!E7")


def test_external_links_are_refused(tmp_path: Path):
    saved = save(_agency_workbook(), tmp_path / "plain.xlsx")
    linked = tmp_path / "linked.xlsx"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(linked, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr(
            "xl/externalLinks/externalLink1.xml",
            '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>'
            "</externalLink>",
        )
    refused(linked, "external links")


def test_external_links_the_workbook_names_elsewhere_are_refused_before_openpyxl_opens_it(
    tmp_path: Path, no_openpyxl: None
):
    """openpyxl follows ``externalReferences`` in xl/workbook.xml to whatever part their
    relationship names: a link kept outside xl/externalLinks/ is refused too."""
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    saved = save(_agency_workbook(), tmp_path / "plain.xlsx")
    linked = tmp_path / "linked_elsewhere.xlsx"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(linked, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = data.replace(
                    b"</sheets>", b'</sheets><externalReferences><externalReference r:id="rId99"/></externalReferences>'
                )
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    f'<Relationship Id="rId99" Type="{relationships}/externalLink" '
                    f'Target="links/book.xml"/></Relationships>'.encode(),
                )
            target.writestr(item, data)
        target.writestr(
            "xl/links/book.xml",
            '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<externalBook r:id="rId1" xmlns:r="{relationships}"/></externalLink>',
        )
        target.writestr(
            "xl/links/_rels/book.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{relationships}/externalLinkPath" Target="other.xlsx" '
            'TargetMode="External"/></Relationships>',
        )
    refused(linked, "external links to other workbooks are not accepted$")


def test_zip_bomb_is_refused_before_openpyxl_opens_it(tmp_path: Path, no_openpyxl: None):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 2_000_000)  # ~ 1000:1
    refused(bomb, "compression ratio")
    refused(bomb, "uncompressed", max_uncompressed_bytes=1_000_000, max_compression_ratio=10_000)


def test_not_a_zip_is_refused(tmp_path: Path, no_openpyxl: None):
    path = write_csv(tmp_path / "renamed.xlsx", [["id"], ["1"]])
    refused(path, "not a valid XLSX")


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    refused(path, "not a readable XLSX workbook")


# --------------------------------------------------------------------------- whole-file checks


def test_too_big_is_refused(tmp_path: Path):
    path = write_csv(tmp_path / "big.csv", [["id"], *([str(i)] for i in range(100))])
    refused(path, "too big", max_bytes=100)
    assert len(read(path, max_bytes=path.stat().st_size).rows) == 100


@pytest.mark.parametrize("name", ["data.xls", "data.xlsm", "data.json", "data"])
def test_unsupported_extensions_are_refused(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_bytes(b"id\n1\n")
    refused(path, "unsupported file type")


def test_upper_case_extension_is_accepted(tmp_path: Path):
    assert read(write_csv(tmp_path / "DATA.CSV", [["id"], ["1"]])).rows == [(2, {"id": "1"})]


def test_symlink_outside_root_is_refused(tmp_path: Path):
    inbox, elsewhere = tmp_path / "inbox", tmp_path / "elsewhere"
    inbox.mkdir()
    elsewhere.mkdir()
    secret = write_csv(elsewhere / "secret.csv", [["id"], ["1"]])
    (inbox / "escape.csv").symlink_to(secret)
    refused(inbox / "escape.csv", "outside", root=inbox)
    refused(inbox / ".." / "elsewhere" / "secret.csv", "outside", root=inbox)
    inside = write_csv(inbox / "real.csv", [["id"], ["2"]])
    (inbox / "alias.csv").symlink_to(inside)
    assert read(inbox / "alias.csv", root=inbox).rows == [(2, {"id": "2"})]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_and_not_read(tmp_path: Path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    refused(fifo, "not a regular file", root=tmp_path)
    with pytest.raises(FileRefused, match="not a regular file"):
        read_once(fifo, max_bytes=1024, root=tmp_path)


def test_read_once_hashes_the_bytes_it_read(tmp_path: Path):
    path = tmp_path / "data.bin"
    content = os.urandom(3 * 1024 * 1024 + 17)
    path.write_bytes(content)
    received = read_once(path, max_bytes=4 * 1024 * 1024)
    assert received.content == content
    assert received.sha256 == hashlib.sha256(content).hexdigest()
    assert (received.size, received.mtime_ns) == (len(content), path.stat().st_mtime_ns)
    with pytest.raises(FileRefused, match=r"too big: 3,145,745 bytes, the limit is 3,145,744"):
        read_once(path, max_bytes=len(content) - 1)
