"""The demo server over real sockets: signing, the LG Inform shapes, and every fault kind."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from urllib.parse import quote, unquote

import pytest
import requests

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.catalogue import TRAFFORD, build_catalogue
from demo.server import DemoServer
from ingestion.lginform.signing import sign_url, signature_for, split_signed_url

NOT_AUTHORISED = {"errors": [{"message": "Not authorized", "errorCode": 10}]}
DATA = [("metricType", "91001"), ("area", TRAFFORD), ("period", "latest"), ("value.valueType", "raw")]


@pytest.fixture()
def server():
    with DemoServer() as running:
        yield running


def signed(server: DemoServer, path: str, params: list[tuple[str, str]] = (), secret: str = DEMO_SECRET) -> str:
    """A freshly signed URL: the nonce makes every call's signature new."""
    return sign_url(server.url, path, [*params, ("nonce", uuid.uuid4().hex)], DEMO_APPLICATION_KEY, secret)


def get(server: DemoServer, path: str, params: list[tuple[str, str]] = ()) -> requests.Response:
    return requests.get(signed(server, path, params), timeout=5)


# -- authentication ---------------------------------------------------------------------------


def test_good_signature_gets_the_metric_type(server):
    response = get(server, "/metricTypes/3281")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(response.headers["Content-Length"]) == len(response.content)
    metric = response.json()["metricType"]
    assert metric["identifier"] == "3281" and metric["label"] == "Total resident population"
    assert metric["dataset"]["periodType"] == {"identifier": "CalendarYear", "frequency": "Annually"}
    assert metric["measure"]["measurementUnit"]["identifier"] == "count"
    assert metric["earliestTimePeriod"]["identifier"] == "cal_2015"
    assert {
        "shortLabel",
        "alternativeLabels",
        "helpText",
        "outputPrecision",
        "polarity",
        "nullAsZero",
        "discontinued",
    } <= set(metric)


def test_bad_signature_is_not_authorised(server):
    response = requests.get(signed(server, "/periods", secret="not-the-secret"), timeout=5)
    assert response.status_code == 401
    assert response.content == b'{"errors":[{"message":"Not authorized","errorCode":10}]}'


def test_missing_or_wrong_key_is_not_authorised(server):
    assert requests.get(f"{server.url}/periods", timeout=5).json() == NOT_AUTHORISED
    wrong_key = sign_url(server.url, "/periods", [], "someone-else", DEMO_SECRET)
    response = requests.get(wrong_key, timeout=5)
    assert (response.status_code, response.json()) == (401, NOT_AUTHORISED)


def test_a_reused_signature_is_a_duplicate(server):
    url = signed(server, "/periods")
    assert requests.get(url, timeout=5).status_code == 200
    again = requests.get(url, timeout=5)
    assert again.status_code == 401
    assert again.json()["errors"][0]["message"] == "A duplicate signature was detected"


def test_the_url_decoded_php_style_signature_is_accepted(server):
    unsigned, _ = split_signed_url(signed(server, "/areas", [("searchText", "King's Lynn")]))
    assert unquote(unsigned) != unsigned
    url = f"{unsigned}&Signature={quote(signature_for(unquote(unsigned), DEMO_SECRET), safe='')}"
    response = requests.get(url, timeout=5)
    assert response.status_code == 200
    assert [a["identifier"] for a in response.json()["area-array"]] == ["E07000146"]


def test_credentials_are_never_recorded_or_logged(server, caplog):
    caplog.set_level(logging.DEBUG)
    get(server, "/periods")
    requests.get(signed(server, "/periods", secret="wrong"), timeout=5)
    recorded = " ".join(str(r) for r in server.requests)
    logged = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("demo"))
    for text in (recorded, logged):
        assert "Signature" not in text and DEMO_APPLICATION_KEY not in text
    assert [(r.path, r.status) for r in server.requests] == [("/periods", 200), ("/periods", 401)]


# -- documents --------------------------------------------------------------------------------


def test_metadata_lists(server):
    assert get(server, "/metricTypes.json").json()["metricType-array"][0].keys() == {
        "identifier",
        "label",
        "shortLabel",
        "unitLabel",
        "measurementUnitIdentifier",
    }
    changed = [
        m["identifier"]
        for m in get(server, "/metricTypes", [("dataChangedSince", "2025-08-01")]).json()["metricType-array"]
    ]
    catalogue = server.catalogue
    assert changed and all(catalogue.data_changed_on(m) > catalogue.as_of.replace(month=8, day=1) for m in changed)
    assert "90001" not in changed  # Oflog data last changed in 2023
    oflog = get(server, "/metricTypes", [("dataset", "oflog-adult-social-care")]).json()["metricType-array"]
    assert len(oflog) == 7
    groups = get(server, "/comparisonGroups", [("memberArea", "E08000007")]).json()["comparisonGroup-array"]
    assert "Trafford_CIPFA_Near_Neighbours" in {g["identifier"] for g in groups}
    periods = get(server, "/periods").json()["period-array"]
    assert {
        "identifier": "fin_2016_17",
        "label": "2016/17",
        "startDate": "2016-04-01",
        "endDate": "2017-03-31",
        "periodType": "FinancialYear",
    } in periods


