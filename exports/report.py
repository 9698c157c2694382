"""The councillors' performance report: ``EXPORT_DIR/report/`` with three static pages.

``index.html`` opens with a summary (indicators counted by RAG status and SPC variation, then
the exceptions with their commentary and agreed action) and then has one tile per indicator
(value, status in words and symbols, a trend chart with the target line, benchmark position)
and an information panel per tile; filters by priority and theme. It prints as committee
papers (A4, summary first, every panel open, no tile split across pages) and is also printed
to ``report.pdf`` when a headless Chromium is present (exports/report_pdf.py).
``satisfaction.html`` shows the resident surveys with confidence intervals,
``complaints.html`` the complaints per service and, last, the wards (complaints and overall
satisfaction per ward, for comparing areas). Every page is self-contained (inline CSS, SVG
and script, a Content-Security-Policy that forbids any request), works offline, and is
byte-stable: the same warehouse gives the same bytes. Every number shown is read from the
``marts`` schema; the report only formats and words it.

The markup is not here: the pages are Jinja templates in ``exports/templates/report/``
(``base.html.j2`` and one per page), and their style and script are ``report.css`` and
``report.js`` beside them, put whole into each page's <style> and <script> as it is written
(exports/templating.py; the Content-Security-Policy allows inline style and script, so it
carries no hashes to keep in step). This module reads the marts and builds what each page
shows; the words and number formats are exports/report_wording.py, the charts
exports/report_charts.py (their markup ``charts.svg.j2``).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import jinja2
from markupsafe import Markup

from exports import templating
from exports.controlled_counts import controlled
from exports.disclosure import SUPPRESSED
from exports.publish import staged_folder
from exports.report_charts import complaints_chart, satisfaction_chart, trend_chart
from exports.report_pdf import PdfOutcome, write_pdf
from exports.report_wording import (
    ASSURANCE,
    DIRECTION,
    EVERY,
    MONTHS,
    QUARTILE,
    QUESTIONS,
    RAG,
    VARIATION,
    WITHHELD,
    month_label,
    number,
    pretty,
    sentence_case,
    survey_name,
    with_unit,
)
from lgperf.freshness import is_stale
from lgperf.settings import FreshnessSettings

log = logging.getLogger(__name__)

# --- reading the marts ----------------------------------------------------------------------

LATEST_SQL = """
SELECT p.*, d.short_title, d.definition, d.rationale, d.perspective, d.discontinued,
       -- an extract's indicator may have no frequency of its own: its periods' then
       coalesce(d.frequency, CASE dp.frequency WHEN 'annual' THEN 'annually' ELSE dp.frequency END) AS frequency,
       dp.period_end,
       coalesce(c.short_title, c.title) AS compared_as_title, c.unit AS compared_as_unit,
       c.output_precision AS compared_as_precision
FROM marts.indicator_performance AS p
LEFT JOIN marts.dim_indicators AS d USING (indicator_id)
LEFT JOIN marts.dim_periods AS dp USING (period_id)
LEFT JOIN marts.dim_indicators AS c ON c.indicator_id = p.compared_as_indicator_id
QUALIFY row_number() OVER (PARTITION BY p.indicator_id ORDER BY p.period_start DESC, p.period_id DESC) = 1
ORDER BY p.priority NULLS LAST, p.indicator_id
"""
SERIES_SQL = """
SELECT p.indicator_id, p.period_id, p.period_label, p.value, p.target,
       s.baseline_segment, s.process_mean, s.upper_process_limit, s.lower_process_limit, s.variation_icon
FROM marts.indicator_performance AS p
LEFT JOIN marts.spc AS s ON s.indicator_id = p.indicator_id AND s.period_id = p.period_id AND s.area_code = ?
ORDER BY p.indicator_id, p.period_start, p.period_id
"""
REBASE_PROPOSALS_SQL = """
SELECT indicator_id, proposed_period_label, shift_points, shift_side
FROM marts.spc_rebase_proposals WHERE area_code = ?
"""
BENCHMARK_SQL = """
SELECT latest.indicator_id, b.comparison_group_id, b.group_size, b.group_median,
    b.group_q1, b.group_q3, b.rank, b.quartile_band
