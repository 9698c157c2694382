"""Officers' returns and the performance team's approvals, dropped in ``INBOX_DIR/returns/``:
each row checked against the indicator library and the drafts already received.

A return row says, for one indicator and period, what its owner wrote: a value (local
indicators only), commentary, an action (what, by whom, by when) and a proposed target. It is
a draft: nothing of it reaches the marts' commentary, the values or the targets until an
approvals row approves it, naming who decided and when. An approved value is written to
``raw.lginform_values`` as a version from the source ``inbox/returns`` with its lineage (the
return's row and the approval's row), so it reaches the fact like every other value.

The checks are the domain's (the owner must own the indicator, a value only for a local
indicator the warehouse defines, an action whole, a decision dated and signed); the file
handling (archive, quarantine, notes, processed/refused) is the inbox's (inbox_folder.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from ingestion.figures import NotAFigure, parse_number
from ingestion.inbox_rows import CheckedRow, cell_text, is_blank, parse_date
from ingestion.layouts import normalise_label
from ingestion.redaction import personal_data_kinds
from lgperf.officer_returns import (
    ACTION,
    ACTION_BY,
    ACTION_DUE,
    APPROVAL_HEADER,
    COMMENTARY,
    DECIDED_BY,
    DECIDED_ON,
    DECISION,
    DECISIONS,
    DRAFT_ID,
    INDICATOR_ID,
    NOTE,
    OWNER,
    PERIOD,
    PROPOSED_TARGET,
    RETURN_FILLED,
    RETURN_HEADER,
    RETURN_ROUND,
    ROUND_ID,
    VALUE,
    is_local,
)

RETURN_KIND, APPROVAL_KIND = "return", "approval"
SIGNATURES = {RETURN_KIND: set(RETURN_HEADER), APPROVAL_KIND: set(APPROVAL_HEADER)}
REQUIRED = {
    RETURN_KIND: (RETURN_ROUND, OWNER, INDICATOR_ID, PERIOD, *RETURN_FILLED),
    APPROVAL_KIND: (DRAFT_ID, DECISION, DECIDED_BY, DECIDED_ON, NOTE),
}
FREE_TEXT = {RETURN_KIND: (COMMENTARY, ACTION, ACTION_BY), APPROVAL_KIND: (NOTE, COMMENTARY, ACTION, ACTION_BY)}
MAX_TEXT = 2000
RETURNS_SOURCE = "inbox/returns"
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")  # as typed; Excel's own dates arrive as dates


class NotAReturn(ValueError):
    """The sheet is neither a return nor an approvals sheet: the columns it lacks are named."""


@dataclass(frozen=True)
class ReturnContext:
    """What the checks compare a row with: the library's owner of each indicator, the local
    indicators the warehouse defines (unit, polarity), and every draft received so far."""

    owner_of: Mapping[str, str]
    defined_local: frozenset[str]
    drafts: Mapping[str, Mapping[str, Any]]


def return_context(connection: duckdb.DuckDBPyConnection) -> ReturnContext:
    owners = connection.execute(
        "SELECT indicator_id, owner FROM raw.library_indicators "
        "WHERE ingested_at = (SELECT max(ingested_at) FROM raw.library_indicators)"
    ).fetchall()
    defined = connection.execute("SELECT DISTINCT metric_type_id FROM raw.lginform_metric_types").fetchall()
    cursor = connection.execute(
        "SELECT r.draft_id, r.file_name, r.row_number, r.owner, r.indicator_id, r.period_id, r.value, r.ingested_at "
        "FROM raw.officer_returns AS r JOIN raw.inbox_files AS f ON f.source_sha256 = r.source_sha256 "
        "AND f.status = 'loaded'"
    )
    names = [d[0] for d in cursor.description]
    drafts = {row[0]: dict(zip(names, row)) for row in cursor.fetchall()}
    return ReturnContext(dict(owners), frozenset(i for (i,) in defined if is_local(i)), drafts)


def kind_of(header: Sequence[str]) -> str:
    """Which of the two sheets this header is: the one whose every column is present."""
    present = {normalise_label(name) for name in header}
    missing = {kind: [c for c in REQUIRED[kind] if normalise_label(c) not in present] for kind in REQUIRED}
    for kind, lacking in missing.items():
        if not lacking:
            return kind
    headers = {RETURN_KIND: RETURN_HEADER, APPROVAL_KIND: APPROVAL_HEADER}
    closest = max(missing, key=lambda k: len(present & {normalise_label(c) for c in headers[k]}))  # a tie: the return
    raise NotAReturn(
        f"neither an officer's return nor an approvals sheet: the {closest} sheet's columns "
        f"{', '.join(map(repr, missing[closest]))} are missing (write a new one from EXPORT_DIR/returns/)"
    )


def draft_id_of(sha256: str, row_number: int) -> str:
    """A draft is one row of one received return: the file's first 12 hex digits and the row."""
    return f"{sha256[:12]}-{row_number}"


