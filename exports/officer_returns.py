"""Officers' returns, written each quarter from the published marts: one XLSX per accountable
owner (from the indicator library) with their indicators' latest values, targets, status and
SPC signal prefilled and locked, and cells to fill for commentary, the agreed action (what, by
whom, by when), a proposed target for next year and, on a local indicator's rows, its values.
Beside them, ``approvals.xlsx`` lists what officers have sent back and the performance team
has not yet decided, with the cells to approve or reject it, who decided and when.

Both go back through ``INBOX_DIR/returns/`` (ingestion/officer_returns.py reads them). Sheet
protection here stops slips, not a determined editor: the inbox checks every cell it relies on
against the library again.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from exports.formatting import format_number
from lgperf.officer_returns import (
    ABOUT_SHEET,
    ACTION,
    ACTION_DUE,
    APPROVAL_HEADER,
    APPROVAL_LOCKED,
    APPROVAL_SHEET,
    COMMENTARY,
    DECIDED_ON,
    DECISION,
    PROPOSED_TARGET,
    RETURN_HEADER,
    RETURN_LOCKED,
    RETURN_SHEET,
    VALUE,
    is_local,
    periods_due,
    round_label,
    round_of,
)

LOCKED_FILL = PatternFill("solid", start_color="EEEEEE")
TO_FILL = PatternFill("solid", start_color="FFF2CC")
HEADER_ROW = 4  # a title, a line of instructions and a blank line above it
MAX_TEXT = 2000
RAG_WORDS = {
    "green": "Green: on target",
    "amber": "Amber: within tolerance",
    "red": "Red: off target",
    "no_target": "No target",
    "not_rated": "Not rated",
}
SPC_WORDS = {
    "special_cause_concern": "Special cause: concern",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_neutral": "Special cause",
    "common_cause": "Common cause",
}
POLARITY_WORDS = {"high_is_good": "higher", "low_is_good": "lower", "neutral": "neither"}

LATEST_PER_OWNED_INDICATOR = """
    SELECT indicator_id, title, unit, polarity, output_precision, owner, period_id, period_label, value,
        target, rag, variation_icon
    FROM marts.indicator_performance
    WHERE owner IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY indicator_id ORDER BY period_start DESC) = 1
    ORDER BY owner, indicator_id
"""
DRAFTS_WAITING = """
    SELECT draft_id, owner, indicator_id, indicator_title, period_id, value, commentary, action, action_by, action_due,
           proposed_target, received_at
    FROM marts.return_drafts
    WHERE status = 'waiting'
    ORDER BY owner, indicator_id, period_id, received_at
