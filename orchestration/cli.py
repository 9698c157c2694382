"""lgperf: the pipeline's one front door.

lgperf run [--demo] [--verbose]        the whole pipeline once, then the quality report
lgperf status                          the last publication, what blocked it, stale figures, what waits
lgperf trace INDICATOR AREA PERIOD     one published value's lineage
lgperf waive --check --by --reason     a named person lets one blocking check pass, once
lgperf doctor                          settings, credentials, the API, the warehouse lock, disk space
lgperf ui                              preflight, then the Dagster UI and daemon (dagster dev)
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from lgperf.settings import DEMO_SWITCH, ConfigError, Environment, load_pipeline_config

OK, FAILED, USAGE = 0, 1, 2
EXIT_CODES = """exit codes:
  0  done: the run succeeded and nothing blocked the publication; doctor found no problem; the value was found;
     the waiver was recorded
  1  the run, a blocking check or the publication failed; doctor found a problem; trace found no such value
  2  usage or configuration error (a bad option, an invalid pipeline.yml, no data source, a waiver without
     a name or reason): nothing was run or written

Settings come from the environment (WAREHOUSE_PATH, EXPORT_DIR, INBOX_DIR, LGPERF_CONFIG,
LGINFORM_BASE_URL, LGINFORM_APPLICATION_KEY, LGINFORM_SECRET, LGPERF_DEMO): docs/cli.md."""
LOW_DISK_BYTES = 1024**3
UI_HOST, UI_PORT = "127.0.0.1", 3000


def add_run_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``lgperf run``'s options (also ``python -m orchestration.run``'s)."""
    parser.add_argument(
        "--demo", action="store_true", help=f"run the demo on synthetic data (the same as {DEMO_SWITCH}=1)"
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="print every asset, check, dbt node and Dagster message on the console (no log file)",
    )
    return parser


def _environment(demo: bool = False) -> Environment:
    if demo:
        os.environ[DEMO_SWITCH] = "1"
    return Environment.from_environ()


def _say_error(error: Exception) -> int:
    print(f"configuration error: {error}", file=sys.stderr)
    return USAGE


# --- run ---------------------------------------------------------------------------------------


def cmd_run(arguments: argparse.Namespace) -> int:
    from orchestration.run import run

    return run(arguments)


# --- status ------------------------------------------------------------------------------------


def cmd_status(arguments: argparse.Namespace) -> int:
    from ingestion.drop_folder import FOLDERS, waiting_files
    from lgperf import status
    from lgperf.settings import FreshnessSettings

    try:
        env = _environment()
    except ConfigError as error:
        return _say_error(error)
    try:
        freshness = load_pipeline_config(env.config_path).thresholds.freshness
    except ConfigError as error:
        print(f"  ! {error}; freshness judged with the default allowances")
        freshness = FreshnessSettings()
    result = OK
    print(f"warehouse {env.warehouse_path}")
    if not env.warehouse_path.exists():
        print("  no warehouse yet: nothing has run (lgperf run --demo, or lgperf run against LGINFORM_BASE_URL)")
        publication = stale = drafts = None
    else:
        import duckdb

        try:
            connection = duckdb.connect(str(env.warehouse_path), read_only=True)
        except duckdb.Error as error:
            print(f"  FAILED: the warehouse cannot be read now ({str(error).splitlines()[0]}); a run may be writing it")
            return FAILED
        with connection:
            publication = status.last_publication(connection)
            stale = status.stale_indicators(
                connection, freshness.judged_on(), dict(freshness.max_days_after_period_end)
            )
            drafts = status.waiting_drafts(connection)
    if publication is None:
        print("last publication: none yet")
    else:
        print(
            f"last publication: {publication.publication_id} "
            f"{publication.decision.upper() if publication.decision == 'blocked' else publication.decision} at "
            f"{publication.decided_at:%Y-%m-%d %H:%M %Z} (run {publication.run_id})"
        )
        if publication.decision == "blocked":
            result = FAILED
            print(f"  blocked by: {', '.join(publication.blocked_by) or '(no check recorded)'}")
            print(f"  the marts and exports still hold publication {publication.held or '(none)'}")
        for waived in publication.waived:
            print(f"  waived: {waived}")
    if stale is not None:
        print(f"stale figures (judged on {freshness.judged_on()}): {len(stale) or 'none'}")
        for item in stale:
            why = "discontinued" if item.discontinued else f"{item.days_over} days past the {item.frequency} allowance"
            print(f"  {item.indicator_id:<7} {item.title[:40]:<40} latest {item.period_label} ({why})")
    waiting = {folder: waiting_files(env.inbox_dir, folder) for folder in FOLDERS}
    print(f"inbox {env.inbox_dir}: {sum(len(v) for v in waiting.values()) or 'nothing'} waiting")
    for folder, files in waiting.items():
        for path in files:
            print(f"  {folder}/{path.name}")
    if drafts is not None:
        print(f"officers' return drafts waiting for a decision: {len(drafts) or 'none'}")
        for owner, indicator_id, period_id in drafts:
            print(f"  {owner}: {indicator_id} {period_id}")
    return result


