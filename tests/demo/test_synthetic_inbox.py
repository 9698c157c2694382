"""The demo inbox: byte-identical files, a manifest that tells the truth, realistic layouts."""

from __future__ import annotations

import hashlib
import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from demo import synthetic_inbox
from demo.synthetic_inbox import DemoFile, demo_manifest, write_demo_inbox

MANIFEST = demo_manifest()
SURVEYS = [entry for entry in MANIFEST if entry.kind == "survey"]
COMPLAINTS = [entry for entry in MANIFEST if entry.kind == "complaint"]
LAYOUTS = {
    "trafford_residents_survey_csv",
    "trafford_residents_survey_cp1252",
    "panel_survey_xlsx",
    "crm_complaints_csv",
    "casework_xlsx",
}

# The test's own map from each supplier's headers to canonical fields, as a parser would hold.
_QUESTIONS = ("q_local_area", "q_runs_things", "q_value_for_money", "q_acts_on_concerns", "q_kept_informed", "q_trust")
_COUNCIL_SURVEY = dict(
    zip(
        (
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
        ),
        ("respondent_id", "start", "end", "weight", "age_band", "sex", "ethnicity", "disability", "ward", *_QUESTIONS),
    )
)
_PANEL_SURVEY = dict(
    zip(
        (
            "Resp_No",
            "Fieldwork start",
            "Fieldwork end",
            "Wt",
            "Age group",
            "Gender",
            "Ethnic group",
            "Disabled",
            "Ward",
            "Q1 Local area",
            "Q2 Council runs things",
            "Q3 Value for money",
            "Q4 Acts on concerns",
            "Q5 How well informed",
            "Q6 Trust in council",
        ),
        _COUNCIL_SURVEY.values(),
    )
)
_CRM = {
    "Case Ref": "complaint_id",
    "Date Received": "received",
    "Stage": "stage",
    "Service Area": "service",
    "Contact Channel": "channel",
    "Category": "theme",
    "Summary": "summary",
    "Target Date": "due",
    "Date Responded": "responded",
    "Outcome": "outcome",
    "Ward": "ward",
}
_CASEWORK = {
    "Reference": "complaint_id",
    "Received": "received",
    "Complaint stage": "stage",
    "Service": "service",
    "How received": "channel",
    "Theme": "theme",
    "Details": "summary",
    "Due": "due",
    "Responded": "responded",
    "Decision": "outcome",
    "Ward": "ward",
    "Age band": "age_band",
    "Sex": "sex",
}


@pytest.fixture(scope="module")
def inbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inbox")
    write_demo_inbox(path)
    return path


def _read(path: Path, layout: str) -> pd.DataFrame:
    """Read a demo file into canonical columns, every data row kept (messy ones too)."""
    if layout == "trafford_residents_survey_csv":
        return pd.read_csv(path, encoding="utf-8-sig", dtype=str).rename(columns=_COUNCIL_SURVEY)
    if layout == "trafford_residents_survey_cp1252":
        frame = pd.read_csv(path, sep=";", encoding="cp1252", dtype=str)
        return frame.drop(columns="Comments").rename(columns=_COUNCIL_SURVEY)
    if layout == "panel_survey_xlsx":
        return pd.read_excel(path, sheet_name="Data", header=3).rename(columns=_PANEL_SURVEY)
    if layout == "crm_complaints_csv":
        return pd.read_csv(path, encoding="utf-8", dtype=str).rename(columns=_CRM)
    if layout == "casework_xlsx":
        return pd.read_excel(path, sheet_name="Complaints", header=1).rename(columns=_CASEWORK)
    raise AssertionError(f"unknown layout {layout}")


def _dates(column: pd.Series, fmt: str | None) -> pd.Series:
    """Text parsed with an explicit format; Excel cells count only when they are real dates."""
    if fmt is not None:
        return pd.to_datetime(column, format=fmt, errors="coerce")
    return column.map(lambda v: v if isinstance(v, datetime) else pd.NaT).astype("datetime64[us]")


def _without_zeros(counts: dict[str, int]) -> dict[str, int]:
    return {reason: int(n) for reason, n in counts.items() if n}


