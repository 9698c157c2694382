"""Officers' quarterly returns: what the workbook the pipeline writes and the workbook an officer
sends back have in common (sheet names, column headings, the round and the periods it asks for).

The exports write one return per accountable owner and an approvals workbook for the
performance team; the inbox reads them back. Both sides take their headings from here, so a
heading changed in one place cannot leave the other reading a column that is no longer there.
"""

from __future__ import annotations

import re
from datetime import date

RETURN_SHEET, APPROVAL_SHEET, ABOUT_SHEET = "Return", "Approvals", "About"

# Prefilled by the pipeline and locked; the inbox reads the first five back to know which
# indicator, owner and period a row is about.
RETURN_ROUND, OWNER, INDICATOR_ID, PERIOD, INDICATOR = "Return round", "Owner", "Indicator id", "Period id", "Indicator"
RETURN_LOCKED = (
    RETURN_ROUND,
    OWNER,
    INDICATOR_ID,
    PERIOD,
    INDICATOR,
    "Period",
    "Unit",
    "Better when",
    "Latest value",
    "Target",
    "Status",
    "SPC",
)
# For the officer to fill (Value only on a local indicator's rows: LG Inform's values come from LG Inform)
VALUE, COMMENTARY, ACTION, ACTION_BY, ACTION_DUE, PROPOSED_TARGET = (
    "Value",
    "Commentary",
    "Action",
    "Action by",
    "Action due",
    "Proposed target next year",
)
RETURN_FILLED = (VALUE, COMMENTARY, ACTION, ACTION_BY, ACTION_DUE, PROPOSED_TARGET)
RETURN_HEADER = (*RETURN_LOCKED, *RETURN_FILLED)

DRAFT_ID = "Draft id"
APPROVAL_LOCKED = (
    DRAFT_ID,
    OWNER,
    INDICATOR_ID,
    INDICATOR,
    PERIOD,
    VALUE,
    COMMENTARY,
    ACTION,
    ACTION_BY,
    ACTION_DUE,
    PROPOSED_TARGET,
    "Received",
)
DECISION, DECIDED_BY, DECIDED_ON, NOTE = "Decision", "Decided by", "Decided on", "Note"
APPROVAL_FILLED = (DECISION, DECIDED_BY, DECIDED_ON, NOTE)
APPROVAL_HEADER = (*APPROVAL_LOCKED, *APPROVAL_FILLED)
DECISIONS = {"approve": "approved", "approved": "approved", "reject": "rejected", "rejected": "rejected"}

ROUND_ID = re.compile(r"^fin_(\d{4})_(\d{2})_q([1-4])$")
LOCAL_INDICATOR = re.compile(r"^L\d{4}$")
MAX_PERIODS_PER_INDICATOR = 12  # a local indicator long without a value asks for its latest 12 periods, not all of them


def is_local(indicator_id: str) -> bool:
    """A local indicator (L + 4 digits) has no LG Inform source: its owner supplies the value."""
    return bool(LOCAL_INDICATOR.match(indicator_id))


def round_of(as_of: date) -> str:
    """The return round: the latest financial quarter (April-June = Q1) ended on or before ``as_of``."""
    quarter_index = (
        as_of.year * 12 + as_of.month - 4
    ) // 3 - 1  # quarters since April of year 0, minus the current one
    year, quarter = divmod(quarter_index, 4)
    return f"fin_{year}_{(year + 1) % 100:02d}_q{quarter + 1}"


def round_bounds(round_id: str) -> tuple[date, date]:
    """First and last day of the round's quarter."""
    match = ROUND_ID.match(round_id)
    if not match:
        raise ValueError(f"{round_id!r} is not a return round (fin_YYYY_YY_qN)")
    year, quarter = int(match[1]), int(match[3])
    start_month = 4 + 3 * (quarter - 1)
    start = date(year + (start_month - 1) // 12, (start_month - 1) % 12 + 1, 1)
    end_month = start.month + 2
    after = date(start.year + end_month // 12, end_month % 12 + 1, 1)
    return start, date.fromordinal(after.toordinal() - 1)


def round_label(round_id: str) -> str:
    match = ROUND_ID.match(round_id)
    if not match:
        raise ValueError(f"{round_id!r} is not a return round (fin_YYYY_YY_qN)")
    return f"{match[1]}/{match[2]} Q{match[3]}"


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def periods_due(latest_period_id: str | None, round_id: str) -> list[str]:
    """The periods a local indicator's return asks values for: those after its latest value, up
    to the end of the round, at its own frequency (read from the latest period's id: months
    ``cal_YYYY_mMM``, quarters ``fin_YYYY_YY_qN``, financial years ``fin_YYYY_YY``); the latest
    ``MAX_PERIODS_PER_INDICATOR``. No value yet: the round's own quarter."""
    start, end = round_bounds(round_id)
    latest = latest_period_id or ""
    if m := re.match(r"^cal_(\d{4})_m(\d{2})$", latest):
        first, last = int(m[1]) * 12 + int(m[2]), _month_index(end)
        due = [f"cal_{i // 12}_m{i % 12 + 1:02d}" for i in range(first, last + 1)]
    elif m := ROUND_ID.match(latest):
        first, last = (
            int(m[1]) * 4 + int(m[3]),
            int(ROUND_ID.match(round_id)[1]) * 4 + int(ROUND_ID.match(round_id)[3]) - 1,
        )
        due = [f"fin_{i // 4}_{(i // 4 + 1) % 100:02d}_q{i % 4 + 1}" for i in range(first, last + 1)]
    elif m := re.match(r"^fin_(\d{4})_(\d{2})$", latest):
        year_ended = start.year if start.month >= 4 else start.year - 1  # the financial year the round is in
        last = year_ended if round_id.endswith("_q4") else year_ended - 1
        due = [f"fin_{y}_{(y + 1) % 100:02d}" for y in range(int(m[1]) + 1, last + 1)]
    else:
        due = [round_id]
    return due[-MAX_PERIODS_PER_INDICATOR:]
