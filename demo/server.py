"""A local HTTP server that speaks the LG Inform shape over the demo catalogue.

The pipeline's one client talks to it exactly as to the real service: signed URLs, one-use
signatures, the same JSON documents and error bodies. Switchable faults (rate limits, 5xx,
slow, truncated or dropped responses, bad or cut-short JSON, usage limits, and /data answers
with duplicated or reordered rows or a comparison group that expands to no areas) let tests
prove the client's and the pull's retry and failure handling against real sockets. A dialect
switch (``dialect=``, see demo.dialects) writes every answer as another implementation of the
shape would: date-times for dates, numbers as strings, markers for missing values, the
service's own unit labels, unknown fields, or a mix per response. ``revise`` serves a revised
value for one cell. Credentials are never logged or recorded.

Run standalone: ``python -m demo.server --port 8765``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.catalogue import UNITS, WARD_SUFFIX, DemoCatalogue, MetricType, build_catalogue
from demo.dialects import MIXED, SINGLE_DIALECTS, rewrite
from ingestion.lginform.signing import redact_credentials, split_signed_url, verify_signed_url

log = logging.getLogger(__name__)

FAULT_KINDS = (
    "rate_limit",
    "server_error",
    "slow",
    "truncated",
    "drop",
    "malformed_json",
    "wrong_shape",
    "usage_limit",
    "truncated_json",
    "duplicate_rows",
    "reorder_rows",
    "empty_group",
    "edit",
)
# faults that change the content of a /data (JSON) answer; on any other path the answer is unchanged
DATA_FAULTS = frozenset({"duplicate_rows", "reorder_rows", "empty_group"})
MAX_REMEMBERED_SIGNATURES = 100_000
JSON_TYPE = "application/json; charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8"

NOT_AUTHORISED = "Not authorized"
DUPLICATE_SIGNATURE = "A duplicate signature was detected"
USAGE_LIMIT = "User has exceeded allowed usage limits"
# errorCode values: 10 authorisation, 20 bad request, 30 not found, 40 rate limit, 50 server error


class ApiError(Exception):
    """An answer with an errors body: raised anywhere in a handler, sent by the dispatcher."""

    def __init__(self, status: int, message: str, error_code: int):
        super().__init__(message)
        self.status, self.message, self.error_code = status, message, error_code


def _bad_request(message: str) -> ApiError:
    return ApiError(400, message, 20)


# ---------------------------------------------------------------------------------------------
# Faults and the request record


@dataclass
class _Fault:
    kind: str
    remaining: int
    path_prefix: str | None
    params: dict[str, Any] = field(default_factory=dict)
    query_contains: str | None = None

    def matches(self, path: str, query: str) -> bool:
        return (self.path_prefix is None or path.startswith(self.path_prefix)) and (
            self.query_contains is None or self.query_contains in query
        )


class Faults:
    """Thread-safe queue of faults; each fires on a matching request until its ``times`` are used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []

    def add(
        self,
        kind: str,
        times: int = 1,
        path_prefix: str | None = None,
        *,
        query_contains: str | None = None,
        **params: Any,
    ) -> None:
        """Queue ``kind`` for the next ``times`` requests whose path starts with ``path_prefix``
        and whose query (credentials removed, as sent) contains ``query_contains``, e.g.
        ``"metricType=90101&area=E08000009"`` for one /data call of a pull."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if kind == "slow" and "seconds" not in params:
            raise ValueError("a 'slow' fault needs seconds=")
        if kind == "edit" and not callable(params.get("edit")):
            raise ValueError(
                "an 'edit' fault needs edit=<function of the JSON document returning the document to send>"
            )
        with self._lock:
            self._faults.append(_Fault(kind, times, path_prefix, params, query_contains))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        """How many firings are still queued."""
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def take(self, path: str, query: str = "") -> _Fault | None:
        """The first fault matching ``path`` and ``query``, one of its ``times`` consumed."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(path, query):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None


