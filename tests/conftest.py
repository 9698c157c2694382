"""Shared fixtures: a temporary warehouse, export folder and inbox per test, a small demo
configuration, and the embedded demo API on a free loopback port."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path

import pytest
import yaml

from lgperf.settings import Environment

# the reliability cases' results file: a plugin of the whole session, so pytest-xdist's controller has it
pytest_plugins = ["tests.reliability.results"]


def pytest_configure(config: pytest.Config) -> None:
    """Parse the dbt project once, before pytest-xdist starts its workers: each worker imports
    orchestration.dbt, which would otherwise run `dbt parse` into the same target/ together."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):  # the controller
        from orchestration.dbt import ensure_manifest

        ensure_manifest()


# The files that run the pipeline most often, longest first (from `pytest --durations=0` on 2
# cores): first make soak's (marked `soak`), then make test's. They are handed out first (with
# `--no-loadscope-reorder`: pytest-xdist would otherwise put the files with the most tests first,
# and these single long scenarios last), so the files left for the end are short ones and neither
# worker idles long waiting for the other.
LONGEST_FIRST = [
    "tests/reliability/test_process_faults.py",
    "tests/orchestration/test_incremental_marts.py",
    "tests/orchestration/test_publication_flow.py",
    "tests/reliability/test_concurrency.py",
    "tests/orchestration/test_officer_returns_cycle.py",
    "tests/orchestration/test_dialects_end_to_end.py",
    "tests/postgres/test_postgres_pipeline.py",
    "tests/orchestration/test_spc_baselines.py",
    "tests/orchestration/test_code_changes_rebuild.py",
    "tests/postgres/test_postgres_warehouse.py",
    # make test: the first worker builds the baseline while the second takes files that need none
    "tests/orchestration/test_quality_gate.py",
    "tests/ingestion/test_inbox_operations.py",
    "tests/exports/test_disclosure.py",
    "tests/reliability/test_bad_input.py",
    "tests/exports/test_ward_disclosure.py",
    "tests/ingestion/test_lginform_client.py",
    "tests/orchestration/test_end_to_end.py",
    "tests/reliability/test_security.py",
    "tests/reliability/test_api_faults.py",
    "tests/orchestration/test_dbt_wiring.py",
    "tests/reliability/test_idempotency.py",
    "tests/exports/test_open_data.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first, each file's tests together and in their own order."""
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


# A small demo: Trafford and its 15 CIPFA nearest neighbours, four indicators (real Oflog
# values, a real Trafford corporate-plan series, a quarterly and an annual synthetic series).
SMALL_METRIC_TYPES = ["90005", "90101", "91003", "91023"]
SMALL_AREAS = ["Trafford_CIPFA_Near_Neighbours", "E08000009"]


def small_config() -> dict:
    """pipeline.yml of the small demo, as a new dict each call (a test changes its own copy)."""
    return {
        "council": "E08000009",
        "lginform": {
            "metric_types": SMALL_METRIC_TYPES,
            "areas": SMALL_AREAS,
            "periods": "latest:8",
            "batch_size": 2,
            "retry": {
                "max_attempts": 4,
                "max_total_seconds": 20,
                "initial_backoff_seconds": 0.01,
                "max_backoff_seconds": 0.2,
            },
        },
        "comparison_groups": ["Trafford_CIPFA_Near_Neighbours"],
        # freshness judged as at the demo catalogue's date, so the gate does not age with the calendar
        "thresholds": {"freshness": {"as_of": "2025-11-01"}},
        # a file a test drops is complete when written: taken at once, not after a minute's settling
        "inbox": {"settle_seconds": 0},
    }


def point_environment(
    monkeypatch: pytest.MonkeyPatch, folder: Path, *, config: dict | None = None, **extra: str
) -> Environment:
    """Environment variables pointing at ``folder`` (warehouse, exports, inbox, pipeline.yml with
    the small demo config unless given); ``extra`` sets more, e.g. LGINFORM_BASE_URL. Without a
    base URL the demo is asked for (LGPERF_DEMO=1), as `make run` does; with one, it is not."""
    config_path = folder / "pipeline.yml"
    config_path.write_text(yaml.safe_dump(config or small_config()), encoding="utf-8")
    values = {
        "WAREHOUSE_PATH": str(folder / "warehouse.duckdb"),
        "EXPORT_DIR": str(folder / "exports"),
        "INBOX_DIR": str(folder / "inbox"),
        "LGPERF_CONFIG": str(config_path),
        **({} if "LGINFORM_BASE_URL" in extra else {"LGPERF_DEMO": "1"}),
        **extra,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("LGINFORM_BASE_URL", "LGINFORM_APPLICATION_KEY", "LGINFORM_SECRET", "LGPERF_DEMO"):
        if name not in values:
            monkeypatch.delenv(name, raising=False)
    return Environment.from_environ()


def run_assets(definitions, name: str, selection, instance=None):
    """A real Dagster run of ``selection`` (an AssetSelection, or asset keys) of the project's
    ``definitions``, as a job called ``name``, for a case about one part of refresh_all."""
    import dagster as dg

    job = dg.define_asset_job(name, selection=selection)
    merged = dg.Definitions.merge(definitions, dg.Definitions(jobs=[job]))
    return merged.resolve_job_def(name).execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False
    )


def _run_groups(env: Environment, name: str, groups: tuple[str, ...], instance=None):
    """A real Dagster run, called ``name``, of refresh_all's assets in ``groups`` only."""
    import dagster as dg

    from orchestration.definitions import build_definitions

    return run_assets(build_definitions(env), name, dg.AssetSelection.groups(*groups), instance)


def ingest_and_build(env: Environment, instance=None):
    """A real Dagster run of the ingestion and the dbt build only (the assets of refresh_all's
    groups ``ingestion`` and ``transformation``), for the cases about what dbt builds: the gate,
    the publication and the exports are tested where they are the subject."""
    return _run_groups(env, "ingest_and_build", ("ingestion", "transformation"), instance)


def refresh_marts(env: Environment, instance=None):
    """A real Dagster run of refresh_all without its exports (the groups ``ingestion``,
    ``transformation`` and ``publish``), for the cases about what is published to ``marts``."""
    return _run_groups(env, "refresh_marts", ("ingestion", "transformation", "publish"), instance)


@pytest.fixture
def pipeline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Environment:
    """Environment variables pointing at fresh temporary paths and the small demo config."""
    return point_environment(monkeypatch, tmp_path)


@pytest.fixture
def definitions(pipeline_env):
    from orchestration.definitions import build_definitions

    return build_definitions(pipeline_env)


@pytest.fixture
def demo_server():
    from demo.server import DemoServer

    with DemoServer() as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    """A real headless Chromium (Debian's chromium and chromedriver), once per test file, keeping
    the page's console log so a test can assert that a page raised no error."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1800"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def open_from_disk(browser, page: Path) -> None:
    """Open a page from disk and wait until it has loaded. Chromedriver's get() usually returns
    once it has, but on a busy machine it has returned with the page still "loading" (seen in CI);
    a page that never loads fails after 30 s."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda driver: driver.execute_script("return document.readyState") == "complete")


# what a shared folder's `make run` printed (its stage lines and summary)
RUN_OUTPUT = "make-run-output.txt"


def _shared_folder(tmp_path_factory, name: str, build) -> Path:
    """A folder ``build(folder)`` makes once per `make test`: the first pytest-xdist worker to ask
    builds it in the session's shared temporary folder while the other waits on the lock, then
    both use it. Tests copy it or read it, never change it."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the session's folder, above each worker's own
    folder, built = shared / name, shared / f"{name}.built"
    with FileLock(shared / f"{name}.lock"):
        if not built.exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a build that failed left
            build(folder)
            built.touch()
    return folder


@pytest.fixture(scope="session")
def demo_baseline(tmp_path_factory) -> Path:
    """A folder after one `make run` of the small demo with the demo inbox: warehouse, exports,
    inbox, pipeline.yml, the Dagster instance in dagster_home/ and what the run printed in
    RUN_OUTPUT."""

    def build(folder: Path) -> None:
        folder.mkdir()
        (folder / "dagster_home").mkdir()
        shutil.copy(Path(__file__).parents[1] / "dagster.yaml", folder / "dagster_home" / "dagster.yaml")
        _make_run(folder)

    return _shared_folder(tmp_path_factory, "demo-baseline", build)


@pytest.fixture(scope="session")
def demo_second_run(demo_baseline, tmp_path_factory) -> Path:
    """A copy of demo_baseline after a second `make run` on the same inputs (the same demo API,
    the demo inbox dropped again), RUN_OUTPUT holding what the second run printed."""

    def build(folder: Path) -> None:
        shutil.copytree(demo_baseline, folder)
        _make_run(folder)

    return _shared_folder(tmp_path_factory, "demo-second-run", build)


def _make_run(folder: Path) -> None:
    """`make run` as the README's first command runs it (orchestration.run: the demo inbox
    dropped, refresh_all, then the quality report job), on ``folder`` with the small demo config
    and the Dagster instance in ``folder``/dagster_home."""
    from orchestration.run import main

    output = io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stdout(output):
        monkeypatch.setenv("DAGSTER_HOME", str(folder / "dagster_home"))
        point_environment(monkeypatch, folder)
        code = main([])
    (folder / RUN_OUTPUT).write_text(output.getvalue(), encoding="utf-8")
    assert code == 0, output.getvalue()