def _survey_recount(frame: pd.DataFrame, layout: str) -> dict[str, int]:
    blank = frame.isna().all(axis=1)
    ids = frame["respondent_id"].dropna()
    weight = pd.to_numeric(frame["weight"], errors="coerce")
    text = layout != "panel_survey_xlsx"
    start = _dates(frame["start"], "%d/%m/%Y" if text else None)
    end = _dates(frame["end"], "%d/%m/%Y" if text else None)
    bands = synthetic_inbox.AGE_BANDS if text else synthetic_inbox.PANEL_AGE_GROUPS
    out_of_scale = pd.Series(False, index=frame.index)
    for column, question in zip(_QUESTIONS, synthetic_inbox.QUESTIONS):
        if text:
            valid = {*question.scale, synthetic_inbox.DONT_KNOW}
        else:
            valid = {*range(1, len(question.scale) + 1), synthetic_inbox.DONT_KNOW_CODE}
        out_of_scale |= frame[column].notna() & ~frame[column].isin(valid)
    return _without_zeros(
        {
            "missing_respondent_id": (frame["respondent_id"].isna() & ~blank).sum(),
            "duplicate_respondent_id": len(ids) - ids.nunique(),
            "non_positive_weight": (weight <= 0).sum(),
            "answer_out_of_scale": out_of_scale.sum(),
            "fieldwork_end_before_start": (end < start).sum(),
            "blank_row": blank.sum(),
            "age_band_not_in_list": (~blank & ~frame["age_band"].isin(bands)).sum(),
        }
    )


def _complaint_recount(frame: pd.DataFrame, layout: str, earlier_ids: set[str]) -> dict[str, int]:
    crm = layout == "crm_complaints_csv"
    formats = {"received": "%d/%m/%Y %H:%M", "due": "%d/%m/%Y", "responded": "%d/%m/%Y"}
    parsed = {f: _dates(frame[f], formats[f] if crm else None) for f in formats}
    unparseable = pd.Series(False, index=frame.index)
    for f, values in parsed.items():
        unparseable |= frame[f].notna() & values.isna()
    stages = {"Stage 1", "Stage 2", "LGSCO"} if crm else {1, 2, "Ombudsman"}
    ids = frame["complaint_id"].dropna()
    responded = parsed["responded"].notna()
    return _without_zeros(
        {
            "missing_complaint_id": frame["complaint_id"].isna().sum(),
            "duplicate_complaint_id": len(ids) - ids.nunique(),
            "responded_before_received": (parsed["responded"].dt.normalize() < parsed["received"].dt.normalize()).sum(),
            "unknown_stage": (~frame["stage"].isin(stages)).sum(),
            "unparseable_date": unparseable.sum(),
            "blank_outcome_when_responded": (responded & frame["outcome"].isna()).sum(),
            "corrected_record_from_earlier_file": ids.isin(earlier_ids).sum(),
        }
    )


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------- determinism


def test_two_writes_are_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_demo_inbox(first)
    write_demo_inbox(second)
    assert _hashes(first) == _hashes(second)
    assert len(_hashes(first)) == len(MANIFEST)


def test_rewriting_leaves_unchanged_files_alone(tmp_path: Path) -> None:
    manifest = write_demo_inbox(tmp_path)
    stamps = {entry.path: entry.path.stat().st_mtime_ns for entry in manifest}
    manifest[0].path.write_bytes(b"stale")
    write_demo_inbox(tmp_path)
    assert manifest[0].path.read_bytes() != b"stale"
    assert all(e.path.stat().st_mtime_ns == stamps[e.path] for e in manifest[1:])


@pytest.mark.parametrize("entry", [e for e in MANIFEST if e.path.suffix == ".xlsx"], ids=lambda e: e.path.name)
def test_xlsx_has_fixed_properties_and_zip_dates(inbox_dir: Path, entry: DemoFile) -> None:
    with zipfile.ZipFile(inbox_dir / entry.path) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(2026, 1, 1, 0, 0, 0)}
    properties = openpyxl.load_workbook(inbox_dir / entry.path, read_only=True).properties
    assert properties.created == properties.modified == synthetic_inbox.FIXED_TIMESTAMP


