"""The whole pipeline once, as a real Dagster run, with progress and a summary.

Against the council's LG Inform service (``LGINFORM_BASE_URL``), or, only when asked for with
``--demo`` or ``LGPERF_DEMO=1`` (``make run`` asks), the demo: the demo survey and complaints
files dropped into the inbox and the embedded demo API on a free loopback port, with
pipeline.demo.yml. With neither, it refuses before anything is written. The run is recorded in
the Dagster instance under ``DAGSTER_HOME`` like any scheduled run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import dagster as dg

from exports.bi import bi_folder
from lgperf import warehouse
from lgperf.settings import DEMO_SWITCH, ConfigError, Environment, load_pipeline_config

QUIET_RUN_CONFIG = {"loggers": {"progress": {}}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.run", description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help=f"run the demo on synthetic data (the same as {DEMO_SWITCH}=1)")
    arguments = parser.parse_args(argv)
    if arguments.demo:
        os.environ[DEMO_SWITCH] = "1"
    try:
        env = Environment.from_environ()
        env.require_source()  # before anything is written
        load_pipeline_config(env.config_path)  # fail before any work, naming the bad key
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    env.export_to_environ()
    started = time.monotonic()
    if env.uses_demo:
        from demo.inbox import write_demo_inbox

        files = write_demo_inbox(env.inbox_dir)
        print(f"demo (synthetic data, every output marked so): the embedded demo API will serve the data, with "
              f"{env.config_path.name}; {len(files)} demo survey and complaints files are in {env.inbox_dir}")

    from orchestration.definitions import build_definitions
    from orchestration.resources import ensure_warehouse_pool, holding_warehouse_pool

    defs = build_definitions(env)
    instance = dg.DagsterInstance.get()
    ensure_warehouse_pool(instance)  # another run (a schedule, a sensor, a second `make run`) may be writing
    refresh = defs.resolve_job_def("refresh_all").execute_in_process(instance=instance, run_config=QUIET_RUN_CONFIG, raise_on_error=False)
    report = defs.resolve_job_def("quality_report_job").execute_in_process(instance=instance, run_config=QUIET_RUN_CONFIG, raise_on_error=False)
    with holding_warehouse_pool(instance, report.run_id, "make_run_summary"):
        summary = summarise(env, refresh, report, time.monotonic() - started)
    print(summary)
    return 0 if refresh.success and report.success and not failed_error_checks(refresh) else 1


def failed_error_checks(result: dg.ExecuteInProcessResult) -> list:
    """Checks that failed at error severity. A blocking one has already failed the run; a
    non-blocking one (metric types held back by answers the reader refused, when
    ``lginform.on_metric_type_failure`` is "fail") lets the run finish but not succeed."""
    return [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
            and not e.event_specific_data.passed and e.event_specific_data.severity == dg.AssetCheckSeverity.ERROR]


def summarise(env: Environment, refresh: dg.ExecuteInProcessResult, report: dg.ExecuteInProcessResult, seconds: float) -> str:
    checks = [e.event_specific_data for e in refresh.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed = [c for c in checks if not c.passed]
    lines = ["", "== summary ==", f"  run {refresh.run_id}: {'succeeded' if refresh.success else 'FAILED'} in {seconds:.1f} s"]
    with warehouse.connect(env.warehouse_path, read_only=True) as connection:
        lines.append("  rows per source (in raw / inserted by this run):")
        for table in ("lginform_values", "lginform_metric_types", "lginform_areas", "lginform_periods", "lginform_group_members",
                      "inbox_files", "survey_responses", "complaints", "officer_returns", "return_approvals"):
            for source, total, new in connection.execute(
                f"SELECT source_system, count(*), count(*) FILTER (WHERE run_id = ?) FROM raw.{table} GROUP BY 1 ORDER BY 1",
                [refresh.run_id],
            ).fetchall():
                lines.append(f"    {source:<22} raw.{table:<24} {total:>9,} / {new:,}")
        quarantined = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE run_id = ?) FROM audit.quarantine", [refresh.run_id]
        ).fetchall()[0]
        lines.append(f"    quarantined (audit.quarantine, with reasons)          {quarantined[0]:>9,} / {quarantined[1]:,}")
    with warehouse.connect(env.warehouse_path, read_only=True) as connection:
        decided = connection.execute("SELECT publication_id, decision, state_of FROM audit.publications WHERE run_id = ?",
                                     [refresh.run_id]).fetchall()
    if decided:
        publication_id, decision, state_of = decided[0]
        same = f" (nothing changed: marts still hold publication {state_of})" if state_of and state_of != publication_id else ""
        lines.append(f"  publication {publication_id}: {decision.upper() if decision == 'blocked' else decision}{same}")
    lines.append(f"  checks: {len(checks) - len(failed)} passed, {len(failed)} failed")
    for check in failed:
        lines.append(f"    FAILED {check.asset_key.to_user_string()}:{check.check_name} ({check.severity.value.lower()})")
        if check.check_name == "metric_types_current":  # say which, and why, in plain words
            lines.append(f"      {check.description}")
    lines += [
        "  outputs:",
        f"    warehouse       {env.warehouse_path}" + (" (the landing; the marts are on PostgreSQL)" if env.warehouse == "postgres" else ""),
        f"    open data       {env.export_dir / 'open-data' / 'datapackage.json'}",
        f"    BI              {env.export_dir / bi_folder(load_pipeline_config(env.config_path).bi.unsuppressed_counts)}",
        f"    report          {env.export_dir / 'report' / 'index.html'}",
        f"    returns         {env.export_dir / 'returns'} (officers' returns to fill; approvals.xlsx)",
        f"    quality report  {env.export_dir / 'quality' / 'index.html'}" + ("" if report.success else " (NOT refreshed)"),
    ]
    if not refresh.success:
        lines.append("  the run did not complete: exports downstream of a failed step or check were not written; see above")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
