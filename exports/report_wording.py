"""How the councillors' report says things: words for the codes in the marts, and numbers as a
reader reads them (at their published precision, a dash for a missing one, the open data's
marker for a withheld one). Used by the pages (exports/report.py) and the charts' alt text
(exports/report_charts.py).
"""

from __future__ import annotations

import math
from datetime import date

from exports.disclosure import SUPPRESSED
from exports.formatting import format_number

WITHHELD = "[c]"  # the open data's c: the Government Statistical Service's marker for a confidential figure

# --- the codes in the marts, in plain words ---------------------------------------------------

RAG = {  # code: (symbol, words); the symbol and the words carry the status, colour only repeats it
    "green": ("✔", "Meeting target"),
    "amber": ("▲", "Just missing target (within tolerance)"),
    "red": ("✖", "Missing target"),
    "not_rated": ("–", "Not rated for this period"),
    "no_target": ("○", "No target set"),
}
DIRECTION = {
    "improving": ("↑", "Getting better"),
    "worsening": ("↓", "Getting worse"),
    "no_change": ("→", "About the same"),
    "increased": ("↗", "Increased"),  # neutral indicators: neither better nor worse, so no ↑ or ↓
    "decreased": ("↘", "Decreased"),
    "not_comparable": ("–", "Cannot be compared"),
}
VARIATION = {  # NHS "Making Data Count" variation icons, as words
    "common_cause": ("C", "Usual variation: nothing unusual happening"),
    "special_cause_improvement": ("I", "Unusual change: an improvement"),
    "special_cause_concern": ("!", "Unusual change: a concern"),
    "special_cause_neutral": ("N", "Unusual change: neither better nor worse"),
}
ASSURANCE = {
    "consistently_fails": ("F", "Will keep missing the target unless something changes"),
    "consistently_passes": ("P", "Will keep meeting the target"),
    "hit_and_miss": ("?", "May or may not meet the target: it lies within usual variation"),
    "unstable_process": ("–", "No assurance: the baseline itself shows unusual variation, so its limits cannot say"),
}
QUARTILE = {1: "top quartile (best 25%)", 2: "second quartile", 3: "third quartile", 4: "bottom quartile (worst 25%)"}
QUESTIONS = {  # the LGA resident satisfaction question set
    "q_local_area": "Satisfied with the local area as a place to live",
    "q_runs_things": "Satisfied with the way the council runs things",
    "q_value_for_money": "Agree the council provides value for money",
    "q_acts_on_concerns": "Agree the council acts on residents' concerns",
    "q_kept_informed": "Feel the council keeps residents well informed",
    "q_trust": "Trust the council",
}


# --- numbers and names ------------------------------------------------------------------------


def number(value: float | str | None, precision: int | None = 1) -> str:
    """A warehouse number at its published precision, rounded half away from zero
    (exports/formatting.py; None: as published); a dash, never 0, for a missing one; the
    withheld marker for a figure disclosure control suppressed."""
    if value == SUPPRESSED:
        return WITHHELD
    if value is None or math.isnan(value):
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return format_number(value, precision, grouping=True)


def with_unit(value: float | None, unit: str | None, precision: int | None) -> str:
    """``48.3%`` or ``29.8 days``: the unit beside the number, so it reads as a sentence."""
    text = number(value, precision)
    if value is None or not unit:
        return text
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def pretty(code: str | None) -> str:
    """``reducing_health`` → ``Reducing health``: a code read aloud."""
    if not code:
        return "Not set"
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def survey_name(code: str) -> str:
    """The survey's id without its file-format suffix, in words."""
    parts = [p for p in code.split("_") if p not in {"csv", "xlsx", "xls"}]
    return pretty("_".join(parts))


def month_label(day: date) -> str:
    """``February 2021``: a first-of-month date as the month it stands for."""
    return f"{MONTHS[day.month - 1]} {day.year}"


EVERY = {"annually": "Yearly", "quarterly": "Quarterly", "monthly": "Monthly"}
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def sentence_case(text: str | None) -> str:
    """The mart's lower-case sentence as the start of a table cell; a dash when there is none."""
    if text is None:
        return "–"
    if text == SUPPRESSED:
        return WITHHELD
    return text[:1].upper() + text[1:]
