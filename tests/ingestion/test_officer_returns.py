"""Officers' returns and approvals in INBOX_DIR/returns/: each row checked against the library and
the drafts received (a real warehouse, real workbooks written by the export and filled with
openpyxl as Excel would save them); an approved local value becomes a raw value with both rows'
lineage, and nothing else does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from exports.officer_returns import HEADER_ROW, approvals_workbook, return_workbook
from ingestion.drop_folder import Readiness
from ingestion.inbox_folder import ingest_folder
from lgperf import warehouse
from lgperf.officer_returns import (
    ACTION,
    APPROVAL_SHEET,
    COMMENTARY,
    DECIDED_BY,
    DECIDED_ON,
    DECISION,
    DRAFT_ID,
    INDICATOR_ID,
    PERIOD,
    PROPOSED_TARGET,
    RETURN_SHEET,
    VALUE,
    periods_due,
    round_bounds,
    round_of,
)

ROUND = "fin_2025_26_q2"
GROWTH, BENEFITS = "Head of Economic Growth", "Head of Exchequer Services"
LINEAGE = {"source_system": "library", "source_reference": "indicators.yml", "source_sha256": "a" * 64}


@pytest.fixture
def connection(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        at = datetime(2025, 10, 1, tzinfo=UTC)
        for indicator, owner in (("L0001", GROWTH), ("L0003", GROWTH), ("91003", BENEFITS)):
            connection.execute(
                "INSERT INTO raw.library_indicators (indicator_id, owner, rationale, theme, perspective, priority, "
                "source_system, source_reference, source_sha256, ingested_at, run_id) "
                "VALUES (?, ?, 'why', 'equity', 'citizen', 'p', ?, ?, ?, ?, 'r0')",
                [indicator, owner, *LINEAGE.values(), at],
            )
        for metric in (
            "L0001",
            "91003",
        ):  # L0003 is in the library but has no definition (unit, polarity) in the warehouse
            connection.execute(
                "INSERT INTO raw.lginform_metric_types (metric_type_id, label, source_system, source_reference, "
                "source_sha256, ingested_at, run_id) VALUES (?, ?, 'extract:tidy', 'x.csv', ?, ?, 'r0')",
                [metric, metric, "b" * 64, at],
            )
        yield connection


def indicator(indicator_id: str, owner: str, period_id: str) -> dict:
    return {
        "indicator_id": indicator_id,
        "title": f"Indicator {indicator_id}",
        "unit": "persons",
        "polarity": "low_is_good",
        "output_precision": 0,
        "owner": owner,
        "period_id": period_id,
        "period_label": period_id,
        "value": 4495.0,
        "target": None,
        "rag": "no_target",
        "variation_icon": "common_cause",
    }


def filled(workbook: Workbook, sheet: str, key: str, cells: dict[tuple[str, str], object], path: Path) -> Path:
    worksheet = workbook[sheet]
    header = [c.value for c in worksheet[HEADER_ROW]]
    for row in range(HEADER_ROW + 1, worksheet.max_row + 1):
        for (row_key, column), value in cells.items():
            if worksheet.cell(row, header.index(key) + 1).value == row_key:
                worksheet.cell(row, header.index(column) + 1, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def ingest(connection, inbox: Path):
    return ingest_folder(
        connection,
        inbox,
        "returns",
        layouts=[],
        vocabulary={},
        max_file_bytes=10_000_000,
        run_id="run",
        readiness=Readiness(settle_seconds=0),
        council="E08000009",
    )


def quarantined(connection) -> dict[int, tuple[str, str]]:
    rows = connection.execute(
        "SELECT row_number, column_name, reason FROM audit.quarantine WHERE source_system = 'inbox/returns' "
        "AND row_number IS NOT NULL ORDER BY row_number"
    ).fetchall()
    return {n: (c, r) for n, c, r in rows}


def test_the_round_is_the_latest_quarter_ended_and_a_local_indicator_asks_for_the_periods_since_its_value():
    assert [
        round_of(date(2025, 11, 1)),
        round_of(date(2025, 9, 30)),
        round_of(date(2025, 1, 10)),
        round_of(date(2025, 4, 1)),
    ] == ["fin_2025_26_q2", "fin_2025_26_q1", "fin_2024_25_q3", "fin_2024_25_q4"]
    assert round_bounds("fin_2025_26_q4") == (date(2026, 1, 1), date(2026, 3, 31))
    assert periods_due("cal_2025_m06", ROUND) == ["cal_2025_m07", "cal_2025_m08", "cal_2025_m09"]
    assert periods_due("fin_2025_26_q1", ROUND) == ["fin_2025_26_q2"]
    assert periods_due("fin_2025_26_q2", ROUND) == []  # nothing due: already reported
    assert periods_due("fin_2023_24", ROUND) == ["fin_2024_25"]  # the year ended; 2025/26 is due after its Q4
    assert periods_due("fin_2024_25", "fin_2025_26_q4") == ["fin_2025_26"]
    assert len(periods_due("cal_2020_m01", ROUND)) == 12 and periods_due("cal_2020_m01", ROUND)[-1] == "cal_2025_m09"
    assert periods_due(None, ROUND) == [ROUND]


def test_a_return_row_is_checked_against_the_library_and_its_bad_cells_quarantined(connection, tmp_path):
    workbook = return_workbook(
        GROWTH, [indicator("L0001", GROWTH, "cal_2025_m06"), indicator("L0003", GROWTH, "cal_2025_m08")], ROUND, None
    )
    sheet = workbook[RETURN_SHEET]
    header = [c.value for c in sheet[HEADER_ROW]]
    periods = [sheet.cell(r, header.index(PERIOD) + 1).value for r in range(HEADER_ROW + 1, sheet.max_row + 1)]
    assert periods == ["cal_2025_m07", "cal_2025_m08", "cal_2025_m09", "cal_2025_m09"]
    # an edited locked cell: the second L0001 row claimed for another owner
    sheet.cell(HEADER_ROW + 2, header.index("Owner") + 1, BENEFITS)
    sheet.cell(HEADER_ROW + 1, header.index(VALUE) + 1, 4410)
    sheet.cell(HEADER_ROW + 1, header.index(COMMENTARY) + 1, "Down again after the jobs fair.")
    sheet.cell(HEADER_ROW + 3, header.index(VALUE) + 1, "about 4,300")
    sheet.cell(HEADER_ROW + 3, header.index(COMMENTARY) + 1, "Call Sam on 07700 900123 for detail.")
    sheet.cell(HEADER_ROW + 4, header.index(VALUE) + 1, 12)  # L0003: in the library, never defined
    sheet.cell(HEADER_ROW + 4, header.index(ACTION) + 1, "Publish the new measure")
    path = filled(workbook, RETURN_SHEET, INDICATOR_ID, {}, tmp_path / "inbox" / "returns" / "growth.xlsx")
    [outcome] = ingest(connection, tmp_path / "inbox")
    assert (outcome.status, outcome.layout, outcome.rows_received, outcome.rows_accepted) == ("loaded", "return", 4, 1)
    problems = quarantined(connection)
    assert problems[6] == ("Owner", f"indicator L0001 is owned by '{GROWTH}' in the library, not '{BENEFITS}'")
    assert (
        problems[7][1].startswith("'about 4,300' is not a number") and "holds personal data (phone)" in problems[7][1]
    )
    assert "07700" not in str(problems)  # the reason and the kept row are redacted
    assert problems[8][0] == VALUE and "L0003 has no definition in the warehouse" in problems[8][1]
    assert "an action needs what, by whom and by when: Action by, Action due missing" in problems[8][1]
    assert connection.execute(
        "SELECT indicator_id, period_id, value, commentary FROM raw.officer_returns"
    ).fetchall() == [("L0001", "cal_2025_m07", 4410.0, "Down again after the jobs fair.")]
    assert not path.exists() and (tmp_path / "inbox" / "returns" / "processed").is_dir()
    # a value for an LG Inform indicator is refused: its values come from LG Inform
    workbook = return_workbook(BENEFITS, [indicator("91003", BENEFITS, "fin_2025_26_q1")], ROUND, None)
    filled(
        workbook, RETURN_SHEET, INDICATOR_ID, {("91003", VALUE): 21.5}, tmp_path / "inbox" / "returns" / "benefits.xlsx"
    )
    ingest(connection, tmp_path / "inbox")
    assert quarantined(connection)[5] == (
        VALUE,
        "91003 is an LG Inform indicator: its values come from LG Inform, not a return",
    )


def test_only_an_approved_signed_and_dated_draft_gives_a_value_with_both_rows_lineage(connection, tmp_path):
    inbox = tmp_path / "inbox"
    workbook = return_workbook(GROWTH, [indicator("L0001", GROWTH, "cal_2025_m07")], ROUND, None)
    filled(
        workbook,
        RETURN_SHEET,
        PERIOD,
        {("cal_2025_m08", VALUE): 4410, ("cal_2025_m09", VALUE): 4388, ("cal_2025_m09", PROPOSED_TARGET): 4200},
        inbox / "returns" / "growth.xlsx",
    )
    ingest(connection, inbox)
    drafts = dict(connection.execute("SELECT period_id, draft_id FROM raw.officer_returns").fetchall())
    assert connection.execute("SELECT count(*) FROM raw.lginform_values").fetchall() == [(0,)]  # drafts give no value

    today = datetime.now(UTC).date()
    waiting = [
        {
            "draft_id": drafts[p],
            "owner": GROWTH,
            "indicator_id": "L0001",
            "indicator_title": "Claimant count",
            "period_id": p,
            "value": v,
            "commentary": None,
            "action": None,
            "action_by": None,
            "action_due": None,
            "proposed_target": None,
            "received_at": datetime.now(UTC),
        }
        for p, v in (("cal_2025_m08", 4410.0), ("cal_2025_m09", 4388.0))
    ]
    approvals = approvals_workbook(waiting, None)
    approvals[APPROVAL_SHEET].append(["feedbeefcafe-9"] + [None] * 11 + ["Approve", "Performance Manager", today, None])
    filled(
        approvals,
        APPROVAL_SHEET,
        DRAFT_ID,
        {
            (drafts["cal_2025_m08"], DECISION): "Approve",
            (drafts["cal_2025_m08"], DECIDED_BY): "Performance Manager",
            (drafts["cal_2025_m08"], DECIDED_ON): today,
            (drafts["cal_2025_m09"], DECISION): "Approve",  # unsigned and undated: not a decision
        },
        inbox / "returns" / "approvals.xlsx",
    )
    [outcome] = ingest(connection, inbox)
    assert (outcome.layout, outcome.rows_received, outcome.rows_accepted) == ("approval", 3, 1)
    problems = quarantined(connection)
    assert problems[6] == (
        DECIDED_BY,
        "a decision needs the name of who decided; a decision needs the date it was made",
    )
    assert problems[7] == (DRAFT_ID, "no return row received has draft id 'feedbeefcafe-9'")
    [(metric, area, period, value, source, reference, status)] = connection.execute(
        "SELECT metric_type_id, area_code, period_id, value, source_system, source_reference, value_source "
        "FROM raw.lginform_values"
    ).fetchall()
    assert (metric, area, period, value, source) == ("L0001", "E08000009", "cal_2025_m08", 4410.0, "inbox/returns")
    assert reference == "returns/growth.xlsx#row=5; approved in returns/approvals.xlsx#row=5"
    assert status == f"Officer return ({GROWTH}), approved by Performance Manager on {today:%d/%m/%Y}"


def test_a_decision_dated_in_the_future_or_before_the_return_came_is_refused(connection, tmp_path):
    inbox = tmp_path / "inbox"
    workbook = return_workbook(BENEFITS, [indicator("91003", BENEFITS, "fin_2025_26_q1")], ROUND, None)
    filled(workbook, RETURN_SHEET, INDICATOR_ID, {("91003", COMMENTARY): "Claims rose."}, inbox / "returns" / "b.xlsx")
    ingest(connection, inbox)
    [(draft,)] = connection.execute("SELECT draft_id FROM raw.officer_returns").fetchall()
    row = {
        "draft_id": draft,
        "owner": BENEFITS,
        "indicator_id": "91003",
        "indicator_title": "t",
        "period_id": "fin_2025_26_q1",
        "value": None,
        "commentary": "Claims rose.",
        "action": None,
        "action_by": None,
        "action_due": None,
        "proposed_target": None,
        "received_at": datetime.now(UTC),
    }
    for name, when in (("late.xlsx", date.today() + timedelta(days=30)), ("early.xlsx", date(2020, 1, 1))):
        filled(
            approvals_workbook([row], None),
            APPROVAL_SHEET,
            DRAFT_ID,
            {(draft, DECISION): "Reject", (draft, DECIDED_BY): "PM", (draft, DECIDED_ON): when},
            inbox / "returns" / name,
        )
    ingest(connection, inbox)
    reasons = dict(
        connection.execute(
            "SELECT source_reference, reason FROM audit.quarantine WHERE row_number = 5 "
            "AND source_reference LIKE '%approvals%' OR source_reference LIKE '%late%' "
            "OR source_reference LIKE '%early%'"
        ).fetchall()
    )
    late = date.today() + timedelta(days=30)
    assert reasons == {
        "returns/late.xlsx#sheet=Approvals#row=5": f"{late:%d/%m/%Y} is after the day the approvals arrived",
        "returns/early.xlsx#sheet=Approvals#row=5": "01/01/2020 is before the return arrived "
        f"({date.today():%d/%m/%Y})",
    }
    assert connection.execute("SELECT count(*) FROM raw.return_approvals").fetchall() == [(0,)]


def test_a_workbook_that_is_neither_sheet_is_refused_naming_the_missing_columns(connection, tmp_path):
    workbook = Workbook()
    workbook.active.append(["Indicator id", "Commentary"])
    workbook.active.append(["91003", "Claims rose."])
    filled(workbook, workbook.active.title, INDICATOR_ID, {}, tmp_path / "inbox" / "returns" / "mine.xlsx")
    [outcome] = ingest(connection, tmp_path / "inbox")
    assert outcome.status == "refused"
    assert outcome.reason == (
        "neither an officer's return nor an approvals sheet: the return sheet's columns 'Return round', 'Owner', "
        "'Period id', 'Value', 'Action', 'Action by', 'Action due', 'Proposed target next year' are missing "
        "(write a new one from EXPORT_DIR/returns/)"
    )
    assert (tmp_path / "inbox" / "returns" / "refused").is_dir()