"""


def file_name_of(owner: str) -> str:
    """``Head of Waste and Street Scene`` -> ``head-of-waste-and-street-scene.xlsx``."""
    return re.sub(r"[^a-z0-9]+", "-", owner.lower()).strip("-") + ".xlsx"


def write_returns(
    connection: duckdb.DuckDBPyConnection, destination: Path, *, as_of: date, publication_id: str | None = None
) -> dict[str, int]:
    """Write this quarter's returns to ``destination/<round>/`` and ``destination/approvals.xlsx``;
    return how many returns, rows and waiting drafts were written."""
    round_id = round_of(as_of)
    columns = [d[0] for d in connection.execute(LATEST_PER_OWNED_INDICATOR).description]
    indicators = [dict(zip(columns, r)) for r in connection.execute(LATEST_PER_OWNED_INDICATOR).fetchall()]
    by_owner: dict[str, list[dict[str, Any]]] = {}
    for row in indicators:
        by_owner.setdefault(row["owner"], []).append(row)
    rows_written = 0
    for owner, owned in by_owner.items():
        workbook = return_workbook(owner, owned, round_id, publication_id)
        rows_written += workbook[RETURN_SHEET].max_row - HEADER_ROW
        _save(workbook, destination / round_id / file_name_of(owner))
    columns = [d[0] for d in connection.execute(DRAFTS_WAITING).description]
    waiting = [dict(zip(columns, r)) for r in connection.execute(DRAFTS_WAITING).fetchall()]
    _save(approvals_workbook(waiting, publication_id), destination / "approvals.xlsx")
    return {"returns": len(by_owner), "return_rows": rows_written, "drafts_waiting": len(waiting)}


def return_workbook(owner: str, owned: Sequence[dict[str, Any]], round_id: str, publication_id: str | None) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = RETURN_SHEET
    _title(
        sheet,
        f"Performance return: {owner}, {round_label(round_id)}",
        "Fill the yellow cells; the grey ones are locked. Value: local indicators only, for the period on its row. "
        "Action: what will be done, by whom (Action by: a post or team), by when (Action due). "
        "Save as XLSX and drop the file in the inbox's returns folder. Nothing is published until the performance team "
        "approves it.",
    )
    _header(sheet, RETURN_HEADER)
    for indicator in owned:
        local = is_local(indicator["indicator_id"])
        for period_id in periods_due(indicator["period_id"], round_id) if local else [indicator["period_id"]]:
            latest = period_id == indicator["period_id"]
            values = [
                round_id,
                owner,
                indicator["indicator_id"],
                period_id,
                indicator["title"],
                indicator["period_label"] if latest else period_id,
                indicator["unit"],
                POLARITY_WORDS.get(indicator["polarity"], ""),
                format_number(indicator["value"], indicator["output_precision"]) if latest else "",
                ""
                if indicator["target"] is None
                else format_number(indicator["target"], indicator["output_precision"]),
                RAG_WORDS.get(indicator["rag"], indicator["rag"] or "") if latest else "",
                SPC_WORDS.get(indicator["variation_icon"], "") if latest else "",
            ]
            sheet.append(values + [None] * (len(RETURN_HEADER) - len(values)))
            row = sheet.max_row
            for column, name in enumerate(RETURN_HEADER, start=1):
                fillable = name not in RETURN_LOCKED and (name != VALUE or local)
                _style(sheet.cell(row, column), fillable)
    _validate(
        sheet,
        RETURN_HEADER,
        {VALUE: "decimal", PROPOSED_TARGET: "decimal", ACTION_DUE: "date", COMMENTARY: "text", ACTION: "text"},
    )
    _about(
        workbook,
        [
            ("Kind", "officer return"),
            ("Round", round_id),
            ("Owner", owner),
            ("Publication", publication_id or ""),
            ("Written", datetime.now().strftime("%Y-%m-%d %H:%M")),
        ],
    )
    return workbook


def approvals_workbook(waiting: Sequence[dict[str, Any]], publication_id: str | None) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = APPROVAL_SHEET
    _title(
        sheet,
        f"Officers' returns waiting for a decision: {len(waiting)}",
        "Decision: Approve or Reject each row; Decided by: your name; Decided on: the date. A row left blank stays "
        "waiting. Save as XLSX and drop the file in the inbox's returns folder. Only approved commentary, actions, "
        "values and targets reach the report and the open data.",
    )
    _header(sheet, APPROVAL_HEADER)
    for draft in waiting:
        sheet.append(
            [
                draft["draft_id"],
                draft["owner"],
                draft["indicator_id"],
                draft["indicator_title"],
                draft["period_id"],
                draft["value"],
                draft["commentary"],
                draft["action"],
                draft["action_by"],
                draft["action_due"],
                draft["proposed_target"],
                draft["received_at"].strftime("%Y-%m-%d %H:%M") if draft["received_at"] else None,
                None,
                None,
                None,
                None,
            ]
        )
        for column, name in enumerate(APPROVAL_HEADER, start=1):
            _style(sheet.cell(sheet.max_row, column), name not in APPROVAL_LOCKED)
    _validate(sheet, APPROVAL_HEADER, {DECISION: "decision", DECIDED_ON: "date"})
    _about(
        workbook,
        [
            ("Kind", "approvals"),
            ("Publication", publication_id or ""),
            ("Written", datetime.now().strftime("%Y-%m-%d %H:%M")),
        ],
    )
    return workbook


def _title(sheet: Worksheet, title: str, instructions: str) -> None:
    sheet["A1"], sheet["A2"] = title, instructions
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"].alignment = Alignment(wrap_text=False)


def _header(sheet: Worksheet, header: Sequence[str]) -> None:
    for column, name in enumerate(header, start=1):
        cell = sheet.cell(HEADER_ROW, column, name)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(column)].width = (
            40 if name in (COMMENTARY, ACTION, "Indicator") else 16
        )
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"  # a string: a cell object would create row 5 before the data
    sheet.protection.sheet = True  # locked cells stay locked; the yellow ones are unlocked below
    sheet.protection.formatCells = False
    sheet.protection.formatColumns = False


def _style(cell: Any, fillable: bool) -> None:
    cell.fill = TO_FILL if fillable else LOCKED_FILL
    cell.protection = Protection(locked=not fillable)
    if fillable:
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _validate(sheet: Worksheet, header: Sequence[str], kinds: dict[str, str]) -> None:
    """Excel's own checks on the cells to fill; the inbox checks them again."""
    if sheet.max_row <= HEADER_ROW:
        return
    for name, kind in kinds.items():
        letter = get_column_letter(header.index(name) + 1)
        if kind == "decimal":
            rule = DataValidation(
                type="decimal",
                operator="between",
                formula1="-1E+15",
                formula2="1E+15",
                allow_blank=True,
                error=f"{name}: a number",
                showErrorMessage=True,
            )
        elif kind == "date":
            rule = DataValidation(
                type="date",
                operator="greaterThan",
                formula1="36526",
                allow_blank=True,
                error=f"{name}: a date (dd/mm/yyyy)",
                showErrorMessage=True,
            )
        elif kind == "decision":
            rule = DataValidation(
                type="list",
                formula1='"Approve,Reject"',
                allow_blank=True,
                error="Decision: Approve or Reject",
                showErrorMessage=True,
            )
        else:
            rule = DataValidation(
                type="textLength",
                operator="lessThanOrEqual",
                formula1=str(MAX_TEXT),
                allow_blank=True,
                error=f"{name}: at most {MAX_TEXT} characters",
                showErrorMessage=True,
            )
        rule.add(f"{letter}{HEADER_ROW + 1}:{letter}{sheet.max_row}")
        sheet.add_data_validation(rule)


def _about(workbook: Workbook, facts: Sequence[tuple[str, str]]) -> None:
    about = workbook.create_sheet(ABOUT_SHEET)
    for fact in facts:
        about.append(list(fact))
    about.protection.sheet = True


def _save(workbook: Workbook, path: Path) -> None:
    """Write beside the target and rename: an officer opening the file never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".xlsx.part")
    os.close(handle)
    try:
        workbook.save(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
