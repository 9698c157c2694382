"""Published extracts: the reference files as they were published, and small broken ones."""

import csv
from pathlib import Path

import pytest

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.catalogue import TRAFFORD, build_catalogue
from ingestion.extracts import ExtractError, pending_extracts, read_extract
from ingestion.lginform.load import load_pull, loaded_extract_hashes
from ingestion.lginform.pull import PullResult
from ingestion.lginform.signing import sign_url
from lgperf import warehouse
from lgperf.settings import LgInformCsvExtract, OflogExtract, TidyExtract

# the published files as the demo ships them, copied unchanged (demo/README.md names their sources)
DEMO_DATA = Path(__file__).parents[2] / "demo" / "data"
OFLOG = DEMO_DATA / "oflog_asc_data.csv"
CLAIMANTS = DEMO_DATA / "trafford_claimant_count.csv"
ASC_CODES = {f"ASC{i}": f"9000{i}" for i in range(1, 8)}


def published_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def values(result) -> dict:
    return {(v["metric_type_id"], v["area_code"], v["period_id"]): v["value"] for v in result.tables["lginform_values"]}


def test_oflog_csv_loads_every_row_as_published():
    result = read_extract(OflogExtract(path=str(OFLOG), format="oflog_csv", codes=ASC_CODES))
    published = published_rows(OFLOG)
    assert result.rows_received == len(published) == result.rows_accepted + len(result.quarantined)
    assert result.quarantined == []
    loaded = values(result)
    assert loaded[("90005", TRAFFORD, "2022-23")] == 48.3
    blank = next(r for r in published if r["Value"] == "")
    assert loaded[(ASC_CODES[blank["Code"]], blank["Local authority code"], blank["Financial year"])] is None  # null stays null
    polarity = {m["metric_type_id"]: m["polarity"] for m in result.tables["lginform_metric_types"]}
    assert polarity["90001"] == "High value is good"
    assert result.tables["lginform_values"][0]["source_reference"] == "oflog_asc_data.csv#row=2"


def test_unmapped_codes_are_quarantined_with_their_reason_not_dropped():
    codes = {k: v for k, v in ASC_CODES.items() if k != "ASC7"}
    result = read_extract(OflogExtract(path=str(OFLOG), format="oflog_csv", codes=codes))
    asc7 = sum(1 for r in published_rows(OFLOG) if r["Code"] == "ASC7")
    assert len(result.quarantined) == asc7 > 0
    assert result.rows_accepted + asc7 == result.rows_received
    assert {q["column_name"] for q in result.quarantined} == {"Code"}
    assert "'ASC7' is not mapped" in result.quarantined[0]["reason"]


