"""Importing the code location runs nothing and changes nothing: dbt's manifest is prepared when
the assets are built (or by the CLI), and the settings reach dbt explicitly, never by rewriting
the process's environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lgperf.settings import PROJECT_ROOT, Environment

IMPORT_EVERYTHING = """
import os, subprocess, sys
real_popen = subprocess.Popen
class Refusing(real_popen):  # every subprocess helper goes through Popen; a library's own probes may run
    def __init__(self, args, *rest, **kwargs):
        if "dbt" in " ".join(map(str, args if isinstance(args, (list, tuple)) else [args])):
            raise SystemExit(f"dbt was started: {args}")
        super().__init__(args, *rest, **kwargs)
subprocess.Popen = Refusing
before = dict(os.environ)
import orchestration.definitions, orchestration.dbt, orchestration.exports, orchestration.publication
import orchestration.jobs, orchestration.schedules, orchestration.sensors
assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
print("quiet")
# and the guard does see dbt: preparing a manifest that is missing starts `dbt parse`
import orchestration.dbt as dbt
dbt.MANIFEST_PATH = dbt.MANIFEST_PATH.with_name("absent.json")
dbt.ensure_manifest()
"""


def test_importing_the_code_location_starts_no_process_and_leaves_the_environment_alone():
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert completed.stdout.strip() == "quiet", completed.stdout + completed.stderr
    assert "dbt was started: " in completed.stderr and "parse" in completed.stderr  # the guard works


def test_building_the_definitions_leaves_the_environment_alone(tmp_path: Path, monkeypatch):
    from orchestration.definitions import build_definitions

    monkeypatch.setenv("LGPERF_DEMO", "1")
    monkeypatch.delenv("LGINFORM_BASE_URL", raising=False)
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("EXPORT_DIR", "exports-relative")  # resolved against the project, and not written back
    before = dict(os.environ)
    defs = build_definitions(Environment.from_environ())
    assert defs.resolve_job_def("refresh_all") is not None
    assert dict(os.environ) == before


def test_dbt_is_given_the_resolved_warehouse_file_and_target_for_its_build_only(tmp_path: Path, monkeypatch):
    from orchestration.dbt import profile_environment
    from orchestration.resources import WarehouseResource

    monkeypatch.delenv("DBT_TARGET", raising=False)
    monkeypatch.setenv("WAREHOUSE_PATH", "somewhere/else.duckdb")
    monkeypatch.chdir(tmp_path)
    warehouse = WarehouseResource(database="w.duckdb", kind="postgres")
    with profile_environment(warehouse):
        assert os.environ["WAREHOUSE_PATH"] == str(tmp_path / "w.duckdb")  # absolute: dbt runs in dbt_project/
        assert os.environ["DBT_TARGET"] == "postgres"
    assert os.environ["WAREHOUSE_PATH"] == "somewhere/else.duckdb"
    assert "DBT_TARGET" not in os.environ