class RecordedRequest(NamedTuple):
    method: str
    path: str
    query: str  # with ApplicationKey and Signature removed
    status: int | None  # None when the connection was dropped without an answer


class RequestLog:
    """Thread-safe, append-only record of the requests served (credentials already removed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __getitem__(self, index: int) -> RecordedRequest:
        with self._lock:
            return self._items[index]


class _SeenSignatures:
    """Bounded memory of used signatures (oldest forgotten first)."""

    def __init__(self, limit: int = MAX_REMEMBERED_SIGNATURES):
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def first_use(self, signature: str) -> bool:
        with self._lock:
            if signature in self._seen:
                return False
            self._seen[signature] = None
            if len(self._seen) > self._limit:
                self._seen.popitem(last=False)
            return True


# ---------------------------------------------------------------------------------------------
# Documents


def _encode(document: Any) -> bytes:
    """Compact, key-order-stable JSON: equal requests give byte-identical bodies."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _errors(message: str, error_code: int) -> dict[str, Any]:
    return {"errors": [{"message": message, "errorCode": error_code}]}


def _formatted(value: float | int | None, precision: int) -> str:
    return "-" if value is None else f"{value:,.{precision}f}"


class _Api:
    """The endpoints, free of HTTP: each returns a document or raises ApiError."""

    def __init__(self, catalogue: DemoCatalogue, dialect: str = "lginform"):
        if dialect not in (*SINGLE_DIALECTS, MIXED):
            raise ValueError(f"unknown dialect {dialect!r}; expected one of {(*SINGLE_DIALECTS, MIXED)}")
        self.catalogue = catalogue
        self.dialect = dialect
        # metric id -> the real date the server published new data for it (see DemoServer.publish)
        self.published_on: dict[str, date] = {}
        # (metric id, area code, period id) -> a revised value served instead of the catalogue's
        self.revisions: dict[tuple[str, str, str], float | int | None] = {}

    def route(self, path: str, query: dict[str, str]) -> tuple[str, bytes]:
        segments = [s for s in path.split("/") if s]
        if segments and segments[-1].endswith(".json"):
            segments[-1] = segments[-1][: -len(".json")]
        match segments:
            case ["metricTypes"]:
                document = self.metric_type_list(query)
            case ["metricTypes", identifier]:
                document = self.metric_type(identifier)
            case ["areas"]:
                document = self.area_list(query)
            case ["comparisonGroups"]:
                document = self.comparison_groups(query)
            case ["periods"]:
                document = self.period_list()
            case ["data"]:
                document = self.data(query)
            case ["data.csv"]:
                return CSV_TYPE, self.data_csv(query)
            case _:
                raise ApiError(404, f"No such method: {path}", 30)
        request_key = path + "?" + "&".join(f"{k}={v}" for k, v in sorted(query.items()) if k != "nonce")
        return JSON_TYPE, _encode(rewrite(self.dialect, document, request_key))

    def value(self, metric_id: str, area_code: str, period_id: str) -> float | int | None:
        key = (metric_id, area_code, period_id)
        return self.revisions[key] if key in self.revisions else self.catalogue.value(metric_id, area_code, period_id)

    # -- metadata ------------------------------------------------------------------------------

    def _metric(self, identifier: str) -> MetricType:
        try:
            return self.catalogue.metric_types[identifier]
        except KeyError:
            raise _bad_request(f"Unknown metricType: {identifier}") from None

    def metric_type(self, identifier: str) -> dict[str, Any]:
        metric = self._metric(identifier)
        periods = self.catalogue.periods_for(identifier)
        earliest = periods[0] if periods else None
        return {
            "metricType": {
                "identifier": metric.identifier,
                "label": metric.label,
                "shortLabel": metric.short_label,
                "alternativeLabels": [],
                "helpText": metric.help_text,
                "measure": {
                    "identifier": UNITS[metric.measurement_unit_identifier].measure,
                    "measurementUnit": {"identifier": metric.measurement_unit_identifier, "label": metric.unit_label},
                },
                "dataset": {
                    "identifier": metric.dataset_identifier,
                    "periodType": {"identifier": metric.period_type, "frequency": metric.frequency},
                },
                "outputPrecision": metric.output_precision,
                "polarity": metric.polarity,
                "nullAsZero": metric.null_as_zero,
                "discontinued": metric.discontinued,
                "earliestTimePeriod": None
                if earliest is None
                else {
                    "identifier": earliest.identifier,
                    "startDate": earliest.start_date.isoformat(),
                    "endDate": earliest.end_date.isoformat(),
                },
            }
        }

    def metric_type_list(self, query: dict[str, str]) -> dict[str, Any]:
        metrics = list(self.catalogue.metric_types.values())
        if "dataset" in query:
            metrics = [m for m in metrics if m.dataset_identifier == query["dataset"]]
        if "dataChangedSince" in query:
            try:
                since = date.fromisoformat(query["dataChangedSince"])
            except ValueError:
                raise _bad_request(
                    f"dataChangedSince must be a date (YYYY-MM-DD): {query['dataChangedSince']}"
                ) from None
            changed = {m.identifier: self._changed_on(m.identifier) for m in metrics}
            metrics = [m for m in metrics if (on := changed[m.identifier]) is not None and on > since]
        return {
            "metricType-array": [
                {
                    "identifier": m.identifier,
                    "label": m.label,
                    "shortLabel": m.short_label,
                    "unitLabel": m.unit_label,
                    "measurementUnitIdentifier": m.measurement_unit_identifier,
                }
                for m in metrics
            ]
        }

    def _changed_on(self, identifier: str) -> date | None:
        dates = [d for d in (self.catalogue.data_changed_on(identifier), self.published_on.get(identifier)) if d]
        return max(dates) if dates else None

    def area_list(self, query: dict[str, str]) -> dict[str, Any]:
        text = query.get("searchText", "").casefold()
        return {
            "area-array": [
                {"identifier": a.identifier, "label": a.label, "shortLabel": a.short_label}
                for a in (*self.catalogue.areas.values(), *self.catalogue.wards.values())
                if not text or text in a.label.casefold() or text in a.identifier.casefold()
            ]
        }

    def comparison_groups(self, query: dict[str, str]) -> dict[str, Any]:
        groups = list(self.catalogue.comparison_groups.values())
        for name, keep in (("ownerArea", lambda g, a: g.owner_area == a), ("memberArea", lambda g, a: a in g.members)):
            if name in query:
                if query[name] not in self.catalogue.areas:
                    raise _bad_request(f"Unknown {name}: {query[name]}")
                groups = [g for g in groups if keep(g, query[name])]
        return {
            "comparisonGroup-array": [
                {"identifier": g.identifier, "label": g.label, "ownerArea": g.owner_area, "memberCount": len(g.members)}
                for g in groups
            ]
        }

    def period_list(self) -> dict[str, Any]:
        return {
            "period-array": [
                {
                    "identifier": p.identifier,
                    "label": p.label,
                    "startDate": p.start_date.isoformat(),
                    "endDate": p.end_date.isoformat(),
                    "periodType": p.period_type,
                }
                for p in self.catalogue.periods.values()
            ]
        }

    # -- data ----------------------------------------------------------------------------------

    def _data_request(self, query: dict[str, str]) -> tuple[list[tuple[MetricType, str]], list[str]]:
        """(columns as (metric, period id), area codes) of a /data request, validated."""
        for name in ("metricType", "area", "period"):
            if not query.get(name, "").strip():
                raise _bad_request(f"Missing required parameter: {name}")
        value_type = query.get("value.valueType", "raw")
        if value_type != "raw":
            raise _bad_request(f"Unsupported value.valueType: {value_type} (the demo serves raw)")
        metrics = [self._metric(i) for i in _split(query["metricType"])]

        areas: dict[str, None] = {}  # ordered set: group members expanded, duplicates dropped
        for token in _split(query["area"]):
            council, _, ward_suffix = token.partition(":")
            try:
                if ward_suffix:
                    if f":{ward_suffix}" != WARD_SUFFIX:
                        raise KeyError(token)
                    areas.update(dict.fromkeys(self.catalogue.wards_of(council)))
                else:
                    areas.update(dict.fromkeys(self.catalogue.areas_for_group_or_code(token)))
            except KeyError:
                raise _bad_request(f"Unknown area or comparison group: {token}") from None

        period = query["period"].strip()
        if period == "latest" or period.startswith("latest:"):
            count_text = period.partition(":")[2] or "1"
            if not count_text.isdigit() or int(count_text) < 1:
                raise _bad_request(f"Bad period: {period} (expected latest or latest:N, N >= 1)")
            count = int(count_text)
            columns = [(m, p.identifier) for m in metrics for p in self.catalogue.periods_for(m.identifier)[-count:]]
        else:
            period_ids = _split(period)
            for period_id in period_ids:
                if period_id not in self.catalogue.periods:
                    raise _bad_request(f"Unknown period: {period_id}")
            columns = [(m, p) for m in metrics for p in period_ids]
        return columns, list(areas)

    def data(self, query: dict[str, str]) -> dict[str, Any]:
        columns, area_codes = self._data_request(query)
        periods = self.catalogue.periods
        return {
            "columns": [
                {
                    "metricType": {"identifier": m.identifier, "label": m.label},
                    "period": {"identifier": p, "label": periods[p].label},
                    "valueType": {"identifier": "raw", "label": "Raw value"},
                }
                for m, p in columns
            ],
            "rows": [
                {
                    "area": {"identifier": code, "label": self.catalogue.area(code).label},
                    "values": [self._cell(m, code, p) for m, p in columns],
                }
                for code in area_codes
            ],
        }

    def _cell(self, metric: MetricType, area_code: str, period_id: str) -> dict[str, Any]:
        value = self.value(metric.identifier, area_code, period_id)
        return {
            "value": value,
            "formatted": _formatted(value, metric.output_precision),
            "source": metric.source,
            "confidenceIntervalLower": None,
            "confidenceIntervalUpper": None,
            "publicationStatus": "Published",
        }

    def data_csv(self, query: dict[str, str]) -> bytes:
        """rowGrouping=area, columnGrouping=period, one metric type: the flat table LG Inform exports."""
        for name, expected in (("rowGrouping", "area"), ("columnGrouping", "period")):
            if query.get(name, expected) != expected:
                raise _bad_request(f"Unsupported {name}: {query[name]} (the demo serves {name}={expected})")
        columns, area_codes = self._data_request(query)
        if len({m.identifier for m, _ in columns}) > 1:
            raise _bad_request("data.csv takes exactly one metricType")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(
            ["area", "area label", "area long label", *(self.catalogue.periods[p].label for _, p in columns)]
        )
        for code in area_codes:
            area = self.catalogue.area(code)
            values = [self.value(m.identifier, code, p) for m, p in columns]
            writer.writerow([code, area.short_label, area.label, *("" if v is None else v for v in values)])
        return buffer.getvalue().encode("utf-8")


