"""Export assets: downstream of the marts' blocking checks, so nothing is written unless its
gate passed in the same run."""


from pathlib import Path

import dagster as dg

from exports.bi import write_bi
from exports.open_data import RESOURCES as OPEN_DATA_RESOURCES
from exports.open_data import write_open_data
from exports.report import write_report
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource

# every mart dbt builds (the BI export copies them all; the asset graph test lists the marts)
BI_MARTS = ("dim_areas", "dim_indicators", "dim_periods", "fct_indicator_values", "benchmarks", "spc",
            "indicator_performance", "resident_satisfaction", "complaints_summary")
REPORT_MARTS = ("dim_areas", "dim_indicators", "benchmarks", "spc", "indicator_performance", "resident_satisfaction",
                "complaints_summary")


@dg.asset(
    key=["exports", "open_data"],
    group_name="exports",
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", resource.mart]) for resource in OPEN_DATA_RESOURCES],
    description="EXPORT_DIR/open-data/: the public marts as a Frictionless Data Package (OGL-UK-3.0) for the "
    "open-data portal, with disclosure control on counts of people.",
)
def open_data(settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    destination = Path(settings.export_dir) / "open-data"
    with warehouse.connect() as connection:
        rows = write_open_data(connection, destination, disclosure_min_count=settings.load().thresholds.disclosure_min_count)
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(destination)), **{f"rows:{name}": n for name, n in rows.items()}}
    )


@dg.asset(
    key=["exports", "bi"],
    group_name="exports",
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", name]) for name in BI_MARTS],
    description="EXPORT_DIR/bi/: every mart as Parquet and a DuckDB copy of the marts (lgperf_marts.duckdb), "
    "so BI tools never open the live warehouse.",
)
def bi(settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    destination = Path(settings.export_dir) / "bi"
    with warehouse.connect() as connection:
        rows = write_bi(connection, destination)
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(destination)), **{f"rows:{name}": n for name, n in rows.items()}}
    )


@dg.asset(
    key=["exports", "report"],
    group_name="exports",
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", name]) for name in REPORT_MARTS],
    description="EXPORT_DIR/report/: the councillors' performance report (index.html with one tile per indicator, "
    "satisfaction.html, complaints.html), static and self-contained.",
)
def report(settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    destination = Path(settings.export_dir) / "report"
    with warehouse.connect() as connection:
        counts = write_report(connection, destination, council=settings.load().council)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(destination / "index.html")), **counts})


EXPORT_ASSETS = [open_data, bi, report]
EXPORT_KEYS = [a.key for a in EXPORT_ASSETS]  # every export; the quality report says which a run wrote
