"""One pull from the API: metadata, then values in batches of metric types per area token.

Everything is fetched before anything is loaded. Failures come in two kinds:

- A failure that affects everything stops the pull at once and nothing is loaded: the key or
  secret refused (401), the usage allowance spent, the service down (transient failures that
  outlast the retry policy), or a ``/periods`` answer that cannot be read at all.
- An answer that cannot be understood (not JSON, the wrong shape, a refused value or grid, an
  unknown metric type) fails only the metric types it was for: their rows from this pull are
  set aside, their sync state does not advance (so the next pull asks again), the request and
  the reason go to ``audit.api_requests``, and the other metric types load.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from ingestion.lginform.client import (
    ApiResponse,
    LgInformClient,
    LgInformError,
    NotAuthorised,
    ResponseNotUnderstood,
    ServiceUnavailable,
    UsageLimitExceeded,
)
from ingestion.lginform.responses import (
    DataAsked,
    changed_metric_types,
    data_rows_deduplicated,
    metric_type_row,
    period_rows,
)

SOURCE_SYSTEM = "lginform"
RAW_TABLES = (
    "lginform_metric_types",
    "lginform_periods",
    "lginform_areas",
    "lginform_group_members",
    "lginform_values",
)
_GSS = re.compile(r"^[EWSN]\d{8}$")
T = TypeVar("T")


class PullStopped(RuntimeError):
    """A failure that affects every metric type: nothing from this pull was loaded."""

    def __init__(self, cause: LgInformError, what: str):
        self.cause = cause
        super().__init__(f"{what}; nothing from this pull was loaded: {cause}")


@dataclass(frozen=True)
class RefusedAnswer:
    """A request whose answer failed; its metric types fall behind until a later pull."""

    request: str
    reason: str
    metric_types: tuple[str, ...]


@dataclass
class PullResult:
    responses: list[ApiResponse] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in RAW_TABLES})
    fetched_metric_types: list[str] = field(default_factory=list)  # pulled whole: their sync state advances
    skipped_metric_types: list[str] = field(default_factory=list)  # unchanged since the last pull
    changed_since: date | None = None  # the dataChangedSince asked, None for a full pull
    duplicate_rows_dropped: int = 0  # identical repeated rows within a /data answer, loaded once
    refused: list[RefusedAnswer] = field(default_factory=list)
    refused_periods: dict[str, str] = field(default_factory=dict)  # period id -> why its /periods entry was refused
    notes: list[str] = field(default_factory=list)  # what the operator should know, in plain words

    def add(self, table: str, response: ApiResponse, rows: list[dict[str, Any]]) -> None:
        lineage = {
            "source_system": SOURCE_SYSTEM,
            "source_reference": response.request,
            "source_sha256": response.sha256,
        }
        self.rows[table].extend({**row, **lineage} for row in rows)

    @property
    def bytes(self) -> int:
        return sum(len(r.body) for r in self.responses)

    @property
    def behind(self) -> dict[str, list[str]]:
        """metric type -> why it did not load in this pull (one reason per refused answer)."""
        reasons: dict[str, list[str]] = {}
        for refused in self.refused:
            for metric_type in refused.metric_types:
                reasons.setdefault(metric_type, []).append(f"{refused.reason} [request: {refused.request}]")
        return reasons


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
    Raises PullStopped (or NotAuthorised / UsageLimitExceeded) when nothing can be loaded.
    """
    result = PullResult()

    def refuse(request: str, reason: str, for_metric_types: Sequence[str]) -> None:
        client.record_refusal(request, reason, for_metric_types)
        result.refused.append(RefusedAnswer(request, reason, tuple(for_metric_types)))

    def fetch(
        path: str, params: list[tuple[str, str]], parse: Callable[[ApiResponse], T], for_metric_types: Sequence[str]
    ) -> tuple[ApiResponse, T] | None:
        """One call and the reading of its answer. A failure that affects everything raises; a
        refused answer is noted against ``for_metric_types`` and None returned. Every answer
        received whole is archived, understood or not, so that its refusal can be checked."""
        try:
            response = client.get_json(path, params)
        except (NotAuthorised, UsageLimitExceeded):
            raise  # the operator must act; more calls would only make it worse
        except ServiceUnavailable as error:
            raise PullStopped(error, "the service did not answer within the retry policy") from None
        except LgInformError as error:
            if isinstance(error, ResponseNotUnderstood) and error.body is not None:
                result.responses.append(_unreadable_answer(path, error))
            refuse(error.request, _reason(error), for_metric_types)
            return None
        result.responses.append(response)
        try:
            return response, parse(response)
        except LgInformError as error:
            refuse(error.request, _reason(error), for_metric_types)
            return None

    answer = fetch("/periods", [], period_rows, metric_types)
    if answer is None:
        refused = result.refused[-1]
        raise PullStopped(LgInformError(refused.request, refused.reason), "the list of periods could not be read")
    response, reading = answer
    result.add("lginform_periods", response, reading.rows)
    result.refused_periods = dict(reading.refused)
    if reading.refused:
        result.notes.append(
            f"/periods: {len(reading.refused)} period(s) refused, their values are refused too: "
            + "; ".join(f"{p}: {why}" for p, why in reading.refused.items())
        )

    null_as_zero: set[str] = set()
    described: list[str] = []
    for metric_type in metric_types:
        if answer := fetch(f"/metricTypes/{metric_type}", [], metric_type_row, [metric_type]):
            response, row = answer
            if row["metric_type_id"] != metric_type:
                refuse(
                    response.request,
                    f"asked for metric type {metric_type}, the answer describes {row['metric_type_id']}",
                    [metric_type],
                )
                continue
            if row["null_as_zero"]:
                null_as_zero.add(metric_type)
            result.add("lginform_metric_types", response, [row])
            described.append(metric_type)

    to_fetch = described
    since = None if full_refresh else changed_since(last_pulls or {}, metric_types)
    if since is not None:
        changes = fetch("/metricTypes", [("dataChangedSince", since.isoformat())], changed_metric_types, [])
        if changes is None:
            result.notes.append(
                f"the list of metric types changed since {since} could not be read "
                f"({result.refused.pop().reason}); every metric type was pulled instead"
            )
        else:
            changed = changes[1]
            to_fetch = [m for m in described if m in changed]
            result.changed_since = since
            result.skipped_metric_types = [m for m in described if m not in changed]

    for batch in batches(to_fetch, batch_size):
        asked = DataAsked(metric_types=frozenset(batch), refused_periods=result.refused_periods)
        for token in areas:
            params = [("metricType", ",".join(batch)), ("area", token), ("period", periods), ("value.valueType", "raw")]
            is_group = not _GSS.match(token.split(":", 1)[0])

            def parse(response: ApiResponse, token: str = token, is_group: bool = is_group, asked: DataAsked = asked):
                return _group_not_empty(
                    response, token, is_group, data_rows_deduplicated(response, frozenset(null_as_zero), asked)
                )

            if not (answer := fetch("/data", params, parse, batch)):
                continue
            response, (values, area_rows, duplicates) = answer
            result.duplicate_rows_dropped += duplicates
            result.add("lginform_values", response, values)
            result.add("lginform_areas", response, area_rows)
            if is_group:
                members = [{"group_id": token, "area_code": a["area_code"]} for a in area_rows]
                result.add("lginform_group_members", response, members)

    _set_aside_behind(result, to_fetch)
    return result


def _set_aside_behind(result: PullResult, fetched: Sequence[str]) -> None:
    """A metric type with any refused answer loads nothing from this pull: half its areas would
    make a benchmark of half a group. Areas and group members learnt from good answers stay."""
    behind = set(result.behind)
    result.fetched_metric_types = [m for m in fetched if m not in behind]
    for table in ("lginform_metric_types", "lginform_values"):
        result.rows[table] = [r for r in result.rows[table] if r["metric_type_id"] not in behind]


def _reason(error: LgInformError) -> str:
    return str(error).split(" [request: ")[0]


def _unreadable_answer(path: str, error: ResponseNotUnderstood) -> ApiResponse:
    """A body that is not JSON, kept as received for the archive (it has no document)."""
    body = error.body or b""
    return ApiResponse(
        endpoint=path,
        request=error.request,
        status=error.status or 200,
        body=body,
        sha256=hashlib.sha256(body).hexdigest(),
        attempts=1,
        fetched_at=datetime.now(UTC),
        document=None,
    )


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
