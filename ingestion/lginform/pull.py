"""One pull from the API: metadata, then values in batches of metric types per area token.

Everything is fetched before anything is loaded, so a pull that fails half-way leaves the
warehouse as it was; the failure names every request that failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion.lginform.client import ApiResponse, LgInformClient, LgInformError, NotAuthorised, UsageLimitExceeded
from ingestion.lginform.responses import data_rows, metric_type_row, period_rows

SOURCE_SYSTEM = "lginform"
RAW_TABLES = ("lginform_metric_types", "lginform_periods", "lginform_areas", "lginform_group_members", "lginform_values")
_GSS = re.compile(r"^[EWSN]\d{8}$")


class PullFailed(RuntimeError):
    """Some requests failed for good; nothing from this pull was loaded."""

    def __init__(self, failures: Sequence[LgInformError]):
        self.failures = list(failures)
        listed = "\n".join(f"  - {f}" for f in self.failures)
        super().__init__(f"{len(self.failures)} request(s) failed; the warehouse was left as it was:\n{listed}")


@dataclass
class PullResult:
    responses: list[ApiResponse] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in RAW_TABLES})

    def add(self, table: str, response: ApiResponse, rows: list[dict[str, Any]]) -> None:
        lineage = {"source_system": SOURCE_SYSTEM, "source_reference": response.request, "source_sha256": response.sha256}
        self.rows[table].extend({**row, **lineage} for row in rows)

    @property
    def bytes(self) -> int:
        return sum(len(r.body) for r in self.responses)


def batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def pull_lginform(
    client: LgInformClient, *, metric_types: Sequence[str], areas: Sequence[str], periods: str, batch_size: int
) -> PullResult:
    result = PullResult()
    failures: list[LgInformError] = []

    def fetch(path: str, params: list[tuple[str, str]]) -> ApiResponse | None:
        try:
            response = client.get_json(path, params)
        except (NotAuthorised, UsageLimitExceeded):
            raise  # the operator must act; more calls would only make it worse
        except LgInformError as error:
            failures.append(error)
            return None
        result.responses.append(response)
        return response

    null_as_zero: set[str] = set()
    if response := fetch("/periods", []):
        result.add("lginform_periods", response, period_rows(response))
    for metric_type in metric_types:
        if response := fetch(f"/metricTypes/{metric_type}", []):
            row = metric_type_row(response)
            if row["null_as_zero"]:
                null_as_zero.add(row["metric_type_id"])
            result.add("lginform_metric_types", response, [row])
    for batch in batches(metric_types, batch_size):
        for token in areas:
            params = [("metricType", ",".join(batch)), ("area", token), ("period", periods), ("value.valueType", "raw")]
            if not (response := fetch("/data", params)):
                continue
            values, area_rows = data_rows(response, frozenset(null_as_zero))
            result.add("lginform_values", response, values)
            result.add("lginform_areas", response, area_rows)
            if not _GSS.match(token.split(":", 1)[0]):
                members = [{"group_id": token, "area_code": a["area_code"]} for a in area_rows]
                result.add("lginform_group_members", response, members)
    if failures:
        raise PullFailed(failures)
    return result
