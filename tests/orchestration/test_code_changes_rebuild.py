"""A change to a mart's code, wherever it lives (its SQL, or a macro, seed or config upstream),
rebuilds that mart whole: dbt's own state comparison (``state:modified+``) against the manifest
of the last complete build, through real Dagster runs of refresh_all."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration import dbt
from tests.conftest import ingest_and_build, point_environment, small_config

INCREMENTAL = ("stg_lginform__values", "fct_indicator_values", "benchmarks", "spc")


def refresh(monkeypatch, folder: Path) -> None:
    """The ingestion and the dbt build of refresh_all, as a real Dagster run."""
    assert ingest_and_build(point_environment(monkeypatch, folder)).success


def last_builds(folder: Path) -> dict[str, tuple[str, str]]:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as connection:
        rows = connection.execute(
            "SELECT model, mode, reason FROM audit.mart_builds "
            "QUALIFY row_number() OVER (PARTITION BY model ORDER BY built_at DESC) = 1"
        ).fetchall()
    return {model: (mode, reason) for model, mode, reason in rows}


@pytest.mark.soak  # three refreshes of a copied baseline (about a minute): `make soak`, not `make test`
def test_a_changed_macro_rebuilds_the_marts_that_use_it_and_only_those(demo_baseline, tmp_path, monkeypatch):
    folder = tmp_path / "pipeline"
    shutil.copytree(demo_baseline, folder)
    state = dbt.built_state_dir(folder / "warehouse.duckdb") / "manifest.json"
    assert state.exists()  # the baseline's complete build kept its manifest

    # as if the last build had run with another version of the SPC limits' macro
    manifest = json.loads(state.read_text(encoding="utf-8"))
    macro = manifest["macros"]["macro.lgperf.spc_limit_factor"]
    macro["macro_sql"] = macro["macro_sql"].replace("2.66", "3.0")
    state.write_text(json.dumps(manifest), encoding="utf-8")
    refresh(monkeypatch, folder)

    builds = last_builds(folder)
    assert builds["spc"][0] == "rebuild" and "state:modified" in builds["spc"][1]
    assert builds["fct_indicator_values"][0] == builds["benchmarks"][0] == "incremental"
    # the complete build keeps its own manifest: the next run has nothing to rebuild
    assert (
        json.loads(state.read_text(encoding="utf-8"))["macros"]["macro.lgperf.spc_limit_factor"]["macro_sql"]
        != macro["macro_sql"]
    )
    refresh(monkeypatch, folder)
    assert {model: mode for model, (mode, _) in last_builds(folder).items() if model in INCREMENTAL} == dict.fromkeys(
        INCREMENTAL, "incremental"
    )


def test_the_build_names_the_marts_whose_code_changed():
    from lgperf.settings import PipelineConfig

    config = PipelineConfig.model_validate(small_config())
    args = dbt.build_args(config, code_changed=["spc"])
    assert json.loads(args[args.index("--vars") + 1])["code_changed_marts"] == ["spc"]
    assert "code_changed_marts" not in json.loads(dbt.build_args(config)[2])


def test_an_unreadable_state_rebuilds_every_incremental_mart(tmp_path):
    from lgperf.settings import PipelineConfig

    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    assert dbt.code_changed_marts(tmp_path, PipelineConfig.model_validate(small_config())) == sorted(INCREMENTAL)
    assert dbt.code_changed_marts(tmp_path / "absent", PipelineConfig.model_validate(small_config())) == []
