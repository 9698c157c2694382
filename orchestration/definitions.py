"""The Dagster code location: every asset, check, job and sensor, and their resources.

Loading it refuses an environment with no data source (neither LGINFORM_BASE_URL nor the
demo switch): `dagster dev` and the daemon then show that error and run no schedule or sensor,
rather than load the demo's synthetic data as if it were real."""

import dagster as dg

from lgperf.settings import Environment
from orchestration import (
    catalog,
    dbt,
    exports,
    inbox_raw,
    ingestion,
    jobs,
    publication,
    quality_report,
    schedules,
    sensors,
)
from orchestration.progress import progress_logger
from orchestration.resources import build_resources


def build_definitions(environment: Environment) -> dg.Definitions:
    environment.require_source()
    # owners, kinds, column schemas and code references (orchestration/catalog.py)
    assets = catalog.describe_assets(
        [
            ingestion.indicators_raw,
            ingestion.library_raw,
            inbox_raw.inbox_raw,
            dbt.warehouse_models(),
            publication.publication(),
            *exports.EXPORT_ASSETS,
            quality_report.quality_report,
        ],
        indicators_file=catalog.indicators_file(environment.config_path),
    )
    return dg.Definitions(
        assets=assets,
        jobs=[jobs.refresh_all, jobs.quality_report_job, jobs.inbox_job],
        schedules=[schedules.monthly_refresh, schedules.quarterly_report_schedule],
        sensors=[sensors.quality_report_after_success, sensors.quality_report_after_failure, sensors.inbox_sensor],
        resources={**build_resources(environment), "dbt": dbt.dbt_resource()},
        # "console": Dagster's own event log, which `lgperf run` sends to its log file
        loggers={"progress": progress_logger, "console": dg.colored_console_logger},
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev -m orchestration.definitions` loads (built then, not on import)."""
    return build_definitions(Environment.from_environ())
