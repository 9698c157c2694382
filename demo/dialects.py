"""The ways other implementations of the LG Inform shape write the same answer.

The demo server writes LG Inform's own dialect by default (plain dates, JSON numbers, null for
no value, the demo's unit labels). Each other dialect rewrites a document as one real variant
does, without changing what it means; ``mixed`` picks one per response (by a hash of the
request, so a run is repeatable). The client must read every one of them to the same rows:
the next dialect met in the wild is one entry here away from a test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

Document = dict[str, Any]

# How a .NET service names the demo's units: the service's own words and case.
SERVICE_UNIT_LABELS = {
    "%": "Percentage",
    "count": "Number",
    "score": "Score",
    "days": "Days",
    "years": "Years",
    "£ per head": "£ Per Head",
    "£ per household": "£ per Household",
    "£ per dwelling": "£ per Dwelling",
    "kg per household": "Kg per household",
    "tonnes CO2 per head": "Tonnes CO2 per Head",
    "per 1,000": "Rate per 1,000",
    "per 10,000": "Rate per 10,000",
    "per 100,000": "Per 100,000 population",
    "points": "Points",
}
SUPPRESSION_MARKERS = ("c", "[c]", "*", "..", "[x]")


def _walk_periods(document: Document, rewrite: Callable[[dict[str, Any]], None]) -> Document:
    """Apply ``rewrite`` to every object carrying startDate/endDate (periods, earliestTimePeriod)."""
    for period in document.get("period-array", []):
        rewrite(period)
    earliest = document.get("metricType", {}).get("earliestTimePeriod")
    if isinstance(earliest, dict):
        rewrite(earliest)
    return document


def _bounds(start_suffix: str, end: Callable[[date], str]) -> Callable[[Document], Document]:
    def rewrite(period: dict[str, Any]) -> None:
        period["startDate"] = period["startDate"] + start_suffix
        period["endDate"] = end(date.fromisoformat(period["endDate"]))

    return lambda document: _walk_periods(document, rewrite)


def _cells(document: Document, rewrite: Callable[[dict[str, Any], int], None]) -> Document:
    position = 0
    for row in document.get("rows", []):
        for cell in row.get("values", []):
            rewrite(cell, position)
            position += 1
    return document


def _string_numbers(document: Document) -> Document:
    def rewrite(cell: dict[str, Any], _: int) -> None:
        if isinstance(cell.get("value"), (int, float)):
            cell["value"] = repr(cell["value"]) if isinstance(cell["value"], float) else str(cell["value"])

    metric = document.get("metricType")
    if isinstance(metric, dict):
        metric["outputPrecision"] = str(metric["outputPrecision"])
        metric["nullAsZero"] = str(metric["nullAsZero"]).lower()
        metric["discontinued"] = str(metric["discontinued"]).lower()
    return _cells(document, rewrite)


def _blank_missing(document: Document) -> Document:
    def rewrite(cell: dict[str, Any], _: int) -> None:
        if cell.get("value") is None:
            cell["value"], cell["formatted"] = "", ""

    return _cells(document, rewrite)


def _suppression_markers(document: Document) -> Document:
    def rewrite(cell: dict[str, Any], position: int) -> None:
        if cell.get("value") is None:  # the marker varies with the cell's place in the answer
            cell["value"] = SUPPRESSION_MARKERS[position % len(SUPPRESSION_MARKERS)]
            cell.pop("formatted", None)

    return _cells(document, rewrite)


def _service_words(document: Document) -> Document:
    """Unit labels, polarity and frequency in the service's own words and case."""
    metric = document.get("metricType")
    if isinstance(metric, dict):
        unit = metric["measure"]["measurementUnit"]
        unit["label"] = SERVICE_UNIT_LABELS.get(unit["label"], unit["label"])
        metric["polarity"] = metric["polarity"].upper() if metric["polarity"] else metric["polarity"]
        period_type = metric["dataset"]["periodType"]
        period_type["frequency"] = period_type["frequency"].lower()
    for summary in document.get("metricType-array", []):
        summary["unitLabel"] = SERVICE_UNIT_LABELS.get(summary["unitLabel"], summary["unitLabel"])
    return document


def _extra_fields(document: Document) -> Document:
    """Fields this reader does not know, at every level, and optional labels left out."""
    document["_links"] = {"self": {"href": "/same"}}
    document["apiVersion"] = "2.1"
    metric = document.get("metricType")
    if isinstance(metric, dict):
        metric["sortOrder"] = 3
        metric.pop("shortLabel", None)
        metric["measure"]["measurementUnit"]["symbol"] = None
    for period in document.get("period-array", []):
        period["isCurrent"] = False
        period.pop("periodType", None)
    for column in document.get("columns", []):
        column["metricType"].pop("label", None)
        column["period"]["startDate"] = None
    for row in document.get("rows", []):
        row["area"]["areaType"] = {"identifier": "LA"}
        for cell in row.get("values", []):
            cell["note"] = None
    return document


DIALECTS: dict[str, Callable[[Document], Document]] = {
    "lginform": lambda document: document,
    # .NET date-times: the end at the last second of its day
    "datetimes": _bounds("T00:00:00", lambda end: f"{end.isoformat()}T23:59:59"),
    # an end at midnight of the day after, in UTC
    "datetimes_next_midnight": _bounds("T00:00:00Z", lambda end: f"{(end + timedelta(days=1)).isoformat()}T00:00:00Z"),
    # with an offset and .NET's seven-digit fractions
    "datetimes_offset": _bounds("T00:00:00.0000000+01:00", lambda end: f"{end.isoformat()}T23:59:59.9999999+01:00"),
    # a plain date written as a .NET DateTime (midnight of the day itself), no seconds
    "dates_at_midnight": _bounds("T00:00", lambda end: f"{end.isoformat()}T00:00"),
    "string_numbers": _string_numbers,
    "blank_missing": _blank_missing,
    "suppression_markers": _suppression_markers,
    "service_words": _service_words,
    "extra_fields": _extra_fields,
}
SINGLE_DIALECTS = tuple(DIALECTS)
MIXED = "mixed"


def rewrite(dialect: str, document: Document, request_key: str) -> Document:
    """``document`` as ``dialect`` writes it; ``mixed`` picks a dialect per request."""
    if dialect == MIXED:
        digest = hashlib.sha256(request_key.encode("utf-8")).digest()
        dialect = SINGLE_DIALECTS[digest[0] % len(SINGLE_DIALECTS)]
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {(*SINGLE_DIALECTS, MIXED)}")
    return DIALECTS[dialect](document)