# --- trace -------------------------------------------------------------------------------------


def cmd_trace(arguments: argparse.Namespace) -> int:
    import duckdb

    from lgperf import status

    try:
        env = _environment()
    except ConfigError as error:
        return _say_error(error)
    if not env.warehouse_path.exists():
        print(f"no warehouse at {env.warehouse_path}: nothing has run yet", file=sys.stderr)
        return FAILED
    try:
        connection = duckdb.connect(str(env.warehouse_path), read_only=True)
    except duckdb.Error as error:
        print(
            f"the warehouse cannot be read now ({str(error).splitlines()[0]}); a run may be writing it", file=sys.stderr
        )
        return FAILED
    with connection:
        found = status.trace(connection, arguments.indicator, arguments.area, arguments.period)
    if found is None:
        print(
            f"no published value for indicator {arguments.indicator}, area {arguments.area}, period {arguments.period} "
            f"in marts.fct_indicator_values of {env.warehouse_path} (check the ids: e.g. 90005 E08000009 fin_2022_23)",
            file=sys.stderr,
        )
        return FAILED
    for name, value in found.lines():
        print(f"{name:<17} {value}")
    return OK


# --- waive -------------------------------------------------------------------------------------


class WaivableChecks:
    """The checks a waiver may name (``gx_<suite>``, the publish step's), as argparse choices read
    only when asked: loading the suites imports pandas, which the other commands do without."""

    @functools.cached_property
    def _names(self) -> list[str]:
        from expectations.runner import load_suites

        return sorted(f"gx_{suite.name}" for suite in load_suites())

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)


def cmd_waive(arguments: argparse.Namespace) -> int:
    """The waiver's rules are lgperf/publication.py's (``grant_waiver``); this is its front door."""
    from lgperf import publication, warehouse

    try:
        env = _environment()
    except ConfigError as error:
        return _say_error(error)
    try:
        with warehouse.connect(env.warehouse_path) as connection:
            waiver_id = publication.grant_waiver(
                connection, check_name=arguments.check, granted_by=arguments.by, reason=arguments.reason
            )
    except ValueError as error:
        print(f"waiver refused: {error}", file=sys.stderr)
        return USAGE
    print(
        f"waiver {waiver_id}: {arguments.check} may fail once, for the next publication "
        f"(granted by {arguments.by.strip()})"
    )
    return OK


# --- doctor ------------------------------------------------------------------------------------


def check_config(env: Environment) -> tuple[bool, str]:
    try:
        config = load_pipeline_config(env.config_path)
    except ConfigError as error:
        return False, str(error)
    return True, f"{env.config_path} ({len(config.lginform.metric_types)} metric types, council {config.council})"


def check_source(env: Environment) -> tuple[bool, str]:
    try:
        env.require_source()
    except ConfigError as error:
        return False, str(error)
    if env.demo:
        return True, "the demo (synthetic data): no credentials needed"
    missing = [
        n
        for n, v in (
            ("LGINFORM_APPLICATION_KEY", env.lginform_application_key),
            ("LGINFORM_SECRET", env.lginform_secret),
        )
        if not v
    ]
    if missing:
        return False, f"{' and '.join(missing)} not set (needed to sign requests to {env.lginform_base_url})"
    return True, f"LGINFORM_APPLICATION_KEY and LGINFORM_SECRET set for {env.lginform_base_url}"


def check_api(env: Environment, get: Callable | None = None) -> tuple[bool, str]:
    if env.demo or not env.lginform_base_url:
        return True, "skipped: the demo serves its own API" if env.demo else "skipped: no LGINFORM_BASE_URL"
    import requests

    url = env.lginform_base_url.rstrip("/") + "/areas"
    try:
        answer = (get or requests.get)(url, timeout=5)
    except requests.RequestException as error:
        return False, f"{url} not reachable within 5 s ({type(error).__name__})"
    if answer.status_code >= 500:
        return False, f"{url} answered HTTP {answer.status_code}"
    return True, f"{url} answered HTTP {answer.status_code}" + (
        " (unsigned request refused, as expected)" if answer.status_code in (401, 403) else ""
    )


def check_lock(env: Environment) -> tuple[bool, str]:
    import duckdb

    if not env.warehouse_path.exists():
        return True, f"{env.warehouse_path} not created yet (the first run creates it)"
    try:
        duckdb.connect(str(env.warehouse_path)).close()
    except duckdb.Error as error:
        return False, f"{env.warehouse_path} is locked: {str(error).splitlines()[0]} (a run or a DuckDB shell holds it)"
    return True, f"{env.warehouse_path} free"


