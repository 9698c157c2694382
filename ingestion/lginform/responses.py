"""The shapes of the API's JSON answers, validated with pydantic, and their rows for ``raw``.

Only the fields the pipeline uses are declared; anything else the service adds is ignored.
A missing or mistyped field is an error naming the request and the field's path, never an
empty load.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ingestion.lginform.client import ApiResponse, ResponseNotUnderstood


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Ref(_Shape):
    identifier: str
    label: str | None = None


class _PeriodType(_Shape):
    identifier: str | None = None
    frequency: str | None = None


class _Dataset(_Shape):
    identifier: str | None = None
    period_type: _PeriodType | None = Field(default=None, alias="periodType")


class _MeasurementUnit(_Shape):
    identifier: str | None = None
    label: str | None = None


class _Measure(_Shape):
    identifier: str | None = None
    measurement_unit: _MeasurementUnit | None = Field(default=None, alias="measurementUnit")


class MetricType(_Shape):
    identifier: str
    label: str
    short_label: str | None = Field(default=None, alias="shortLabel")
    help_text: str | None = Field(default=None, alias="helpText")
    measure: _Measure | None = None
    dataset: _Dataset | None = None
    output_precision: int | None = Field(default=None, alias="outputPrecision")
    polarity: str | None = None
    null_as_zero: bool = Field(default=False, alias="nullAsZero")
    discontinued: bool = False


class MetricTypeDocument(_Shape):
    metric_type: MetricType = Field(alias="metricType")


class MetricTypeSummary(_Shape):
    identifier: str


class MetricTypeListDocument(_Shape):
    metric_types: list[MetricTypeSummary] = Field(alias="metricType-array")


class Period(_Shape):
    identifier: str
    label: str
    start_date: date = Field(alias="startDate")
    end_date: date = Field(alias="endDate")
    period_type: str | None = Field(default=None, alias="periodType")


class PeriodsDocument(_Shape):
    periods: list[Period] = Field(alias="period-array")


class _Cell(_Shape):
    value: float | None = None
    formatted: str | None = None
    source: str | None = None
    ci_lower: float | None = Field(default=None, alias="confidenceIntervalLower")
    ci_upper: float | None = Field(default=None, alias="confidenceIntervalUpper")
    publication_status: str | None = Field(default=None, alias="publicationStatus")


class _Column(_Shape):
    metric_type: _Ref = Field(alias="metricType")
    period: _Ref
    value_type: _Ref = Field(alias="valueType")


class _Row(_Shape):
    area: _Ref
    values: list[_Cell]


class DataDocument(_Shape):
    columns: list[_Column]
    rows: list[_Row]


def _validate(model: type[_Shape], response: ApiResponse) -> Any:
    try:
        return model.model_validate(response.document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ResponseNotUnderstood(
            response.request, f"unexpected JSON shape at {where}: {first['msg']} ({exc.error_count()} problem(s))", response.status
        ) from None


def metric_type_row(response: ApiResponse) -> dict[str, Any]:
    metric = _validate(MetricTypeDocument, response).metric_type
    dataset = metric.dataset or _Dataset()
    period_type = dataset.period_type or _PeriodType()
    unit = (metric.measure.measurement_unit if metric.measure else None) or _MeasurementUnit()
    return {
        "metric_type_id": metric.identifier,
        "label": metric.label,
        "short_label": metric.short_label,
        "help_text": metric.help_text,
        "unit_label": unit.label,
        "measurement_unit_id": unit.identifier,
        "output_precision": metric.output_precision,
        "polarity": metric.polarity,
        "period_type": period_type.identifier,
        "frequency": period_type.frequency,
        "dataset_id": dataset.identifier,
        "null_as_zero": metric.null_as_zero,
        "discontinued": metric.discontinued,
    }


def changed_metric_types(response: ApiResponse) -> set[str]:
    """The ids a ``/metricTypes?dataChangedSince=`` answer lists."""
    return {m.identifier for m in _validate(MetricTypeListDocument, response).metric_types}


def period_rows(response: ApiResponse) -> list[dict[str, Any]]:
    return [
        {"period_id": p.identifier, "label": p.label, "start_date": p.start_date, "end_date": p.end_date, "period_type": p.period_type}
        for p in _validate(PeriodsDocument, response).periods
    ]


def data_rows(response: ApiResponse, null_as_zero: frozenset[str] = frozenset()) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(value rows, area rows) of a /data answer; a row whose cells do not match the columns is an error."""
    values, areas, _ = data_rows_deduplicated(response, null_as_zero)
    return values, areas


def data_rows_deduplicated(
    response: ApiResponse, null_as_zero: frozenset[str] = frozenset()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """(value rows, area rows, duplicate rows dropped) of a /data answer.

    An area that comes twice with identical cells is loaded once and counted; twice with
    different cells, the answer contradicts itself and is refused (naming the request and the
    area): which value is right cannot be known, and loading either would be a guess.
    """
    document = _validate(DataDocument, response)
    values: list[dict[str, Any]] = []
    areas: list[dict[str, Any]] = []
    seen: dict[str, _Row] = {}
    duplicates = 0
    for index, row in enumerate(document.rows):
        if len(row.values) != len(document.columns):
            raise ResponseNotUnderstood(
                response.request,
                f"row {index} (area {row.area.identifier}) has {len(row.values)} values for {len(document.columns)} columns",
                response.status,
            )
        if (first := seen.get(row.area.identifier)) is not None:
            if first != row:
                raise ResponseNotUnderstood(
                    response.request,
                    f"row {index} repeats area {row.area.identifier} with different values: conflicting duplicate rows, nothing loaded",
                    response.status,
                )
            duplicates += 1
            continue
        seen[row.area.identifier] = row
        areas.append({"area_code": row.area.identifier, "label": row.area.label or row.area.identifier, "short_label": None})
        for column, cell in zip(document.columns, row.values):
            value = cell.value
            if value is None and column.metric_type.identifier in null_as_zero:
                value = 0.0
            values.append(
                {
                    "metric_type_id": column.metric_type.identifier,
                    "area_code": row.area.identifier,
                    "period_id": column.period.identifier,
                    "value_type": column.value_type.identifier,
                    "value": value,
                    "formatted": cell.formatted,
                    "value_source": cell.source,
                    "ci_lower": cell.ci_lower,
                    "ci_upper": cell.ci_upper,
                    "publication_status": cell.publication_status,
                }
            )
    return values, areas, duplicates
