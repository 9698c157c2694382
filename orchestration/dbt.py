"""The dbt project as Dagster assets: one graph from raw tables to marts.

Sources carry ``meta.dagster.asset_key`` (the raw tables' keys), models are keyed by their
schema and name (``marts/fct_indicator_values``), and dbt tests become asset checks; an
error-severity test blocks what is downstream of it.

Importing this module runs nothing: the manifest is prepared when the assets are first built
(``warehouse_models()``, when the code location loads) or by ``ensure_manifest()`` (the CLI,
the tests), as dagster-dbt's ``DbtProject.prepare_if_dev`` does for ``dagster dev``.
"""

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from lgperf.dbt_manifest import MANIFEST_PATH
from lgperf.settings import DBT_PROJECT_DIR, PipelineConfig
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings, WarehouseResource

# what dbt writes inside the project (target-path, log-path, packages-install-path)
DBT_OUTPUT_FOLDERS = frozenset({"target", "logs", "dbt_packages"})


def dbt_executable() -> str:
    """dbt from the same environment as this interpreter (the project's .venv)."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def _project_sources() -> list[Path]:
    """The dbt project's own files. dbt's output folders are never entered, not only filtered
    out: another run prunes its old ``target/runs/<run id>`` folders while this one walks."""
    sources = []
    for folder, subfolders, files in os.walk(DBT_PROJECT_DIR):
        subfolders[:] = [name for name in subfolders if name not in DBT_OUTPUT_FOLDERS]
        sources += [Path(folder, name) for name in files if name.endswith((".sql", ".yml", ".yaml", ".csv"))]
    return sources


def ensure_manifest() -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than any project file.

    Keeps ``make run``, ``make dev`` and the tests on a manifest that matches the SQL without a
    hand step; costs a few seconds only after the dbt project changed.
    """
    if MANIFEST_PATH.exists():
        built = MANIFEST_PATH.stat().st_mtime
        if all(p.stat().st_mtime <= built for p in _project_sources()):
            return MANIFEST_PATH
    subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        check=True,
        cwd=DBT_PROJECT_DIR,
    )
    return MANIFEST_PATH


def dbt_vars(config: PipelineConfig) -> dict[str, Any]:
    """The thresholds of pipeline.yml as dbt vars (their defaults are in dbt_project.yml)."""
    thresholds = config.thresholds
    return {
        "council": config.council,
        "comparison_groups": list(config.comparison_groups),
        "rag_tolerance_percent": thresholds.rag_tolerance_percent,
        "no_change_points": thresholds.no_change_points,
        "no_change_percent": thresholds.no_change_percent,
        "spc_run_length": thresholds.spc.run_length,
        "spc_trend_length": thresholds.spc.trend_length,
        "spc_min_points_for_limits": thresholds.spc.min_points_for_limits,
        "spc_screen_moving_ranges": thresholds.spc.screen_moving_ranges,
        "spc_freeze_after_points": thresholds.spc.freeze_after_points,
        "spc_rebase_periods": {k: list(v) for k, v in thresholds.spc.rebase_periods.items()},
        "satisfaction_fdr_level": thresholds.survey.fdr_level,
        "satisfaction_benchmark_max_age_months": thresholds.survey.benchmark_max_age_months,
    }


def built_state_dir(warehouse_file: str | Path) -> Path:
    """Where the manifest of the last complete build of this warehouse is kept (beside its
    file): the state dbt compares the project with to say which marts' code changed."""
    path = Path(warehouse_file)
    return path.with_name(path.name + ".dbt-state")


