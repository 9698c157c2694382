"""Parsing of the API's answers: shapes, nulls and nullAsZero."""

import json
import re
from datetime import UTC, datetime

import pytest

from ingestion.lginform.client import ApiResponse, ResponseNotUnderstood
from ingestion.lginform.responses import changed_metric_types, data_rows, metric_type_row


def answer(document, endpoint="/data") -> ApiResponse:
    body = json.dumps(document).encode()
    return ApiResponse(endpoint, f"http://127.0.0.1{endpoint}?x=1", 200, body, "0" * 64, 1, datetime.now(UTC), document)


DATA = {
    "columns": [
        {
            "metricType": {"identifier": "1", "label": "a"},
            "period": {"identifier": "fin_2020_21", "label": "2020/21"},
            "valueType": {"identifier": "raw"},
        },
        {
            "metricType": {"identifier": "2", "label": "b"},
            "period": {"identifier": "fin_2020_21", "label": "2020/21"},
            "valueType": {"identifier": "raw"},
        },
    ],
    "rows": [
        {
            "area": {"identifier": "E08000009", "label": "Trafford"},
            "values": [{"value": None, "formatted": "-"}, {"value": None, "formatted": "-"}],
        }
    ],
}


def test_null_stays_null_unless_the_metric_says_null_as_zero():
    values, areas = data_rows(answer(DATA), null_as_zero=frozenset({"2"}))
    assert {(v["metric_type_id"], v["value"]) for v in values} == {("1", None), ("2", 0.0)}
    assert areas == [{"area_code": "E08000009", "label": "Trafford", "short_label": None}]


def test_a_row_with_too_few_values_is_an_error_naming_the_request():
    broken = {**DATA, "rows": [{"area": {"identifier": "E08000009"}, "values": [{"value": 1}]}]}
    with pytest.raises(
        ResponseNotUnderstood,
        match=r"row 0 \(area E08000009\) has 1 values for 2 columns.*request: http://127.0.0.1/data",
    ):
        data_rows(answer(broken))


@pytest.mark.parametrize(
    "document, where",
    [
        ({"columns": []}, "rows"),
        ({"columns": [{"metricType": {}}], "rows": []}, "columns.0.metricType.identifier"),
        ([], "(top level)"),
    ],
)
def test_wrong_shapes_name_the_field(document, where):
    with pytest.raises(ResponseNotUnderstood, match=re.escape(f"unexpected JSON shape at {where}:")):
        data_rows(answer(document))


def test_metric_type_metadata_and_change_lists():
    document = {
        "metricType": {
            "identifier": "3281",
            "label": "Population",
            "outputPrecision": 0,
            "polarity": "Not applicable",
            "nullAsZero": True,
            "measure": {"measurementUnit": {"identifier": "count", "label": "people"}},
            "dataset": {"identifier": "841", "periodType": {"identifier": "FinancialYear", "frequency": "Annually"}},
        }
    }
    row = metric_type_row(answer(document, "/metricTypes/3281"))
    assert (row["unit_label"], row["frequency"], row["period_type"], row["dataset_id"], row["null_as_zero"]) == (
        "people",
        "Annually",
        "FinancialYear",
        "841",
        True,
    )
    assert changed_metric_types(
        answer({"metricType-array": [{"identifier": "1"}, {"identifier": "7"}]}, "/metricTypes")
    ) == {"1", "7"}


def _column(metric="1", period="fin_2020_21", value_type="raw"):
    return {
        "metricType": {"identifier": metric},
        "period": {"identifier": period},
        "valueType": {"identifier": value_type},
    }


@pytest.mark.parametrize(
    "document, message",
    [
        (
            {"columns": [_column(), _column()], "rows": []},
            r"column 1 \(metric type 1, period fin_2020_21\) repeats an earlier column",
        ),
        (
            {"columns": [_column(value_type="percentile")], "rows": []},
            r"has value type 'percentile'; 'raw' was asked for",
        ),
        (
            {"columns": [_column()], "rows": [{"area": {"identifier": "Trafford"}, "values": [{"value": 1}]}]},
            r"row 0: area 'Trafford' is not a GSS area code",
        ),
        (
            {"columns": [_column()], "rows": [{"area": {"identifier": "E08000009"}, "values": [{"value": "12%"}]}]},
            r"unexpected JSON shape at rows\.0\.values\.0\.value: Value error, '12%' is not a number",
        ),
        (
            {"columns": [_column()], "rows": [{"area": {"identifier": "E08000009"}, "values": [{"value": "NaN"}]}]},
            r"rows\.0\.values\.0\.value: Value error, 'NaN' is not a number",
        ),
        (
            {"columns": [{**_column(), "metricType": {"identifier": 1}}], "rows": []},
            r"unexpected JSON shape at columns\.0\.metricType\.identifier: Input should be a valid string",
        ),
        (
            {"columns": [{**_column(), "metricType": {"identifier": " 1"}}], "rows": []},
            r"unexpected JSON shape at columns\.0\.metricType\.identifier: String should match pattern",
        ),
    ],
)
def test_identifiers_the_grid_and_values_stay_strict(document, message):
    with pytest.raises(ResponseNotUnderstood, match=message):
        data_rows(answer(document))


@pytest.mark.parametrize("written, places", [(1, 1), ("1", 1), ("1.0", 1), (1.0, 1), ("", None), (None, None)])
def test_output_precision_reads_whole_places_however_written(written, places):
    document = {"metricType": {"identifier": "1", "label": "a", "outputPrecision": written}}
    assert metric_type_row(answer(document, "/metricTypes/1"))["output_precision"] == places


@pytest.mark.parametrize("written", ["1.5", -1, "one", True])
def test_output_precision_that_is_not_whole_places_is_refused(written):
    document = {"metricType": {"identifier": "1", "label": "a", "outputPrecision": written}}
    with pytest.raises(ResponseNotUnderstood, match=r"metricType\.outputPrecision"):
        metric_type_row(answer(document, "/metricTypes/1"))


def test_a_period_listed_twice_with_other_dates_is_refused_and_an_exact_repeat_kept_once():
    from ingestion.lginform.responses import period_rows

    entry = {"identifier": "fin_2020_21", "label": "2020/21", "startDate": "2020-04-01", "endDate": "2021-03-31"}
    other = {"identifier": "cal_2020", "label": "2020", "startDate": "2020-01-01", "endDate": "2020-12-31"}
    reading = period_rows(
        answer({"period-array": [entry, other, dict(entry), {**other, "endDate": "2021-12-31"}]}, "/periods")
    )
    assert [r["period_id"] for r in reading.rows] == ["fin_2020_21"]
    assert list(reading.refused) == ["cal_2020"] and "listed twice with different dates" in reading.refused["cal_2020"]