# --------------------------------------------------------------------------- manifest


def test_manifest_lists_what_was_written(tmp_path: Path) -> None:
    written = write_demo_inbox(tmp_path)
    assert written == demo_manifest(tmp_path)
    assert {p for p in tmp_path.rglob("*") if p.is_file()} == {e.path for e in written}
    assert {e.path.parts[0] for e in MANIFEST} == {"surveys", "complaints"}
    assert all(e.path.parts[0] == f"{e.kind}s" for e in MANIFEST)
    assert {e.layout for e in MANIFEST} == LAYOUTS
    assert sum(e.layout == "trafford_residents_survey_csv" for e in MANIFEST) == 3
    assert sum(e.layout == "crm_complaints_csv" for e in MANIFEST) == 2


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda e: e.path.name)
def test_rows_received_and_messy_share(inbox_dir: Path, entry: DemoFile) -> None:
    frame = _read(inbox_dir / entry.path, entry.layout)
    assert len(frame) == entry.rows_received
    assert entry.rows_messy == sum(entry.messy_reasons.values())
    assert 0.03 <= entry.rows_messy / entry.rows_received <= 0.05


@pytest.mark.parametrize("entry", SURVEYS, ids=lambda e: e.path.name)
def test_survey_messy_reasons_match_a_recount(inbox_dir: Path, entry: DemoFile) -> None:
    frame = _read(inbox_dir / entry.path, entry.layout)
    assert _survey_recount(frame, entry.layout) == entry.messy_reasons


def test_complaint_messy_reasons_match_a_recount(inbox_dir: Path) -> None:
    earlier_ids: set[str] = set()
    for entry in COMPLAINTS:  # the manifest lists the CRM extracts oldest first
        frame = _read(inbox_dir / entry.path, entry.layout)
        assert _complaint_recount(frame, entry.layout, earlier_ids) == entry.messy_reasons
        if entry.layout == "crm_complaints_csv":
            earlier_ids |= set(frame["complaint_id"].dropna())


def test_corrected_record_is_responded_later(inbox_dir: Path) -> None:
    old, new = (
        _read(inbox_dir / e.path, e.layout).drop_duplicates("complaint_id").set_index("complaint_id")
        for e in COMPLAINTS
        if e.layout == "crm_complaints_csv"
    )
    repeated = old.index.dropna().intersection(new.index.dropna())
    assert len(repeated) == 1
    before, after = (pd.to_datetime(f.loc[repeated, "responded"], format="%d/%m/%Y") for f in (old, new))
    assert (after > before).all()


# --------------------------------------------------------------------------- layouts


def _path(inbox_dir: Path, layout: str) -> Path:
    return inbox_dir / next(e.path for e in MANIFEST if e.layout == layout)


def test_encodings_and_delimiters(inbox_dir: Path) -> None:
    raw = _path(inbox_dir, "trafford_residents_survey_cp1252").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert "St Mary\u2019s" in text and "£" in text
    assert text.splitlines()[0].count(";") == 15
    assert _path(inbox_dir, "trafford_residents_survey_csv").read_bytes().startswith(b"\xef\xbb\xbfRespondentID,")
    assert _path(inbox_dir, "crm_complaints_csv").read_bytes().startswith(b"Case Ref,")


def test_panel_workbook_has_titles_merged_header_and_notes(inbox_dir: Path) -> None:
    workbook = openpyxl.load_workbook(_path(inbox_dir, "panel_survey_xlsx"))
    assert workbook.sheetnames == ["Data", "Notes"]
    sheet = workbook["Data"]
    assert sheet["A1"].value == "Trafford Council \u2013 Residents' Panel"
    assert sheet["A2"].value.startswith("Fieldwork: ")
    (group,) = [
        r for r in sheet.merged_cells.ranges if sheet.cell(r.min_row, r.min_col).value == "Satisfaction questions"
    ]
    assert group.min_row == group.max_row == 3
    under_group = [sheet.cell(4, c).value for c in range(group.min_col, group.max_col + 1)]
    assert under_group == list(_PANEL_SURVEY)[-6:]
    assert isinstance(sheet.cell(5, 2).value, datetime)  # an Excel date, not text
    notes = [row[0] or "" for row in workbook["Notes"].iter_rows(values_only=True)]
    assert any("9 = Don't know" in line for line in notes)


