"""The whole pipeline once, as a real Dagster run, with progress and a summary.

Against the council's LG Inform service (``LGINFORM_BASE_URL``), or, only when asked for with
``--demo`` or ``LGPERF_DEMO=1`` (``make run`` asks), the demo: the demo survey and complaints
files dropped into the inbox and the embedded demo API on a free loopback port, with
pipeline.demo.yml. With neither, it refuses before anything is written. The run is recorded in
the Dagster instance under ``DAGSTER_HOME`` like any scheduled run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import uuid
from pathlib import Path

import dagster as dg

from exports.bi import bi_folder
from lgperf import status, warehouse
from lgperf.settings import DEMO_SWITCH, PROJECT_ROOT, ConfigError, Environment, load_pipeline_config
from orchestration import progress
from orchestration.cli import add_run_arguments as add_arguments


def run_config(*, verbose: bool) -> dict:
    """Quiet: the stage lines on the console and Dagster's whole event log (the ``console``
    logger, to stderr, which the run sends to its log file); verbose: the old per-asset lines."""
    if verbose:
        return {"loggers": {"progress": {"config": {"detail": True}}}}
    return {"loggers": {"progress": {"config": {"detail": False}}, "console": {"config": {"log_level": "DEBUG"}}}}


QUIET_RUN_CONFIG = run_config(verbose=True)  # kept for callers of the old name


def logs_dir() -> Path:
    """Where a run's log file goes: ``$DAGSTER_HOME/logs``, else ``data/logs``."""
    home = os.environ.get("DAGSTER_HOME")
    return (Path(home) if home else PROJECT_ROOT / "data") / "logs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.run", description=__doc__.splitlines()[0])
    return run(add_arguments(parser).parse_args(argv))


def run(arguments: argparse.Namespace) -> int:
    """``lgperf run``: 0 when the run, its checks and the quality report succeeded, 1 when not,
    2 on a configuration error (nothing written)."""
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
        from demo.synthetic_inbox import write_demo_inbox

        files = write_demo_inbox(env.inbox_dir)
        print(
            f"demo (synthetic data, every output marked so): the embedded demo API will serve the data, with "
            f"{env.config_path.name}; {len(files)} demo survey and complaints files are in {env.inbox_dir}"
        )

    run_id = str(uuid.uuid4())
    log_path = None if arguments.verbose else logs_dir() / f"run-{run_id}.log"
    console = sys.stdout
    with contextlib.ExitStack() as stack:
        if log_path is not None:  # dbt's and Dagster's own output to the log file, the stage lines to the console
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = stack.enter_context(log_path.open("a", encoding="utf-8", buffering=1))
            stack.enter_context(contextlib.redirect_stdout(log))
            stack.enter_context(contextlib.redirect_stderr(log))
            progress.set_console(console)
            stack.callback(progress.set_console, None)
            print(f"  {'stage':<{progress.STAGE_WIDTH}}  {'what it did':<60} {'elapsed':>8}", file=console, flush=True)
        refresh, report = _execute(env, run_id, verbose=arguments.verbose)
    from orchestration.resources import holding_warehouse_pool

    with holding_warehouse_pool(dg.DagsterInstance.get(), report.run_id, "make_run_summary"):
        summary = summarise(env, refresh, report, time.monotonic() - started)
    print(summary)
    if log_path is not None:
        print(f"  log (dbt and Dagster)  {log_path}")
    return 0 if refresh.success and report.success and not failed_error_checks(refresh) else 1


def _execute(
    env: Environment, run_id: str, *, verbose: bool
) -> tuple[dg.ExecuteInProcessResult, dg.ExecuteInProcessResult]:
    from orchestration.definitions import build_definitions
    from orchestration.resources import ensure_warehouse_pool

    defs = build_definitions(env)
    instance = dg.DagsterInstance.get()
    ensure_warehouse_pool(instance)  # another run (a schedule, a sensor, a second `make run`) may be writing
    config = run_config(verbose=verbose)
    refresh = defs.resolve_job_def("refresh_all").execute_in_process(
        instance=instance, run_config=config, raise_on_error=False, run_id=run_id
    )
    progress.flush_stages()
    report = defs.resolve_job_def("quality_report_job").execute_in_process(
        instance=instance, run_config=config, raise_on_error=False
    )
    progress.flush_stages()
    return refresh, report


