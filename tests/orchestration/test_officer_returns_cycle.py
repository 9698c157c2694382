"""The officers' returns cycle end to end, on a copy of the small demo's baseline, with real
Dagster runs, real dbt, real GX and the report opened in a real headless Chromium:
write the returns, fill one as its owner would (with one bad cell), drop it, see the bad cell
quarantined and the draft kept out of the report and the open data while it waits, approve it
on the approvals sheet, and see the commentary and the action published."""

import csv
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import open_from_disk, point_environment
from openpyxl import load_workbook
from selenium.webdriver.common.by import By

from lgperf.officer_returns import (
    ACTION,
    ACTION_BY,
    ACTION_DUE,
    APPROVAL_SHEET,
    COMMENTARY,
    DECIDED_BY,
    DECIDED_ON,
    DECISION,
    DRAFT_ID,
    INDICATOR_ID,
    PROPOSED_TARGET,
    RETURN_SHEET,
    VALUE,
)
from tests.ingestion.test_officer_returns import filled

# A scenario of several whole-pipeline refreshes (a minute or more): `make soak` runs it, `make test` leaves it out.
pytestmark = pytest.mark.soak

ROUND = "fin_2025_26_q2"  # the small demo judges dates as at 1 November 2025
OWNER_FILE = "head-of-exchequer-services.xlsx"  # owns 91003, a special cause of concern in the small demo
COMMENTARY_TEXT = "Claims rose with the move of legacy cases to Universal Credit; two agency assessors start in July."
ACTION_TEXT = "Clear the backlog of new claims"


def refresh(env) -> None:
    from orchestration.definitions import build_definitions

    defs = build_definitions(env)
    instance = dg.DagsterInstance.ephemeral()
    assert defs.resolve_job_def("refresh_all").execute_in_process(instance=instance, raise_on_error=False).success
    assert (
        defs.resolve_job_def("quality_report_job").execute_in_process(instance=instance, raise_on_error=False).success
    )


def query(env, sql: str) -> list[tuple]:
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def fill(path: Path, sheet: str, cells: dict[tuple[str, str], object], key: str, destination: Path) -> None:
    """Fill ``cells`` ((row key, column name) -> value) as an officer would in Excel, into the inbox."""
    filled(load_workbook(path), sheet, key, cells, destination)


def scorecard_commentary(env, indicator: str) -> set[str]:
    rows = []
    for path in (env.export_dir / "open-data").rglob("performance_scorecard*.csv"):
        with path.open(encoding="utf-8") as stream:
            rows += [r for r in csv.DictReader(stream) if r["indicator_id"] == indicator]
    assert rows, "the scorecard publishes the indicator"
    return {r["commentary"] for r in rows} | {r["action"] for r in rows}


