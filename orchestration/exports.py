"""Export assets: downstream of the marts' blocking checks, so nothing is written unless its
gate passed in the same run."""


from pathlib import Path

import dagster as dg

from exports.open_data import write_open_data
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource


@dg.asset(
    key=["exports", "open_data"],
    group_name="exports",
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", "fct_indicator_values"])],
    description="EXPORT_DIR/open-data/: the public marts as CSV for the open-data portal.",
)
def open_data(settings: PipelineSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    destination = Path(settings.export_dir) / "open-data"
    with warehouse.connect() as connection:
        rows = write_open_data(connection, destination)
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(destination)), **{f"rows:{name}": n for name, n in rows.items()}}
    )


EXPORT_KEYS = [open_data.key]  # every export; the quality report says which a run wrote