def _alter_data(document: dict[str, Any], kind: str, params: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """A /data document as a faulty service might send it.

    ``duplicate_rows``: the first ``count`` rows (default 1) are sent twice, the copies right
    after the originals; with ``conflicting=True`` each copy's numeric values are changed (+1).
    ``reorder_rows``: the rows in reverse order (each row keeps its own cells).
    ``empty_group``: a comparison group in ``area`` (or the one named ``group=``) expands to
    no areas; the area codes asked for by GSS code are still answered.
    """
    rows = document["rows"]
    if kind == "duplicate_rows":
        count = int(params.get("count", 1))
        copies = json.loads(json.dumps(rows[:count]))
        if params.get("conflicting"):
            for row in copies:
                for cell in row["values"]:
                    if isinstance(cell.get("value"), (int, float)):
                        cell["value"] += 1
                        cell["formatted"] = f"{cell['value']}"
        document["rows"] = [*rows[:count], *copies, *rows[count:]]
    elif kind == "reorder_rows":
        document["rows"] = list(reversed(rows))
    elif kind == "empty_group":
        tokens = _split(query.get("area", ""))
        group = params.get("group")
        groups = [t for t in tokens if (t == group if group else not _is_gss(t))]
        if groups:
            asked = {t for t in tokens if _is_gss(t)}
            document["rows"] = [r for r in rows if r["area"]["identifier"] in asked]
    return document


def _is_gss(token: str) -> bool:
    return len(token) == 9 and token[0] in "EWSN" and token[1:].isdigit()


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


# ---------------------------------------------------------------------------------------------
# HTTP


@dataclass(frozen=True)
class _Reply:
    status: int | None  # None: drop the connection without an answer
    content_type: str = JSON_TYPE
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    truncate: bool = False  # announce the full length, send half, close


def _error_reply(status: int, message: str, error_code: int, headers: tuple[tuple[str, str], ...] = ()) -> _Reply:
    return _Reply(status, JSON_TYPE, _encode(_errors(message, error_code)), headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY each keep-alive request
    # waits ~40 ms for the client's delayed ACK
    disable_nagle_algorithm = True
    server: _HttpServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        demo = self.server.demo
        redacted = redact_credentials(self.path)
        path, _, public_query = redacted.partition("?")
        try:
            self._authenticate()
            reply = self._reply(
                path, dict(parse_qsl(public_query, keep_blank_values=True)), demo.faults.take(path, public_query)
            )
        except ApiError as error:
            reply = _error_reply(error.status, error.message, error.error_code)
        demo.requests.append(
            RecordedRequest("GET", path, public_query, reply.status)
        )  # before sending: tests read it at once
        log.info("GET %s -> %s", redacted, reply.status if reply.status is not None else "dropped")
        self._send(reply)

    def _authenticate(self) -> None:
        demo = self.server.demo
        query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        if query.get("ApplicationKey") != demo.application_key:
            raise ApiError(401, NOT_AUTHORISED, 10)
        url = f"http://{self.headers.get('Host', '')}{self.path}"
        if not verify_signed_url(url, demo.secret):
            raise ApiError(401, NOT_AUTHORISED, 10)
        _, signature = split_signed_url(url)
        if not demo.seen_signatures.first_use(signature or ""):
            raise ApiError(401, DUPLICATE_SIGNATURE, 10)

    def _reply(self, path: str, query: dict[str, str], fault: _Fault | None) -> _Reply:
        """The answer to an authenticated request, or the fault that fired on it."""
        kind, params = (fault.kind, fault.params) if fault else (None, {})
        if kind == "slow":
            time.sleep(float(params["seconds"]))
        elif kind == "rate_limit":
            return _error_reply(429, "Too many requests", 40, (("Retry-After", str(params.get("retry_after", 1))),))
        elif kind == "server_error":
            return _error_reply(int(params.get("status", 503)), "The service is temporarily unavailable", 50)
        elif kind == "usage_limit":
            return _error_reply(401, USAGE_LIMIT, 10)
        elif kind == "drop":
            return _Reply(None)
        elif kind == "malformed_json":
            return _Reply(200, JSON_TYPE, b'{"columns": [{"metricType": <html>Service Unavailable</html>')
        elif kind == "wrong_shape":
            return _Reply(200, JSON_TYPE, _encode({"unexpected": []}))
        content_type, body = self.server.demo.api.route(path, query)
        if kind == "truncated_json":  # a complete HTTP answer (its own length announced) whose JSON is cut short
            return _Reply(200, content_type, body[: len(body) // 2])
        if (
            kind == "edit" and content_type == JSON_TYPE
        ):  # any change a test needs, on the document as the dialect wrote it
            body = _encode(params["edit"](json.loads(body)))
        if (
            kind in DATA_FAULTS
            and content_type == JSON_TYPE
            and path.rstrip("/").removesuffix(".json").endswith("/data")
        ):
            body = _encode(_alter_data(json.loads(body), kind, params, query))
        return _Reply(200, content_type, body, truncate=kind == "truncated")

    def _send(self, reply: _Reply) -> None:
        if reply.status is not None:
            body = reply.body[: len(reply.body) // 2] if reply.truncate else reply.body
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                self.close_connection = True
                return
        if reply.status is None or reply.truncate:
            self._close_now()

    def _close_now(self) -> None:
        """Close the connection at once: the client sees a reset or a short read."""
        self.close_connection = True
        self.wfile.flush()
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # http.server's own logging would print the request line, credentials included
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        log.debug(
            "%s %s: %s", self.command, redact_credentials(getattr(self, "path", "")), "http.server message suppressed"
        )


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    demo: DemoServer


class DemoServer:
    """The demo LG Inform service on a local port, in a daemon thread; use as a context manager."""

    def __init__(
        self,
        catalogue: DemoCatalogue | None = None,
        *,
        application_key: str = DEMO_APPLICATION_KEY,
        secret: str = DEMO_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
        dialect: str = "lginform",
    ):
        self.catalogue = catalogue or build_catalogue()
        self.application_key = application_key
        self.secret = secret
        self.api = _Api(self.catalogue, dialect)
        self.faults = Faults()
        self.requests = RequestLog()
        self.seen_signatures = _SeenSignatures()
        self._host, self._port = host, port
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def dialect(self) -> str:
        return self.api.dialect

    @dialect.setter
    def dialect(self, dialect: str) -> None:
        """Switch the dialect of every later answer (see demo.dialects)."""
        if dialect not in (*SINGLE_DIALECTS, MIXED):
            raise ValueError(f"unknown dialect {dialect!r}; expected one of {(*SINGLE_DIALECTS, MIXED)}")
        self.api.dialect = dialect

    def revise(
        self, metric_id: str, area_code: str, period_id: str, value: float | int | None, *, on: date | None = None
    ) -> None:
        """Serve ``value`` for one cell from now on, as the service does when it revises a
        published figure; ``dataChangedSince`` lists the metric type from ``on`` (default today)."""
        self.catalogue.value(metric_id, area_code, period_id)  # KeyError for a cell the catalogue does not have
        self.api.revisions[(metric_id, area_code, period_id)] = value
        self.api.published_on[metric_id] = on or date.today()

    def publish(self, as_of: date, *, on: date | None = None) -> list[str]:
        """Move the catalogue on to ``as_of`` as if the service published it today (or ``on``).

        The metric types whose visible data changed are reported by ``dataChangedSince`` from
        that real date on, so an incremental client (whose clock is the real one) sees them.
        Returns their ids.
        """
        before = self.catalogue
        after = build_catalogue(as_of=as_of)
        changed = [m for m in after.metric_types if before.data_changed_on(m) != after.data_changed_on(m)]
        self.catalogue = self.api.catalogue = after
        for metric in changed:
            self.api.published_on[metric] = on or date.today()
        return changed

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the demo server is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> DemoServer:
        if self._httpd is not None:
            return self
        self._httpd = _HttpServer((self._host, self._port), _Handler)
        self._httpd.demo = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="demo-lginform", daemon=True
        )
        self._thread.start()
        log.info("demo LG Inform server listening on %s", self.url)
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd, self._thread = None, None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the demo LG Inform-style API locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="show the catalogue as published on this date"
    )
    parser.add_argument(
        "--dialect",
        choices=(*SINGLE_DIALECTS, MIXED),
        default="lginform",
        help="how the answers are written (demo/dialects.py); mixed: a dialect per response",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    catalogue = build_catalogue(as_of=args.as_of) if args.as_of else build_catalogue()
    with DemoServer(catalogue, host=args.host, port=args.port, dialect=args.dialect) as server:
        print(
            f"Demo LG Inform API on {server.url} (credentials: demo.DEMO_APPLICATION_KEY / demo.DEMO_SECRET). "
            "Ctrl-C stops.",
            flush=True,
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping", flush=True)


if __name__ == "__main__":
    main()
