"""One bad answer does not sink the refresh: it holds back its own metric types, which are
asked for again on the next pull, while a failure that affects everything loads nothing."""

from __future__ import annotations

import duckdb
import pytest

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from ingestion.lginform.client import LgInformClient, NotAuthorised, RetryPolicy
from ingestion.lginform.load import load_pull, read_last_pulls
from ingestion.lginform.pull import PullStopped, pull_lginform, request_fingerprint
from lgperf import warehouse

METRICS = ["91003", "91023", "90101"]  # batch size 1: the first /data call is 91003 for E08000009
AREAS = ["E08000009", "Trafford_CIPFA_Near_Neighbours"]
PERIODS = "latest:4"


@pytest.fixture
def pull(demo_server, tmp_path):
    """pull(metric_types) -> (result, server requests made); loads each pull into one warehouse."""
    path = tmp_path / "w.duckdb"

    def run(metric_types=METRICS, run_id="run"):
        client = LgInformClient(
            demo_server.url,
            DEMO_APPLICATION_KEY,
            DEMO_SECRET,
            retry=RetryPolicy(max_attempts=2, initial_backoff_seconds=0.01, max_backoff_seconds=0.02),
        )
        fingerprint = request_fingerprint(AREAS, PERIODS)
        with warehouse.connect(path) as connection:
            last = read_last_pulls(connection, fingerprint)
        before = len(demo_server.requests)
        try:
            result = pull_lginform(
                client, metric_types=metric_types, areas=AREAS, periods=PERIODS, batch_size=1, last_pulls=last
            )
        finally:
            client.close()
        with warehouse.connect(path) as connection:
            load_pull(connection, result, run_id=run_id, request_log=client.request_log, fingerprint=fingerprint)
        return result, demo_server.requests.snapshot()[before:]

    run.path = path
    return run


def query(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_a_refused_data_answer_holds_back_only_its_metric_types_until_the_next_pull(pull, demo_server):
    demo_server.faults.add("wrong_shape", times=1, path_prefix="/data")
    result, _ = pull()

    assert list(result.behind) == ["91003"]
    [reason] = result.behind["91003"]
    assert "unexpected JSON shape at columns" in reason and "/data?metricType=91003&area=E08000009" in reason
    assert result.fetched_metric_types == ["91023", "90101"]
    assert {r["metric_type_id"] for r in result.rows["lginform_values"]} == {"91023", "90101"}
    assert "91003" not in {r["metric_type_id"] for r in result.rows["lginform_metric_types"]}

    path = pull.path
    assert query(path, "SELECT DISTINCT metric_type_id FROM raw.lginform_values ORDER BY 1") == [("90101",), ("91023",)]
    assert query(path, "SELECT metric_type_id FROM audit.lginform_sync_state ORDER BY 1") == [("90101",), ("91023",)]
    [(request, error, metric_types, sha256)] = query(
        path, "SELECT request, error, metric_types, sha256 FROM audit.api_requests WHERE error IS NOT NULL"
    )
    assert (
        "/data?metricType=91003&area=E08000009" in request
        and "unexpected JSON shape" in error
        and metric_types == "91003"
    )
    # the refused bytes are archived beside the good ones, so the refusal can be checked
    assert query(path, f"SELECT count(*) FROM raw.lginform_responses WHERE sha256 = '{sha256}'") == [(1,)]

    # the next pull asks for 91003 again (it was never pulled whole) and it loads
    result, _ = pull(run_id="second")
    assert result.behind == {} and "91003" in result.fetched_metric_types
    assert query(path, "SELECT metric_type_id FROM audit.lginform_sync_state ORDER BY 1") == [
        ("90101",),
        ("91003",),
        ("91023",),
    ]
    assert query(path, "SELECT count(DISTINCT area_code) FROM raw.lginform_values WHERE metric_type_id = '91003'") == [
        (16,)
    ]


def test_a_metric_type_the_service_does_not_know_is_behind_and_costs_no_data_calls(pull):
    result, requests = pull(METRICS + ["99999"])
    assert list(result.behind) == ["99999"] and "Unknown metricType: 99999" in result.behind["99999"][0]
    assert not any("99999" in r.query for r in requests if r.path == "/data")
    assert result.fetched_metric_types == METRICS


def test_a_refused_period_entry_refuses_only_the_values_of_that_period(pull, demo_server):
    def break_one_period(document: dict) -> dict:
        for period in document["period-array"]:
            if period["identifier"] == "fin_2024_25_q4":
                period["startDate"] = "2025-01-01T12:00:00"
        return document

    demo_server.faults.add("edit", times=1, path_prefix="/periods", edit=break_one_period)
    result, _ = pull()
    assert (
        "fin_2024_25_q4" in result.refused_periods
        and "not at the start of a day" in result.refused_periods["fin_2024_25_q4"]
    )
    assert list(result.behind) == [
        "91003"
    ]  # the quarterly metric's latest:4 holds that quarter; the annual ones do not
    assert "period fin_2024_25_q4" in result.behind["91003"][0]
    assert "fin_2024_25_q4" not in {r["period_id"] for r in result.rows["lginform_periods"]}
    assert any("1 period(s) refused" in note for note in result.notes)


@pytest.mark.parametrize(
    "fault, path, params, expected",
    [
        ("wrong_shape", "/periods", {}, "the list of periods could not be read"),
        ("server_error", "/metricTypes/91023", {"status": 503}, "did not answer within the retry policy"),
    ],
)
def test_a_failure_that_affects_everything_stops_the_pull_and_loads_nothing(
    pull, demo_server, fault, path, params, expected
):
    demo_server.faults.add(fault, times=10, path_prefix=path, **params)
    with pytest.raises(PullStopped, match=expected) as error:
        pull()
    assert "nothing from this pull was loaded" in str(error.value)
    assert query(pull.path, "SELECT count(*) FROM raw.lginform_values") == [(0,)]
    assert query(pull.path, "SELECT count(*) FROM audit.lginform_sync_state") == [(0,)]


def test_refused_credentials_stop_at_once(demo_server):
    client = LgInformClient(demo_server.url, "wrong", DEMO_SECRET, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(NotAuthorised):
        pull_lginform(client, metric_types=METRICS, areas=AREAS, periods=PERIODS, batch_size=1)
    assert len(demo_server.requests) == 1


def test_an_unreadable_change_list_falls_back_to_pulling_everything(pull, demo_server):
    pull()
    # the three /metricTypes/{id} answers pass unchanged; the fourth, the change list, is broken
    demo_server.faults.add(
        "edit",
        times=4,
        path_prefix="/metricTypes",
        edit=lambda document: {"unexpected": []} if "metricType-array" in document else document,
    )
    result, requests = pull(run_id="second")
    assert demo_server.faults.pending() == 0
    assert result.behind == {} and result.fetched_metric_types == METRICS
    assert any("could not be read" in note and "every metric type was pulled instead" in note for note in result.notes)
