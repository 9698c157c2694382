"""Export assets: downstream of the marts' blocking checks, so nothing is written unless its
gate passed in the same run."""


from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import dagster as dg
import duckdb

from exports.bi import write_bi
from exports.open_data import RESOURCES as OPEN_DATA_RESOURCES
from exports.open_data import write_open_data
from exports.report import write_report
from orchestration.dbt import warehouse_models
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource

# every mart dbt builds: the BI export copies them all
BI_MARTS = tuple(sorted(key.path[1] for key in warehouse_models.keys if key.path[0] == "marts"))
OPEN_DATA_MARTS = tuple(sorted({resource.mart for resource in OPEN_DATA_RESOURCES}))
REPORT_MARTS = ("dim_areas", "dim_indicators", "dim_periods", "benchmarks", "spc", "indicator_performance", "resident_satisfaction",
                "complaints_summary")


def publish(settings: PipelineSettings, warehouse: WarehouseResource, folder: str, marts: Sequence[str],
            write: Callable[[duckdb.DuckDBPyConnection, Path], Mapping[str, int]], *, page: str | None = None) -> dg.MaterializeResult:
    """Write one export of ``marts`` into EXPORT_DIR/<folder> and report its path and row counts to Dagster."""
    destination = Path(settings.export_dir) / folder
    with warehouse.marts_for_export(marts) as connection:
        counts = write(connection, destination)
    path = destination / page if page else destination
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), **{f"rows:{k}": n for k, n in counts.items()}})


@dg.asset(
    key=["exports", "open_data"],
    group_name="exports",
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", resource.mart]) for resource in OPEN_DATA_RESOURCES],
    description="EXPORT_DIR/open-data/: the public marts as a Frictionless Data Package (OGL-UK-3.0) for the "
    "open-data portal, with disclosure control on counts of people.",
)
def open_data(settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    threshold = settings.load().thresholds.disclosure_min_count
    return publish(settings, warehouse, "open-data", OPEN_DATA_MARTS, lambda c, d: write_open_data(c, d, disclosure_min_count=threshold))

@dg.asset(
    key=["exports", "bi"],
    group_name="exports",
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", name]) for name in BI_MARTS],
    description="EXPORT_DIR/bi/: every mart as Parquet and a DuckDB copy of the marts (lgperf_marts.duckdb), "
    "so BI tools never open the live warehouse.",
)
def bi(settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    return publish(settings, warehouse, "bi", BI_MARTS, write_bi)

@dg.asset(
    key=["exports", "report"],
    group_name="exports",
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", name]) for name in REPORT_MARTS],
    description="EXPORT_DIR/report/: the councillors' performance report (index.html with one tile per indicator, "
    "satisfaction.html, complaints.html), static and self-contained.",
)
def report(settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    council = settings.load().council
    return publish(settings, warehouse, "report", REPORT_MARTS, lambda c, d: write_report(c, d, council=council), page="index.html")

EXPORT_ASSETS = [open_data, bi, report]
EXPORT_KEYS = [a.key for a in EXPORT_ASSETS]  # every export; the quality report says which a run wrote
