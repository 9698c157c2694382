"""Rows of an inbox file -> canonical survey or complaint rows, each checked.

Every received row ends either accepted (a canonical row) or rejected with its problems
(column and reason): types, ranges, allowed labels, dates in order, duplicate ids within the
file. Duplicates across files are resolved in staging (the later file wins; docs/inbox.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ingestion.inbox_schema import COMPLAINT_REQUIRED, QUESTIONS, SCALES, SURVEY_REQUIRED
from ingestion.layouts import Layout, normalise_label
from ingestion.redaction import personal_data_kinds

DATE_FIELDS = frozenset({"fieldwork_start", "fieldwork_end", "received_date", "due_date", "responded_date"})
LABEL_FIELDS = frozenset(
    {"age_band", "sex", "ethnicity", "disability", "ward", "stage", "outcome", "service", "channel", "theme"}
)
ID_FIELDS = {"survey": "respondent_id", "complaint": "complaint_id"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula


@dataclass
class CheckedRow:
    row_number: int
    record: dict[str, Any]  # as received, by file column
    canonical: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # received columns the layout does not map
    problems: list[tuple[str | None, str]] = field(default_factory=list)  # (file column, reason)

    @property
    def accepted(self) -> bool:
        return not self.problems


def is_blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    )


def cell_text(value: Any) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 100234.0 from a spreadsheet is the id 100234
    return str(value).strip()


def parse_date(value: Any, formats: Sequence[str]) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for fmt in formats:
        try:
            return datetime.strptime(str(value).strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError


def check_rows(
    rows: Sequence[tuple[int, Mapping[str, Any]]], layout: Layout, vocabulary: Mapping[str, Mapping[str, str]]
) -> list[CheckedRow]:
    """Convert and check every row; a later row repeating an accepted id is a duplicate."""
    by_header = {normalise_label(c): c for c in (rows[0][1] if rows else {})}
    column_of = {f: by_header.get(normalise_label(c), c) for f, c in layout.columns.items()}
    mapped = set(column_of.values())
    id_field = ID_FIELDS[layout.kind]
    first_row_of_id: dict[str, int] = {}
    checked = []
    for row_number, record in rows:
        row = CheckedRow(
            row_number, dict(record), extra={k: v for k, v in record.items() if k not in mapped and not is_blank(v)}
        )
        if all(is_blank(v) for v in record.values()):
            row.problems.append((None, "blank row"))
        else:
            for canonical_field, column in column_of.items():
                _convert(row, canonical_field, column, record.get(column), layout, vocabulary)
            _check_rules(row, layout, column_of)
        identifier = row.canonical.get(id_field)
        if row.accepted and identifier is not None:
            if identifier in first_row_of_id:
                row.problems.append(
                    (
                        column_of[id_field],
                        f"duplicate {id_field.replace('_', ' ')} {identifier!r}: "
                        f"first seen on row {first_row_of_id[identifier]}",
                    )
                )
            else:
                first_row_of_id[identifier] = row_number
        checked.append(row)
    return checked


def _convert(
    row: CheckedRow, name: str, column: str, value: Any, layout: Layout, vocabulary: Mapping[str, Mapping[str, str]]
) -> None:
    if is_blank(value):
        row.canonical[name] = None
        return
    if name in DATE_FIELDS:
        try:
            row.canonical[name] = parse_date(value, layout.date_formats)
        except ValueError:
            row.problems.append((column, f"{value!r} is not a date ({' or '.join(layout.date_formats)})"))
    elif name == "weight":
        try:
            weight = float(str(value).strip())
        except ValueError:
            row.problems.append((column, f"weight {value!r} is not a number"))
            return
        if not math.isfinite(weight) or weight <= 0:
            row.problems.append((column, f"weight {value!r} must be a positive number"))
        row.canonical[name] = weight
    elif name in QUESTIONS:
        scale = QUESTIONS[name]
        code = layout.answers[scale].get(normalise_label(cell_text(value)))
        if code is None:
            row.problems.append(
                (column, f"answer {value!r} is not on the {scale} scale ({len(SCALES[scale])} points + don't know)")
            )
        row.canonical[name] = code
    elif name in LABEL_FIELDS:
        label = normalise_label(cell_text(value))
        translated = layout.values.get(name, {}).get(label)
        allowed = vocabulary.get(name, {})
        canonical = translated if translated is not None else allowed.get(label)
        if canonical is None:
            row.problems.append((column, f"{value!r} is not an allowed {name.replace('_', ' ')}"))
        row.canonical[name] = canonical
    else:
        text = cell_text(value)
        if name in ID_FIELDS.values():
            kinds = personal_data_kinds(text)
            if kinds:
                row.problems.append(
                    (column, f"{name.replace('_', ' ')} holds personal data ({', '.join(kinds)}), not an id")
                )
            elif text.startswith(FORMULA_START):
                row.problems.append(
                    (
                        column,
                        f"{name.replace('_', ' ')} {text!r} starts with {text[0]!r}, which a spreadsheet would run as "
                        "a formula",
                    )
                )
        row.canonical[name] = text


def _check_rules(row: CheckedRow, layout: Layout, column_of: Mapping[str, str]) -> None:
    c = row.canonical
    required = SURVEY_REQUIRED if layout.kind == "survey" else COMPLAINT_REQUIRED
    for name in required:
        if c.get(name) is None and not any(col == column_of[name] for col, _ in row.problems):
            row.problems.append((column_of[name], f"missing {name.replace('_', ' ')}"))
    if layout.kind == "survey":
        if c.get("fieldwork_start") and c.get("fieldwork_end") and c["fieldwork_end"] < c["fieldwork_start"]:
            row.problems.append((column_of["fieldwork_end"], "fieldwork ends before it starts"))
        return
    received = c.get("received_date")
    if received and c.get("responded_date") and c["responded_date"] < received:
        row.problems.append((column_of.get("responded_date"), "responded before the complaint was received"))
    if received and c.get("due_date") and c["due_date"] < received:
        row.problems.append((column_of.get("due_date"), "due before the complaint was received"))
    if c.get("responded_date") and not c.get("outcome") and "outcome" in column_of:
        row.problems.append((column_of["outcome"], "responded without an outcome"))