FROM marts.benchmarks AS b
JOIN (SELECT indicator_id, max_by(period_id, period_start) AS period_id,
             max_by(compared_as_indicator_id, period_start) AS compared_as_indicator_id
      FROM marts.indicator_performance GROUP BY indicator_id) AS latest
  ON b.indicator_id = latest.compared_as_indicator_id AND b.period_id = latest.period_id  -- a raw count's rate
WHERE b.area_code = ? AND (b.comparison_group_id LIKE '%\\_CIPFA\\_Near\\_Neighbours' ESCAPE '\\'
                           OR b.comparison_group_id LIKE 'AllLaInCountry\\_%' ESCAPE '\\')
ORDER BY b.indicator_id, b.comparison_group_id
"""
SPC_POINTS_SQL = """
SELECT indicator_id, count(value) AS points
FROM marts.spc WHERE area_code = ?
GROUP BY indicator_id ORDER BY indicator_id
"""
PERIOD_LABELS_SQL = "SELECT period_id, period_label FROM marts.dim_periods"


def satisfaction_rows(connection: duckdb.DuckDBPyConnection, threshold: int) -> list[dict[str, Any]]:
    """The survey results under the one disclosure policy, newest wave first, whole sample first."""
    rows = controlled(connection, "resident_satisfaction", threshold).rows
    return sorted(
        rows,
        key=lambda r: (
            r["survey"],
            -r["wave_start"].toordinal(),
            -r["wave_end"].toordinal(),
            r["breakdown"] != "all",
            r["breakdown"],
            r["breakdown_value"],
            r["question"],
        ),
    )


def complaints_rows(connection: duckdb.DuckDBPyConnection, threshold: int) -> list[dict[str, Any]]:
    """The complaints summary under the one disclosure policy, newest period first, services then the total."""
    labels = dict(connection.execute(PERIOD_LABELS_SQL).fetchall())
    rows = [
        {**r, "period_label": labels.get(r["period_id"]) or r["period_id"]}
        for r in controlled(connection, "complaints_summary", threshold).rows
    ]
    rows.sort(key=lambda r: (r["service"] == "all", r["service"], r["theme"] != "all", r["theme"]))
    return sorted(rows, key=lambda r: r["period_id"], reverse=True)


OVERALL_QUESTION = "q_runs_things"  # the LGA's overall measure: satisfied with the way the council runs things


def ward_rows(
    connection: duckdb.DuckDBPyConnection, threshold: int, satisfaction: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The latest financial year of complaints by ward (controlled), each ward with the overall
    satisfaction of the latest survey wave that has ward results; None without ward complaints."""
    rows = controlled(connection, "complaints_by_ward", threshold).rows
    if not rows:
        return None
    latest = max(r["period_id"] for r in rows)
    year = [r for r in rows if r["period_id"] == latest]
    labels = dict(connection.execute(PERIOD_LABELS_SQL).fetchall())
    overall = [r for r in satisfaction if r["question"] == OVERALL_QUESTION]
    wave = max(
        ((r["wave_end"], r["wave_start"], r["survey"]) for r in overall if r["breakdown"] == "ward"), default=None
    )
    in_wave = [r for r in overall if (r["wave_end"], r["wave_start"], r["survey"]) == wave]
    by_ward = {r["breakdown_value"]: r for r in in_wave if r["breakdown"] == "ward"}
    by_ward["all"] = next((r for r in in_wave if r["breakdown"] == "all"), None)  # the whole sample
    wards = sorted((r for r in year if r["ward"] != "all"), key=lambda r: (r["ward"] == "Not known", r["ward"]))
    total = next((r for r in year if r["ward"] == "all"), None)
    first = year[0]
    return {
        "title": f"{labels.get(latest) or latest}: {first['coverage_label']}",
        "complete": first["period_complete"],
        "wards": [{**r, "satisfaction": by_ward.get(r["ward"])} for r in wards],
        "total": None if total is None else {**total, "satisfaction": by_ward["all"]},
        "wave": None
        if wave is None
        else {"survey": survey_name(wave[2]), "start": wave[1].isoformat(), "end": wave[0].isoformat()},
        "question": QUESTIONS[OVERALL_QUESTION],
    }


