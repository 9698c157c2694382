"""Published extracts loaded through the same raw tables as the API, with the same lineage.

Three layouts: an LG Inform ``data.csv`` export (rows = areas, one column per period), a tidy
file (``area_code, area_name, period, indicator, measure, unit, value``, as the Trafford data
lab publishes), and Oflog's CSV. Every row received is either accepted or quarantined with
its file, row number, column and reason; period spellings are kept as received and
normalised once, in dbt staging.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.csv_text import (
    SNIFF_LINES,
    csv_cell_limit,
    decode,
    detect_delimiter,
    first_non_blank_line,
    refuse_unclosed_quote,
)
from ingestion.figures import NotAFigure, parse_number
from ingestion.refusals import FileRefused
from lgperf.settings import Extract, LgInformCsvExtract, OflogExtract, TidyExtract, project_path

GSS_CODE = re.compile(r"^[EWSNK]\d{8}$")
LGINFORM_POLARITY = {
    "high_is_good": "High value is good",
    "low_is_good": "Low value is good",
    "neutral": "Not applicable",
}
OFLOG_POLARITY = {"desc": "High value is good", "asc": "Low value is good", "none": "Not applicable"}


class ExtractError(ValueError):
    """A file that cannot be read at all (missing, wrong layout); the message names it."""


@dataclass
class ExtractResult:
    path: Path
    format: str
    sha256: str
    rows_received: int = 0
    tables: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"lginform_values": [], "lginform_metric_types": [], "lginform_areas": []}
    )
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    _lines_by_key: dict[tuple[str, str, str], int] = field(default_factory=dict, repr=False)

    @property
    def source_system(self) -> str:
        return f"extract:{self.format}"

    @property
    def rows_accepted(self) -> int:
        return len(self.tables["lginform_values"])

    def lineage(self, row_number: int | None = None) -> dict[str, str]:
        reference = self.path.name if row_number is None else f"{self.path.name}#row={row_number}"
        return {"source_system": self.source_system, "source_reference": reference, "source_sha256": self.sha256}

    def accept(self, row_number: int, record: dict[str, Any], **value: Any) -> None:
        key = (value["metric_type_id"], value["area_code"], value["period_id"])
        if key in self._lines_by_key:
            self.quarantine(
                row_number,
                None,
                f"duplicate of row {self._lines_by_key[key]} (same indicator, area and period)",
                record,
            )
            return
        self._lines_by_key[key] = row_number
        self.tables["lginform_values"].append(
            {
                "value_type": "raw",
                "formatted": None,
                "value_source": self.path.name,
                "ci_lower": None,
                "ci_upper": None,
                "publication_status": "Published",
                **value,
                **self.lineage(row_number),
            }
        )

    def quarantine(self, row_number: int, column: str | None, reason: str, record: dict[str, Any]) -> None:
        self.quarantined.append(
            {
                "source_system": self.source_system,
                "source_reference": self.path.name,
                "source_sha256": self.sha256,
                "row_number": row_number,
                "column_name": column,
                "reason": reason,
                "raw_record": json.dumps(record, ensure_ascii=False, sort_keys=True),
            }
        )


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pending_extracts(extracts: Iterable[Extract], loaded: set[str]) -> list[ExtractResult]:
    """Read the configured extracts whose exact bytes were not loaded before (by SHA-256)."""
    results = []
    for extract in extracts:
        path = project_path(extract.path)
        if not path.is_file():
            raise ExtractError(f"{path}: extract file not found (pipeline.yml extracts, format {extract.format})")
        digest = file_sha256(path)
        if digest not in loaded:
            results.append(read_extract(extract, sha256=digest))
    return results


def read_extract(extract: Extract, *, sha256: str | None = None) -> ExtractResult:
    """Parse one configured extract into raw rows and quarantined rows."""
    path = project_path(extract.path)
    if not path.is_file():
        raise ExtractError(f"{path}: extract file not found (pipeline.yml extracts, format {extract.format})")
    result = ExtractResult(path, extract.format, sha256 or file_sha256(path))
    frame = _read_csv(path)
    readers: dict[type, Callable[[pd.DataFrame, Any, ExtractResult], None]] = {
        LgInformCsvExtract: _lginform_csv,
        TidyExtract: _tidy,
        OflogExtract: _oflog,
    }
    readers[type(extract)](frame, extract, result)
    return result


def _read_csv(path: Path) -> pd.DataFrame:
    """The file's records as strings, indexed by the line each starts on (the header is line 1
    when nothing is above it), read like an inbox file: UTF-8 with or without a BOM, else
    Windows-1252; ``,`` ``;`` tab or ``|``. A blank line carries nothing and is skipped (the
    line numbers of the rows after it stay true); a row with fewer or more cells than the
    header (empty trailing cells aside), the same column name twice, NUL bytes, mixed
    encodings or an unclosed quote refuse the file, naming the line."""
    try:
        text, _ = decode(path, path.read_bytes())
        lines = list(io.StringIO(text, newline=""))
        start = first_non_blank_line(lines)
        if start is None:
            raise ExtractError(f"{path}: empty: no header row")
        reader = csv.reader(lines[start:], delimiter=detect_delimiter(lines[start : start + SNIFF_LINES]), strict=False)
        records, line_before = [], 0
        with csv_cell_limit():
            for cells in reader:
                records.append((start + line_before + 1, cells))
                line_before = reader.line_num
        refuse_unclosed_quote(path, lines, records[-1][0] - 1, start + reader.line_num)
    except FileRefused as error:
        raise ExtractError(str(error)) from None
    except csv.Error as error:
        raise ExtractError(f"{path}: unreadable CSV: {error}") from None
    header = [c.strip() for c in records[0][1]]
    repeated = sorted({c for c in header if c and header.count(c) > 1})
    if repeated:
        raise ExtractError(f"{path}: the same column name twice in the header: {', '.join(map(repr, repeated))}")
    rows, numbers = [], []
    for number, cells in records[1:]:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header) or any(c.strip() for c in cells[len(header) :]):
            raise ExtractError(
                f"{path}: line {number} has {len(cells)} cells but the header has {len(header)}; "
                "a truncated or shifted row: its values would land in the wrong columns"
            )
        rows.append(cells[: len(header)])
        numbers.append(number)
    frame = pd.DataFrame(rows, columns=header, index=numbers, dtype=str)
    if "" in header:  # a trailing delimiter: a column without a name, dropped when it holds nothing
        unnamed = frame.iloc[:, [i for i, c in enumerate(header) if c == ""]]
        if unnamed.apply(lambda column: column.str.strip() != "").any().any():
            raise ExtractError(f"{path}: a column without a name in the header holds values")
        frame = frame.loc[:, [c != "" for c in header]]
    return frame


def _rows(frame: pd.DataFrame) -> Iterator[tuple[int, dict[str, str]]]:
    """(file line number, record), the line number being the frame's index."""
    for line, record in zip(frame.index, frame.to_dict(orient="records")):
        yield int(line), {k: (v.strip() if isinstance(v, str) else v) for k, v in record.items()}


