"""Jobs, the monthly schedule, and the sensors that refresh the auditor's report after every refresh run."""


import dagster as dg

REFRESH_GROUPS = ("ingestion", "transformation", "publish", "exports")

refresh_all = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.groups(*REFRESH_GROUPS),
    description="Ingest, build the candidate marts, audit them, publish them if nothing blocks, and export what was published.",
)

monthly_refresh = dg.ScheduleDefinition(
    name="monthly_refresh",
    job=refresh_all,
    cron_schedule="0 6 2 * *",
    execution_timezone="Europe/London",
    description="06:00 UK time on the 2nd of each month. Incremental: only the metric types that "
    "LG Inform reports as changed since the last successful pull are fetched.",
)

quarterly_performance_report = dg.define_asset_job(
    "quarterly_performance_report",
    selection=dg.AssetSelection.groups(*REFRESH_GROUPS),
    description="Everything refreshed for the quarterly performance report: ingestion, marts, every check, and the "
    "open data, BI and councillors' report exports that passed their gates.",
)

quarterly_report_schedule = dg.ScheduleDefinition(
    name="quarterly_report_schedule",
    job=quarterly_performance_report,
    cron_schedule="0 7 15 2,5,8,11 *",
    execution_timezone="Europe/London",
    description="07:00 UK time on the 15th of the second month after each quarter ends (Feb, May, Aug, Nov), "
    "when the quarter's returns are in, ahead of the committee cycle.",
)

quality_report_job = dg.define_asset_job(
    "quality_report_job",
    selection=dg.AssetSelection.groups("quality"),
    description="Rewrite the auditor's quality report from audit.validation_results.",
)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[refresh_all, quarterly_performance_report], request_job=quality_report_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def quality_report_after_success(context: dg.RunStatusSensorContext):
    return dg.RunRequest(run_key=f"quality-after-{context.dagster_run.run_id}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.FAILURE, monitored_jobs=[refresh_all, quarterly_performance_report], request_job=quality_report_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def quality_report_after_failure(context: dg.RunStatusSensorContext):
    return dg.RunRequest(run_key=f"quality-after-{context.dagster_run.run_id}")
