"""Export assets: downstream of the publication, and reading only ``marts``; each refuses to run
unless ``marts`` holds the state of the latest publication attempt and that attempt went out
(so materialising an export alone after a blocked run writes nothing)."""

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import dagster as dg
import duckdb

from exports.bi import bi_folder, write_bi
from exports.officer_returns import write_returns
from exports.open_data import RESOURCES as OPEN_DATA_RESOURCES
from exports.open_data import write_open_data
from exports.report import write_report
from lgperf import origin
from lgperf import publication as wap
from orchestration.dbt import candidate_mart_keys
from orchestration.publication import PUBLICATION_KEY
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource


def bi_marts() -> tuple[str, ...]:
    """Every mart dbt builds (and the publication that says which state they are): the BI export copies them all."""
    return tuple(sorted([*(key.path[1] for key in candidate_mart_keys()), *wap.NOT_CANDIDATES]))


# dim_periods: the large resources are written one file per financial year of their period
OPEN_DATA_MARTS = tuple(sorted({"dim_areas", "dim_periods", *(resource.mart for resource in OPEN_DATA_RESOURCES)}))
REPORT_MARTS = (
    *wap.NOT_CANDIDATES,
    "dim_areas",
    "dim_indicators",
    "dim_periods",
    "benchmarks",
    "spc",
    "spc_rebase_proposals",
    "indicator_performance",
    "resident_satisfaction",
    "complaints_summary",
    "complaints_by_ward",
)
RETURNS_MARTS = ("indicator_performance", "return_drafts")


def publication_to_export(warehouse: WarehouseResource) -> tuple[str, bool]:
    """The publication the exports carry, and whether the warehouse holds the demo's synthetic
    data (then every export says so); a dg.Failure saying why when there is none to export."""
    with warehouse.audit_and_marts() as (connection, store):
        try:
            return wap.require_published(connection, store), origin.is_demo(connection)
        except wap.NotPublished as error:
            raise dg.Failure(description=f"not exported: {error}", allow_retries=False) from None


Writer = Callable[
    [duckdb.DuckDBPyConnection, Path, str, bool], Mapping[str, int]
]  # connection, folder, publication, demo


def publish(
    settings: PipelineSettings,
    warehouse: WarehouseResource,
    folder: str,
    marts: Sequence[str],
    write: Writer,
    *,
    page: str | None = None,
    notes: Mapping[str, str] | None = None,
) -> dg.MaterializeResult:
    """Write one export of the published ``marts`` into EXPORT_DIR/<folder>, carrying the id of
    their publication, and report its path and row counts to Dagster, with any ``notes`` the
    writer filled in while writing."""
    publication_id, demo = publication_to_export(warehouse)
    destination = Path(settings.export_dir) / folder
    with warehouse.marts_for_export(marts) as connection:
        counts = write(connection, destination, publication_id, demo)
    path = destination / page if page else destination
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "publication_id": publication_id,
            "demonstration_data": demo,
            **{f"rows:{k}": n for k, n in counts.items()},
            **(notes or {}),
        }
    )


@dg.asset(
    key=["exports", "open_data"],
    group_name="exports",
    pool=WAREHOUSE_POOL,
    deps=[PUBLICATION_KEY],
    description="EXPORT_DIR/open-data/: the public marts as a Frictionless Data Package (OGL-UK-3.0) for the "
    "open-data portal, with disclosure control on counts of people.",
)
def open_data(settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    config = settings.load()
    return publish(
        settings,
        warehouse,
        "open-data",
        OPEN_DATA_MARTS,
        lambda c, d, p, demo: write_open_data(
            c,
            d,
            disclosure_min_count=config.thresholds.disclosure_min_count,
            publication_id=p,
            demo=demo,
            council=config.council,
        ),
    )


@dg.asset(
    key=["exports", "bi"],
    group_name="exports",
    pool=WAREHOUSE_POOL,
    deps=[PUBLICATION_KEY],
    description="EXPORT_DIR/bi/: every mart as Parquet and a DuckDB copy of the marts (lgperf_marts.duckdb), "
    "so BI tools never open the live warehouse; counts of people controlled as in the open data (or, only when "
    "bi.unsuppressed_counts is set, unsuppressed in EXPORT_DIR/bi-unsuppressed/ for officers).",
)
def bi(settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    config = settings.load()
    unsuppressed = config.bi.unsuppressed_counts
    return publish(
        settings,
        warehouse,
        bi_folder(unsuppressed),
        bi_marts(),
        lambda c, d, p, demo: write_bi(
            c,
            d,
            disclosure_min_count=config.thresholds.disclosure_min_count,
            unsuppressed=unsuppressed,
            publication_id=p,
            demo=demo,
        ),
    )


@dg.asset(
    key=["exports", "report"],
    group_name="exports",
    pool=WAREHOUSE_POOL,
    deps=[PUBLICATION_KEY],
    description="EXPORT_DIR/report/: the councillors' performance report (index.html with a summary of exceptions "
    "and one tile per indicator, satisfaction.html, complaints.html), static and self-contained, and report.pdf "
    "printed from index.html by a headless Chromium when one is found (LGPERF_CHROMIUM or PATH).",
)
def report(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    config = settings.load()
    notes: dict[str, str] = {}

    def write(
        connection: duckdb.DuckDBPyConnection, destination: Path, publication_id: str, demo: bool
    ) -> Mapping[str, int]:
        written = write_report(
            connection,
            destination,
            council=config.council,
            publication_id=publication_id,
            demo=demo,
            disclosure_min_count=config.thresholds.disclosure_min_count,
            freshness=config.thresholds.freshness,
        )
        notes["report_pdf"] = written.pdf.describe()
        if not written.pdf.written:
            context.log.warning(written.pdf.reason)  # the HTML report is published all the same
        return written.counts

    return publish(settings, warehouse, "report", REPORT_MARTS, write, page="index.html", notes=notes)


@dg.asset(
    key=["exports", "officer_returns"],
    group_name="exports",
    pool=WAREHOUSE_POOL,
    deps=[PUBLICATION_KEY],
    description="EXPORT_DIR/returns/: this quarter's officers' returns (one XLSX per accountable owner, prefilled and "
    "locked where the pipeline knows the answer) and approvals.xlsx, the drafts waiting for the performance team. "
    "Internal: both come back through INBOX_DIR/returns/.",
)
def officer_returns(settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    config = settings.load()
    return publish(
        settings,
        warehouse,
        "returns",
        RETURNS_MARTS,
        lambda c, d, p, demo: write_returns(c, d, as_of=config.thresholds.freshness.judged_on(), publication_id=p),
    )


EXPORT_ASSETS = [open_data, bi, report, officer_returns]
EXPORT_KEYS = [a.key for a in EXPORT_ASSETS]  # every export; the quality report says which a run wrote
