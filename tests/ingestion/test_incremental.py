"""Incremental pulls against the demo server: the number of calls is the contract."""

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from ingestion.lginform.client import LgInformClient, RetryPolicy
from ingestion.lginform.load import load_pull, read_last_pulls
from ingestion.lginform.pull import pull_lginform, request_fingerprint
from lgperf import warehouse

QUARTERLY = ["91001", "91003"]
ANNUAL = ["91023", "91025", "90101"]
METRICS = QUARTERLY + ANNUAL
AREAS = ["E08000009", "Trafford_CIPFA_Near_Neighbours"]
BATCH = 2


@pytest.fixture
def pull(demo_server, tmp_path):
    """pull(**overrides) -> (result, calls by kind); loads each successful pull into one warehouse."""
    path = tmp_path / "w.duckdb"

    def run(*, areas=AREAS, full_refresh=False, run_id="run"):
        client = LgInformClient(
            demo_server.url,
            DEMO_APPLICATION_KEY,
            DEMO_SECRET,
            retry=RetryPolicy(max_attempts=2, initial_backoff_seconds=0.01),
        )
        fingerprint = request_fingerprint(areas, "latest:4")
        with warehouse.connect(path) as connection:
            last = read_last_pulls(connection, fingerprint)
        before = len(demo_server.requests)
        result = pull_lginform(
            client,
            metric_types=METRICS,
            areas=areas,
            periods="latest:4",
            batch_size=BATCH,
            last_pulls=last,
            full_refresh=full_refresh,
        )
        with warehouse.connect(path) as connection:
            inserted = load_pull(
                connection, result, run_id=run_id, request_log=client.request_log, fingerprint=fingerprint
            )
        calls = [r for r in demo_server.requests.snapshot()[before:]]
        kinds = {
            "data": sum(r.path == "/data" for r in calls),
            "changed": sum(r.path == "/metricTypes" and "dataChangedSince" in r.query for r in calls),
            "metadata": sum(r.path != "/data" for r in calls),
        }
        return result, kinds, inserted

    return run


def data_calls(metric_count: int, area_tokens: int = len(AREAS)) -> int:
    return math.ceil(metric_count / BATCH) * area_tokens


def test_first_pull_fetches_everything_without_asking_what_changed(pull):
    result, calls, inserted = pull()
    assert calls == {"data": data_calls(len(METRICS)), "changed": 0, "metadata": 1 + len(METRICS)}
    assert result.fetched_metric_types == METRICS and result.skipped_metric_types == []
    assert inserted["lginform_values"] > 0


def test_a_run_in_which_nothing_changed_makes_only_the_metadata_calls(pull):
    pull()
    result, calls, inserted = pull(run_id="second")
    assert calls == {"data": 0, "changed": 1, "metadata": 1 + len(METRICS) + 1}
    assert result.skipped_metric_types == METRICS
    assert result.changed_since == datetime.now(UTC).date() - timedelta(days=1)  # a day's overlap
    assert (
        inserted["lginform_values"] == 0 and inserted["lginform_responses"] <= 1
    )  # only the dataChangedSince answer is new


def test_only_metric_types_with_new_data_are_fetched(pull, demo_server):
    pull()
    published = demo_server.publish(date(2026, 1, 31))  # a new quarter (Jul-Sep 2025) is out
    assert set(QUARTERLY) <= set(published) and not set(ANNUAL) & set(published)
    result, calls, inserted = pull(run_id="after-publication")
    assert result.fetched_metric_types == QUARTERLY
    assert calls["data"] == data_calls(len(QUARTERLY))
    # latest:4 moved on by one quarter: one new value per quarterly metric and area
    assert inserted["lginform_values"] == len(QUARTERLY) * 16


def test_full_refresh_fetches_everything_and_loads_nothing_new(pull):
    pull()
    result, calls, inserted = pull(full_refresh=True, run_id="full")
    assert calls["data"] == data_calls(len(METRICS)) and calls["changed"] == 0
    assert inserted["lginform_values"] == 0


def test_changing_the_areas_asked_for_means_a_full_pull(pull):
    pull()
    result, calls, _ = pull(areas=["E08000009"], run_id="narrower")
    assert calls["changed"] == 0 and calls["data"] == data_calls(len(METRICS), 1)


def test_a_failed_pull_does_not_advance_the_sync_state(pull, demo_server):
    pull()
    demo_server.publish(date(2026, 1, 31))
    demo_server.faults.add("server_error", times=100, path_prefix="/data", status=500)
    with pytest.raises(Exception, match="request"):
        pull(run_id="fails")
    demo_server.faults.clear()
    result, calls, inserted = pull(run_id="retried")
    assert result.fetched_metric_types == QUARTERLY  # still seen as changed
    assert inserted["lginform_values"] == len(QUARTERLY) * 16