def _records(connection: duckdb.DuckDBPyConnection, sql: str, parameters: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows as dictionaries keyed by column name (parameterised: no value is pasted into SQL)."""
    cursor = connection.execute(sql, list(parameters))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# --- the indicator tiles --------------------------------------------------------------------


def benchmark_sentence(
    position: str | None, band: int | None, group: str, *, compared_as: str | None = None, raw_count: bool = False
) -> str:
    """``Ranks 15 of 16 among its nearest neighbours (bottom quartile)`` or why there is none.
    The position comes from the scorecard, which names a group by the members with a value; a
    raw count is not ranked, or is ranked through its rate (``compared_as``), and says so."""
    if position is None:
        if raw_count:
            return "Not ranked: a raw count, not adjusted for population."
        return f"No comparison with {group} is available for this period."
    sentence = (
        f"As {compared_as}: {position} (1 is best)"
        if compared_as
        else f"{position[:1].upper()}{position[1:]} (1 is best)"
    )
    return sentence + (f", {QUARTILE[band]}." if band in QUARTILE else ".")


def short_position(row: dict[str, Any]) -> str:
    """The tile's one-line benchmark: a raw count says it is not ranked, or which rate is."""
    if row["neighbours_rank"] is None:
        return "Not ranked: a raw count" if row.get("comparison_note") else "No nearest-neighbour rank"
    position = (
        f"ranks {row['neighbours_rank']} of {row['neighbours_size']} nearest neighbours"
        if row.get("neighbours_members") is None or row["neighbours_size"] >= row["neighbours_members"]
        else row["neighbours_position"]
    )
    if row.get("compared_as_indicator_id") not in (None, row["indicator_id"]):
        return f"as {row['compared_as_title']}, {position}"
    return position


def age_in_words(since: date, until: date) -> str:
    """``3 years 7 months``: whole months from one date to another, as years and months."""
    months = (until.year - since.year) * 12 + until.month - since.month - (until.day < since.day)
    years, months = divmod(max(months, 0), 12)
    parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
    if months or not years:
        parts.append(f"{months} month{'s' if months != 1 else ''}")
    return " ".join(parts)


def stale_notice(row: dict[str, Any], as_of: date, max_days_after_period_end: Mapping[str, int]) -> str | None:
    """How old a tile's latest figure is, when it is older than the quality gate allows for its
    frequency (thresholds.freshness, the same allowance, judged on the same date); else None."""
    if not is_stale(row.get("period_end"), row.get("frequency"), as_of, max_days_after_period_end):
        return None
    allowed = max_days_after_period_end[row["frequency"]]
    notice = (
        f"Latest available: {row['period_label']}, {age_in_words(row['period_end'], as_of)} before this report "
        f"({as_of.day} {MONTHS[as_of.month - 1]} {as_of.year})."
    )
    return notice + (
        " The indicator is discontinued: no newer figure will come."
        if row.get("discontinued")
        else f" {EVERY[row['frequency']]} figures are expected within {allowed} days of the period's end, "
        "so this one is out of date."
    )


def limitations(
    row: dict[str, Any],
    neighbours: dict[str, Any] | None,
    spc_points: int | None,
    rebase_proposal: dict[str, Any] | None = None,
) -> list[str]:
    """What a reader should know before trusting the tile, said from the row, never invented."""
    notes = [row["stale"]] if row.get("stale") else []
    if row["value"] is None:
        notes.append(f"No value has been published for {row['period_label']}.")
    if row["rag"] == "not_rated":
        notes.append("Status is not rated for this period: RAG is switched off for it (for example the pandemic year).")
    elif row["rag"] == "no_target":
        notes.append("No target is set for this period, so there is no red, amber or green status.")
    if row["green_but_bottom_quartile"]:
        notes.append(
            "Caution: this indicator meets its target but is in the bottom quartile of its nearest neighbours."
        )
    if row["trial_limits"]:
        points = f"only {spc_points} points" if spc_points is not None else "too few points"
        notes.append(
            f"The statistical process control limits are trial limits, based on {points}; "
            "read the variation icon with care."
        )
    if rebase_proposal is not None:
        notes.append(
            f"The last {rebase_proposal['shift_points']} points, from {rebase_proposal['proposed_period_label']}, are "
            f"all {rebase_proposal['shift_side']} the mean of the chart's baseline: the process may have changed. A "
            "new baseline from then has been proposed to the indicator's owner; until it is accepted, "
            "the variation and assurance icons judge the latest points against the old one."
        )
    if row["direction_vs_previous"] == "not_comparable":
        notes.append(
            "This period cannot be compared with the previous one (a value is missing or the definition changed)."
        )
    if neighbours is None or neighbours.get("group_size") is None:
        notes.append("There is no nearest-neighbour benchmark for this period.")
    else:
        notes.append(
            f"The nearest-neighbour benchmark compares {neighbours['group_size']} councils, this council included."
        )
    if row.get("comparison_note"):
        notes.append(row["comparison_note"])
    elif row["country_rank"] is None:
        notes.append("There is no England-wide comparison for this period.")
    if row["commentary"] is None:
        notes.append("No commentary has been written for this period.")
    return notes


def stale_baseline_caveat(variation: tuple[str, str], proposal: dict[str, Any] | None) -> tuple[str, str]:
    """The variation badge, saying so when the chart's baseline may no longer describe the
    process (a rebase is proposed): otherwise a shift reads as a lasting "improvement"."""
    if proposal is None:
        return variation
    return (
        variation[0],
        f"{variation[1]} (judged against a baseline before a shift in {proposal['proposed_period_label']}: "
        "a new baseline is proposed)",
    )


def revisions_of_this_publication(connection: duckdb.DuckDBPyConnection, council: str) -> list[dict[str, Any]]:
    """The council's values that the publication marts holds revised (none before the first
    revision, or in marts published before revisions were kept)."""
    present = {
        name
        for (name,) in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchall()
    }
    if not {"revisions", "publication"} <= present:
        return []
    return _records(
        connection,
        "SELECT r.indicator_id, r.period_id, r.old_value FROM marts.revisions AS r "
        "JOIN marts.publication AS p ON p.publication_id = r.publication_id "
        "WHERE r.area_code = ? AND r.change = 'revised'",
        [council],
    )


def build_tiles(
    connection: duckdb.DuckDBPyConnection, council: str, freshness: FreshnessSettings | None = None
) -> list[dict[str, Any]]:
    """One dictionary per indicator with everything its tile and information panel show; a
    latest figure older than ``freshness`` allows says how old it is."""
    freshness = freshness or FreshnessSettings()
    as_of = freshness.judged_on()
    latest = _records(connection, LATEST_SQL)
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for point in _records(connection, SERIES_SQL, [council]):
        series[point["indicator_id"]].append(point)
    neighbours, england = {}, {}
    for bench in _records(connection, BENCHMARK_SQL, [council]):
        (england if bench["comparison_group_id"].startswith("AllLaInCountry_") else neighbours)[
            bench["indicator_id"]
        ] = bench
    spc_points = {r["indicator_id"]: r["points"] for r in _records(connection, SPC_POINTS_SQL, [council])}
    proposals = {r["indicator_id"]: r for r in _records(connection, REBASE_PROPOSALS_SQL, [council])}
    revised = {
        (r["indicator_id"], r["period_id"]): r["old_value"] for r in revisions_of_this_publication(connection, council)
    }

    tiles = []
    for row in latest:
        row["stale"] = stale_notice(row, as_of, freshness.max_days_after_period_end)
        unit, precision = row["unit"], row["output_precision"]
        near = neighbours.get(row["indicator_id"])

        def fmt(v: float | None, unit: str | None = unit, precision: int | None = precision) -> str:
            return with_unit(v, unit, precision)

        by_rate = row.get("compared_as_indicator_id") not in (
            None,
            row["indicator_id"],
        )  # a raw count compared as its rate

        def fmt_compared(v: float | None) -> str:
            """A group statistic, in the unit of the indicator compared."""
            # B023: called within this iteration only, never after the loop moves on
            return with_unit(v, row["compared_as_unit"], row["compared_as_precision"]) if by_rate else fmt(v)  # noqa: B023

        compared = {
            "compared_as": row["compared_as_title"] if by_rate else None,
            "raw_count": row.get("comparison_note") is not None,
        }
        near_text = benchmark_sentence(
            row["neighbours_position"], row["neighbours_quartile_band"], "its nearest neighbours", **compared
        )
        if near is not None and near["group_median"] is not None:
            near_text += (
                f" Neighbours' median {fmt_compared(near['group_median'])}; middle half from "
                f"{fmt_compared(near['group_q1'])} to {fmt_compared(near['group_q3'])}."
            )
        england_text = benchmark_sentence(
            row["country_position"], row["country_quartile_band"], "councils in England", **compared
        )
        bench_england = england.get(row["indicator_id"])
        if bench_england is not None and bench_england["group_median"] is not None:
            # the median of the councils with a value, which is England's only when they all have one
            median = fmt_compared(bench_england["group_median"])
            england_text += (
                f" England median {median}."
                if row["country_members"] is None or row["country_size"] >= row["country_members"]
                else f" The median of the {row['country_size']} councils with a value is {median}."
            )
        target = (
            f"{fmt(row['target'])}, with a tolerance of {number(row['tolerance_percent'])}%"
            if row["target"] is not None
            else "No target is set for this period."
        )
        tiles.append(
            {
                **row,
                "value_text": fmt(row["value"]),
                "previous_text": fmt(row["previous_value"]),
                "target_short": fmt(row["target"]) if row["target"] is not None else "not set",
                "target_text": target,
                "rag_symbol": RAG.get(row["rag"], ("?", pretty(row["rag"])))[0],
                "rag_text": RAG.get(row["rag"], ("?", pretty(row["rag"])))[1],
                "direction": DIRECTION.get(row["direction_vs_previous"], ("–", "Cannot be compared")),
                "direction_year": DIRECTION.get(row["direction_vs_year_ago"], ("–", "Cannot be compared")),
                "variation": stale_baseline_caveat(
                    VARIATION.get(row["variation_icon"], ("–", "No variation assessment")),
                    proposals.get(row["indicator_id"]),
                ),
                "assurance": ASSURANCE.get(
                    row["assurance_icon"], ("–", "No assurance assessment: there is no target to test")
                ),
                "neighbours_text": near_text,
                "england_text": england_text,
                "short_position": short_position(row),
                "limitations": limitations(
                    row, near, spc_points.get(row["indicator_id"]), proposals.get(row["indicator_id"])
                ),
                "revised_from": (
                    fmt(revised[(row["indicator_id"], row["period_id"])])
                    if (row["indicator_id"], row["period_id"]) in revised
                    else None
                ),
                "chart": trend_chart(row["title"], series[row["indicator_id"]], unit, precision),
            }
        )
    return tiles


# --- the summary: counts by status, then the exceptions -------------------------------------

EXCEPTION_REASONS = {  # code: the reason as the summary says it (most pressing first)
    "special_cause_concern": "Special cause of concern: an unusual change for the worse",
    "green_but_bottom_quartile": "Green but bottom quartile: meeting its target, yet among the worst 25% of a "
    "comparison group",
    "revised": "Revised since the last publication",
    "stale": "Stale data: the latest figure is older than expected",
    "no_target": "No target set: nothing says what level is good enough",
}
RAG_ORDER = ("green", "amber", "red", "not_rated", "no_target")
VARIATION_ORDER = ("special_cause_concern", "special_cause_improvement", "special_cause_neutral", "common_cause", None)
NO_ACTION = "No action recorded"


def exception_reasons(tile: Mapping[str, Any]) -> list[str]:
    """Why a tile is an exception (codes of EXCEPTION_REASONS, in their order); empty when it is not."""
    found = {
        "special_cause_concern": tile.get("variation_icon") == "special_cause_concern",
        "green_but_bottom_quartile": bool(tile.get("green_but_bottom_quartile")),
        "no_target": tile.get("target") is None,
        "revised": tile.get("revised_from") is not None,
        "stale": bool(tile.get("stale")),
    }
    return [code for code in EXCEPTION_REASONS if found[code]]


def exceptions(tiles: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The indicators a councillor should look at first, most pressing first (by the first of
    their reasons in EXCEPTION_REASONS' order, then in the tiles' order: a special cause of
    concern is not buried under the indicators that merely have no target), each with its
    latest value and period, why it is an exception, the approved commentary and the agreed
    action (what, by whom, by when) from the owner's approved return; without one, the page
    reads "No action recorded")."""
    listed = []
    for tile in tiles:
        reasons = exception_reasons(tile)
        if reasons:
            listed.append(
                {
                    "indicator_id": tile["indicator_id"],
                    "title": tile["title"],
                    "anchor": f"tile-{tile['indicator_id']}",
                    "value_text": tile["value_text"],
                    "period_label": tile["period_label"],
                    "reasons": reasons,
                    "reason_texts": [EXCEPTION_REASONS[r] for r in reasons],
                    "commentary": tile.get("commentary"),
                    "commentary_author": tile.get("commentary_author"),
                    "action": action_text(tile),
                }
            )
    pressing = list(EXCEPTION_REASONS)
    return sorted(listed, key=lambda e: pressing.index(e["reasons"][0]))


def action_text(row: Mapping[str, Any]) -> str | None:
    """ "Second jobs fair (Economic Growth team, by 31 March 2026)": the approved action whole."""
    if not row.get("action"):
        return None
    who, due = row.get("action_by"), row.get("action_due")
    when = f"by {due.day} {MONTHS[due.month - 1]} {due.year}" if due else None
    detail = ", ".join(part for part in (who, when) if part)
    return f"{row['action']} ({detail})" if detail else row["action"]


def status_counts(tiles: Sequence[Mapping[str, Any]]) -> dict[str, list[tuple[str, str, int]]]:
    """How many indicators have each RAG status and each SPC variation, as (code, words, count):
    every known status even at zero, then any other code found, so each list adds up to the tiles."""
    variation_words = {code: VARIATION[code][1] if code else "No variation assessment" for code in VARIATION_ORDER}
    return {
        "rag": _counted([t["rag"] for t in tiles], {code: RAG[code][1] for code in RAG_ORDER}),
        "variation": _counted([t.get("variation_icon") for t in tiles], variation_words),
    }


def _counted(codes: list[str | None], words: Mapping[str | None, str]) -> list[tuple[str, str, int]]:
    tally = Counter(codes)
    known = [(code or "none", text, tally.pop(code, 0)) for code, text in words.items()]
    return known + [(str(code), pretty(code), n) for code, n in sorted(tally.items(), key=lambda item: str(item[0]))]


# --- the satisfaction and complaints pages ---------------------------------------------------


def build_waves(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per survey and wave (newest first): the whole-sample chart and table, then breakdowns."""
    waves: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = (row["survey"], row["wave_start"], row["wave_end"])
        wave = waves.setdefault(
            key,
            {
                "survey": survey_name(row["survey"]),
                "start": row["wave_start"].isoformat(),
                "end": row["wave_end"].isoformat(),
                "overall": [],
                "breakdowns": [],
            },
        )
        row = {**row, "question_text": QUESTIONS.get(row["question"], pretty(row["question"]))}
        wave["overall" if row["breakdown"] == "all" else "breakdowns"].append(row)
    for wave in waves.values():
        caption = f"{wave['survey']}, {wave['start']} to {wave['end']}: percentage positive per question"
        wave["chart"] = satisfaction_chart(caption, wave["overall"])
        # the wave's group comparisons are one family (the same count and level on every group row)
        family = next((r for r in wave["breakdowns"] if r.get("tests_in_family") is not None), None)
        wave["tests"] = family["tests_in_family"] if family else None
        wave["fdr_percent"] = f"{family['fdr_level'] * 100:g}%" if family else None
        # the whole sample's changes since the previous wave are one family too
        changes = next((r for r in wave["overall"] if r.get("change_tests_in_family") is not None), None)
        wave["change_tests"] = changes["change_tests_in_family"] if changes else None
        wave["change_fdr_percent"] = f"{changes['fdr_level'] * 100:g}%" if changes else None
        # a national benchmark past its configured age: say when it was polled, and how long before
        stale = sorted(
            {
                (r["benchmark_fieldwork_month"], r["benchmark_age_months"])
                for r in wave["overall"]
                if r.get("benchmark_stale")
            }
        )
        wave["stale_benchmarks"] = [{"month": month_label(month), "months": age} for month, age in stale]
    return list(waves.values())  # already in SATISFACTION_SQL's order


def group_difference(row: dict[str, Any]) -> str:
    """A group against the rest of its sample, in words: a difference is named only when it is
    significant after the false discovery rate control of the wave's comparisons."""
    flag = row.get("difference_significant_fdr")
    if flag == SUPPRESSED:
        return WITHHELD
    if flag is None:
        return "–"
    if not flag:
        return "No clear difference"
    difference = row["difference_from_rest"]
    return f"{'Higher' if difference > 0 else 'Lower'} ({'+' if difference > 0 else ''}{number(difference)} points)"


def change_percent(now: int | str | None, before: int | str | None) -> float | str | None:
    """The percentage change from ``before`` to ``now`` (1 decimal, half away from zero); withheld
    when either count is; None when there is nothing to compare with (no count, or 0 before)."""
    if SUPPRESSED in (now, before):
        return SUPPRESSED
    if now is None or not before:
        return None
    change = Decimal(100 * (now - before)) / Decimal(before)
    return float(change.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def build_periods(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per period (newest first): what it covers, the service totals, the council total, the
    themes per service; each row with its change on the same months of the previous year."""
    periods: dict[str, dict[str, Any]] = {}
    for row in rows:
        row = {**row, "change": change_percent(row["received"], row["same_months_previous_year_received"])}
        period = periods.setdefault(
            row["period_id"],
            {
                "period_id": row["period_id"],
                "label": row["period_label"],
                "coverage": row["coverage_label"],
                "complete": row["period_complete"],
                "title": f"{row['period_label']}: {row['coverage_label']}",
                "services": [],
                "total": None,
                "themes": [],
            },
        )
        if row["service"] == "all":
            period["total"] = row
        elif row["theme"] == "all":
            period["services"].append(row)
        else:
            period["themes"].append(row)
    for period in periods.values():
        period["chart"] = complaints_chart(f"Complaints received per service, {period['title']}", period["services"])
    return list(periods.values())


# --- templates: exports/templates/report/ (the pages, report.css and report.js) -----------------

PAGES = (
    ("index.html", "Indicators"),
    ("satisfaction.html", "Resident satisfaction"),
    ("complaints.html", "Complaints"),
)


def _environment() -> jinja2.Environment:
    """Autoescaping Jinja with the report's filters; a missing variable is an error, not blank."""
    environment = templating.environment(keep_trailing_newline=True)
    environment.filters.update(
        num=number,
        pct=lambda v: "–" if v is None else WITHHELD if v == SUPPRESSED else f"{number(v)}%",
        pretty=pretty,
        quartile=lambda band: QUARTILE.get(band, "quartile not known"),
        signed=lambda v: ("+" if v not in (None, SUPPRESSED) and v > 0 else "") + number(v),
        month=lambda d: "–" if d is None else month_label(d),
        sentence=sentence_case,
        group_difference=group_difference,
        css_string=css_string,
        action=action_text,
    )
    return environment


def css_string(text: str) -> Markup:
    """Text as a quoted CSS string inside a <style> element: every character outside plain
    letters, digits, spaces and simple punctuation is a CSS escape, so no quote, backslash or
    ``</style>`` can end it."""
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;()-_/")
    return Markup('"' + "".join(c if c in safe else f"\\{ord(c):06x}" for c in str(text)) + '"')


def _render(environment: jinja2.Environment, name: str, council: str, title: str, **context: Any) -> str:
    return environment.get_template(f"report/{name}.j2").render(
        page_title=title,
        council=council,
        pages=PAGES,
        current=name,
        style=templating.inline(environment, "report/report.css"),
        script=templating.inline(environment, "report/report.js"),
        **{"publication_id": None, "demo": False, **context},
    )


@dataclass(frozen=True)
class ReportWritten:
    """What write_report wrote: the rows each page shows, and what became of report.pdf."""

    counts: dict[str, int]
    pdf: PdfOutcome


def write_report(
    connection: duckdb.DuckDBPyConnection,
    destination: Path,
    *,
    council: str,
    disclosure_min_count: int,
    publication_id: str | None = None,
    demo: bool = False,
    freshness: FreshnessSettings | None = None,
    environ: Mapping[str, str] | None = None,
) -> ReportWritten:
    """Write ``index.html``, ``satisfaction.html`` and ``complaints.html`` into ``destination``
    atomically, with ``report.pdf`` printed from index.html when a headless Chromium is found
    (``environ``: where to look, os.environ by default); return how many indicators, survey rows
    and complaint rows they show and why a PDF was not written. Counts of people go through the
    same disclosure control as the open data; a demo run says so on every page; a tile whose
    latest figure the quality gate would call stale (``freshness``) says how old it is."""
    tiles = build_tiles(connection, council, freshness)
    named = connection.execute("SELECT area_name FROM marts.dim_areas WHERE area_code = ?", [council]).fetchall()
    council_label = f"{named[0][0]} ({council})" if named else council
    satisfaction = satisfaction_rows(connection, disclosure_min_count)
    complaints = complaints_rows(connection, disclosure_min_count)
    environment = _environment()
    pages = {
        "index.html": _render(
            environment,
            "index.html",
            council_label,
            "How the council is performing",
            tiles=tiles,
            publication_id=publication_id,
            demo=demo,
            counts=status_counts(tiles),
            exception_list=exceptions(tiles),
            no_action=NO_ACTION,
            rag_symbols={code: symbol for code, (symbol, _) in RAG.items()},
            priorities=sorted({t["priority"] for t in tiles if t["priority"]}),
            themes=sorted({t["theme"] for t in tiles if t["theme"]}),
        ),
        "satisfaction.html": _render(
            environment,
            "satisfaction.html",
            council_label,
            "What residents think",
            waves=build_waves(satisfaction),
            publication_id=publication_id,
            demo=demo,
            threshold=disclosure_min_count,
        ),
        "complaints.html": _render(
            environment,
            "complaints.html",
            council_label,
            "Complaints",
            periods=build_periods(complaints),
            wards=ward_rows(connection, disclosure_min_count, satisfaction),
            publication_id=publication_id,
            demo=demo,
            threshold=disclosure_min_count,
        ),
    }
    with staged_folder(destination) as folder:
        for name, text in pages.items():
            (folder / name).write_text(text, encoding="utf-8", newline="\n")
        pdf = write_pdf(folder, destination if destination.is_dir() else None, environ=environ)
    if not pdf.written:
        log.warning("%s", pdf.reason)
    counts = {"indicators": len(tiles), "satisfaction_rows": len(satisfaction), "complaints_rows": len(complaints)}
    return ReportWritten(counts=counts, pdf=pdf)
