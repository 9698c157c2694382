"""`lgperf`: --help on every command, exit codes scripts can rely on, and status, trace and
doctor on a copy of the demo baseline (never the baseline itself). `lgperf run` is exercised by
test_end_to_end.py, `lgperf ui` only as far as the command it would start."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from conftest import point_environment

from orchestration import cli

COMMANDS = ("run", "status", "trace", "waive", "doctor", "ui")


@pytest.fixture
def demo_copy(demo_baseline, tmp_path, monkeypatch):
    folder = tmp_path / "copy"
    shutil.copytree(demo_baseline, folder)
    env = point_environment(monkeypatch, folder, config=None)
    return env


def test_help_on_everything_names_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--help"])
    assert stopped.value.code == 0
    said = capsys.readouterr().out
    assert all(command in said for command in COMMANDS)
    assert "exit codes:" in said and "0  done" in said and "\n  1  " in said and "\n  2  usage" in said
    for command in COMMANDS:
        with pytest.raises(SystemExit) as stopped:
            cli.main([command, "--help"])
        assert stopped.value.code == 0, command
        assert f"usage: lgperf {command}" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [[], ["bogus"], ["trace", "90005"], ["run", "--no-such-option"]])
def test_a_usage_error_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 2
    assert "usage: lgperf" in capsys.readouterr().err


def test_ui_runs_the_preflight_then_dagster_dev(tmp_path, monkeypatch, capsys):
    point_environment(monkeypatch, tmp_path)
    started = []
    arguments = cli.build_parser().parse_args(["ui", "--port", "3111"])
    assert cli.cmd_ui(arguments, execute=lambda path, argv: started.append(argv)) == 0
    (argv,) = started
    assert Path(argv[0]).name == "dagster"
    assert argv[1:] == ["dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", "3111"]

    # no data source: the preflight refuses and dagster dev never starts
    monkeypatch.delenv("LGPERF_DEMO")
    started.clear()
    assert cli.cmd_ui(cli.build_parser().parse_args(["ui"]), execute=lambda path, argv: started.append(argv)) == 2
    assert started == [] and "LGINFORM_BASE_URL is not set" in capsys.readouterr().err


def test_status_names_the_publication_the_stale_figures_and_what_waits(demo_copy, capsys):
    assert cli.main(["status"]) == 0
    said = capsys.readouterr().out
    with duckdb.connect(str(demo_copy.warehouse_path), read_only=True) as connection:
        (publication_id,) = connection.execute("SELECT publication_id FROM audit.publications").fetchall()[0]
    assert f"last publication: {publication_id} published" in said
    # the small demo's Oflog ASC5 (90005) ends in 2022/23, older than an annual figure may be on the demo's date
    assert "stale figures (judged on 2025-11-01):" in said and "\n  90005 " in said
    assert "nothing waiting" in said and "officers' return drafts waiting for a decision: none" in said

    (demo_copy.inbox_dir / "surveys" / "wave_9.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with duckdb.connect(str(demo_copy.warehouse_path)) as connection:  # a later attempt the gate blocked
        connection.execute(
            "INSERT INTO audit.publications "
            "VALUES ('20990101T000000Z-blocked', 'run-x', 'blocked', ?, ?, NULL, NULL, '{}', NULL, NULL)",
            [datetime(2099, 1, 1, tzinfo=UTC), json.dumps([{"check": "gx_fct_indicator_values"}])],
        )
    assert cli.main(["status"]) == 1
    said = capsys.readouterr().out
    assert "last publication: 20990101T000000Z-blocked BLOCKED" in said
    assert "blocked by: gx_fct_indicator_values" in said and f"still hold publication {publication_id}" in said
    assert "1 waiting" in said and "surveys/wave_9.csv" in said


def test_status_before_any_run(tmp_path, monkeypatch, capsys):
    point_environment(monkeypatch, tmp_path)
    assert cli.main(["status"]) == 0
    assert "no warehouse yet" in capsys.readouterr().out


def test_waive_records_a_named_persons_waiver_and_refuses_one_without_a_name(tmp_path, monkeypatch, capsys):
    env = point_environment(monkeypatch, tmp_path)
    assert (
        cli.main(
            [
                "waive",
                "--check",
                "gx_fct_indicator_values",
                "--by",
                " Jane Smith, Head of Performance ",
                "--reason",
                "confirmed with the service",
            ]
        )
        == 0
    )
    said = capsys.readouterr().out
    assert (
        "gx_fct_indicator_values may fail once, for the next publication (granted by Jane Smith, Head of Performance)"
    ) in said
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        recorded = connection.execute(
            "SELECT check_name, granted_by, reason, publication_id FROM audit.waivers"
        ).fetchall()
    assert recorded == [
        ("gx_fct_indicator_values", "Jane Smith, Head of Performance", "confirmed with the service", None)
    ]

    assert cli.main(["waive", "--check", "gx_fct_indicator_values", "--by", " ", "--reason", "because"]) == 2
    assert "waiver refused: a waiver needs the name of the person" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:  # a check the publish step does not have
        cli.main(["waive", "--check", "gx_nothing", "--by", "Jane Smith", "--reason", "because"])
    assert stopped.value.code == 2 and "invalid choice: 'gx_nothing'" in capsys.readouterr().err


def test_trace_prints_the_lineage_of_a_published_value(demo_copy, capsys):
    with duckdb.connect(str(demo_copy.warehouse_path), read_only=True) as connection:
        indicator, area, period, sha, run_id, request = connection.execute(
            "SELECT f.indicator_id, f.area_code, f.period_id, f.source_sha256, f.run_id, r.request "
            "FROM marts.fct_indicator_values f JOIN raw.lginform_responses r ON r.sha256 = f.source_sha256 "
            "WHERE f.indicator_id = '90005' AND f.area_code = 'E08000009' ORDER BY f.period_id DESC LIMIT 1"
        ).fetchall()[0]
        (publication_id,) = connection.execute("SELECT publication_id FROM marts.publication").fetchall()[0]
    assert cli.main(["trace", indicator, area, period]) == 0
    said = capsys.readouterr().out
    for expected in (
        f"source_sha256     {sha}",
        f"run_id            {run_id}",
        f"request {request}",
        "raw.lginform_responses",
        "source_system     lginform",
        "ingested_at",
        "received_at",
        f"published_by      {publication_id} at ",
    ):
        assert expected in said, expected


def test_trace_of_a_value_not_there_exits_1_and_says_so(demo_copy, capsys):
    assert cli.main(["trace", "90005", "E08000009", "fin_1999_00"]) == 1
    said = capsys.readouterr()
    assert said.out == "" and "no published value for indicator 90005, area E08000009, period fin_1999_00" in said.err


def test_doctor_on_the_demo_passes_every_check(demo_copy, capsys):
    assert cli.main(["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["configuration", "data", "API", "warehouse", "disk"]
    assert all(" ok " in line for line in lines[:-1]) and lines[-1] == "all checks passed"


def test_doctor_names_each_problem_and_exits_1(tmp_path, monkeypatch, capsys):
    env = point_environment(monkeypatch, tmp_path, LGINFORM_BASE_URL="http://127.0.0.1:9")
    env.config_path.write_text("council: nowhere\n", encoding="utf-8")
    assert cli.main(["doctor"]) == 1
    said = capsys.readouterr().out
    assert "configuration   FAILED" in said and "council" in said
    assert "data source     FAILED  LGINFORM_APPLICATION_KEY and LGINFORM_SECRET not set" in said
    assert "API             FAILED" in said and "not reachable within 5 s" in said
    assert said.rstrip().endswith("3 checks FAILED")


def test_doctor_checks_one_by_one(tmp_path, monkeypatch):
    import requests

    env = point_environment(
        monkeypatch,
        tmp_path,
        LGINFORM_BASE_URL="https://lginform.example",
        LGINFORM_APPLICATION_KEY="k",
        LGINFORM_SECRET="s",
    )
    assert cli.check_source(env)[0]
    asked = []
    ok, detail = cli.check_api(
        env, get=lambda url, timeout: asked.append((url, timeout)) or SimpleNamespace(status_code=401)
    )
    assert ok and asked == [("https://lginform.example/areas", 5)] and "HTTP 401" in detail
    assert not cli.check_api(env, get=lambda url, timeout: SimpleNamespace(status_code=503))[0]

    def timed_out(url, timeout):
        raise requests.ConnectTimeout("slow")

    assert cli.check_api(env, get=timed_out) == (
        False,
        "https://lginform.example/areas not reachable within 5 s (ConnectTimeout)",
    )

    assert cli.check_lock(env) == (True, f"{env.warehouse_path} not created yet (the first run creates it)")
    duckdb.connect(str(env.warehouse_path)).close()
    assert cli.check_lock(env)[0]

    def locked(*args, **kwargs):
        raise duckdb.IOException("Could not set lock on file: Conflicting lock is held by PID 4242")

    monkeypatch.setattr(duckdb, "connect", locked)
    ok, detail = cli.check_lock(env)
    assert not ok and "is locked" in detail and "PID 4242" in detail

    low = cli.check_disk(env, usage=lambda path: SimpleNamespace(free=200 * 1024**2))
    assert low[0] is False and "only 200 MB free (under 1 GB)" in low[1]
    assert cli.check_disk(env, usage=lambda path: SimpleNamespace(free=5 * 1024**3))[0]


def test_run_keeps_its_old_entry_point_and_its_verbose_switch(capsys):
    from orchestration import run

    with pytest.raises(SystemExit) as stopped:
        run.main(["--help"])
    assert stopped.value.code == 0 and "--verbose" in capsys.readouterr().out
    assert run.run_config(verbose=False)["loggers"] == {
        "progress": {"config": {"detail": False}},
        "console": {"config": {"log_level": "DEBUG"}},
    }
    assert run.run_config(verbose=True)["loggers"] == {"progress": {"config": {"detail": True}}}


def test_a_warning_is_said_in_plain_words_under_its_stage():
    import io
    import logging

    from orchestration import progress

    stream = io.StringIO()
    progress.set_console(stream)
    try:
        handler = progress.StageProgressHandler()
        record = logging.LogRecord("lgperf", logging.WARNING, __file__, 1, "x", None, None)
        record.dagster_meta = {
            "step_key": "exports__report",
            "orig_message": "report.pdf was not written: no headless Chromium was found\n(details)",
        }
        handler.emit(record)
        progress.flush_stages()
    finally:
        progress.set_console(None)
    lines = stream.getvalue().splitlines()
    assert lines[0].split()[0] == "exports" and lines[0].endswith(" s")
    assert lines[1] == "    ! report.pdf was not written: no headless Chromium was found"