def _require(frame: pd.DataFrame, path: Path, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ExtractError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))}"
        )


def _number(text: str) -> tuple[bool, float | None]:
    """(ok, value): a missing-value marker is ok and null; anything else must be a number
    (ingestion.figures: the same rules as the API's cells, so NaN or '12%' is refused)."""
    try:
        return True, parse_number(text)
    except NotAFigure:
        return False, None


def _value_row(
    result: ExtractResult,
    line: int,
    record: dict,
    *,
    metric: str,
    area: str,
    period: str,
    raw_value: str,
    value_column: str,
) -> None:
    if not GSS_CODE.match(area):
        result.quarantine(line, "area_code", f"area code {area!r} is not a GSS code", record)
        return
    if not period:
        result.quarantine(line, "period", "no period", record)
        return
    ok, value = _number(raw_value)
    if not ok:
        result.quarantine(line, value_column, f"value {raw_value!r} is not a number", record)
        return
    result.accept(
        line, record, metric_type_id=metric, area_code=area, period_id=period, formatted=raw_value or None, value=value
    )


def _area(result: ExtractResult, line: int, code: str, label: str) -> None:
    if GSS_CODE.match(code) and label:
        result.tables["lginform_areas"].append(
            {"area_code": code, "label": label, "short_label": None, **result.lineage(line)}
        )


