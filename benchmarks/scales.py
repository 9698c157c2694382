"""Benchmark data at three scales, from the demo generator, written straight into the raw tables.

S: the home council and its 15 nearest neighbours, 40 indicators, 8 years.
M: every council, 200 indicators, 10 years (quarterly where the indicator is quarterly).
L: every council, 1,000 indicators, 10 years.

The demo catalogue has 59 metric types; larger scales repeat them as variants with ids of
their own (``<replica> * 10,000,000 + id``) and values nudged by up to +/-5% per variant and
area (at the base's precision, so counts stay whole; percentages kept within 0-100), so every
variant has the shape of a real series. Rows go
into ``raw.*`` with the same columns and lineage as an API load (``source_reference`` names the
scale), because at L the API's JSON would be gigabytes: the HTTP client is measured on its own
by ``benchmarks/ingest.py``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import pandas as pd

from demo.catalogue import TRAFFORD, DemoCatalogue, Period, build_catalogue

NEIGHBOURS_GROUP = "Trafford_CIPFA_Near_Neighbours"
ENGLAND_GROUP = "AllLaInCountry_England"
REPLICA_STRIDE = 10_000_000


@dataclass(frozen=True)
class Scale:
    name: str
    all_councils: bool
    indicators: int
    years: int


SCALES = {
    "S": Scale("S", all_councils=False, indicators=40, years=8),
    "M": Scale("M", all_councils=True, indicators=200, years=10),
    "L": Scale("L", all_councils=True, indicators=1000, years=10),
}


def _areas(catalogue: DemoCatalogue, scale: Scale) -> list[str]:
    if scale.all_councils:
        return sorted(code for code, area in catalogue.areas.items() if area.tier not in ("country", "region"))
    return sorted({TRAFFORD, *catalogue.comparison_groups[NEIGHBOURS_GROUP].members})


def _periods(catalogue: DemoCatalogue, metric_id: str, years: int) -> list[Period]:
    periods = catalogue.periods_for(metric_id)
    if not periods:
        return []
    latest = periods[-1].start_date
    first = date(latest.year - years + 1, latest.month, 1)
    return [p for p in periods if p.start_date >= first]


def base_values(catalogue: DemoCatalogue, scale: Scale) -> pd.DataFrame:
    """Every cell of the catalogue's metric types over the scale's areas and years."""
    areas = _areas(catalogue, scale)
    records = []
    for metric_id in sorted(catalogue.metric_types)[: scale.indicators]:
        periods = _periods(catalogue, metric_id, scale.years)
        for area in areas:
            series = catalogue.series(metric_id, area)
            records.extend((metric_id, area, p.identifier, series.get(p.identifier)) for p in periods)
    return pd.DataFrame.from_records(records, columns=["base_id", "area_code", "period_id", "value"])


def indicator_ids(catalogue: DemoCatalogue, scale: Scale) -> pd.DataFrame:
    """The scale's indicators: (metric_type_id, base_id, replica)."""
    bases = sorted(catalogue.metric_types)
    rows = [
        (
            str(int(bases[k % len(bases)]) + REPLICA_STRIDE * (k // len(bases))) if k >= len(bases) else bases[k],
            bases[k % len(bases)],
            k // len(bases),
        )
        for k in range(scale.indicators)
    ]
    return pd.DataFrame.from_records(rows, columns=["metric_type_id", "base_id", "replica"])


def write_raw(
    connection: duckdb.DuckDBPyConnection, scale: Scale, *, run_id: str, as_of: date | None = None
) -> dict[str, int]:
    """Fill the raw tables for ``scale`` (the warehouse must be initialised); return rows per table."""
    catalogue = build_catalogue(as_of=as_of) if as_of else build_catalogue()
    now = datetime.now(UTC)
    reference = f"benchmark scale {scale.name}"
    sha = hashlib.sha256(reference.encode()).hexdigest()
    lineage = ("lginform", reference, sha, now, run_id)
    ids = indicator_ids(catalogue, scale)
    values = base_values(catalogue, scale)
    metrics = catalogue.metric_types
    # a variant keeps its base's precision (a count stays a whole number)
    ids["precision"] = [
        0 if metrics[b].unit_label in ("count", "persons") else metrics[b].output_precision for b in ids["base_id"]
    ]
    connection.register("bench_ids", ids)
    connection.register("bench_values", values)
    connection.execute(
        """
        INSERT INTO raw.lginform_values
        SELECT i.metric_type_id, v.area_code, v.period_id, 'raw',
               CASE WHEN v.value IS NULL OR i.replica = 0 THEN v.value
                    ELSE round(v.value * (1 + (CAST(hash(i.metric_type_id, v.area_code) % 1001 AS BIGINT) - 500)
                        / 10000.0), CAST(i.precision AS INTEGER)) END,
               NULL, NULL, NULL, NULL, NULL, ?, ?, ?, ?, ?
        FROM bench_ids AS i JOIN bench_values AS v ON v.base_id = i.base_id
        """,
        list(lineage),
    ).fetchall()
    # a percentage stays a percentage
    percent = [m for m, t in metrics.items() if t.unit_label == "%"]
    connection.execute(
        "UPDATE raw.lginform_values SET value = least(value, 100) WHERE run_id = ? AND value > 100 "
        "AND metric_type_id IN (SELECT metric_type_id FROM bench_ids WHERE base_id IN (SELECT unnest(?)))",
        [run_id, percent],
    ).fetchall()
    metric_rows = [
        (
            m.metric_type_id,
            metrics[m.base_id].label + (f" (variant {m.replica})" if m.replica else ""),
            metrics[m.base_id].short_label,
            metrics[m.base_id].help_text,
            metrics[m.base_id].unit_label,
            metrics[m.base_id].measurement_unit_identifier,
            metrics[m.base_id].output_precision,
            metrics[m.base_id].polarity,
            metrics[m.base_id].period_type,
            metrics[m.base_id].frequency,
            metrics[m.base_id].dataset_identifier,
            metrics[m.base_id].null_as_zero,
            metrics[m.base_id].discontinued,
            *lineage,
        )
        for m in ids.itertuples()
    ]
    connection.executemany(f"INSERT INTO raw.lginform_metric_types VALUES ({', '.join(['?'] * 18)})", metric_rows)
    used_periods = sorted(set(values["period_id"]))
    connection.executemany(
        "INSERT INTO raw.lginform_periods VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                p,
                catalogue.periods[p].label,
                catalogue.periods[p].start_date,
                catalogue.periods[p].end_date,
                catalogue.periods[p].period_type,
                *lineage,
            )
            for p in used_periods
        ],
    )
    areas = sorted(set(values["area_code"]))
    connection.executemany(
        "INSERT INTO raw.lginform_areas VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(a, catalogue.areas[a].label, catalogue.areas[a].short_label, *lineage) for a in areas],
    )
    members = [(NEIGHBOURS_GROUP, a) for a in catalogue.comparison_groups[NEIGHBOURS_GROUP].members]
    if scale.all_councils:
        members += [(ENGLAND_GROUP, a) for a in catalogue.comparison_groups[ENGLAND_GROUP].members]
    connection.executemany(
        "INSERT INTO raw.lginform_group_members VALUES (?, ?, ?, ?, ?, ?, ?)", [(*m, *lineage) for m in members]
    )
    connection.unregister("bench_ids")
    connection.unregister("bench_values")
    return {
        "values": connection.execute("SELECT count(*) FROM raw.lginform_values WHERE run_id = ?", [run_id]).fetchall()[
            0
        ][0],
        "indicators": len(ids),
        "areas": len(areas),
        "periods": len(used_periods),
    }
