"""The plain functions behind the dbt assets."""

import os
import time

from orchestration import dbt


def test_build_args_pass_the_thresholds_of_pipeline_yml_as_vars():
    import json
    from pathlib import Path

    from lgperf.settings import load_pipeline_config

    assert dbt.build_args(unit_tests=True) == ["build"]
    assert dbt.build_args(selection=["marts"], unit_tests=True) == ["build", "--select", "marts"]
    config = load_pipeline_config(Path(__file__).parents[2] / "pipeline.demo.yml")
    args = dbt.build_args(config)
    assert args[:2] == ["build", "--vars"]
    passed = json.loads(args[2])
    assert passed["council"] == "E08000009"
    assert passed["spc_run_length"] == config.thresholds.spc.run_length == 7
    assert passed["comparison_groups"] == ["AllLaInCountry_England", "Trafford_CIPFA_Near_Neighbours"]
    assert passed["satisfaction_fdr_level"] == config.thresholds.survey.fdr_level == 0.05
    assert passed["satisfaction_benchmark_max_age_months"] == config.thresholds.survey.benchmark_max_age_months == 24
    # every var has a default in dbt_project.yml, so dbt run by hand behaves the same
    import yaml

    defaults = yaml.safe_load((Path(__file__).parents[2] / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    assert set(passed) == set(defaults)


def test_run_artifacts_keep_only_the_newest_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(dbt, "RUN_ARTIFACTS_DIR", tmp_path / "runs")
    for i in range(5):
        folder = dbt.run_target_path(f"run-{i}", keep=3)
        folder.mkdir()
        os.utime(folder, (time.time() + i, time.time() + i))
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["run-2", "run-3", "run-4"]


def test_manifest_is_current_and_sources_point_at_the_raw_assets():
    import json

    manifest = json.loads(dbt.ensure_manifest().read_text(encoding="utf-8"))
    keys = {s["name"]: s["meta"]["dagster"]["asset_key"] for s in manifest["sources"].values()}
    assert keys["lginform_values"] == ["raw", "lginform_values"]
    assert all(key[0] == "raw" and key[1] == name for name, key in keys.items())


def test_every_unit_test_passes_though_scheduled_builds_leave_them_out(demo_baseline, tmp_path):
    """Scheduled builds run with --exclude-resource-type unit_test; this is where they run."""
    import json
    import shutil
    import subprocess

    from lgperf.settings import DBT_PROJECT_DIR, load_pipeline_config

    assert dbt.build_args()[-2:] == ["--exclude-resource-type", "unit_test"]
    shutil.copy(demo_baseline / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    config = load_pipeline_config(demo_baseline / "pipeline.yml")
    target = tmp_path / "dbt-target"
    completed = subprocess.run(
        [
            dbt.dbt_executable(),
            "test",
            "--select",
            "test_type:unit",
            "--vars",
            json.dumps(dbt.dbt_vars(config)),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb")},
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    manifest = json.loads(dbt.ensure_manifest().read_text(encoding="utf-8"))
    declared = {key for key in manifest["unit_tests"]}
    results = [
        r
        for r in json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
        if r["unique_id"].startswith("unit_test.")
    ]  # not the on-run-start hook
    assert {r["unique_id"] for r in results} == declared and len(declared) >= 30
    assert {r["status"] for r in results} == {"pass"}


def test_every_relation_dbt_may_create_fits_postgresqls_63_character_names():
    """PostgreSQL cuts nothing: a longer name fails the build there (a unit test's name becomes a relation)."""
    import json

    from orchestration import dbt

    manifest = json.loads(dbt.ensure_manifest().read_text(encoding="utf-8"))
    names = [
        node["name"]
        for section in ("nodes", "unit_tests")
        for node in manifest[section].values()
        if node["resource_type"] in ("model", "seed", "snapshot", "unit_test")
    ]
    assert len(names) > 40 and [n for n in names if len(n) > 63] == []


def test_the_dbt_resource_skips_only_what_the_project_does_not_use():
    """ProjectDbtResource overrides two private members of dagster-dbt: an upgrade that renames
    them would silently bring back their cost, so their presence is checked here; and the version
    it reports without a subprocess is the one `dbt --version` prints."""
    import functools
    import re
    import subprocess

    from dagster_dbt import DbtCliResource

    assert isinstance(DbtCliResource.__dict__.get("_cli_version"), functools.cached_property)
    assert callable(DbtCliResource.__dict__.get("_initialize_dbt_core_adapter"))
    resource = dbt.dbt_resource()
    assert isinstance(resource, dbt.ProjectDbtResource)
    printed = subprocess.run([dbt.dbt_executable(), "--version"], capture_output=True, text=True, check=True).stdout
    assert str(resource._cli_version) == re.search(r"installed: (\d+\.\d+\.\d+)", printed).group(1)
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_the_project_sources_walk_leaves_dbts_output_folders_alone(tmp_path, monkeypatch):
    """Another run prunes target/runs/<run id> while this one looks for changed files: the walk
    never enters dbt's output folders, so a folder removed under it cannot fail the build."""
    for name in ("models/marts/a.sql", "macros/b.sql", "dbt_project.yml", "target/runs/x/c.sql", "logs/d.yml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    monkeypatch.setattr(dbt, "DBT_PROJECT_DIR", tmp_path)
    original = os.scandir
    entered = []
    monkeypatch.setattr(os, "scandir", lambda path=".": entered.append(str(path)) or original(path))
    found = sorted(p.relative_to(tmp_path).as_posix() for p in dbt._project_sources())
    assert found == ["dbt_project.yml", "macros/b.sql", "models/marts/a.sql"]
    assert not [path for path in entered if "target" in path or "logs" in path]
