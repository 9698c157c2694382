"""Survey and complaints files through the inbox: the demo inbox with known counts, and small
files made here for every failure."""

import json
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from demo.synthetic_inbox import write_demo_inbox
from ingestion.inbox_folder import ingest_folder
from ingestion.layouts import LAYOUTS_DIR, load_layouts, load_vocabulary
from lgperf import warehouse

LAYOUTS = load_layouts()
VOCABULARY = load_vocabulary()
MAX_BYTES = 5 * 1024 * 1024

# the demo's messy-row reasons, as the quarantine words them
REASON_WORDS = {
    "missing_respondent_id": "missing respondent id",
    "duplicate_respondent_id": "duplicate respondent id",
    "non_positive_weight": "must be a positive number",
    "answer_out_of_scale": "scale",
    "fieldwork_end_before_start": "fieldwork ends before it starts",
    "blank_row": "blank row",
    "age_band_not_in_list": "not an allowed age band",
    "missing_complaint_id": "missing complaint id",
    "duplicate_complaint_id": "duplicate complaint id",
    "responded_before_received": "responded before the complaint was received",
    "unknown_stage": "not an allowed stage",
    "unparseable_date": "is not a date",
    "blank_outcome_when_responded": "responded without an outcome",
}


@pytest.fixture
def connection(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        yield con


def ingest(connection, inbox: Path, folder: str, run_id: str = "run", max_file_bytes: int = MAX_BYTES):
    return ingest_folder(
        connection, inbox, folder, layouts=LAYOUTS, vocabulary=VOCABULARY, max_file_bytes=max_file_bytes, run_id=run_id
    )


def test_the_demo_inbox_loads_with_known_accepted_and_quarantined_counts(connection, tmp_path):
    inbox = tmp_path / "inbox"
    manifest = {f.path.name: f for f in write_demo_inbox(inbox)}
    outcomes = {o.file_name: o for folder in ("surveys", "complaints") for o in ingest(connection, inbox, folder)}
    assert set(outcomes) == set(manifest)
    for name, demo in manifest.items():
        outcome = outcomes[name]
        planted = sum(n for reason, n in demo.messy_reasons.items() if reason != "corrected_record_from_earlier_file")
        assert outcome.status == "loaded", (name, outcome.reason)
        assert outcome.rows_received == demo.rows_received, name
        assert outcome.rows_quarantined == planted, (name, outcome.rows_quarantined, demo.messy_reasons)
        assert outcome.rows_accepted + outcome.rows_quarantined == outcome.rows_received
        reasons = [
            r[0]
            for r in connection.execute(
                "SELECT reason FROM audit.quarantine WHERE source_reference LIKE ?", [f"%/{name}%"]
            ).fetchall()
        ]
        found = Counter(next(k for k, words in REASON_WORDS.items() if words in reason) for reason in reasons)
        expected = {k: n for k, n in demo.messy_reasons.items() if k != "corrected_record_from_earlier_file" and n}
        # an unparseable date can be the due date, a duplicate is found before its other problems
        assert found == expected, name
    layouts = dict(connection.execute("SELECT file_name, layout FROM raw.inbox_files").fetchall())
    assert set(layouts.values()) == {
        "trafford_residents_survey_csv",
        "residents_panel_xlsx",
        "crm_complaints_csv",
        "casework_log_xlsx",
    }


def test_the_same_file_loads_once_and_a_rename_is_not_new(connection, tmp_path):
    inbox = tmp_path / "inbox"
    write_demo_inbox(inbox)
    first = ingest(connection, inbox, "complaints")
    assert {o.status for o in first} == {"loaded"} and list((inbox / "complaints").glob("*.csv")) == []
    taken = sorted((inbox / "complaints" / "processed").glob("*_*.csv"))
    for index, path in enumerate(taken):  # the same bytes dropped again, the first under its own name, the rest renamed
        name = path.name.split("_", 1)[1] if index == 0 else f"copy {index}.csv"
        (inbox / "complaints" / name).write_bytes(path.read_bytes())
    again = ingest(connection, inbox, "complaints", run_id="again")
    assert len(again) == len(taken) and {o.status for o in again} == {"already received"}
    assert all(o.filed_as.parent.name == "processed" for o in again)
    note = again[0].filed_as.with_name(again[0].filed_as.name + ".txt").read_text(encoding="utf-8")
    assert "holds the same bytes as" in note and "nothing new, nothing changed" in note
    rows = connection.execute("SELECT count(*) FROM raw.complaints").fetchall()[0][0]
    assert rows == sum(o.rows_accepted for o in first)
    assert connection.execute("SELECT count(*) FROM raw.inbox_files").fetchall()[0][0] == len(first)


def test_quarantined_complaint_text_is_redacted_and_ids_kept(connection, tmp_path):
    inbox = tmp_path / "inbox"
    write_demo_inbox(inbox)
    ingest(connection, inbox, "complaints")
    records = [
        json.loads(r[0])
        for r in connection.execute(
            "SELECT raw_record FROM audit.quarantine WHERE raw_record IS NOT NULL "
            "AND source_system = 'inbox/complaints'"
        ).fetchall()
    ]
    assert records
    text = json.dumps(records)
    assert "@" not in text and "07700" not in text and "QQ " not in text
    assert any(r.get("Case Ref", "").startswith("CRM-") for r in records)  # the id the auditor needs stays


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


SURVEY_HEADER = (
    "RespondentID,FieldworkStart,FieldworkEnd,Weight,AgeBand,Sex,Ethnicity,Disability,Ward,"
    "Q1_LocalArea,Q2_RunsThings,Q3_ValueForMoney,Q4_ActsOnConcerns,Q5_KeptInformed,Q6_Trust"
)
GOOD = (
    "R1,01/03/2025,28/03/2025,1.2,25-34,Female,White British,No,Urmston,Very satisfied,Fairly satisfied,"
    "Tend to agree,Don't know,Fairly well informed,A fair amount"
)


def test_a_file_no_layout_fits_is_refused_whole_naming_the_missing_columns(connection, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv(inbox / "surveys" / "odd.csv", [SURVEY_HEADER.replace("Weight,", "Wght,"), GOOD.replace("1.2,", "1.2,")])
    [outcome] = ingest(connection, inbox, "surveys")
    assert outcome.status == "refused"
    assert "odd.csv: no survey layout fits its header" in outcome.reason and "'Weight'" in outcome.reason
    stored = connection.execute(
        "SELECT status, reason, rows_received, content_gzip IS NOT NULL FROM raw.inbox_files"
    ).fetchall()
    assert stored == [("refused", outcome.reason, 0, True)]  # kept, with its reason
    assert connection.execute("SELECT reason FROM audit.quarantine").fetchall()[0][0].startswith("file refused: ")


def test_row_checks_with_row_column_and_reason(connection, tmp_path):
    inbox = tmp_path / "inbox"
    lines = [
        SURVEY_HEADER,
        GOOD,  # 2 accepted
        GOOD.replace("R1,", "R2,").replace(",1.2,", ",-3,"),  # 3 negative weight
        GOOD.replace("R1,", "R3,").replace("Very satisfied", "Chuffed"),  # 4 label off the scale
        GOOD.replace("R1,", "R4,").replace("28/03/2025", "2025-03-28"),  # 5 a date in another format
        GOOD,  # 6 duplicate of row 2
        GOOD.replace("R1,", "R5,").replace("Urmston", "Narnia"),  # 7 not a ward
        GOOD.replace("R1,", "R6,").replace("Urmston", "st mary’s"),  # 8 accepted: case and quote normalised
    ]
    write_csv(inbox / "surveys" / "wave.csv", lines)
    [outcome] = ingest(connection, inbox, "surveys")
    assert (outcome.rows_received, outcome.rows_accepted, outcome.rows_quarantined) == (7, 2, 5)
    problems = dict(
        connection.execute("SELECT row_number, column_name || ': ' || reason FROM audit.quarantine").fetchall()
    )
    assert problems[3] == "Weight: weight '-3' must be a positive number"
    assert problems[4].startswith("Q1_LocalArea: answer 'Chuffed' is not on the satisfaction scale")
    assert problems[5] == "FieldworkEnd: '2025-03-28' is not a date (%d/%m/%Y)"
    assert problems[6] == "RespondentID: duplicate respondent id 'R1': first seen on row 2"
    assert problems[7] == "Ward: 'Narnia' is not an allowed ward"
    accepted = connection.execute(
        "SELECT respondent_id, ward, q_local_area, q_acts_on_concerns, weight FROM raw.survey_responses ORDER BY 1"
    ).fetchall()
    assert accepted == [("R1", "Urmston", 1, 9, 1.2), ("R6", "St Mary's", 1, 9, 1.2)]


def test_complaint_dates_in_order_and_outcome_when_responded(connection, tmp_path):
    inbox = tmp_path / "inbox"
    header = (
        "Case Ref,Date Received,Stage,Service Area,Contact Channel,Category,Summary,Target Date,"
        "Date Responded,Outcome,Ward"
    )
    lines = [
        header,
        "C1,01/04/2025 09:30,Stage 1,Highways,Email,Delay,Pothole on Moss Lane,15/04/2025,14/04/2025,Upheld,Sale Moor",
        "C2,01/04/2025 09:30,Stage 1,Highways,Email,Delay,Call Mrs Patel on 07700 900123,"
        "15/04/2025,31/03/2025,Upheld,Sale Moor",
        "C3,01/04/2025,Stage 2,Highways,Email,Delay,x,29/04/2025,20/04/2025,,Sale Moor",
        "C4,01/04/2025,Stage 3,Highways,Email,Delay,x,29/04/2025,,,Sale Moor",
        "C5,TBC,Stage 1,Highways,Email,Delay,x,29/04/2025,,,Sale Moor",
    ]
    write_csv(inbox / "complaints" / "crm.csv", lines)
    [outcome] = ingest(connection, inbox, "complaints")
    assert (outcome.rows_accepted, outcome.rows_quarantined) == (1, 4)
    problems = dict(connection.execute("SELECT row_number, reason FROM audit.quarantine").fetchall())
    assert problems[3] == "responded before the complaint was received"
    assert problems[4] == "responded without an outcome"
    assert problems[5] == "'Stage 3' is not an allowed stage"
    assert problems[6].startswith("'TBC' is not a date")
    record = json.loads(
        connection.execute("SELECT raw_record FROM audit.quarantine WHERE row_number = 3").fetchall()[0][0]
    )
    assert "07700" not in record["Summary"] and "Patel" not in record["Summary"] and record["Case Ref"] == "C2"
    assert connection.execute("SELECT stage, outcome, received_date::VARCHAR FROM raw.complaints").fetchall() == [
        ("1", "upheld", "2025-04-01")
    ]


def workbook(path: Path, rows: list[list], *, formula_at: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if formula_at:
        sheet[formula_at] = "=SUM(1,2)"
    book.save(path)
    return path


def test_refused_files_are_recorded_with_their_reason(connection, tmp_path):
    inbox = tmp_path / "inbox"
    header = SURVEY_HEADER.split(",")
    workbook(inbox / "surveys" / "formula.xlsx", [header, GOOD.split(",")], formula_at="D2")
    bomb = inbox / "surveys" / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 5_000_000)  # ~5 KB compressed, ratio ~1000
    (inbox / "surveys" / "big.csv").write_text(SURVEY_HEADER + "\n" + (GOOD + "\n") * 80, encoding="utf-8")
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(SURVEY_HEADER + "\n" + GOOD + "\n", encoding="utf-8")
    (inbox / "surveys" / "link.csv").symlink_to(outside)
    outcomes = {o.file_name: o for o in ingest(connection, inbox, "surveys", max_file_bytes=9000)}
    assert {n: o.status for n, o in outcomes.items()} == dict.fromkeys(
        ["big.csv", "bomb.xlsx", "formula.xlsx", "link.csv"], "refused"
    )
    assert "D2" in outcomes["formula.xlsx"].reason and "formula" in outcomes["formula.xlsx"].reason.lower()
    assert "bomb.xlsx" in outcomes["bomb.xlsx"].reason
    assert "big.csv" in outcomes["big.csv"].reason
    assert "link.csv" in outcomes["link.csv"].reason
    assert connection.execute("SELECT count(*) FROM raw.survey_responses").fetchall()[0][0] == 0
    assert (
        connection.execute("SELECT count(*) FROM audit.quarantine WHERE reason LIKE 'file refused:%'").fetchall()[0][0]
        == 4
    )


def test_layout_files_are_validated(tmp_path):
    from ingestion.layouts import LayoutError

    (tmp_path / "vocabulary.yml").write_text((LAYOUTS_DIR / "vocabulary.yml").read_text())
    (tmp_path / "bad.yml").write_text("kind: survey\ndescription: x\ncolumns: {respondent: Id}\n")
    with pytest.raises(LayoutError, match=r"bad.yml: .*respondent not canonical survey fields"):
        load_layouts(tmp_path)
