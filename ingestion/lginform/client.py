"""HTTP client for the LG Inform (ESD web services) API.

Each attempt is signed afresh (the service refuses a reused signature), so retries wrap the
sign-and-send step with tenacity rather than urllib3's adapter-level Retry, which would resend
the same signed URL. Transient answers (429 with Retry-After, 5xx, resets, timeouts, truncated
bodies) back off exponentially with jitter, bounded in attempts and total time; 401 and usage
limits stop at once with a message for the operator. Credentials never leave this module: every
URL that is logged, stored or raised is redacted.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from ingestion.lginform.signing import build_url, redact_credentials, sign_url

log = logging.getLogger(__name__)


class _RedactSignedUrls(logging.Filter):
    """urllib3 logs each request line at DEBUG; strip the key and signature from it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact_credentials(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_credentials(record.msg)
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactSignedUrls())

NONCE_PARAM = "nonce"


class LgInformError(RuntimeError):
    """A request failed for good; the message names the request (credentials removed)."""

    def __init__(self, request: str, message: str, status: int | None = None):
        super().__init__(f"{message} [request: {request}]")
        self.request = request
        self.status = status


class NotAuthorised(LgInformError):
    """401: wrong key or secret. Not retried."""


class UsageLimitExceeded(LgInformError):
    """The organisation's monthly or daily allowance is used up. Not retried."""


class ServiceUnavailable(LgInformError):
    """Transient failures (429, 5xx, resets, timeouts) outlasted the retry policy: the service
    is down or refusing us, so the whole pull stops rather than spend the allowance."""


class ResponseNotUnderstood(LgInformError):
    """The body is not JSON, or JSON of the wrong shape: never loaded as empty. ``body`` keeps
    the bytes received, so that the refused answer can be archived beside its reason."""

    def __init__(self, request: str, message: str, status: int | None = None, body: bytes | None = None):
        super().__init__(request, message, status)
        self.body = body


class _Transient(Exception):
    """A retryable answer; carries the server's Retry-After when it gave one."""

    def __init__(self, request: str, status: int | None, detail: str, retry_after: float | None = None):
        super().__init__(f"{detail} [request: {request}]")
        self.request = request
        self.status = status
        self.retry_after = retry_after


TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
TRANSIENT_EXCEPTIONS = (
    _Transient,
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True)
class ApiResponse:
    """One successful answer with what the raw layer keeps about it."""

    endpoint: str
    request: str  # redacted URL, nonce removed: stable across runs
    status: int
    body: bytes
    sha256: str
    attempts: int
    fetched_at: datetime
    document: Any = field(repr=False)

    def body_gzip(self) -> bytes:
        # mtime=0 keeps the compressed bytes stable for the same body
        return gzip.compress(self.body, mtime=0)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    max_total_seconds: float = 120.0
    initial_backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0


