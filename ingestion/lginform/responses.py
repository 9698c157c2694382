"""The shapes of the API's JSON answers, validated with pydantic, and their rows for ``raw``.

A tolerant reader, strict where it matters. Tolerant of how the service writes things: only
the fields the pipeline uses are declared (anything else is ignored), period bounds may be
dates or ISO date-times (``period_bounds``), numbers may be JSON numbers or numeric strings,
missing values may be null, "" or a suppression marker (``ingestion.figures``), labels are free
text. Strict about what things are: identifiers are non-empty strings, every row has one cell
per column, columns are the metric types and value type asked for, areas are GSS codes, and
a value that is not a number is refused. A refusal names the request and the field's path;
it is never an empty load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from ingestion.figures import NotAFigure, is_missing_marker, parse_number
from ingestion.lginform.client import ApiResponse, ResponseNotUnderstood
from ingestion.lginform.period_bounds import PeriodBoundError, period_end, period_start

AREA_CODE = re.compile(r"^[EWSNK]\d{8}$")


def _label(value: Any) -> Any:
    """Labels are free text: a number written as a label is read as its text."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _figure(value: Any) -> float | None:
    try:
        return parse_number(value)
    except NotAFigure as error:
        raise ValueError(str(error)) from None


def _flag(value: Any) -> Any:
    """A missing flag is false; "true"/"false" strings read as the booleans they name."""
    return False if value is None or value == "" else value


def _precision(value: Any) -> Any:
    """Decimal places: 1, "1" and "1.0" are one place; a fraction of a place is refused."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number of decimal places")
    if not isinstance(value, (str, int, float)):
        return value  # pydantic refuses it, naming the field
    number = _figure(value)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number of decimal places")
    return int(number)


# Identifiers stay strict: a non-empty JSON string with no surrounding spaces, never coerced.
Identifier = Annotated[str, StringConstraints(strict=True, min_length=1, pattern=r"^\S(?:.*\S)?$")]
Label = Annotated[str | None, BeforeValidator(_label)]
Figure = Annotated[float | None, BeforeValidator(_figure)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Precision = Annotated[Annotated[int, Field(ge=0, le=10)] | None, BeforeValidator(_precision)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Ref(_Shape):
    identifier: Identifier
    label: Label = None


class _PeriodType(_Shape):
    identifier: Label = None
    frequency: Label = None


class _Dataset(_Shape):
    identifier: Label = None
    period_type: _PeriodType | None = Field(default=None, alias="periodType")


class _MeasurementUnit(_Shape):
    identifier: Label = None
    label: Label = None


class _Measure(_Shape):
    identifier: Label = None
    measurement_unit: _MeasurementUnit | None = Field(default=None, alias="measurementUnit")


class MetricType(_Shape):
    identifier: Identifier
    label: Annotated[str, BeforeValidator(_label)]
    short_label: Label = Field(default=None, alias="shortLabel")
    help_text: Label = Field(default=None, alias="helpText")
    measure: _Measure | None = None
    dataset: _Dataset | None = None
    output_precision: Precision = Field(default=None, alias="outputPrecision")
    polarity: Label = None
    null_as_zero: Flag = Field(default=False, alias="nullAsZero")
    discontinued: Flag = False


class MetricTypeDocument(_Shape):
    metric_type: MetricType = Field(alias="metricType")


class MetricTypeSummary(_Shape):
    identifier: Identifier


class MetricTypeListDocument(_Shape):
    metric_types: list[MetricTypeSummary] = Field(alias="metricType-array")


class Period(_Shape):
    identifier: Identifier
    label: Annotated[str, BeforeValidator(_label)]
    start_date: Any = Field(alias="startDate")
    end_date: Any = Field(alias="endDate")
    period_type: Label = Field(default=None, alias="periodType")


class PeriodsDocument(_Shape):
    periods: list[Any] = Field(alias="period-array")


class _Cell(_Shape):
    """One cell; a suppression marker written in ``value`` is kept in ``formatted`` (lineage)."""

    value: Figure = None
    formatted: Label = None
    source: Label = None
    ci_lower: Figure = Field(default=None, alias="confidenceIntervalLower")
    ci_upper: Figure = Field(default=None, alias="confidenceIntervalUpper")
    publication_status: Label = Field(default=None, alias="publicationStatus")

    @model_validator(mode="before")
    @classmethod
    def _keep_marker(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("value"), str) and data.get("formatted") in (None, ""):
            if data["value"].strip() and is_missing_marker(data["value"]):
                return {**data, "formatted": data["value"].strip()}
        return data


class _Column(_Shape):
    metric_type: _Ref = Field(alias="metricType")
    period: _Ref
    value_type: _Ref = Field(alias="valueType")


class _Row(_Shape):
    area: _Ref
    values: list[_Cell | None]


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
            response.request,
            f"unexpected JSON shape at {where}: {first['msg']} ({exc.error_count()} problem(s))",
            response.status,
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


@dataclass
class PeriodsReading:
    """The periods of a ``/periods`` answer; an entry that cannot be read is set aside with its
    reason (the values of that period are then refused, not the whole refresh)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # period id (or "entry N") -> reason


