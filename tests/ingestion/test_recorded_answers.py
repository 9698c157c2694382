"""Recorded answers in other dialects (tests/fixtures/lginform/, see its README) read to the
rows they mean."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingestion.lginform.client import ApiResponse, ResponseNotUnderstood
from ingestion.lginform.responses import DataAsked, data_rows_deduplicated, metric_type_row, period_rows

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lginform"


def recorded(name: str, endpoint: str) -> ApiResponse:
    body = (FIXTURES / name).read_bytes()
    return ApiResponse(
        endpoint, f"http://127.0.0.1{endpoint}?", 200, body, "0" * 64, 1, datetime.now(UTC), json.loads(body)
    )


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "periods_second_service.json",
            {
                "fin_2016_17": (date(2016, 4, 1), date(2017, 3, 31), "2016/17"),
                "fin_2017_18": (date(2017, 4, 1), date(2018, 3, 31), "2017/18"),
                "cal_2019": (date(2019, 1, 1), date(2019, 12, 31), "2019"),
            },
        ),
        (
            "periods_next_midnight_utc.json",
            {
                "fin_2024_25": (date(2024, 4, 1), date(2025, 3, 31), "2024/25"),
                "fin_2024_25_q4": (date(2025, 1, 1), date(2025, 3, 31), "2024/25 Q4"),
                "cal_2024": (date(2024, 1, 1), date(2024, 12, 31), "2024"),
            },
        ),
    ],
)
def test_recorded_periods_read_to_their_days(name, expected):
    reading = period_rows(recorded(name, "/periods"))
    assert reading.refused == {}
    assert {r["period_id"]: (r["start_date"], r["end_date"], r["label"]) for r in reading.rows} == expected


@pytest.mark.parametrize(
    "name, expected",
    [
        ("metric_type_second_service.json", ("Percentage", 1, "High value is good", "Annually", False, False)),
        ("metric_type_service_words.json", ("Percentage", 1, "HIGH VALUE IS GOOD", "annually", False, False)),
    ],
)
def test_recorded_metric_types_read_their_metadata(name, expected):
    row = metric_type_row(recorded(name, "/metricTypes/91023"))
    assert row["metric_type_id"] == "91023"
    assert (
        row["unit_label"],
        row["output_precision"],
        row["polarity"],
        row["frequency"],
        row["null_as_zero"],
        row["discontinued"],
    ) == expected


def test_the_second_service_data_reads_strings_blanks_and_markers():
    values, areas, _ = data_rows_deduplicated(
        recorded("data_second_service.json", "/data"), asked=DataAsked(frozenset({"91023"}))
    )
    cells = {(v["area_code"], v["period_id"]): (v["value"], v["formatted"], v["ci_lower"]) for v in values}
    assert cells == {
        ("E08000009", "fin_2023_24"): (96.4, "96.4", None),
        ("E08000009", "fin_2024_25"): (250.0, "250.0", None),  # read as sent: the range is the gate's to judge
        ("E08000002", "fin_2023_24"): (None, "", None),
        ("E08000002", "fin_2024_25"): (None, "[c]", None),
    }
    assert [a["area_code"] for a in areas] == ["E08000009", "E08000002"]


def test_recorded_string_numbers_read_as_numbers():
    values, _, _ = data_rows_deduplicated(recorded("data_string_numbers.json", "/data"))
    document = json.loads((FIXTURES / "data_string_numbers.json").read_text())
    sent = [c["value"] for row in document["rows"] for c in row["values"]]
    assert all(isinstance(v, str) for v in sent if v is not None) and any(v is not None for v in sent)
    assert [v["value"] for v in values] == [None if s is None else float(s) for s in sent]


def test_recorded_suppression_markers_are_missing_and_kept():
    values, _, _ = data_rows_deduplicated(recorded("data_suppression_markers.json", "/data"))
    markers = {v["formatted"] for v in values if v["value"] is None}
    assert len(markers) >= 2 and markers <= {"c", "[c]", "*", "..", "[x]"}


def test_the_second_service_data_is_refused_when_it_answers_for_another_metric_type():
    with pytest.raises(
        ResponseNotUnderstood,
        match=r"column 0 \(metric type 91023, period fin_2023_24\) is a metric type that was not asked for",
    ):
        data_rows_deduplicated(recorded("data_second_service.json", "/data"), asked=DataAsked(frozenset({"90001"})))