def failed_error_checks(result: dg.ExecuteInProcessResult) -> list:
    """Checks that failed at error severity. A blocking one has already failed the run; a
    non-blocking one (metric types held back by answers the reader refused, when
    ``lginform.on_metric_type_failure`` is "fail") lets the run finish but not succeed."""
    return [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.event_specific_data.passed
        and e.event_specific_data.severity == dg.AssetCheckSeverity.ERROR
    ]


def summarise(
    env: Environment, refresh: dg.ExecuteInProcessResult, report: dg.ExecuteInProcessResult, seconds: float
) -> str:
    checks = [e.event_specific_data for e in refresh.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed = [c for c in checks if not c.passed]
    lines = [
        "",
        "== summary ==",
        f"  run {refresh.run_id}: {'succeeded' if refresh.success else 'FAILED'} in {seconds:.1f} s",
    ]
    with warehouse.connect(env.warehouse_path, read_only=True) as connection:
        sources = status.rows_per_source(connection, refresh.run_id)
        quarantined = status.quarantined(connection, refresh.run_id)
        decided = status.publication_of_run(connection, refresh.run_id)
        expectations = status.failed_expectations(connection, refresh.run_id)
    lines.append("  rows per source (in raw / inserted by this run):")
    for table, source, total, new in sources:
        lines.append(f"    {source:<22} raw.{table:<24} {total:>9,} / {new:,}")
    lines.append(f"    quarantined (audit.quarantine, with reasons)          {quarantined[0]:>9,} / {quarantined[1]:,}")
    if decided is not None:
        same = (
            f" (nothing changed: marts still hold publication {decided.state_of})"
            if decided.state_of and decided.state_of != decided.publication_id
            else ""
        )
        decision = decided.decision.upper() if decided.decision == "blocked" else decided.decision
        lines.append(f"  publication {decided.publication_id}: {decision}{same}")
        if decided.decision == "blocked":
            blocking = decided.blocked_by
            lines.append(
                f"    blocked by the failed check{'s' if len(blocking) != 1 else ''} "
                f"{', '.join(blocking) or '(none recorded)'}: the marts, the open data, the BI copy and the report "
                "still hold the previous publication"
            )
    lines.append(f"  checks: {len(checks) - len(failed)} passed, {len(failed)} failed")
    for check in failed:
        lines.append(
            f"    FAILED {check.asset_key.to_user_string()}:{check.check_name} ({check.severity.value.lower()})"
        )
        if check.check_name == "metric_types_current":  # say which, and why, in plain words
            lines.append(f"      {check.description}")
        for suite, why, rows in expectations:  # a suite's check: which expectations, in plain words
            if check.check_name == f"gx_{suite}":
                failing = "" if rows is None else f": {rows:,} " + ("row does not" if rows == 1 else "rows do not")
                lines.append(f"      {why}{failing} (the quality report lists them)")
    lines += [
        "  outputs:",
        f"    warehouse       {env.warehouse_path}"
        + (" (the landing; the marts are on PostgreSQL)" if env.warehouse == "postgres" else ""),
        f"    open data       {env.export_dir / 'open-data' / 'datapackage.json'}",
        "    BI              "
        f"{env.export_dir / bi_folder(load_pipeline_config(env.config_path).bi.unsuppressed_counts)}",
        f"    report          {env.export_dir / 'report' / 'index.html'}",
        f"    returns         {env.export_dir / 'returns'} (officers' returns to fill; approvals.xlsx)",
        f"    quality report  {env.export_dir / 'quality' / 'index.html'}"
        + ("" if report.success else " (NOT refreshed)"),
    ]
    if not refresh.success:
        lines.append(
            "  the run did not complete: exports downstream of a failed step or check were not written; "
            "see the lines above"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
