"""When refresh_all runs by the clock (UK time): monthly for the new data, and quarterly, when a
quarter's returns are in, ahead of the committee cycle."""

import dagster as dg

from orchestration.jobs import refresh_all

monthly_refresh = dg.ScheduleDefinition(
    name="monthly_refresh",
    job=refresh_all,
    cron_schedule="0 6 2 * *",
    execution_timezone="Europe/London",
    description="06:00 UK time on the 2nd of each month. Incremental: only the metric types that "
    "LG Inform reports as changed since the last successful pull are fetched.",
)

quarterly_report_schedule = dg.ScheduleDefinition(
    name="quarterly_report_schedule",
    job=refresh_all,
    cron_schedule="0 7 15 2,5,8,11 *",
    execution_timezone="Europe/London",
    description="07:00 UK time on the 15th of the second month after each quarter ends (Feb, May, Aug, Nov), "
    "when the quarter's returns are in, ahead of the committee cycle: everything refreshed for the quarterly "
    "performance report.",
)
