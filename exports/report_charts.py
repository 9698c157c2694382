"""The councillors' report's charts: inline SVG, each an image whose alt text says in words all
that it shows. This module computes each chart's geometry and alt text; the macros of
``exports/templates/report/charts.svg.j2`` write the markup.
"""

from __future__ import annotations

import functools
from typing import Any

from markupsafe import Markup

from exports import templating
from exports.disclosure import SUPPRESSED
from exports.report_wording import QUESTIONS, WITHHELD, month_label, number, pretty, with_unit


def _coordinate(value: float) -> str:
    return f"{value:.1f}"


@functools.cache
def _charts() -> Any:
    """The macros of ``report/charts.svg.j2`` (trend, satisfaction, complaints), each returning Markup."""
    return templating.environment(keep_trailing_newline=True).get_template("report/charts.svg.j2").module


def _line(css: str, points: list[tuple[float, float]]) -> dict[str, str]:
    """One stretch of a line; a lone point (a target set for one period only) as a short horizontal dash."""
    if len(points) == 1:
        x, y = (float(_coordinate(c)) for c in points[0])  # centred on the point as drawn
        points = [(x - 8, y), (x + 8, y)]
    return {"css": css, "points": " ".join(f"{_coordinate(x)},{_coordinate(y)}" for x, y in points)}


SPECIAL_CAUSE_WORDS = {  # a special-cause point as the chart's alt text names it
    "special_cause_improvement": "unusual: improvement",
    "special_cause_concern": "unusual: concern",
    "special_cause_neutral": "unusual: neither better nor worse",
}


def trend_chart(title: str, points: list[dict[str, Any]], unit: str | None, precision: int | None) -> Markup:
    """A small XmR chart (Making Data Count): the values, the process mean (solid grey) and
    limits (dotted grey), each baseline drawn apart after a rebase, special-cause points ringed
    and coloured by improvement or concern, and the target as a dashed line; the alt text says
    all of it in words."""
    width, height, pad = 260, 90, 8
    limit_keys = ("process_mean", "upper_process_limit", "lower_process_limit")
    numbers = [p[k] for p in points for k in ("value", "target", *limit_keys) if p.get(k) is not None]
    described = "; ".join(
        f"{p['period_label']}: {with_unit(p['value'], unit, precision)}"
        + (f" ({SPECIAL_CAUSE_WORDS[p['variation_icon']]})" if p.get("variation_icon") in SPECIAL_CAUSE_WORDS else "")
        + (f" (target {with_unit(p['target'], unit, precision)})" if p["target"] is not None else "")
        for p in points
    )
    latest = next((p for p in reversed(points) if p.get("process_mean") is not None), None)
    computed = (
        precision if precision is not None else 1
    )  # a mean or a limit of published values has no precision of its own
    limits = (
        ""
        if latest is None
        else f" The latest baseline has a mean of {with_unit(latest['process_mean'], unit, computed)}"
        + (
            f" and process limits from {with_unit(latest['lower_process_limit'], unit, computed)} to "
            f"{with_unit(latest['upper_process_limit'], unit, computed)}"
            if latest.get("upper_process_limit") is not None
            else ""
        )
        + "."
    )
    label = f"Trend for {title}. {described}.{limits}" if points else f"Trend for {title}: no values."
    if not numbers:
        return _charts().trend(label, width, height, [], [])
    low, high = min(numbers), max(numbers)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(len(points) - 1, 1)

    def xy(index: int, value: float) -> tuple[float, float]:
        return pad + index * step, height - pad - (value - low) / span * (height - 2 * pad)

    def polyline(key: str, css: str, *, per_baseline: bool = False) -> list[dict[str, str]]:
        """One line per unbroken stretch: a missing value breaks it, and a new baseline breaks
        the mean and limits (each baseline has its own)."""
        segments: list[list[tuple[float, float]]] = []
        current: list[tuple[float, float]] = []
        baseline = None
        for index, point in enumerate(points):
            if point.get(key) is None or (per_baseline and point.get("baseline_segment") != baseline):
                if current:
                    segments.append(current)
                current = []
                baseline = point.get("baseline_segment")
            if point.get(key) is not None:
                current.append(xy(index, point[key]))
        if current:
            segments.append(current)
        return [_line(css, s) for s in segments]

    def dot(index: int, point: dict[str, Any]) -> dict[str, str]:
        x, y = xy(index, point["value"])
        icon = point.get("variation_icon")
        if icon in SPECIAL_CAUSE_WORDS:
            kind = icon.removeprefix("special_cause_")
            return {"css": f"dot special {kind}", "x": _coordinate(x), "y": _coordinate(y), "r": "4"}
        return {"css": "dot", "x": _coordinate(x), "y": _coordinate(y), "r": "2.5"}

    dots = [dot(i, p) for i, p in enumerate(points) if p["value"] is not None]
    lines = (
        polyline("upper_process_limit", "limit-line", per_baseline=True)
        + polyline("lower_process_limit", "limit-line", per_baseline=True)
        + polyline("process_mean", "mean-line", per_baseline=True)
        + polyline("target", "target-line")
        + polyline("value", "value-line")
    )
    return _charts().trend(label, width, height, lines, dots)


