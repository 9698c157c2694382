"""The client against the real demo server with its faults switched on."""

import time

import pytest

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from ingestion.lginform.client import (
    LgInformClient,
    NotAuthorised,
    ResponseNotUnderstood,
    RetryPolicy,
    ServiceUnavailable,
    UsageLimitExceeded,
)
from ingestion.lginform.pull import PullStopped, pull_lginform

FAST_RETRY = RetryPolicy(max_attempts=4, max_total_seconds=20, initial_backoff_seconds=0.01, max_backoff_seconds=0.2)
DATA_PARAMS = [("metricType", "91003"), ("area", "E08000009"), ("period", "latest:4"), ("value.valueType", "raw")]


@pytest.fixture
def client(demo_server):
    c = LgInformClient(demo_server.url, DEMO_APPLICATION_KEY, DEMO_SECRET, read_timeout=2, retry=FAST_RETRY)
    yield c
    c.close()


def data_calls(server, expected: int | None = None) -> int:
    """Calls to /data the server has answered; waits briefly for slow answers still sleeping."""
    deadline = time.monotonic() + 5
    while True:
        count = sum(1 for r in server.requests if r.path.startswith("/data"))
        if expected is None or count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


def test_a_plain_call_returns_the_body_its_hash_and_no_credentials(client, demo_server):
    response = client.get_json("/data", DATA_PARAMS)
    assert response.status == 200 and response.attempts == 1
    assert len(response.document["columns"]) == 4
    assert len(response.sha256) == 64
    assert "ApplicationKey" not in response.request and "Signature" not in response.request
    assert "nonce" not in response.request
    assert DEMO_SECRET not in repr(client)


def test_the_same_request_twice_gives_the_same_body_and_hash(client):
    first, second = client.get_json("/data", DATA_PARAMS), client.get_json("/data", DATA_PARAMS)
    assert first.sha256 == second.sha256 and first.request == second.request


@pytest.mark.parametrize(
    "fault, params",
    [
        ("rate_limit", {"retry_after": 0}),
        ("server_error", {"status": 503}),
        ("server_error", {"status": 502}),
        ("truncated", {}),
        ("drop", {}),
        ("slow", {"seconds": 3}),  # longer than the 2 s read timeout
    ],
)
def test_transient_faults_are_retried_with_a_fresh_signature(client, demo_server, fault, params):
    demo_server.faults.add(fault, times=2, path_prefix="/data", **params)
    response = client.get_json("/data", DATA_PARAMS)
    assert response.attempts == 3
    assert data_calls(demo_server, expected=3) == 3  # each retry was re-signed: no duplicate-signature refusal


def test_retry_after_is_honoured(client, demo_server):
    demo_server.faults.add("rate_limit", times=1, path_prefix="/data", retry_after=1)
    started = time.monotonic()
    client.get_json("/data", DATA_PARAMS)
    assert time.monotonic() - started >= 1.0


def test_a_persistent_fault_gives_up_within_bounds_and_names_the_request(client, demo_server):
    demo_server.faults.add("server_error", times=50, path_prefix="/data", status=500)
    with pytest.raises(ServiceUnavailable) as error:
        client.get_json("/data", DATA_PARAMS)
    assert "gave up after 4 attempts" in str(error.value)
    assert "/data?metricType=91003&area=E08000009" in str(error.value)
    assert data_calls(demo_server) == 4


@pytest.mark.parametrize(
    "fault, exception, message",
    [
        ("malformed_json", ResponseNotUnderstood, "not valid JSON"),
        ("usage_limit", UsageLimitExceeded, "usage allowance"),
    ],
)
def test_permanent_answers_are_not_retried_and_name_the_request(client, demo_server, fault, exception, message):
    demo_server.faults.add(fault, times=5, path_prefix="/data")
    with pytest.raises(exception) as error:
        client.get_json("/data", DATA_PARAMS)
    assert message in str(error.value)
    assert "/data?metricType=91003" in str(error.value)
    assert data_calls(demo_server) == 1
    if fault == "malformed_json":  # the bytes received travel with the refusal, for the archive
        assert error.value.body.startswith(b'{"columns"')


def test_wrong_credentials_are_not_retried_and_never_shown(demo_server):
    secret = "canary-secret-7f3a9"
    client = LgInformClient(demo_server.url, "wrong-key-canary", secret, retry=FAST_RETRY)
    with pytest.raises(NotAuthorised) as error:
        client.get_json("/data", DATA_PARAMS)
    text = str(error.value) + repr(error.value) + repr(client.request_log)
    assert "LGINFORM_APPLICATION_KEY" in text
    assert secret not in text and "wrong-key-canary" not in text and "Signature=" not in text
    assert len(demo_server.requests) == 1


def test_a_pull_stops_at_once_when_the_service_is_down_and_loads_nothing(demo_server):
    """Transient failures outlasting the retry policy mean the service is down: no more calls."""
    client = LgInformClient(demo_server.url, DEMO_APPLICATION_KEY, DEMO_SECRET, retry=FAST_RETRY)
    demo_server.faults.add("server_error", times=50, path_prefix="/data", status=500)
    with pytest.raises(PullStopped) as error:
        pull_lginform(
            client, metric_types=["91003", "91023"], areas=["E08000009", "E08000010"], periods="latest:2", batch_size=1
        )
    assert "did not answer within the retry policy" in str(error.value) and "nothing from this pull was loaded" in str(
        error.value
    )
    assert "metricType=91003&area=E08000009" in str(error.value)
    assert data_calls(demo_server) == 4  # the first /data call's four attempts, then nothing more