def _metric_type(result: ExtractResult, metric: str, label: str, unit: str | None, polarity: str | None) -> None:
    result.tables["lginform_metric_types"].append(
        {
            "metric_type_id": metric,
            "label": label,
            "short_label": None,
            "help_text": None,
            "unit_label": unit,
            "measurement_unit_id": None,
            "output_precision": None,
            "polarity": polarity,
            "period_type": None,
            "frequency": None,
            "dataset_id": result.path.name,
            "null_as_zero": False,
            "discontinued": False,
            **result.lineage(),
        }
    )


def _lginform_csv(frame: pd.DataFrame, extract: LgInformCsvExtract, result: ExtractResult) -> None:
    _require(frame, result.path, ["area", "area label"])
    periods = [c for c in frame.columns if c not in ("area", "area label", "area long label")]
    if not periods:
        raise ExtractError(f"{result.path}: no period columns after 'area, area label, area long label'")
    for line, record in _rows(frame):
        _area(result, line, record["area"], record["area label"])
        for period in periods:
            result.rows_received += 1
            _value_row(
                result,
                line,
                record,
                metric=extract.metric_type,
                area=record["area"],
                period=period,
                raw_value=record[period],
                value_column=period,
            )


def _tidy(frame: pd.DataFrame, extract: TidyExtract, result: ExtractResult) -> None:
    frame = frame.rename(columns=lambda c: str(c).strip().lower()).rename(columns={"units": "unit"})
    _require(frame, result.path, ["area_code", "period", "indicator", "value"])
    for mapping in extract.indicators:
        if mapping.label or mapping.polarity or mapping.unit:
            _metric_type(
                result,
                mapping.metric_type,
                mapping.label or mapping.indicator,
                mapping.unit,
                LGINFORM_POLARITY.get(mapping.polarity or ""),
            )
    for line, record in _rows(frame):
        result.rows_received += 1
        mapping = next(
            (
                m
                for m in extract.indicators
                if m.indicator == record["indicator"] and m.measure in (None, record.get("measure"))
            ),
            None,
        )
        if mapping is None:
            result.quarantine(
                line,
                "indicator",
                f"indicator {record['indicator']!r} / measure {record.get('measure')!r} "
                "is not mapped to an indicator id in pipeline.yml extracts",
                record,
            )
            continue
        _area(result, line, record["area_code"], record.get("area_name", ""))
        _value_row(
            result,
            line,
            record,
            metric=mapping.metric_type,
            area=record["area_code"],
            period=record["period"],
            raw_value=record["value"],
            value_column="value",
        )


def _oflog(frame: pd.DataFrame, extract: OflogExtract, result: ExtractResult) -> None:
    columns = [
        "Financial year",
        "Local authority code",
        "Local authority name",
        "Measure",
        "Code",
        "Value",
        "rank_order",
    ]
    _require(frame, result.path, columns)
    described: set[str] = set()
    for line, record in _rows(frame):
        result.rows_received += 1
        metric = extract.codes.get(record["Code"])
        if metric is None:
            result.quarantine(
                line, "Code", f"Oflog code {record['Code']!r} is not mapped in pipeline.yml extracts codes", record
            )
            continue
        if metric not in described:
            described.add(metric)
            label = record["Measure"].split(", ", 1)[-1]
            _metric_type(result, metric, label, None, OFLOG_POLARITY.get(record["rank_order"].lower()))
        _area(result, line, record["Local authority code"], record["Local authority name"])
        _value_row(
            result,
            line,
            record,
            metric=metric,
            area=record["Local authority code"],
            period=record["Financial year"],
            raw_value=record["Value"],
            value_column="Value",
        )