def code_changed_marts(state_dir: Path, config: PipelineConfig) -> list[str]:
    """The incremental marts whose code changed since the last complete build, by dbt's own
    state comparison (``state:modified+``: their SQL, or a macro, seed, config or model
    upstream of them); none when no build has been recorded (the first build is full anyway)."""
    if not (state_dir / "manifest.json").exists():
        return []
    stored = _code_fingerprint(state_dir / "manifest.json")
    if stored is not None and stored == _code_fingerprint(ensure_manifest()):
        return []  # not a file of the project changed: no need to ask dbt (its parse costs seconds)
    completed = subprocess.run(
        [
            dbt_executable(),
            "ls",
            "--quiet",
            "--resource-type",
            "model",
            "--output",
            "name",
            "--select",
            "state:modified+,config.materialized:incremental",
            "--state",
            str(state_dir),
            "--vars",
            json.dumps(dbt_vars(config), sort_keys=True),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:  # an unreadable state says nothing: rebuild them all
        return incremental_marts()
    return sorted(set(completed.stdout.split()))


def _code_fingerprint(manifest: Path) -> str | None:
    """The checksums of every model, seed, test, snapshot and macro a manifest holds, with the
    models' configs: equal for two manifests only when no file of the project changed (a config
    that renders a var may differ between them; then dbt is asked, which is only slower)."""
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
        parts = sorted(
            (uid, node.get("checksum", {}).get("checksum"), json.dumps(node.get("config"), sort_keys=True, default=str))
            for uid, node in document["nodes"].items()
        )
        parts += sorted((uid, macro.get("macro_sql")) for uid, macro in document["macros"].items())
    except (OSError, ValueError, KeyError, AttributeError):
        return None
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def incremental_marts() -> list[str]:
    """The project's incremental models (macros/incremental.sql)."""
    nodes = json.loads(ensure_manifest().read_text(encoding="utf-8"))["nodes"].values()
    return sorted(
        n["name"] for n in nodes if n["resource_type"] == "model" and n["config"].get("materialized") == "incremental"
    )


def save_built_state(manifest: Path, state_dir: Path) -> None:
    """Keep the manifest a complete build ran with, replacing the previous one whole."""
    _replace_file(manifest, state_dir / "manifest.json")


PARTIAL_PARSE = "partial_parse.msgpack"


def reuse_parse(state_dir: Path, target: Path) -> None:
    """Give this build the parse this warehouse's last build left, so dbt re-parses only the files
    that changed (seconds saved per run). dbt itself checks the parse against the project files,
    the vars and the profile, and parses whole when any differ; this warehouse's own parse, not
    the project's `dbt parse`, is the one whose vars and warehouse path match."""
    kept = state_dir / PARTIAL_PARSE
    if kept.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, target / PARTIAL_PARSE)


def keep_parse(target: Path, state_dir: Path) -> None:
    """After a build dbt finished, keep the parse it wrote for the next build of this warehouse."""
    if (target / PARTIAL_PARSE).exists():
        _replace_file(target / PARTIAL_PARSE, state_dir / PARTIAL_PARSE)


def _replace_file(source: Path, destination: Path) -> None:
    """Copy ``source`` over ``destination`` in one rename: a reader sees the old file or the new one."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    shutil.copyfile(source, partial)
    partial.replace(destination)


def build_args(
    config: PipelineConfig | None = None,
    selection: Sequence[str] = (),
    *,
    unit_tests: bool = False,
    code_changed: Sequence[str] = (),
) -> list[str]:
    """The dbt command for a materialisation: ``build`` runs models and their data tests in DAG
    order, with pipeline.yml's thresholds as vars. Dagster adds its own ``--select`` for a subset;
    ``selection`` is for callers outside Dagster.

    Unit tests are left out (``unit_tests=False``): they test the SQL against fixed inputs, so
    they belong with a change to the code (``make test`` runs them all), not with every scheduled
    build, where they cost a fixed 10 to 20 seconds whatever the data. ``code_changed``: the
    incremental marts to rebuild whole because their code changed (``code_changed_marts``)."""
    args = ["build"]
    if config is not None:
        extra = {"code_changed_marts": list(code_changed)} if code_changed else {}
        args += ["--vars", json.dumps(dbt_vars(config) | extra, sort_keys=True)]
    if selection:
        args += ["--select", " ".join(selection)]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    return args


class LayeredTranslator(DagsterDbtTranslator):
    """Models keyed by schema/name; every dbt node in the ``transformation`` group."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "transformation"


# code references: each model links to its SQL file (the project is only read for its paths)
TRANSLATOR = LayeredTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_code_references=True)
)
PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class ProjectDbtResource(DbtCliResource):
    """dagster-dbt's resource without two things it does before every dbt command that this
    project has no use for, 5.6 s of each demo refresh between them (measured): it runs
    ``dbt --version`` in a subprocess to learn which dbt it runs, and it loads dbt's adapter and
    macros into this process for ``fetch_row_counts`` and ``fetch_column_metadata``, which the
    project never calls. The dbt it runs is the one installed beside this interpreter
    (``dbt_executable``), so its version is that package's. Both are private members of the
    pinned dagster-dbt; ``tests/orchestration/test_dbt_wiring.py`` fails if an upgrade drops them."""

    @functools.cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_resource() -> DbtCliResource:
    return ProjectDbtResource(
        project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
    )