def check_disk(env: Environment, usage: Callable = shutil.disk_usage) -> tuple[bool, str]:
    problems, seen = [], []
    for name, folder in (("exports", env.export_dir), ("warehouse", env.warehouse_path.parent)):
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        free = usage(existing).free
        seen.append(f"{name} {free / 1024**3:.1f} GB free")
        if free < LOW_DISK_BYTES:
            problems.append(f"{name} folder {folder}: only {free / 1024**2:,.0f} MB free (under 1 GB)")
    return (False, "; ".join(problems)) if problems else (True, ", ".join(seen))


DOCTOR_CHECKS = (
    ("configuration", check_config),
    ("data source", check_source),
    ("API", check_api),
    ("warehouse lock", check_lock),
    ("disk space", check_disk),
)


def cmd_doctor(arguments: argparse.Namespace) -> int:
    try:
        env = _environment(arguments.demo)
    except ConfigError as error:
        print(f"  {'environment':<15} FAILED  {error}")
        return FAILED
    failed = 0
    for name, check in DOCTOR_CHECKS:
        try:
            ok, detail = check(env)
        except Exception as error:  # a check that cannot run is a problem found, not a crash
            ok, detail = False, f"{type(error).__name__}: {error}"
        failed += not ok
        print(f"  {name:<15} {'ok    ' if ok else 'FAILED'}  {detail}")
    print("all checks passed" if not failed else f"{failed} check{'s' if failed > 1 else ''} FAILED")
    return FAILED if failed else OK


# --- ui ----------------------------------------------------------------------------------------


def dagster_command(host: str = UI_HOST, port: int = UI_PORT) -> list[str]:
    """`dagster dev` on the project's code location, from the same environment as this interpreter."""
    beside = Path(sys.executable).parent / "dagster"
    executable = str(beside) if beside.exists() else (shutil.which("dagster") or "dagster")
    return [executable, "dev", "-m", "orchestration.definitions", "-h", host, "-p", str(port)]


def cmd_ui(arguments: argparse.Namespace, execute: Callable[[str, Sequence[str]], object] = os.execv) -> int:
    from orchestration import preflight

    if arguments.demo:
        os.environ[DEMO_SWITCH] = "1"
    if preflight.main() != 0:
        return USAGE
    from orchestration.dbt import ensure_manifest

    ensure_manifest()  # once, here: the UI's code server and its daemon each load the code location
    command = dagster_command(arguments.host, arguments.port)
    print(f"starting {' '.join(command)}", flush=True)
    execute(command[0], command)  # replaces this process: Ctrl-C stops the UI and the daemon
    return OK


# --- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lgperf", description=__doc__, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str, handler: Callable) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help, description=help, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        sub.set_defaults(handler=handler)
        return sub

    add_run_arguments(
        command(
            "run",
            "run the whole pipeline once (ingest, build, gate, publish, export), then the quality report; "
            "one line per stage, dbt's and Dagster's logs to a log file named at the end",
            cmd_run,
        )
    )
    command(
        "status",
        "the last publication (and the checks that blocked it), stale figures, inbox files and officers' "
        "return drafts waiting",
        cmd_status,
    )
    trace = command(
        "trace",
        "where one published value came from: the request or file, its SHA-256, when it was received "
        "and ingested, the run, and the publication that published it",
        cmd_trace,
    )
    trace.add_argument(
        "indicator", metavar="INDICATOR", help="indicator id, e.g. 90005 (an LG Inform metric type) or L0001"
    )
    trace.add_argument("area", metavar="AREA", help="area code, e.g. E08000009")
    trace.add_argument("period", metavar="PERIOD", help="period id, e.g. fin_2022_23")
    waive = command(
        "waive",
        "a named person lets one check that blocks the publication pass once, with a reason: "
        "the next publication it would block goes out marked waived, and the waiver is used up "
        "(kept in audit.waivers and shown on the quality report)",
        cmd_waive,
    )
    waive.add_argument(
        "--check",
        required=True,
        choices=WaivableChecks(),
        metavar="CHECK",  # named: choices read late
        help="the check to let pass once, one of %(choices)s",
    )
    waive.add_argument("--by", required=True, help="who grants the waiver (a named person and role)")
    waive.add_argument("--reason", required=True, help="why the data may be published although the check fails")
    doctor = command(
        "doctor", "check the settings, the credentials, the API, the warehouse lock and the free disk space", cmd_doctor
    )
    doctor.add_argument("--demo", action="store_true", help=f"check as for the demo (the same as {DEMO_SWITCH}=1)")
    ui = command(
        "ui",
        "check the settings, then start the Dagster UI and daemon (dagster dev); needs LGINFORM_BASE_URL, or --demo",
        cmd_ui,
    )
    ui.add_argument("--demo", action="store_true", help=f"the demo's UI (the same as {DEMO_SWITCH}=1)")
    ui.add_argument("--host", default=UI_HOST, help=f"address to listen on (default {UI_HOST})")
    ui.add_argument("--port", type=int, default=UI_PORT, help=f"port (default {UI_PORT})")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    return arguments.handler(arguments)


if __name__ == "__main__":
    sys.exit(main())
