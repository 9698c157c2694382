"""The demo API's wards: area=<council>:AdministrativeWard, as LG Inform spells it."""

from __future__ import annotations

import csv

from demo.catalogue import TRAFFORD, data_file, split_by_stable_weights
from demo.server import DemoServer
from tests.demo.test_server import get, server  # noqa: F401 (the fixture)

ALTRINCHAM, VILLAGE = "E05000819", "E05000839"


def test_ward_lookup_is_traffords_21_wards_in_name_order():
    with open(data_file("ons_ward_lad_codes.csv"), encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 21
    assert [r["WD22CD"] for r in rows] == [f"E05000{n}" for n in range(819, 840)]
    assert [r["WD22NM"] for r in rows] == sorted(r["WD22NM"] for r in rows)
    assert (rows[0]["WD22NM"], rows[-1]["WD22NM"]) == ("Altrincham", "Village")
    assert {r["LAD22CD"] for r in rows} == {TRAFFORD}


def test_split_adds_up_and_is_stable():
    codes = [f"E05000{n}" for n in range(819, 840)]
    shares = split_by_stable_weights(235_123, codes)
    assert sum(shares.values()) == 235_123
    assert shares == split_by_stable_weights(235_123, list(reversed(codes)))
    assert min(shares.values()) > 235_123 / 21 * 0.6 * 0.9


def test_administrative_ward_expands_to_the_councils_wards_whose_population_adds_up(server: DemoServer):  # noqa: F811
    params = [
        ("metricType", "3281"),
        ("area", f"{TRAFFORD}:AdministrativeWard,{TRAFFORD}"),
        ("period", "latest:2"),
        ("value.valueType", "raw"),
    ]
    document = get(server, "/data", params).json()
    rows = {r["area"]["identifier"]: r for r in document["rows"]}
    assert len(rows) == 22
    assert rows[ALTRINCHAM]["area"]["label"] == "Altrincham"
    assert rows[VILLAGE]["area"]["label"] == "Village"
    council = rows.pop(TRAFFORD)["values"]
    for column in range(2):
        wards = [r["values"][column]["value"] for r in rows.values()]
        assert all(isinstance(v, int) and v > 5000 for v in wards)
        assert sum(wards) == council[column]["value"] > 100_000


def test_other_metrics_serve_null_for_wards(server: DemoServer):  # noqa: F811
    params = [("metricType", "91001"), ("area", f"{TRAFFORD}:AdministrativeWard"), ("period", "latest")]
    rows = get(server, "/data", params).json()["rows"]
    assert len(rows) == 21
    assert {r["values"][0]["value"] for r in rows} == {None}


def test_unknown_council_before_the_ward_suffix_is_a_400(server: DemoServer):  # noqa: F811
    for area in ("E08999999:AdministrativeWard", f"{TRAFFORD}:Parish"):
        response = get(server, "/data", [("metricType", "3281"), ("area", area), ("period", "latest")])
        assert response.status_code == 400
        assert area in response.json()["errors"][0]["message"]


def test_areas_search_finds_wards(server: DemoServer):  # noqa: F811
    found = get(server, "/areas", [("searchText", "hale")]).json()["area-array"]
    assert {a["identifier"]: a["label"] for a in found} == {"E05000830": "Hale Barns", "E05000831": "Hale Central"}


def test_a_council_without_wards_in_the_demo_expands_to_none(server: DemoServer):  # noqa: F811
    response = get(
        server, "/data", [("metricType", "3281"), ("area", "E06000001:AdministrativeWard"), ("period", "latest")]
    )
    assert response.status_code == 200
    assert response.json()["rows"] == []


def test_a_pull_of_the_ward_token_loads_ward_rows_like_any_area_and_no_group_membership(demo_server):
    """The pipeline's pull, unchanged: the ward rows are areas and values; a ward is in no group."""
    from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
    from ingestion.lginform.client import LgInformClient
    from ingestion.lginform.pull import pull_lginform

    client = LgInformClient(demo_server.url, DEMO_APPLICATION_KEY, DEMO_SECRET)
    result = pull_lginform(
        client,
        metric_types=["3281"],
        areas=[TRAFFORD, f"{TRAFFORD}:AdministrativeWard"],
        periods="latest:1",
        batch_size=1,
    )
    areas = {r["area_code"]: r["label"] for r in result.rows["lginform_areas"]}
    assert len(areas) == 22 and areas[ALTRINCHAM] == "Altrincham"
    values = {r["area_code"]: r["value"] for r in result.rows["lginform_values"]}
    assert sum(v for code, v in values.items() if code != TRAFFORD) == values[TRAFFORD]
    assert result.rows["lginform_group_members"] == []
