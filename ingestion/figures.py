"""How a published figure may be written, and what it means: numbers and missing-value markers.

Shared by the API reader and the extract readers, so that a cell means the same whichever
route it came by. Tolerant of representation (a JSON number or a numeric string, thousands
separators, the markers statisticians use for missing or suppressed cells); strict about
meaning (no NaN or infinity, no units or percent signs glued to the number, nothing guessed).
"""

from __future__ import annotations

import math
import re

# Markers for "no value here" used by LG Inform, ONS/GSS tables and council extracts: a dash
# (LG Inform's `formatted` for null), ".." and ":" (not available), "x" / "[x]" (not
# available), "c" / "[c]" (confidential: suppressed), "[z]" (not applicable), "[low]" (rounds
# to zero), "*" (suppressed), NA / N/A. Compared without regard to case or surrounding spaces.
MISSING_MARKERS = frozenset(
    {"", "-", "\u2013", "..", ":", "na", "n/a", "x", "c", "*", "[c]", "[x]", "[z]", "[low]", "null"}
)

_PLAIN = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")  # 1,234,567.5 (UK/US grouping only)


class NotAFigure(ValueError):
    """The text is neither a number nor a missing-value marker."""


def is_missing_marker(text: str) -> bool:
    return text.strip().casefold() in MISSING_MARKERS


def parse_number(value: object) -> float | None:
    """A JSON number or a numeric string as a float; a missing-value marker (or None) as None.

    Booleans, NaN, infinities and anything else are refused with NotAFigure: loading them
    would publish a figure whose meaning nobody can vouch for.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise NotAFigure(f"{value!r} is a true/false value, not a number")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise NotAFigure(f"{value!r} is too large to be a figure") from None
    elif isinstance(value, str):
        text = value.strip()
        if text.casefold() in MISSING_MARKERS:
            return None
        if _PLAIN.match(text):
            number = float(text)
        elif _GROUPED.match(text):
            number = float(text.replace(",", ""))
        else:
            raise NotAFigure(f"{value!r} is not a number")
    else:
        raise NotAFigure(f"{value!r} ({type(value).__name__}) is not a number")
    if not math.isfinite(number):
        raise NotAFigure(f"{value!r} is not a finite number")
    return number