def satisfaction_chart(caption: str, rows: list[dict[str, Any]]) -> Markup:
    """Horizontal bars of % positive with 95% confidence-interval whiskers and the national
    benchmark as a diamond; the scale is 0-100 so bars compare honestly."""
    label_width, bar_width, row_height, top = 300, 400, 30, 24
    height = top + row_height * len(rows) + 10
    scale = bar_width / 100.0
    drawn, alt = [], []
    for index, row in enumerate(rows):
        question = QUESTIONS.get(row["question"], pretty(row["question"]))
        value = row["percent_positive"]
        bounds = (row["ci_lower"], row["ci_upper"])
        drawn.append(
            {
                "y": top + index * row_height,
                "question": question,
                "withheld": value == SUPPRESSED,
                "bar": None
                if value in (None, SUPPRESSED)
                else {
                    "width": _coordinate(value * scale),
                    "text_x": _coordinate(label_width + value * scale + 4),
                    "value": number(value),
                },
                "whisker": None
                if any(b in (None, SUPPRESSED) for b in bounds)
                else {
                    "x1": _coordinate(label_width + bounds[0] * scale),
                    "x2": _coordinate(label_width + bounds[1] * scale),
                },
                "benchmark_x": None
                if row["benchmark_percent"] is None
                else _coordinate(label_width + row["benchmark_percent"] * scale),
            }
        )
        text = (
            f"{question}: withheld to protect the people counted"
            if value == SUPPRESSED
            else f"{question}: {number(value)}% (95% confidence interval {number(row['ci_lower'])}% to "
            f"{number(row['ci_upper'])}%)"
        )
        if row["benchmark_percent"] is not None:
            text += f", national benchmark {number(row['benchmark_percent'])}%"
            if row.get("benchmark_fieldwork_month") is not None:
                text += f" (polled {month_label(row['benchmark_fieldwork_month'])})"
        alt.append(text)
    label = f"{caption}. " + "; ".join(alt) + "."
    width = label_width + bar_width + 60
    return _charts().satisfaction(label, width, height, label_width, label_width + bar_width, drawn, WITHHELD)


def complaints_chart(caption: str, rows: list[dict[str, Any]]) -> Markup:
    """Horizontal bars of complaints received per service, scaled to the largest."""
    label_width, bar_width, row_height, top = 200, 400, 24, 6
    height = top + row_height * len(rows) + 6
    largest = max((r["received"] or 0 for r in rows if r["received"] != SUPPRESSED), default=0) or 1
    drawn, alt = [], []
    for index, row in enumerate(rows):
        received = 0 if row["received"] == SUPPRESSED else row["received"] or 0
        width = received / largest * bar_width
        drawn.append(
            {
                "y": top + index * row_height,
                "service": row["service"],
                "width": _coordinate(width),
                "text_x": _coordinate(label_width + width + 4),
                "value": number(row["received"]),
            }
        )
        alt.append(f"{row['service']}: {number(row['received'])}")
    label = f"{caption}. " + "; ".join(alt) + "."
    return _charts().complaints(label, label_width + bar_width + 60, height, label_width, drawn)