def check_rows(
    kind: str,
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    context: ReturnContext,
    *,
    sha256: str,
    received_at: datetime,
) -> list[CheckedRow]:
    checked = []
    seen: dict[tuple[Any, ...], int] = {}
    for row_number, record in rows:
        by_name = {normalise_label(k): v for k, v in record.items()}
        cells = {name: by_name.get(normalise_label(name)) for name in REQUIRED[kind]}
        known = {normalise_label(name) for name in (RETURN_HEADER if kind == RETURN_KIND else APPROVAL_HEADER)}
        row = CheckedRow(
            row_number,
            dict(record),
            extra={k: v for k, v in record.items() if normalise_label(k) not in known and not is_blank(v)},
        )
        if all(is_blank(v) for v in record.values()):
            row.problems.append((None, "blank row"))
        elif kind == RETURN_KIND:
            _check_return(row, cells, context, sha256)
        else:
            _check_approval(row, cells, context, received_at)
        key = (
            (row.canonical.get("indicator_id"), row.canonical.get("period_id"))
            if kind == RETURN_KIND
            else (row.canonical.get("draft_id"),)
        )
        if row.accepted:
            if key in seen:
                row.problems.append(
                    (
                        INDICATOR_ID if kind == RETURN_KIND else DRAFT_ID,
                        f"{' '.join(map(str, key))} is on row {seen[key]} already",
                    )
                )
            else:
                seen[key] = row_number
        checked.append(row)
    if kind == RETURN_KIND:
        _one_round_and_owner(checked)
    return checked


def _check_return(row: CheckedRow, cells: Mapping[str, Any], context: ReturnContext, sha256: str) -> None:
    c = row.canonical
    c["round_id"], c["owner"] = cell_text(cells[RETURN_ROUND]), cell_text(cells[OWNER])
    c["indicator_id"], c["period_id"] = cell_text(cells[INDICATOR_ID]), cell_text(cells[PERIOD])
    c["draft_id"] = draft_id_of(sha256, row.row_number)
    if not c["round_id"] or not ROUND_ID.match(c["round_id"]):
        row.problems.append(
            (RETURN_ROUND, f"{cells[RETURN_ROUND]!r} is not a return round (fin_YYYY_YY_qN): write a new return")
        )
    indicator, owner = c["indicator_id"], c["owner"]
    if indicator not in context.owner_of:
        row.problems.append((INDICATOR_ID, f"indicator {indicator!r} is not in the indicator library"))
    elif context.owner_of[indicator] != owner:
        row.problems.append(
            (OWNER, f"indicator {indicator} is owned by {context.owner_of[indicator]!r} in the library, not {owner!r}")
        )
    if not c["period_id"]:
        row.problems.append((PERIOD, "missing period id"))
    c["value"] = _number(row, VALUE, cells[VALUE])
    c["proposed_target"] = _number(row, PROPOSED_TARGET, cells[PROPOSED_TARGET])
    if c["value"] is not None and indicator and not is_local(indicator):
        row.problems.append(
            (VALUE, f"{indicator} is an LG Inform indicator: its values come from LG Inform, not a return")
        )
    elif c["value"] is not None and indicator and indicator not in context.defined_local:
        row.problems.append(
            (
                VALUE,
                f"{indicator} has no definition in the warehouse (label, unit, polarity): "
                "define it as an extract indicator before its values can be taken",
            )
        )
    for name, field in ((COMMENTARY, "commentary"), (ACTION, "action"), (ACTION_BY, "action_by")):
        c[field] = _free_text(row, name, cells[name])
    c["action_due"] = _date(row, ACTION_DUE, cells[ACTION_DUE])
    given = [
        n for n, f in ((ACTION, "action"), (ACTION_BY, "action_by"), (ACTION_DUE, "action_due")) if c.get(f) is not None
    ]
    if given and len(given) < 3:
        unreadable = {column for column, _ in row.problems}  # a date that is not one is said once, as that
        lacking = [n for n in (ACTION, ACTION_BY, ACTION_DUE) if n not in given and n not in unreadable]
        if lacking:
            row.problems.append(
                (lacking[0], f"an action needs what, by whom and by when: {', '.join(lacking)} missing")
            )