def read_period(entry: dict[str, Any]) -> dict[str, Any]:
    """One ``period-array`` entry as a raw row; ValueError names the field that cannot be read."""
    period = Period.model_validate(entry)
    start = period_start(period.start_date)
    return {
        "period_id": period.identifier,
        "label": period.label,
        "start_date": start,
        "end_date": period_end(period.end_date, start),
        "period_type": period.period_type,
    }


def period_rows(response: ApiResponse) -> PeriodsReading:
    """Every entry read on its own; a period listed twice with different dates is refused
    (which dates are right cannot be known), twice the same is kept once."""
    reading = PeriodsReading()
    read: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(_validate(PeriodsDocument, response).periods):
        identifier = entry.get("identifier") if isinstance(entry, dict) else None
        name = identifier if isinstance(identifier, str) and identifier else f"entry {index}"
        try:
            row = read_period(entry)
        except ValidationError as error:
            first = error.errors()[0]
            reading.refused[name] = f"period-array.{index}.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
            continue
        except PeriodBoundError as error:
            reading.refused[name] = f"period-array.{index}: {error}"
            continue
        if name in read and read[name] != row:
            reading.refused[name] = f"period-array.{index}: {name} is listed twice with different dates or labels"
        read.setdefault(name, row)
    reading.rows = [row for name, row in read.items() if name not in reading.refused]
    return reading


@dataclass(frozen=True)
class DataAsked:
    """What a ``/data`` request asked for: an answer with other columns is refused."""

    metric_types: frozenset[str] | None = None  # None: any
    value_type: str = "raw"
    refused_periods: dict[str, str] = field(default_factory=dict)  # period id -> why /periods refused it


def data_rows(
    response: ApiResponse, null_as_zero: frozenset[str] = frozenset()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(value rows, area rows) of a /data answer; a row whose cells do not match the columns is an error."""
    values, areas, _ = data_rows_deduplicated(response, null_as_zero)
    return values, areas


def _check_columns(response: ApiResponse, columns: list[_Column], asked: DataAsked) -> None:
    seen: set[tuple[str, str, str]] = set()
    for index, column in enumerate(columns):
        key = (column.metric_type.identifier, column.period.identifier, column.value_type.identifier)
        where = f"column {index} (metric type {key[0]}, period {key[1]})"
        problem = None
        if key in seen:
            problem = f"{where} repeats an earlier column: which cells are which cannot be known"
        elif asked.metric_types is not None and key[0] not in asked.metric_types:
            problem = f"{where} is a metric type that was not asked for ({', '.join(sorted(asked.metric_types))})"
        elif key[2] != asked.value_type:
            problem = f"{where} has value type {key[2]!r}; {asked.value_type!r} was asked for"
        elif key[1] in asked.refused_periods:
            problem = f"{where}: the period's entry in /periods was refused ({asked.refused_periods[key[1]]})"
        if problem:
            raise ResponseNotUnderstood(response.request, problem, response.status)
        seen.add(key)


def data_rows_deduplicated(
    response: ApiResponse, null_as_zero: frozenset[str] = frozenset(), asked: DataAsked = DataAsked()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """(value rows, area rows, duplicate rows dropped) of a /data answer.

    An area that comes twice with identical cells is loaded once and counted; twice with
    different cells, the answer contradicts itself and is refused (naming the request and the
    area): which value is right cannot be known, and loading either would be a guess.
    """
    document = _validate(DataDocument, response)
    _check_columns(response, document.columns, asked)
    values: list[dict[str, Any]] = []
    areas: list[dict[str, Any]] = []
    seen: dict[str, _Row] = {}
    duplicates = 0
    for index, row in enumerate(document.rows):
        code = row.area.identifier
        if not AREA_CODE.match(code):
            raise ResponseNotUnderstood(
                response.request, f"row {index}: area {code!r} is not a GSS area code", response.status
            )
        if len(row.values) != len(document.columns):
            raise ResponseNotUnderstood(
                response.request,
                f"row {index} (area {code}) has {len(row.values)} values for {len(document.columns)} columns",
                response.status,
            )
        if (first := seen.get(code)) is not None:
            if first != row:
                raise ResponseNotUnderstood(
                    response.request,
                    f"row {index} repeats area {code} with different values: conflicting duplicate rows, "
                    "nothing loaded",
                    response.status,
                )
            duplicates += 1
            continue
        seen[code] = row
        areas.append({"area_code": code, "label": row.area.label or code, "short_label": None})
        for column, cell in zip(document.columns, row.values):
            cell = cell or _Cell()
            value = cell.value
            if value is None and column.metric_type.identifier in null_as_zero:
                value = 0.0
            values.append(
                {
                    "metric_type_id": column.metric_type.identifier,
                    "area_code": code,
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
