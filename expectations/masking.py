"""What the auditor's quality folder shows of a personal column (``personal_data.yml``).

The folder sits beside the open data, so nothing in it may name or describe a person: an
identifier is shown as its keyed pseudonym (``lgperf/pseudonyms.py``: the same id, the same
pseudonym, run after run), a demographic or free-text value as a marker saying what was
removed. A missing value stays missing (that a value is absent is not personal). The rows as
found stay in the warehouse's audit schema (``audit.failing_rows``, ``audit.validation_results``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from expectations.personal import NONE, Personal
from lgperf.pseudonyms import pseudonym

REMOVED = {
    "demographics": "[removed: demographic]",
    "free_text": "[removed: free text]",
    # the rows of a blocked aggregate are not disclosure-controlled: its counts stay in the warehouse
    "counts_of_people": "[removed: count of people]",
}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("NaT", "<NA>")


@dataclass(frozen=True)
class Mask:
    key: bytes
    personal: Personal = NONE

    def value(self, column: str | None, value: Any) -> Any:
        kind = self.personal.kind(column)
        if kind is None or _missing(value):
            return value
        if isinstance(value, (list, tuple)):
            return [self.value(column, v) for v in value]
        return pseudonym(self.key, value) if kind == "identifiers" else REMOVED[kind]

    def row(self, row: dict[str, Any]) -> dict[str, Any]:
        return {column: self.value(column, value) for column, value in row.items()}

    def sample(self, kwargs: dict[str, Any], sample: list[Any]) -> list[Any]:
        """A failing sample: values of the checked column, or rows of a multi-column check."""
        masked = [
            self.row(item) if isinstance(item, dict) else self.value(kwargs.get("column"), item) for item in sample
        ]
        distinct = {json.dumps(item, sort_keys=True, default=str): item for item in masked}
        return list(distinct.values())

    def observed(self, kwargs: dict[str, Any], observed: Any) -> Any:
        """An observed value: a statistic of the checked column, masked when that column is personal."""
        if isinstance(observed, dict):
            return self.row(observed)
        return self.value(kwargs.get("column"), observed)