class LgInformClient:
    """Signed, retried GETs against an LG Inform-shaped API."""

    def __init__(
        self,
        base_url: str,
        application_key: str,
        secret: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        retry: RetryPolicy = RetryPolicy(),
        session: requests.Session | None = None,
    ):
        if not application_key or not secret:
            raise ValueError("LG Inform credentials are missing: set LGINFORM_APPLICATION_KEY and LGINFORM_SECRET")
        self.base_url = base_url.rstrip("/")
        self._key = application_key
        self._secret = secret
        self._timeout = (connect_timeout, read_timeout)
        self._retry = retry
        self._session = session or requests.Session()
        self._nonce_prefix = uuid.uuid4().hex[:12]
        self._counter = itertools.count(1)
        self.request_log: list[dict[str, Any]] = []

    def __repr__(self) -> str:  # never show the credentials
        return f"LgInformClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def get_json(self, path: str, params: list[tuple[str, str]]) -> ApiResponse:
        """GET ``path`` with ``params``; return the parsed JSON with its raw body and hash."""
        stable_request = build_url(self.base_url, path, params)
        attempts = 0

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, _Transient) and error.retry_after is not None:
                return min(error.retry_after, self._retry.max_total_seconds)  # the server knows best
            return wait_exponential_jitter(
                initial=self._retry.initial_backoff_seconds, max=self._retry.max_backoff_seconds
            )(state)

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning("retrying after attempt %d: %s", state.attempt_number, _describe(error, stable_request))

        retrying = Retrying(
            retry=retry_if_exception_type(TRANSIENT_EXCEPTIONS),
            wait=wait,
            stop=stop_after_attempt(self._retry.max_attempts) | stop_after_delay(self._retry.max_total_seconds),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    response = self._send_once(path, params, stable_request)
        except TRANSIENT_EXCEPTIONS as error:
            self._record(
                stable_request, getattr(error, "status", None), attempts, None, _describe(error, stable_request)
            )
            raise ServiceUnavailable(
                stable_request,
                f"gave up after {attempts} attempts: {_describe(error, stable_request)}",
                getattr(error, "status", None),
            ) from None
        except LgInformError as error:
            self._record(stable_request, error.status, attempts, None, str(error))
            raise

        body = response.content
        digest = hashlib.sha256(body).hexdigest()
        try:
            document = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._record(stable_request, response.status_code, attempts, digest, "body is not valid JSON")
            raise ResponseNotUnderstood(
                stable_request,
                f"the body is not valid JSON ({exc.__class__.__name__}: {exc})",
                response.status_code,
                body,
            ) from None
        self._record(stable_request, response.status_code, attempts, digest, None, len(body))
        return ApiResponse(
            endpoint=path,
            request=stable_request,
            status=response.status_code,
            body=body,
            sha256=digest,
            attempts=attempts,
            fetched_at=datetime.now(UTC),
            document=document,
        )

    def _send_once(self, path: str, params: list[tuple[str, str]], stable_request: str) -> requests.Response:
        nonce = f"{self._nonce_prefix}{next(self._counter)}"
        url = sign_url(self.base_url, path, [*params, (NONCE_PARAM, nonce)], self._key, self._secret)
        response = self._session.get(url, timeout=self._timeout)
        status = response.status_code
        if status == 200:
            return response
        message = _error_message(response)
        if status in TRANSIENT_STATUSES:
            raise _Transient(stable_request, status, f"HTTP {status}: {message}", _retry_after(response))
        if status == 401 and "usage limit" in message.lower():
            raise UsageLimitExceeded(
                stable_request,
                "the LG Inform usage allowance is used up (HTTP 401: "
                f"{message}); what was loaded is kept. Wait for the allowance to reset or ask the LGA to raise it",
                status,
            )
        if status == 401:
            raise NotAuthorised(
                stable_request,
                f"HTTP 401 {message}: check LGINFORM_APPLICATION_KEY and LGINFORM_SECRET (and the clock, "
                "if the service checks it)",
                status,
            )
        raise LgInformError(stable_request, f"HTTP {status}: {message}", status)

    def record_refusal(self, request: str, reason: str, metric_types: Sequence[str] = ()) -> None:
        """An answer received whole but refused by the reader: its log entry says why, and for
        which metric types, so that ``audit.api_requests`` shows what fell behind."""
        for entry in reversed(self.request_log):
            if entry["request"] == request:
                entry["error"] = reason
                entry["metric_types"] = ",".join(metric_types) or None
                return

    def _record(
        self,
        request: str,
        status: int | None,
        attempts: int,
        sha256: str | None,
        error: str | None,
        nbytes: int | None = None,
    ) -> None:
        self.request_log.append(
            {
                "request": request,
                "status": status,
                "attempts": attempts,
                "bytes": nbytes,
                "sha256": sha256,
                "error": error,
                "metric_types": None,
                "fetched_at": datetime.now(UTC),
            }
        )


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _error_message(response: requests.Response) -> str:
    """The service's own message from its errors body, else a short excerpt."""
    try:
        errors = response.json().get("errors") or []
        return "; ".join(str(e.get("message")) for e in errors) or response.reason
    except (ValueError, AttributeError):
        return (response.text or response.reason or "")[:200]


def _describe(error: BaseException | None, request: str) -> str:
    if error is None:
        return "unknown error"
    if isinstance(error, _Transient):
        return str(error).split(" [request:")[0]
    # requests' own messages can contain the signed URL: never show them as they are
    return f"{error.__class__.__name__} (connection or timeout)"