def _check_approval(row: CheckedRow, cells: Mapping[str, Any], context: ReturnContext, received_at: datetime) -> None:
    c = row.canonical
    c["draft_id"] = cell_text(cells[DRAFT_ID])
    draft = context.drafts.get(c["draft_id"] or "")
    if draft is None:
        row.problems.append((DRAFT_ID, f"no return row received has draft id {cells[DRAFT_ID]!r}"))
    decision = cell_text(cells[DECISION])
    c["decision"] = None if decision is None else DECISIONS.get(decision.casefold())
    if decision is not None and c["decision"] is None:
        row.problems.append((DECISION, f"{decision!r} is not a decision (Approve or Reject)"))
    c["decided_by"] = _free_text(row, DECIDED_BY, cells[DECIDED_BY])
    c["decided_on"] = _date(row, DECIDED_ON, cells[DECIDED_ON])
    c["note"] = _free_text(row, NOTE, cells[NOTE])
    if c["decision"] is not None:
        if c["decided_by"] is None:
            row.problems.append((DECIDED_BY, "a decision needs the name of who decided"))
        if c["decided_on"] is None and not any(col == DECIDED_ON for col, _ in row.problems):
            row.problems.append((DECIDED_ON, "a decision needs the date it was made"))
        elif c["decided_on"] is not None:
            if c["decided_on"] > received_at.date():
                row.problems.append((DECIDED_ON, f"{c['decided_on']:%d/%m/%Y} is after the day the approvals arrived"))
            elif draft is not None and c["decided_on"] < draft["ingested_at"].date():
                row.problems.append(
                    (
                        DECIDED_ON,
                        f"{c['decided_on']:%d/%m/%Y} is before the return arrived ({draft['ingested_at']:%d/%m/%Y})",
                    )
                )
    elif c["decided_by"] is not None or c["decided_on"] is not None:
        row.problems.append((DECISION, "decided by or on is filled but the decision is blank (Approve or Reject)"))


def _one_round_and_owner(rows: Sequence[CheckedRow]) -> None:
    """A return is one owner's for one round: a row naming another came from another file."""
    first = next((r for r in rows if r.accepted), None)
    for row in rows:
        if first is None or not row.accepted or row is first:
            continue
        for field, column in (("round_id", RETURN_ROUND), ("owner", OWNER)):
            if row.canonical[field] != first.canonical[field]:
                row.problems.append(
                    (
                        column,
                        f"{row.canonical[field]!r} differs from row {first.row_number}'s "
                        f"{first.canonical[field]!r}: one return is one owner's, for one round",
                    )
                )


def approved_values(
    rows: Sequence[CheckedRow],
    context: ReturnContext,
    *,
    council: str,
    approval_file: str,
    sha256: str,
    received_at: datetime,
    run_id: str,
) -> list[dict[str, Any]]:
    """``raw.lginform_values`` rows for the values this approvals file approves: the council's
    value of a local indicator for the draft's period, traced to both rows."""
    values = []
    for row in rows:
        c = row.canonical
        draft = context.drafts.get(c.get("draft_id") or "")
        if not row.accepted or c.get("decision") != "approved" or draft is None or draft["value"] is None:
            continue
        values.append(
            {
                "metric_type_id": draft["indicator_id"],
                "area_code": council,
                "period_id": draft["period_id"],
                "value_type": "raw",
                "value": draft["value"],
                "formatted": None,
                "value_source": f"Officer return ({draft['owner']}), approved by {c['decided_by']} on "
                f"{c['decided_on']:%d/%m/%Y}",
                "ci_lower": None,
                "ci_upper": None,
                "publication_status": "Approved",
                "source_system": RETURNS_SOURCE,
                "source_sha256": sha256,
                "ingested_at": received_at,
                "run_id": run_id,
                "source_reference": f"returns/{draft['file_name']}#row={draft['row_number']}; "
                f"approved in returns/{approval_file}#row={row.row_number}",
            }
        )
    return values


def _free_text(row: CheckedRow, column: str, value: Any) -> str | None:
    """Text that may be published once approved: no personal data, no formula, within the limit."""
    text = cell_text(value)
    if text is None:
        return None
    kinds = personal_data_kinds(text)
    if kinds:
        row.problems.append((column, f"holds personal data ({', '.join(kinds)}): remove it before it can be published"))
    if len(text) > MAX_TEXT:
        row.problems.append((column, f"{len(text):,} characters, over the {MAX_TEXT:,} a report tile can show"))
    return text


def _number(row: CheckedRow, column: str, value: Any) -> float | None:
    if is_blank(value):
        return None
    try:
        number = parse_number(value)
    except NotAFigure as error:
        row.problems.append(
            (column, f"{value!r} is not a number ({error})" if str(value) not in str(error) else str(error))
        )
        return None
    return number


def _date(row: CheckedRow, column: str, value: Any) -> date | None:
    if is_blank(value):
        return None
    try:
        return parse_date(value, DATE_FORMATS)
    except ValueError:
        row.problems.append((column, f"{value!r} is not a date (dd/mm/yyyy)"))
        return None
