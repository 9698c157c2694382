"""The one disclosure policy every output reads: the marts that count people (complaints,
survey respondents), with small counts and whatever would reveal them marked ``c``.

The open data, the councillors' report and the BI copy all call ``controlled``, so they show
the same figures and comparing them gives nothing back. What a reader is assumed to know
(the relations handed to exports/disclosure.py):

- complaints_summary: themes add up to their service's row, services to the council's; in a
  row, due = on time + late at each stage (late includes the overdue not yet answered),
  decided = upheld + not upheld at each stage and for the Ombudsman, and escalations to the
  Ombudsman = decided + not (yet) decided (the complements are counts of people, never
  printed); a row's same_months_previous_year_received is part of the previous year's
  received in the same row key (all of it when the year is complete), the other months being
  the complement; a small number received hides the whole row (and the same months of it
  printed a year later), a small number due hides on time, a small number decided hides
  upheld, a small number of escalations hides the Ombudsman's decisions.
- complaints_by_ward: a year's wards ('Not known' among them) add up to its council row, which
  is complaints_summary's council total (the same counts, printed as that table prints them);
  in a row, due = on time + late at stage 1; a small number received hides the row, a small
  number due hides on time. It is controlled together with complaints_summary: the summary's
  withheld cells stay withheld and protected, its printed cells are never withheld for the
  wards' sake (a ward cell is), so the two tables side by side give nothing back. Years are
  not added up or compared in it, so a difference between years is nothing a reader knows.
- resident_satisfaction: each breakdown's groups add up to the whole sample, per question;
  in a row, valid answers + don't know = respondents to the question; the respondents of a
  group differ between questions only by those who skipped one (assumed known, the worst
  case); a small number of respondents hides the row.

Figures computed from a suppressed count (rates, percentages, intervals, the comparison with
the national benchmark or with the rest of the sample, a comparison with the previous wave
whose count was suppressed) are suppressed with it. A wave's tests_in_family counts every group
row of the wave, a comparison that could not be made included, so it gives nothing away about
a withheld count; change_tests_in_family counts the changes tested, which a withheld count
does not stop (its test is made in the warehouse and only its result withheld).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import duckdb

from exports.disclosure import SUPPRESSED, Table, suppress


@dataclass(frozen=True)
class Policy:
    mart: str
    key: tuple[str, ...]
    counts: tuple[str, ...]
    derived: dict[str, tuple[str, ...]]  # a figure and the counts (of its own row) it is computed from


COMPLAINTS = Policy(
    "complaints_summary",
    ("period_id", "service", "theme"),
    (
        "received",
        "same_months_previous_year_received",
        "stage_1_due",
        "stage_1_on_time",
        "stage_2_due",
        "stage_2_on_time",
        "stage_1_decided",
        "stage_1_upheld",
        "stage_2_decided",
        "stage_2_upheld",
        "ombudsman_decided",
        "ombudsman_upheld",
        "ombudsman_escalations",
    ),
    {
        "received_per_10000_residents": ("received",),
        "stage_1_percent_on_time": ("stage_1_due", "stage_1_on_time"),
        "stage_2_percent_on_time": ("stage_2_due", "stage_2_on_time"),
        "stage_1_percent_upheld": ("stage_1_decided", "stage_1_upheld"),
        "stage_2_percent_upheld": ("stage_2_decided", "stage_2_upheld"),
        "ombudsman_percent_upheld": ("ombudsman_decided", "ombudsman_upheld"),
    },
)
# in a row: (the complement, never printed; the whole; the printed part)
COMPLEMENTS = (
    ("stage_1_late", "stage_1_due", "stage_1_on_time"),
    ("stage_2_late", "stage_2_due", "stage_2_on_time"),
    ("stage_1_not_upheld", "stage_1_decided", "stage_1_upheld"),
    ("stage_2_not_upheld", "stage_2_decided", "stage_2_upheld"),
    ("ombudsman_not_upheld", "ombudsman_decided", "ombudsman_upheld"),
    ("ombudsman_not_decided", "ombudsman_escalations", "ombudsman_decided"),
)
WARDS = Policy(
    "complaints_by_ward",
    ("period_id", "ward"),
    ("received", "stage_1_due", "stage_1_on_time"),
    {"received_per_10000_residents": ("received",), "stage_1_percent_on_time": ("stage_1_due", "stage_1_on_time")},
)
WARD_COUNCIL_ROW = "all"  # the council, as complaints_summary's (period, all, all)
SATISFACTION = Policy(
    "resident_satisfaction",
    ("survey", "wave_start", "question", "breakdown", "breakdown_value"),
    ("unweighted_n", "dont_know_n"),
    {
        c: ("unweighted_n",)
        for c in (
            "weighted_base",
            "effective_n",
            "percent_positive",
            "ci_lower",
            "ci_upper",
            "benchmark_difference",
            "benchmark_significant",
            "benchmark_statement",
            "difference_from_rest",
            "difference_p_value",
            "difference_significant_fdr",
        )
    },
)
# also suppressed when the previous wave's count is (they print that wave's figure, or a difference from it)
PREVIOUS_WAVE = (
    "previous_wave_percent",
    "change_vs_previous_wave",
    "change_significant",
    "change_p_value",
    "change_significant_fdr",
    "change_statement",
)
POLICIES = {p.mart: p for p in (COMPLAINTS, WARDS, SATISFACTION)}


@dataclass(frozen=True)
class ControlledTable:
    policy: Policy
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]  # in key order; a suppressed cell holds SUPPRESSED

    @property
    def suppressed_cells(self) -> int:
        return sum(1 for row in self.rows for value in row.values() if value == SUPPRESSED)


_DONE: dict[tuple, ControlledTable] = {}  # by mart, threshold and content: the exports of one run ask alike


def controlled(connection: duckdb.DuckDBPyConnection, mart: str, threshold: int) -> ControlledTable:
    """Every column of ``marts.<mart>``, with disclosure control applied (see the module's doc)."""
    policy = POLICIES[mart]
    content = tuple(
        connection.execute(f"SELECT count(*), sum(hash(t)) FROM marts.{m} AS t").fetchall()[0]
        for m in (policy.mart, *((COMPLAINTS.mart,) if policy is WARDS else ()))
    )
    cache_key = (mart, threshold, *content)
    if cache_key not in _DONE:
        if len(_DONE) > 8:
            _DONE.clear()
        _DONE[cache_key] = _controlled(connection, policy, threshold)
    return _DONE[cache_key]


def _controlled(connection: duckdb.DuckDBPyConnection, policy: Policy, threshold: int) -> ControlledTable:
    cursor = connection.execute(f"SELECT * FROM marts.{policy.mart} ORDER BY {', '.join(policy.key)}")
    columns = tuple(d[0] for d in cursor.description)
    rows = [dict(zip(columns, r)) for r in cursor.fetchall()]
    keyed = {tuple(row[c] for c in policy.key): row for row in rows}
    if policy is WARDS:
        hidden = _ward_suppression(connection, keyed, threshold)
    else:
        hidden = suppress(_complaints_model(keyed) if policy is COMPLAINTS else _satisfaction_model(keyed), threshold)
    result = {key: dict(row) for key, row in keyed.items()}
    for key, column in hidden:
        result[key][column] = SUPPRESSED
    for row in result.values():
        for column, sources in policy.derived.items():
            if column in row and any(row[s] == SUPPRESSED for s in sources):
                row[column] = SUPPRESSED
    if policy is SATISFACTION:
        _suppress_previous_wave(result)
    return ControlledTable(policy, columns, list(result.values()))


def _count(model: Table, key: Hashable, column: str, value: Any, *, printed: bool = True) -> None:
    model.count((key, column), value or 0, printed=printed)


def _additive(model: Table, total: Hashable, parts: Sequence[Hashable], column: str) -> None:
    """total = sum of parts, when it truly holds (a reader can only use a true relation)."""
    cells = [(k, column) for k in (total, *parts)]
    if all(c in model.values for c in cells) and model.values[cells[0]] == sum(model.values[c] for c in cells[1:]):
        model.relate({cells[0]: 1, **{c: -1 for c in cells[1:]}})


def previous_financial_year(period_id: str) -> str | None:
    """fin_2024_25 for fin_2025_26 (None for any other kind of period)."""
    if not (period_id.startswith("fin_") and len(period_id) == 11 and period_id[4:8].isdigit()):
        return None
    year = int(period_id[4:8]) - 1
    return f"fin_{year}_{(year + 1) % 100:02d}"


def _complaints_model(rows: dict[tuple, dict[str, Any]]) -> Table:
    # the number received is the headline: hide a stage's or an outcome's count first
    model = Table(cost={"received": 10})
    for key, row in rows.items():
        for column in COMPLAINTS.counts:
            if row.get(column) is not None:  # no previous year: nothing printed, nothing to withhold
                _count(model, key, column, row[column])
        for hidden, whole, part in COMPLEMENTS:
            _count(model, key, hidden, (row[whole] or 0) - (row[part] or 0), printed=False)
            model.relate({(key, whole): 1, (key, part): -1, (key, hidden): -1})
            model.within[(key, whole)] = [(key, part), (key, hidden)]
        model.within[(key, "ombudsman_escalations")] += [(key, "ombudsman_upheld"), (key, "ombudsman_not_upheld")]
        model.within[(key, "received")] = [(key, c) for c in (*COMPLAINTS.counts[2:], *(h for h, _, _ in COMPLEMENTS))]
    for key, row in rows.items():  # the same months a year earlier: part (or all) of that year's received
        period, service, theme = key
        earlier = (previous_financial_year(period), service, theme)
        if row.get("same_months_previous_year_received") is None or earlier not in rows:
            continue
        same = (key, "same_months_previous_year_received")
        other_months = (rows[earlier]["received"] or 0) - row[same[1]]
        if row.get("period_complete") is True and other_months == 0:  # the whole previous year, reprinted
            model.relate({(earlier, "received"): 1, same: -1})
        else:
            other = (key, "other_months_previous_year")
            _count(model, key, other[1], other_months, printed=False)
            model.relate({(earlier, "received"): 1, same: -1, other: -1})
            model.within[(earlier, "received")].append(other)
        model.within[(earlier, "received")].append(same)
    parts: dict[tuple, list[tuple]] = {}
    for period, service, theme in rows:
        if theme != "all":
            parts.setdefault((period, service, "all"), []).append((period, service, theme))
        elif service != "all":
            parts.setdefault((period, "all", "all"), []).append((period, service, theme))
    for total, members in parts.items():
        for column in COMPLAINTS.counts:
            _additive(model, total, members, column)
    return model


def _ward_suppression(
    connection: duckdb.DuckDBPyConnection, rows: dict[tuple, dict[str, Any]], threshold: int
) -> set[tuple[tuple, str]]:
    """The ward cells to withhold: the summary's model, its result taken as given, with the
    wards added (their keys tagged "ward", so they never meet the summary's)."""
    summary = controlled(connection, COMPLAINTS.mart, threshold)
    summary_rows = {tuple(r[c] for c in COMPLAINTS.key): r for r in summary.rows}
    cursor = connection.execute(f"SELECT * FROM marts.{COMPLAINTS.mart}")
    columns = [d[0] for d in cursor.description]
    model = _complaints_model(
        {tuple(r[columns.index(c)] for c in COMPLAINTS.key): dict(zip(columns, r)) for r in cursor.fetchall()}
    )
    withheld = {(key, c) for key, row in summary_rows.items() for c in COMPLAINTS.counts if row.get(c) == SUPPRESSED}
    fixed = {cell for cell in model.printed if cell not in withheld}
    wards: dict[str, list[tuple]] = {}
    for key, row in rows.items():
        period, ward = key
        cell_key = ("ward", *key)
        for column in WARDS.counts:
            _count(model, cell_key, column, row[column])
        _count(
            model, cell_key, "stage_1_late", (row["stage_1_due"] or 0) - (row["stage_1_on_time"] or 0), printed=False
        )
        model.relate({(cell_key, "stage_1_due"): 1, (cell_key, "stage_1_on_time"): -1, (cell_key, "stage_1_late"): -1})
        model.within[(cell_key, "stage_1_due")] = [(cell_key, "stage_1_on_time"), (cell_key, "stage_1_late")]
        model.within[(cell_key, "received")] = [
            (cell_key, c) for c in ("stage_1_due", "stage_1_on_time", "stage_1_late")
        ]
        council = (period, "all", "all")
        if ward == WARD_COUNCIL_ROW and council in summary_rows:
            for column in WARDS.counts:  # the same count in both tables: printed alike, known alike
                model.relate({(cell_key, column): 1, (council, column): -1})
                (withheld if summary_rows[council][column] == SUPPRESSED else fixed).add((cell_key, column))
        elif ward != WARD_COUNCIL_ROW:
            wards.setdefault(period, []).append(cell_key)
    for period, members in wards.items():
        for column in WARDS.counts:
            _additive(model, ("ward", period, WARD_COUNCIL_ROW), members, column)
    hidden = suppress(model, threshold, withheld=withheld, fixed=fixed)
    return {(key[1:], column) for key, column in hidden if key[0] == "ward"}


def _satisfaction_model(rows: dict[tuple, dict[str, Any]]) -> Table:
    # a valid-answer count carries the percentage and its interval: hide a "don't know" first
    model = Table(cost={"unweighted_n": 10})
    parts: dict[tuple, list[tuple]] = {}
    groups: dict[tuple, list[tuple]] = {}
    for key, row in rows.items():
        survey, wave, question, breakdown, value = key
        _count(model, key, "unweighted_n", row["unweighted_n"])
        _count(model, key, "dont_know_n", row["dont_know_n"])
        _count(model, key, "respondents", (row["unweighted_n"] or 0) + (row["dont_know_n"] or 0), printed=False)
        model.relate({(key, "unweighted_n"): 1, (key, "dont_know_n"): 1, (key, "respondents"): -1})
        model.within[(key, "respondents")] = [(key, "unweighted_n"), (key, "dont_know_n")]
        if breakdown != "all":
            parts.setdefault((survey, wave, question, breakdown), []).append(key)
        groups.setdefault((survey, wave, breakdown, value), []).append(key)
    for (survey, wave, question, _), members in parts.items():
        for column in ("unweighted_n", "dont_know_n"):
            _additive(model, (survey, wave, question, "all", "all"), members, column)
    for members in groups.values():  # the same people answer each question, less those who skipped it
        for a, b in pairwise(sorted(members, key=str)):
            model.relate({(a, "respondents"): 1, (b, "respondents"): -1})
    return model


def _suppress_previous_wave(rows: dict[tuple, dict[str, Any]]) -> None:
    waves: dict[str, list] = {}
    for survey, wave, *_ in rows:
        waves.setdefault(survey, [])
        if wave not in waves[survey]:
            waves[survey].append(wave)
    previous = {(survey, later): earlier for survey, ws in waves.items() for earlier, later in pairwise(sorted(ws))}
    for (survey, wave, question, breakdown, value), row in rows.items():
        earlier = rows.get((survey, previous.get((survey, wave)), question, breakdown, value))
        if row["unweighted_n"] == SUPPRESSED or (earlier is not None and earlier["unweighted_n"] == SUPPRESSED):
            for column in PREVIOUS_WAVE:
                if column in row and row[column] is not None:
                    row[column] = SUPPRESSED


def controlled_columns(mart: str) -> set[str]:
    """The columns of ``mart`` that may read ``c``: its counts and the figures computed from them."""
    policy = POLICIES.get(mart)
    if policy is None:
        return set()
    return {*policy.counts, *policy.derived, *(PREVIOUS_WAVE if policy is SATISFACTION else ())}
