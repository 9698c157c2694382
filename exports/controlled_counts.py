"""The one disclosure policy every output reads: the marts that count people (complaints,
survey respondents), with small counts and whatever would reveal them marked ``c``.

The open data, the councillors' report and the BI copy all call ``controlled``, so they show
the same figures and comparing them gives nothing back. What a reader is assumed to know
(the relations handed to exports/disclosure.py):

- complaints_summary: themes add up to their service's row, services to the council's; in a
  row, decided = upheld + not upheld, and answered = within target + late at each stage (the
  complements are counts of people, never printed); a small number received hides the whole
  row, a small number decided hides upheld, a small number answered hides within target.
- resident_satisfaction: each breakdown's groups add up to the whole sample, per question;
  in a row, valid answers + don't know = respondents to the question; the respondents of a
  group differ between questions only by those who skipped one (assumed known, the worst
  case); a small number of respondents hides the row.

Figures computed from a suppressed count (rates, percentages, intervals, the comparison with
the national benchmark or with the rest of the sample, a comparison with the previous wave
whose count was suppressed) are suppressed with it. A wave's tests_in_family counts every group
row of the wave, a comparison that could not be made included, so it gives nothing away about
a withheld count.
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
    "complaints_summary", ("period_id", "service", "theme"),
    ("received", "stage_1_answered", "stage_1_within_target", "stage_2_answered", "stage_2_within_target", "decided", "upheld",
     "ombudsman_escalations"),
    {"received_per_10000_residents": ("received",),
     "stage_1_percent_within_target": ("stage_1_answered", "stage_1_within_target"),
     "stage_2_percent_within_target": ("stage_2_answered", "stage_2_within_target"),
     "percent_upheld": ("decided", "upheld")},
)
SATISFACTION = Policy(
    "resident_satisfaction", ("survey", "wave_start", "question", "breakdown", "breakdown_value"),
    ("unweighted_n", "dont_know_n"),
    {c: ("unweighted_n",) for c in ("weighted_base", "effective_n", "percent_positive", "ci_lower", "ci_upper",
                                    "benchmark_difference", "benchmark_significant", "benchmark_statement",
                                    "difference_from_rest", "difference_p_value", "difference_significant_fdr")},
)
# also suppressed when the previous wave's count is (they print that wave's figure, or a difference from it)
PREVIOUS_WAVE = ("previous_wave_percent", "change_vs_previous_wave", "change_significant", "change_statement")
POLICIES = {p.mart: p for p in (COMPLAINTS, SATISFACTION)}


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
    content = connection.execute(f"SELECT count(*), sum(hash(t)) FROM marts.{policy.mart} AS t").fetchall()[0]
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
    model = _complaints_model(keyed) if policy is COMPLAINTS else _satisfaction_model(keyed)
    hidden = suppress(model, threshold)
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


def _complaints_model(rows: dict[tuple, dict[str, Any]]) -> Table:
    # the number received is the headline: hide a stage's or an outcome's count first
    model = Table(cost={"received": 10})
    complements = (("stage_1_late", "stage_1_answered", "stage_1_within_target"),
                   ("stage_2_late", "stage_2_answered", "stage_2_within_target"),
                   ("not_upheld", "decided", "upheld"))
    for key, row in rows.items():
        for column in COMPLAINTS.counts:
            _count(model, key, column, row[column])
        for hidden, whole, part in complements:
            _count(model, key, hidden, (row[whole] or 0) - (row[part] or 0), printed=False)
            model.relate({(key, whole): 1, (key, part): -1, (key, hidden): -1})
            model.within[(key, whole)] = [(key, part), (key, hidden)]
        model.within[(key, "received")] = [(key, c) for c in (*COMPLAINTS.counts[1:], *(h for h, _, _ in complements))]
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