@contextlib.contextmanager
def profile_environment(warehouse: WarehouseResource) -> Iterator[None]:
    """The settings dbt's profiles.yml reads, given to the dbt subprocesses of one build and
    restored after it: the warehouse file as the resource resolved it (an absolute path; dbt
    would resolve a relative one against dbt_project/) and the target (duckdb or postgres)."""
    wanted = {"WAREHOUSE_PATH": str(Path(warehouse.database).resolve()), "DBT_TARGET": warehouse.kind}
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


RUN_ARTIFACTS_DIR = DBT_PROJECT_DIR / "target" / "runs"
RUN_ARTIFACTS_KEPT = 20


def run_target_path(run_id: str, *, keep: int = RUN_ARTIFACTS_KEPT) -> Path:
    """A target folder for this run's dbt artifacts (run_results.json, logs); only the newest
    ``keep`` runs' folders are kept, so scheduled runs do not fill the disk."""
    RUN_ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    previous = sorted(RUN_ARTIFACTS_DIR.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in previous[max(keep - 1, 0) :]:
        shutil.rmtree(old, ignore_errors=True)
    return RUN_ARTIFACTS_DIR / run_id


@functools.cache
def warehouse_models() -> dg.AssetsDefinition:
    """Every dbt model, seed and test as one multi-asset, built once per process from the
    manifest (prepared here if the project changed since it was written)."""

    @dbt_assets(
        manifest=ensure_manifest(),
        project=PROJECT,
        dagster_dbt_translator=TRANSLATOR,
        pool=WAREHOUSE_POOL,
        name="warehouse_models",
    )
    def _warehouse_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: PipelineSettings, warehouse: WarehouseResource
    ):
        target = run_target_path(context.run.run_id)
        copied = warehouse.copy_to_marts_warehouse()
        if copied:
            context.log.info(
                f"copied {sum(copied.values()):,} raw and audit rows in {len(copied)} tables to PostgreSQL"
            )
        config = settings.load()
        state_dir = built_state_dir(warehouse.database)
        with profile_environment(warehouse):
            changed = code_changed_marts(state_dir, config)
            if changed:
                context.log.info(f"code changed since the last complete build, rebuilt whole: {', '.join(changed)}")
            reuse_parse(state_dir, target)
            yield from dbt.cli(build_args(config, code_changed=changed), context=context, target_path=target).stream()
        keep_parse(target, state_dir)
        # a failed build raised above and keeps the old state, so the next build rebuilds again; a
        # subset leaves the marts it did not select unbuilt, so it keeps the old state too
        if not context.is_subset:
            save_built_state(target / "manifest.json", state_dir)

    return _warehouse_models


def candidate_mart_keys() -> list[dg.AssetKey]:
    """The marts dbt builds into the candidate schema (published as ``marts`` when nothing blocks)."""
    from lgperf import publication as wap

    return sorted((k for k in warehouse_models().keys if k.path[0] == wap.CANDIDATE), key=lambda k: k.to_user_string())