def test_tidy_trafford_extract_with_a_local_indicator():
    extract = TidyExtract(path=str(CLAIMANTS), format="tidy", indicators=[
        {"indicator": "Claimant count", "measure": "Count", "metric_type": "L0001", "label": "Claimant count", "polarity": "low_is_good"},
        {"indicator": "Claimants as a proportion of residents aged 16-64", "metric_type": "L0002"},
    ])
    result = read_extract(extract)
    published = published_rows(CLAIMANTS)
    assert result.rows_received == len(published) == result.rows_accepted
    row = next(r for r in published if r["area_code"] == TRAFFORD and r["indicator"] == "Claimant count")
    assert values(result)[("L0001", TRAFFORD, row["period"])] == float(row["value"])
    described = result.tables["lginform_metric_types"]
    assert [(m["metric_type_id"], m["label"], m["polarity"]) for m in described] == [("L0001", "Claimant count", "Low value is good")]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_tidy_rows_are_quarantined_with_row_column_and_reason(tmp_path):
    path = write(tmp_path, "bad.csv", "\n".join([
        "area_code,area_name,period,indicator,measure,unit,value",
        "E08000009,Trafford,2021/22,Recycling,Percentage,Waste,45.2",   # 2: good
        "E08000009,Trafford,2022/23,Recycling,Percentage,Waste,high",    # 3: not a number
        "Trafford,Trafford,2022/23,Recycling,Percentage,Waste,44.0",     # 4: not a GSS code
        "E08000009,Trafford,,Recycling,Percentage,Waste,44.0",           # 5: no period
        "E08000009,Trafford,2021/22,Recycling,Percentage,Waste,45.2",   # 6: duplicate of 2
        "E08000010,Wigan,2021/22,Recycling,Percentage,Waste,",           # 7: good, null
        "E08000010,Wigan,2021/22,Litter,Percentage,Waste,3",             # 8: not mapped
    ]) + "\n")
    result = read_extract(TidyExtract(path=str(path), format="tidy", indicators=[{"indicator": "Recycling", "metric_type": "L0003"}]))
    assert result.rows_received == 7 and result.rows_accepted == 2
    reasons = {(q["row_number"], q["column_name"]): q["reason"] for q in result.quarantined}
    assert reasons[(3, "value")] == "value 'high' is not a number"
    assert reasons[(4, "area_code")] == "area code 'Trafford' is not a GSS code"
    assert reasons[(5, "period")] == "no period"
    assert reasons[(6, None)] == "duplicate of row 2 (same indicator, area and period)"
    assert "'Litter'" in reasons[(8, "indicator")]
    assert all(q["source_reference"] == "bad.csv" and q["raw_record"] for q in result.quarantined)
    assert values(result)[("L0003", "E08000010", "2021/22")] is None


def test_a_file_without_the_layout_is_refused_whole_naming_the_columns(tmp_path):
    path = write(tmp_path, "wrong.csv", "code,year,figure\nE08000009,2021,1\n")
    with pytest.raises(ExtractError, match=r"wrong.csv: missing column\(s\) area_code, period, indicator, value"):
        read_extract(TidyExtract(path=str(path), format="tidy", indicators=[{"indicator": "x", "metric_type": "L0001"}]))
    with pytest.raises(ExtractError, match="extract file not found"):
        pending_extracts([TidyExtract(path=str(tmp_path / "absent.csv"), format="tidy", indicators=[{"indicator": "x", "metric_type": "L0001"}])], set())


def test_lginform_data_csv_export_matches_the_api(demo_server, tmp_path):
    import requests

    url = sign_url(demo_server.url, "/data.csv", [("metricType", "91023"), ("area", "Trafford_CIPFA_Near_Neighbours"),
                   ("period", "latest:3"), ("rowGrouping", "area"), ("columnGrouping", "period")], DEMO_APPLICATION_KEY, DEMO_SECRET)
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    path = tmp_path / "data.csv"
    path.write_bytes(response.content)
    result = read_extract(LgInformCsvExtract(path=str(path), format="lginform_csv", metric_type="91023"))
    catalogue = build_catalogue()
    periods = catalogue.periods_for("91023")[-3:]
    members = catalogue.areas_for_group_or_code("Trafford_CIPFA_Near_Neighbours")
    assert result.rows_received == len(members) * 3 == result.rows_accepted + len(result.quarantined)
    loaded = values(result)
    for area in members:
        for period in periods:
            expected = catalogue.value("91023", area, period.identifier)
            assert loaded[("91023", area, period.label)] == (None if expected is None else pytest.approx(expected))


def test_the_same_file_loads_once(tmp_path):
    extract = OflogExtract(path=str(OFLOG), format="oflog_csv", codes={"ASC1": "90001"})
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        first = pending_extracts([extract], loaded_extract_hashes(connection))
        inserted = load_pull(connection, PullResult(), run_id="one", extracts=first)
        assert inserted["lginform_values"] == first[0].rows_accepted > 0
        assert inserted["quarantined"] == len(first[0].quarantined) > 0
        assert pending_extracts([extract], loaded_extract_hashes(connection)) == []
        received, accepted, quarantined = connection.execute(
            "SELECT rows_received, rows_accepted, rows_quarantined FROM raw.extract_files").fetchall()[0]
        assert received == accepted + quarantined == 6376
