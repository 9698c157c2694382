"""The quality report's "Files received": real files through the real inbox into a real
warehouse, then the report, read back from its HTML."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from expectations import personal
from expectations.masking import REMOVED
from exports.inbox_receipts import reason_group
from exports.quality_report import receipts_section, write_quality_report
from ingestion.inbox_folder import ingest_folder
from ingestion.layouts import fields_of_layouts, load_layouts, load_vocabulary
from lgperf import pseudonyms, warehouse

LAYOUTS = load_layouts()
VOCABULARY = load_vocabulary()
COMPLAINT_HEADER = (
    "Case Ref,Date Received,Stage,Service Area,Contact Channel,Category,Summary,Target Date,Date Responded,Outcome,Ward"
)
SURVEY_HEADER = (
    "RespondentID,FieldworkStart,FieldworkEnd,Weight,AgeBand,Sex,Ethnicity,Disability,Ward,"
    "Q1_LocalArea,Q2_RunsThings,Q3_ValueForMoney,Q4_ActsOnConcerns,Q5_KeptInformed,Q6_Trust"
)
SURVEY_ROW = (
    "R1,01/03/2025,28/03/2025,1.2,25-34,Female,White British,No,Urmston,Very satisfied,Fairly satisfied,"
    "Tend to agree,Don't know,Fairly well informed,A fair amount"
)


def complaint(case: str, stage: str = "Stage 1", ward: str = "Sale Moor", summary: str = "Bins not collected") -> str:
    return f"{case},01/04/2025,{stage},Highways,Email,Delay,{summary},15/04/2025,,,{ward}"


class Node:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs, self.children, self.parts = tag, attrs, [], []

    @property
    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.text for p in self.parts)

    def find_all(self, tag: str, css: str | None = None) -> list[Node]:
        found = []
        for child in self.children:
            if child.tag == tag and (css is None or css in child.attrs.get("class", "").split()):
                found.append(child)
            found += child.find_all(tag, css)
        return found


class _Tree(HTMLParser):
    VOID = {"meta", "br", "img", "link", "input", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.open = Node("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        self.stack[-1].parts.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        while len(self.stack) > 1 and self.stack.pop().tag != tag:
            pass

    def handle_data(self, data):
        self.stack[-1].parts.append(data)


def parse(page: str) -> Node:
    tree = _Tree()
    tree.feed(page)
    return tree.root


@pytest.fixture
def connection(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        yield con


def drop(inbox: Path, folder: str, name: str, lines: list[str]) -> None:
    path = inbox / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))


def ingest(connection, inbox: Path, folder: str, run_id: str):
    return ingest_folder(
        connection, inbox, folder, layouts=LAYOUTS, vocabulary=VOCABULARY, max_file_bytes=1_000_000, run_id=run_id
    )


def report(connection, tmp_path: Path, **kwargs) -> str:
    kwargs.setdefault("fields_of_layout", fields_of_layouts(LAYOUTS))
    write_quality_report(connection, tmp_path / "quality", **kwargs)
    return (tmp_path / "quality" / "index.html").read_text(encoding="utf-8")


def receipts(page: str) -> list[Node]:
    return parse(page).find_all("section", "receipt")


def counts_of(receipt: Node) -> tuple[int, int, int]:
    cells = (receipt.find_all("td", css)[0].text for css in ("received", "accepted", "quarantined"))
    return tuple(int(cell.replace(",", "")) for cell in cells)


def problems_of(receipt: Node) -> list[tuple[str, int]]:
    return [(p.text, int(c.text)) for p, c in zip(receipt.find_all("td", "problem"), receipt.find_all("td", "count"))]


def test_a_receipt_per_file_version_newest_first_with_its_counts(connection, tmp_path):
    inbox = tmp_path / "inbox"
    drop(
        inbox,
        "complaints",
        "crm.csv",
        [COMPLAINT_HEADER, complaint("C1"), complaint("C2", stage="Stage 3"), complaint("C3")],
    )
    ingest(connection, inbox, "complaints", "first")
    drop(inbox, "surveys", "wave.csv", [SURVEY_HEADER, SURVEY_ROW, SURVEY_ROW.replace(",1.2,", ",-1,")])
    ingest(connection, inbox, "surveys", "second")
    # the same name again with other bytes: a new version, a receipt of its own
    drop(inbox, "complaints", "crm.csv", [COMPLAINT_HEADER, complaint("C1"), complaint("C2", stage="Stage 2")])
    ingest(connection, inbox, "complaints", "third")

    shown = receipts(report(connection, tmp_path))

    assert [r.attrs["data-file"] for r in shown] == ["complaints/crm.csv", "surveys/wave.csv", "complaints/crm.csv"]
    assert [counts_of(r) for r in shown] == [(2, 2, 0), (2, 1, 1), (3, 2, 1)]
    assert [r.find_all("p", "balance")[0].text for r in shown] == [
        "2 accepted + 0 quarantined = 2 received",
        "1 accepted + 1 quarantined = 2 received",
        "2 accepted + 1 quarantined = 3 received",
    ]
    assert all("loaded" in r.text and "crm_complaints_csv" in r.text for r in (shown[0], shown[2]))
    stored = connection.execute(
        "SELECT rows_received, rows_accepted, rows_quarantined FROM raw.inbox_files ORDER BY ingested_at DESC"
    ).fetchall()
    assert [counts_of(r) for r in shown] == stored


def test_quarantined_rows_are_grouped_by_column_and_reason_most_frequent_first(connection, tmp_path):
    inbox = tmp_path / "inbox"
    lines = [COMPLAINT_HEADER, complaint("C1"), complaint("C2")]  # rows 2, 3 accepted
    lines += [complaint(f"C{n}", stage=f"Stage {n}") for n in range(4, 9)]  # rows 4-8: five unknown stages
    lines += [complaint("C1"), complaint("C2")]  # rows 9, 10: duplicates
    lines += [complaint("")]  # row 11: no id
    drop(inbox, "complaints", "crm.csv", lines)
    ingest(connection, inbox, "complaints", "run")

    [receipt] = receipts(report(connection, tmp_path))

    assert counts_of(receipt) == (10, 2, 8)
    assert problems_of(receipt) == [
        ("Stage: '…' is not an allowed stage", 5),
        ("Case Ref: duplicate complaint id '…': first seen on row …", 2),
        ("Case Ref: missing complaint id", 1),
    ]
    tables = receipt.find_all("table", "quarantined")
    assert [t.find_all("caption")[0].text for t in tables] == [
        "Stage: '…' is not an allowed stage: the first 3 of 5 rows",
        "Case Ref: duplicate complaint id '…': first seen on row …: 2 rows",
        "Case Ref: missing complaint id: 1 row",
    ]
    assert [[int(td.text) for td in t.find_all("td", "row-number")] for t in tables] == [[4, 5, 6], [9, 10], [11]]
    first = tables[0].find_all("tr")[1].find_all("td")
    assert [td.text for td in first[1:3]] == ["Stage", "'Stage 4' is not an allowed stage"]  # stage is not personal
    assert "Highways" in [td.text for td in first]  # nor the service: shown as received


def test_ids_and_demographics_of_quarantined_rows_never_appear_in_clear(connection, tmp_path):
    inbox = tmp_path / "inbox"
    # the header as another system spells it: columns are matched as the inbox matches them
    header = COMPLAINT_HEADER.replace("Case Ref", "case ref").replace("Ward", "WARD") + ",Caller Notes"
    lines = [
        header,
        complaint("CX-25-0412") + ",rang twice",
        complaint("CX-25-0412", ward="Flixton", summary="Pothole on Moss Lane") + ",rang again",  # duplicate id
        complaint("CX-25-0413", ward="Narnia Vale") + ",",
    ]  # not a ward
    drop(inbox, "complaints", "crm.csv", lines)
    drop(inbox, "surveys", "wave.csv", [SURVEY_HEADER, SURVEY_ROW.replace("R1,", "RESP-7731,").replace(",1.2,", ",0,")])
    ingest(connection, inbox, "complaints", "run")
    ingest(connection, inbox, "surveys", "run")

    page = report(connection, tmp_path)

    key = pseudonyms.key(connection)
    for clear in (
        "CX-25-0412",
        "CX-25-0413",
        "Flixton",
        "Narnia Vale",
        "Pothole on Moss Lane",
        "rang again",
        "RESP-7731",
        "White British",
        "25-34",
    ):
        assert clear not in page, clear
    duplicate = next(t for t in parse(page).find_all("table", "quarantined") if "duplicate" in t.text)
    cells = [td.text for td in duplicate.find_all("tr")[1].find_all("td")]
    assert f"duplicate complaint id '{pseudonyms.pseudonym(key, 'CX-25-0412')}': first seen on row 2" in cells
    assert cells.count(pseudonyms.pseudonym(key, "CX-25-0412")) == 1  # the case ref cell
    assert cells.count(REMOVED["demographics"]) == 1 and cells.count(REMOVED["free_text"]) == 2  # summary, notes
    assert "Delay" in cells and "01/04/2025" in cells  # not personal: as received
    assert f"'{REMOVED['demographics']}' is not an allowed ward" in parse(page).text
    assert pseudonyms.pseudonym(key, "RESP-7731") in page


def test_without_the_layouts_every_cell_of_a_quarantined_row_is_masked(connection, tmp_path):
    inbox = tmp_path / "inbox"
    drop(inbox, "complaints", "crm.csv", [COMPLAINT_HEADER, complaint("C1", stage="Stage 3")])
    ingest(connection, inbox, "complaints", "run")

    page = report(connection, tmp_path, fields_of_layout=None)

    [table] = parse(page).find_all("table", "quarantined")
    cells = [td.text for td in table.find_all("tr")[1].find_all("td")]
    assert cells[:3] == ["2", "Stage", f"'{REMOVED['free_text']}' is not an allowed stage"]
    assert sorted(cells[3:]) == [""] * 2 + [REMOVED["free_text"]] * 9  # a blank cell (no reply yet) stays blank
    assert "Stage 3" not in page and "Highways" not in page


def test_a_refused_file_shows_its_reason_and_no_rows(connection, tmp_path):
    inbox = tmp_path / "inbox"
    drop(inbox, "surveys", "odd.csv", [SURVEY_HEADER.replace("Weight,", "Wght,"), SURVEY_ROW])
    ingest(connection, inbox, "surveys", "run")

    [receipt] = receipts(report(connection, tmp_path))

    [(reason,)] = connection.execute("SELECT reason FROM raw.inbox_files").fetchall()
    assert "no survey layout fits its header" in reason
    assert "refused" in receipt.text and receipt.find_all("span", "refusal")[0].text == reason
    assert receipt.find_all("table") == []


def test_the_section_is_capped_at_the_latest_files_and_says_so(connection, tmp_path):
    inbox = tmp_path / "inbox"
    for n in range(3):
        drop(inbox, "complaints", f"crm-{n}.csv", [COMPLAINT_HEADER, complaint(f"C{n}")])
        ingest(connection, inbox, "complaints", f"run-{n}")

    section = receipts_section(connection, pseudonyms.key(connection), personal.load(), {}, limit=2)

    assert [r.attrs["data-file"] for r in parse(section).find_all("section", "receipt")] == [
        "complaints/crm-2.csv",
        "complaints/crm-1.csv",
    ]
    assert "The latest 2 of the 3 file versions received are shown" in section
    assert "The latest" not in receipts_section(connection, pseudonyms.key(connection), personal.load(), {}, limit=3)


@pytest.mark.parametrize(
    ("column", "reason", "group"),
    [
        ("Stage", "'4' is not an allowed stage", "Stage: '…' is not an allowed stage"),
        (
            "Case Ref",
            "duplicate complaint id 'C12': first seen on row 3",
            "Case Ref: duplicate complaint id '…': first seen on row …",
        ),
        ("Weight", "weight '-1' must be a positive number", "Weight: weight '…' must be a positive number"),
        # a spreadsheet's number is not quoted
        ("Weight", "weight -1.5 must be a positive number", "Weight: weight … must be a positive number"),
        ("Ward", '"St Mary\'s Court" is not an allowed ward', "Ward: '…' is not an allowed ward"),
        (
            "Q1",
            "answer 'Meh' is not on the satisfaction scale (5 points + don't know); "
            "answer 'X' is not on the trust scale (4 points + don't know)",
            "Q1: answer '…' is not on the satisfaction scale (5 points + don't know); "
            "answer '…' is not on the trust scale (4 points + don't know)",
        ),
        (None, "blank row", "blank row"),
    ],
)
def test_a_problem_is_its_column_and_reason_without_the_values(column, reason, group):
    assert reason_group(column, reason) == group


def test_a_receipt_says_which_files_a_reissue_replaced_whole(connection, tmp_path):
    inbox = tmp_path / "inbox"
    drop(inbox, "complaints", "crm.csv", [COMPLAINT_HEADER, complaint("C1"), complaint("C2")])
    ingest(connection, inbox, "complaints", "first")
    drop(inbox, "complaints", "crm_fixed.csv", [COMPLAINT_HEADER, complaint("C1")])
    (inbox / "complaints" / "crm_fixed.csv.manifest").write_text("replaces: crm.csv\n", encoding="utf-8")
    ingest(connection, inbox, "complaints", "second")

    latest, first = receipts(report(connection, tmp_path))

    assert (
        "It replaced, whole, the earlier file(s) named crm.csv: their records it does not hold were withdrawn."
        in latest.text
    )
    assert "replaced" not in first.text
