"""One pull from the API: metadata, then values in batches of metric types per area token.

Everything is fetched before anything is loaded, so a pull that fails half-way leaves the
warehouse as it was; the failure names every request that failed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from ingestion.lginform.client import ApiResponse, LgInformClient, LgInformError, NotAuthorised, UsageLimitExceeded
from ingestion.lginform.responses import changed_metric_types, data_rows_deduplicated, metric_type_row, period_rows

SOURCE_SYSTEM = "lginform"
RAW_TABLES = ("lginform_metric_types", "lginform_periods", "lginform_areas", "lginform_group_members", "lginform_values")
_GSS = re.compile(r"^[EWSN]\d{8}$")
T = TypeVar("T")


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
    fetched_metric_types: list[str] = field(default_factory=list)
    skipped_metric_types: list[str] = field(default_factory=list)  # unchanged since the last pull
    changed_since: date | None = None  # the dataChangedSince asked, None for a full pull
    duplicate_rows_dropped: int = 0  # identical repeated rows within a /data answer, loaded once

    def add(self, table: str, response: ApiResponse, rows: list[dict[str, Any]]) -> None:
        lineage = {"source_system": SOURCE_SYSTEM, "source_reference": response.request, "source_sha256": response.sha256}
        self.rows[table].extend({**row, **lineage} for row in rows)

    @property
    def bytes(self) -> int:
        return sum(len(r.body) for r in self.responses)


def batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def request_fingerprint(areas: Sequence[str], periods: str) -> str:
    """What a metric type was pulled for; when the configured areas or periods change, the
    remembered pulls no longer cover what is asked and the metric type is pulled again."""
    return hashlib.sha256(json.dumps({"areas": list(areas), "periods": periods}).encode()).hexdigest()[:16]


def changed_since(last_pulls: Mapping[str, datetime], metric_types: Sequence[str]) -> date | None:
    """The date to ask ``dataChangedSince`` for: one day before the oldest remembered pull of the
    configured metric types (the overlap covers a change published on the day of a pull; loading
    it again changes nothing). None when some metric type was never pulled: then all are."""
    if not metric_types or any(m not in last_pulls for m in metric_types):
        return None
    return min(last_pulls[m] for m in metric_types).date() - timedelta(days=1)


def pull_lginform(
    client: LgInformClient,
    *,
    metric_types: Sequence[str],
    areas: Sequence[str],
    periods: str,
    batch_size: int,
    last_pulls: Mapping[str, datetime] | None = None,
    full_refresh: bool = False,
) -> PullResult:
    """Pull metadata for every configured metric type and data for those that changed.

    ``last_pulls`` maps metric type -> the last successful pull (for the same areas and
    periods); with it, and without ``full_refresh``, only the metric types that
    ``/metricTypes?dataChangedSince=`` lists (or that were never pulled) get ``/data`` calls.
    """
    result = PullResult()
    failures: list[LgInformError] = []

    def fetch(path: str, params: list[tuple[str, str]], parse: Callable[[ApiResponse], T]) -> tuple[ApiResponse, T] | None:
        """One call and the parsing of its answer; a failure of either is noted, not raised,
        so that every failed request is named at the end."""
        try:
            response = client.get_json(path, params)
            parsed = parse(response)
        except (NotAuthorised, UsageLimitExceeded):
            raise  # the operator must act; more calls would only make it worse
        except LgInformError as error:
            failures.append(error)
            return None
        result.responses.append(response)
        return response, parsed

    if answer := fetch("/periods", [], period_rows):
        result.add("lginform_periods", *answer)
    null_as_zero: set[str] = set()
    for metric_type in metric_types:
        if answer := fetch(f"/metricTypes/{metric_type}", [], metric_type_row):
            response, row = answer
            if row["null_as_zero"]:
                null_as_zero.add(row["metric_type_id"])
            result.add("lginform_metric_types", response, [row])
    to_fetch = list(metric_types)
    since = None if full_refresh else changed_since(last_pulls or {}, metric_types)
    if since is not None and (answer := fetch("/metricTypes", [("dataChangedSince", since.isoformat())], changed_metric_types)):
        changed = answer[1]
        to_fetch = [m for m in metric_types if m in changed]
        result.changed_since = since
        result.skipped_metric_types = [m for m in metric_types if m not in changed]
    result.fetched_metric_types = to_fetch
    for batch in batches(to_fetch, batch_size):
        for token in areas:
            params = [("metricType", ",".join(batch)), ("area", token), ("period", periods), ("value.valueType", "raw")]
            is_group = not _GSS.match(token.split(":", 1)[0])

            def parse(response: ApiResponse, token: str = token, is_group: bool = is_group):
                return _group_not_empty(response, token, is_group, data_rows_deduplicated(response, frozenset(null_as_zero)))

            if not (answer := fetch("/data", params, parse)):
                continue
            response, (values, area_rows, duplicates) = answer
            result.duplicate_rows_dropped += duplicates
            result.add("lginform_values", response, values)
            result.add("lginform_areas", response, area_rows)
            if is_group:
                members = [{"group_id": token, "area_code": a["area_code"]} for a in area_rows]
                result.add("lginform_group_members", response, members)
    if failures:
        raise PullFailed(failures)
    return result


def _group_not_empty(response: ApiResponse, token: str, is_group: bool, parsed: T) -> T:
    """A comparison group that expands to no areas would give an empty benchmark without a
    word: refuse the answer, naming the group."""
    if is_group and not parsed[1]:
        raise LgInformError(
            response.request,
            f"comparison group {token!r} expanded to no areas: its benchmarks would be empty; "
            "check the group id in pipeline.yml (lginform.areas) and on the service",
            response.status,
        )
    return parsed