def test_casework_workbook_has_title_row_and_lookup(inbox_dir: Path) -> None:
    workbook = openpyxl.load_workbook(_path(inbox_dir, "casework_xlsx"))
    assert workbook.sheetnames == ["Complaints", "Lookup"]
    sheet = workbook["Complaints"]
    assert sheet["A1"].value.startswith("Trafford Council \u2013 Complaints casework log")
    assert [c.value for c in sheet[2]] == list(_CASEWORK)
    assert isinstance(sheet["B3"].value, datetime)
    assert [c.value for c in workbook["Lookup"]["A"]][:4] == ["Complaint stage", 1, 2, "Ombudsman"]


def test_survey_levels_are_plausible(inbox_dir: Path) -> None:
    """Weighted % positive near LGA-style levels: local area > runs things > value for money."""
    for entry in SURVEYS:
        if entry.layout == "panel_survey_xlsx":
            continue
        frame = _read(inbox_dir / entry.path, entry.layout)
        weight = pd.to_numeric(frame["weight"], errors="coerce")
        levels = []
        for column, question in zip(_QUESTIONS[:3], synthetic_inbox.QUESTIONS):
            valid = frame[column].isin(question.scale) & (weight > 0)
            positive = frame[column].isin(question.scale[:2])
            levels.append((weight * positive)[valid].sum() / weight[valid].sum())
        local_area, runs_things, value_for_money = levels
        assert 0.70 <= local_area <= 0.85
        assert 0.50 <= runs_things <= 0.68
        assert 0.36 <= value_for_money <= 0.52


# --------------------------------------------------------------------------- redaction bait

PERSONAL_DATA = {
    "title and name": r"\b(?:Mr|Mrs|Ms|Miss|Dr) [A-Z][a-zA-Z']+",
    "greeting": r"\bDear (?:Mr|Mrs|Ms|Miss|Dr) [A-Z]",
    "sign-off": r"\b(?:Regards|Kind regards|Thanks),?\s+[A-Z][a-z]+",
    "email": r"\b[\w.]+@example\.(?:com|org|co\.uk)\b",
    "mobile": r"\b07700 ?900\d{3}\b",
    "international phone": r"\+44 7700 900\d{3}",
    "landline in brackets": r"\(0161\) 496 0\d{3}",
    "postcode": r"\b(?:M|WA)\d{1,2} \d[A-Z]{2}\b",
    "lower-case postcode": r"\b(?:m|wa)\d{1,2} ?\d[a-z]{2}\b",
    "NI number": r"(?i)\bQQ ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    "house and street": r"\b\d+[a-z]? [A-Z][a-z]+(?: New)? (?:Road|Lane|Street|Grove)\b",
    "case reference": r"\bCRM-20\d{2}-\d{6}\b",
}
NEAR_MISSES = {
    "long date": r"\b\d{1,2} (?:January|February|March|April|May|June|July|August|September"
    r"|October|November|December) 20\d{2}\b",
    "money": r"£\d[\d,]*\.\d{2}\b",
    "service name": r"Waste & Recycling|Council Tax & Benefits|Parks & Leisure",
    "stage": r"\bStage 2\b",
    "bin size": r"\b\d{3}[- ]litre\b",
}


@pytest.mark.parametrize("entry", COMPLAINTS, ids=lambda e: e.path.name)
def test_summaries_hold_personal_data_and_near_misses(inbox_dir: Path, entry: DemoFile) -> None:
    text = "\n".join(_read(inbox_dir / entry.path, entry.layout)["summary"].dropna())
    missing = [family for family, pattern in {**PERSONAL_DATA, **NEAR_MISSES}.items() if not re.search(pattern, text)]
    assert not missing
    assert not re.search(r"\b07\d{3} ?(?!900)\d{6}\b", text)  # only Ofcom drama mobiles