def test_write_fill_drop_quarantine_approve_publish(demo_baseline, tmp_path, monkeypatch, browser):
    folder = tmp_path / "run"
    shutil.copytree(demo_baseline, folder)
    env = point_environment(monkeypatch, folder)

    # 1. the baseline's refresh wrote one return per owner of an indicator with values, and no drafts yet
    written = env.export_dir / "returns" / ROUND / OWNER_FILE
    assert written.is_file()
    workbook = load_workbook(written)
    sheet = workbook[RETURN_SHEET]
    assert sheet.protection.sheet  # the prefilled cells are locked
    header = [c.value for c in sheet[4]]
    rows = [dict(zip(header, [c.value for c in r])) for r in sheet.iter_rows(min_row=5)]
    assert [(r[INDICATOR_ID], r["Owner"]) for r in rows] == [("91003", "Head of Exchequer Services")]
    latest_period = query(env, "SELECT max(period_id) FROM marts.indicator_performance WHERE indicator_id = '91003'")[
        0
    ][0]
    assert rows[0]["Period id"] == latest_period
    cell = sheet.cell(5, header.index(COMMENTARY) + 1)
    assert (
        cell.protection.locked is False and sheet.cell(5, header.index(VALUE) + 1).protection.locked
    )  # not a local indicator
    assert load_workbook(env.export_dir / "returns" / "approvals.xlsx")[APPROVAL_SHEET].max_row == 4  # the header alone

    # 2. the owner fills it, with one bad cell: the whole row waits in quarantine with its reason
    inbox = env.inbox_dir / "returns"
    fill(
        written,
        RETURN_SHEET,
        {
            ("91003", COMMENTARY): COMMENTARY_TEXT,
            ("91003", ACTION): ACTION_TEXT,
            ("91003", ACTION_BY): "Benefits Service",
            ("91003", ACTION_DUE): "next Tuesday",
        },
        INDICATOR_ID,
        inbox / "exchequer.xlsx",
    )
    refresh(env)
    [(column, reason)] = query(
        env, "SELECT column_name, reason FROM audit.quarantine WHERE source_system = 'inbox/returns'"
    )
    assert (column, reason) == (ACTION_DUE, "'next Tuesday' is not a date (dd/mm/yyyy)")
    assert query(env, "SELECT count(*) FROM marts.return_drafts") == [(0,)]
    note = next((inbox / "processed").glob("*_exchequer.xlsx.txt")).read_text(encoding="utf-8")
    assert "row 5, column 'Action due': 'next Tuesday' is not a date" in note

    # 3. corrected and sent again: a draft, waiting; nothing of it in the report or the open data yet
    fill(
        written,
        RETURN_SHEET,
        {
            ("91003", COMMENTARY): COMMENTARY_TEXT,
            ("91003", ACTION): ACTION_TEXT,
            ("91003", ACTION_BY): "Benefits Service",
            ("91003", ACTION_DUE): date(2026, 3, 31),
            ("91003", PROPOSED_TARGET): 17,
        },
        INDICATOR_ID,
        inbox / "exchequer-corrected.xlsx",
    )
    refresh(env)
    [(draft_id, status)] = query(env, "SELECT draft_id, status FROM marts.return_drafts")
    assert status == "waiting"
    index = (env.export_dir / "report" / "index.html").read_text(encoding="utf-8")
    assert COMMENTARY_TEXT not in index and ACTION_TEXT not in index
    assert COMMENTARY_TEXT not in scorecard_commentary(env, "91003")
    quality = (env.export_dir / "quality" / "index.html").read_text(encoding="utf-8")
    assert "1 draft(s) received from accountable owners and not yet decided" in quality
    approvals = env.export_dir / "returns" / "approvals.xlsx"
    listed = load_workbook(approvals)[APPROVAL_SHEET]
    assert [listed.cell(5, 1).value, listed.cell(5, 3).value] == [draft_id, "91003"]

    # 4. the performance team approves it, signed and dated: published in the report and the open data
    today = datetime.now(UTC).date()
    fill(
        approvals,
        APPROVAL_SHEET,
        {(draft_id, DECISION): "Approve", (draft_id, DECIDED_BY): "Performance Manager", (draft_id, DECIDED_ON): today},
        DRAFT_ID,
        inbox / "approvals-q2.xlsx",
    )
    refresh(env)
    assert query(env, "SELECT status, decided_by, decided_on FROM marts.return_drafts") == [
        ("approved", "Performance Manager", today)
    ]
    assert query(
        env,
        "SELECT commentary, commentary_author, action, action_by, action_due FROM marts.indicator_performance "
        f"WHERE indicator_id = '91003' AND period_id = '{latest_period}'",
    ) == [(COMMENTARY_TEXT, "Head of Exchequer Services", ACTION_TEXT, "Benefits Service", date(2026, 3, 31))]
    # the proposed target is for the year after the round's: 2026/27
    assert query(env, "SELECT proposed_target, proposed_target_year FROM marts.return_drafts") == [(17.0, 2026)]
    assert {COMMENTARY_TEXT, ACTION_TEXT} <= scorecard_commentary(env, "91003")
    open_from_disk(browser, env.export_dir / "report" / "index.html")
    item = browser.find_element(By.CSS_SELECTOR, ".exception[data-indicator='91003']")
    assert (
        item.find_element(By.CSS_SELECTOR, ".commentary").text
        == f"Commentary: {COMMENTARY_TEXT} (Head of Exchequer Services)"
    )
    assert (
        item.find_element(By.CSS_SELECTOR, ".action").text
        == f"Action: {ACTION_TEXT} (Benefits Service, by 31 March 2026)"
    )
    quality = (env.export_dir / "quality" / "index.html").read_text(encoding="utf-8")
    assert "None: every draft received has been approved, rejected or superseded." in quality
