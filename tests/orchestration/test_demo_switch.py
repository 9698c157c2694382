"""The demo is asked for, never assumed, and everything it writes says so.

Without LGINFORM_BASE_URL and without the demo switch, every entry point refuses before writing
anything: `python -m orchestration.run`, `make dev`'s preflight, and the Dagster code location
the UI and the daemon (its schedules and sensors) load. The demo's outputs carry their label on
every page, in the data package and in the BI copy (a real run's carry none: see
tests/reliability/test_security.py, whose canary run is against a service)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from exports.bi import BI_DATABASE
from lgperf import origin
from lgperf.settings import PROJECT_ROOT

BANNER = "Demonstration data: synthetic values, not published statistics"


def _no_source_environment(folder: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LGINFORM_", "LGPERF_", "PYTEST_"))}
    return {
        **environment,
        "WAREHOUSE_PATH": str(folder / "warehouse.duckdb"),
        "EXPORT_DIR": str(folder / "exports"),
        "INBOX_DIR": str(folder / "inbox"),
        "DAGSTER_HOME": str(folder / "dagster_home"),
    }


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "orchestration.run"],
        [sys.executable, "-m", "orchestration.cli", "run"],
        [sys.executable, "-m", "orchestration.cli", "ui"],
        [sys.executable, "-m", "orchestration.preflight"],
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-m", "orchestration.definitions"],
    ],
    ids=["run", "lgperf-run", "lgperf-ui", "make-dev-preflight", "dagster-code-location"],
)
def test_without_a_service_or_the_demo_switch_nothing_starts_and_nothing_is_written(tmp_path, command):
    (tmp_path / "dagster_home").mkdir()
    finished = subprocess.run(
        command, cwd=PROJECT_ROOT, env=_no_source_environment(tmp_path), capture_output=True, text=True, timeout=300
    )
    said = finished.stdout + finished.stderr
    assert finished.returncode != 0, said
    assert "LGINFORM_BASE_URL is not set" in said and "--demo" in said and "LGPERF_DEMO=1" in said, said
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dagster_home"]  # no warehouse, no exports, no inbox files
    if command[-1] in ("orchestration.run", "run", "ui"):
        assert finished.returncode == 2


def test_the_demo_and_a_service_at_once_is_refused(tmp_path):
    environment = {
        **_no_source_environment(tmp_path),
        "LGPERF_DEMO": "1",
        "LGINFORM_BASE_URL": "https://example.invalid",
    }
    finished = subprocess.run(
        [sys.executable, "-m", "orchestration.run"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 2 and "unset one" in finished.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_warehouse_that_held_demo_data_stays_marked_and_a_real_one_refuses_the_demo(tmp_path):
    with duckdb.connect(str(tmp_path / "demo.duckdb")) as connection:
        connection.execute("CREATE SCHEMA audit")
        assert not origin.is_demo(connection)
        assert origin.claim(connection, demo=True, run_id="r1", where="demo.duckdb") is None
        warning = origin.claim(connection, demo=False, run_id="r2", where="demo.duckdb")
        assert "stays marked as demonstration data" in warning and "run r1" in warning
        assert origin.is_demo(connection)  # a real run later does not unmark it: its marts may hold synthetic values
    with duckdb.connect(str(tmp_path / "real.duckdb")) as connection:
        connection.execute("CREATE SCHEMA audit")
        origin.claim(connection, demo=False, run_id="r1", where="real.duckdb")
        with pytest.raises(origin.MixedOrigin, match="real.duckdb holds data from a real LG Inform service"):
            origin.claim(connection, demo=True, run_id="r2", where="real.duckdb")
        assert not origin.is_demo(connection)


def test_every_output_of_a_demo_run_says_it_is_a_demonstration(demo_baseline):
    exports = demo_baseline / "exports"
    for page in ("index.html", "satisfaction.html", "complaints.html"):
        assert BANNER in (exports / "report" / page).read_text(encoding="utf-8"), page
    package = json.loads((exports / "open-data" / "datapackage.json").read_text(encoding="utf-8"))
    assert package["title"].startswith(BANNER) and package["description"].startswith(BANNER)
    assert package["name"] == "council-performance-demonstration"
    with duckdb.connect(str(exports / "bi" / BI_DATABASE), read_only=True) as bi:
        about = dict(bi.execute("SELECT key, value FROM main.about").fetchall())
        assert about["demonstration_data"].startswith("true")
        for (table,) in bi.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchall():
            assert bi.execute(f"SELECT bool_and(demonstration_data) FROM marts.{table}").fetchall()[0][0] is not False
        for parquet in (exports / "bi").rglob("*.parquet"):  # a mart with a period: one file per financial year
            metadata = dict(
                bi.execute("SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)", [str(parquet)]).fetchall()
            )
            assert metadata["demonstration_data"].startswith("true"), parquet.name


def test_the_quality_report_of_a_demo_warehouse_says_so(demo_baseline, tmp_path):
    from exports.quality_report import write_quality_report

    with duckdb.connect(str(demo_baseline / "warehouse.duckdb"), read_only=True) as connection:
        assert origin.is_demo(connection)  # the baseline was loaded by the demo: the mark is in its audit schema
        write_quality_report(connection, tmp_path / "quality", demo=origin.is_demo(connection))
        write_quality_report(connection, tmp_path / "real", demo=False)
    assert BANNER in (tmp_path / "quality" / "index.html").read_text(encoding="utf-8")
    assert "Demonstration" not in (tmp_path / "real" / "index.html").read_text(encoding="utf-8")