def test_data_expands_a_group_into_its_members(server):
    params = [
        ("metricType", "91011"),
        ("area", f"AllBoroughInRegion_London,E09000001,{TRAFFORD}"),
        ("period", "fin_2023_24_q1"),
        ("value.valueType", "raw"),
    ]
    document = get(server, "/data", params).json()
    codes = [row["area"]["identifier"] for row in document["rows"]]
    assert codes == [*server.catalogue.comparison_groups["AllBoroughInRegion_London"].members, TRAFFORD]
    cell = document["rows"][-1]["values"][0]
    assert cell["value"] == server.catalogue.value("91011", TRAFFORD, "fin_2023_24_q1")
    assert cell.keys() == {
        "value",
        "formatted",
        "source",
        "confidenceIntervalLower",
        "confidenceIntervalUpper",
        "publicationStatus",
    }
    assert cell["publicationStatus"] == "Published" and cell["confidenceIntervalLower"] is None


def test_latest_n_gives_n_columns_per_metric(server):
    params = [
        ("metricType", "91001,90101"),
        ("area", f"{TRAFFORD},E92000001"),
        ("period", "latest:3"),
        ("value.valueType", "raw"),
    ]
    document = get(server, "/data.json", params).json()
    columns = [(c["metricType"]["identifier"], c["period"]["identifier"]) for c in document["columns"]]
    expected = [(m, p.identifier) for m in ("91001", "90101") for p in server.catalogue.periods_for(m)[-3:]]
    assert columns == expected and len(columns) == 6
    assert all(len(row["values"]) == 6 for row in document["rows"])


def test_missing_values_are_null_with_a_dash(server):
    params = [("metricType", "90001"), ("area", "E07000223"), ("period", "fin_2016_17"), ("value.valueType", "raw")]
    cell = get(server, "/data", params).json()["rows"][0]["values"][0]
    assert (cell["value"], cell["formatted"]) == (None, "-")


def test_data_csv(server):
    params = [
        ("metricType", "90101"),
        ("area", f"{TRAFFORD},E92000001"),
        ("period", "fin_2019_20,fin_2020_21"),
        ("rowGrouping", "area"),
        ("columnGrouping", "period"),
    ]
    lines = get(server, "/data.csv", params).text.splitlines()
    assert lines[0] == "area,area label,area long label,2019/20,2020/21"
    assert lines[1].startswith(f"{TRAFFORD},Trafford,Trafford,")


@pytest.mark.parametrize(
    ("path", "params", "status", "named"),
    [
        ("/data", [("metricType", "91001"), ("area", "E99999999"), ("period", "latest")], 400, "E99999999"),
        (
            "/data",
            [("metricType", "91001"), ("area", "Nowhere_CIPFA_Near_Neighbours"), ("period", "latest")],
            400,
            "Nowhere_CIPFA_Near_Neighbours",
        ),
        ("/data", [("metricType", "123456"), ("area", TRAFFORD), ("period", "latest")], 400, "123456"),
        ("/data", [("metricType", "91001"), ("area", TRAFFORD), ("period", "fin_1999_00_q7")], 400, "fin_1999_00_q7"),
        ("/data", [("metricType", "91001"), ("area", TRAFFORD)], 400, "period"),
        ("/nowhere", [], 404, "/nowhere"),
    ],
)
def test_bad_requests_name_the_problem(server, path, params, status, named):
    response = get(server, path, params)
    assert response.status_code == status
    assert named in response.json()["errors"][0]["message"]


def test_equal_requests_give_identical_bytes(server):
    params = [
        ("metricType", "91001,90002,3281"),
        ("area", "Trafford_CIPFA_Near_Neighbours"),
        ("period", "latest:4"),
        ("value.valueType", "raw"),
    ]
    first, second = get(server, "/data", params), get(server, "/data", params)
    assert hashlib.sha256(first.content).hexdigest() == hashlib.sha256(second.content).hexdigest()
    with DemoServer(build_catalogue()) as other:
        assert get(other, "/data", params).content == first.content


# -- faults -----------------------------------------------------------------------------------


def test_rate_limit(server):
    server.faults.add("rate_limit", retry_after=7)
    response = get(server, "/periods")
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.json()["errors"]
    assert get(server, "/periods").status_code == 200  # one firing only


def test_server_error_fires_the_given_times_then_clears(server):
    server.faults.add("server_error", times=2, status=502)
    assert [get(server, "/periods").status_code for _ in range(3)] == [502, 502, 200]
    server.faults.add("server_error")
    assert get(server, "/periods").status_code == 503


def test_path_prefix_limits_a_fault(server):
    server.faults.add("server_error", path_prefix="/data")
    assert get(server, "/periods").status_code == 200
    assert get(server, "/data", DATA).status_code == 503


def test_faults_fire_only_after_authentication(server):
    server.faults.add("server_error")
    assert requests.get(signed(server, "/periods", secret="wrong"), timeout=5).status_code == 401
    assert server.faults.pending() == 1
    server.faults.clear()
    assert server.faults.pending() == 0


def test_slow(server):
    server.faults.add("slow", seconds=0.4)
    started = time.monotonic()
    assert get(server, "/periods").status_code == 200
    assert time.monotonic() - started >= 0.4


def test_truncated(server):
    server.faults.add("truncated")
    with pytest.raises(requests.exceptions.RequestException):
        get(server, "/data", DATA)
    assert get(server, "/data", DATA).status_code == 200


def test_drop(server):
    server.faults.add("drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        get(server, "/periods")
    assert server.requests[-1].status is None


def test_malformed_json(server):
    server.faults.add("malformed_json")
    response = get(server, "/periods")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_wrong_shape(server):
    server.faults.add("wrong_shape")
    response = get(server, "/data", DATA)
    assert (response.status_code, response.json()) == (200, {"unexpected": []})


def test_usage_limit(server):
    server.faults.add("usage_limit")
    response = get(server, "/periods")
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "User has exceeded allowed usage limits"


def test_unknown_fault_kind_is_refused(server):
    with pytest.raises(ValueError):
        server.faults.add("gremlins")
