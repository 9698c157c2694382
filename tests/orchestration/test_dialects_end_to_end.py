"""Through real Dagster runs: a service writing another dialect publishes the same marts, and
a percentage labelled in the service's own words ('Percentage') is still range-checked, so a
revised 250% is blocked at the gate instead of being published."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.server import DemoServer
from tests.conftest import point_environment

# A scenario of several whole-pipeline refreshes (a minute or more): `make soak` runs it, `make test` leaves it out.
pytestmark = pytest.mark.soak

FULL_REFRESH = {"ops": {"indicators_raw": {"config": {"full_refresh": True}}}}
MEANING = {
    "marts.dim_indicators": "SELECT indicator_id, unit, unit_kind, polarity, frequency, output_precision "
    "FROM marts.dim_indicators",
    "marts.dim_periods": "SELECT period_id, period_start, period_end FROM marts.dim_periods",
    "marts.fct_indicator_values": "SELECT indicator_id, area_code, period_id, value FROM marts.fct_indicator_values",
    "marts.benchmarks": "SELECT * EXCLUDE (computed_at) FROM marts.benchmarks",  # computed_at: which build, by design
}


def meaning(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {name: sorted(connection.execute(sql).fetchall(), key=repr) for name, sql in MEANING.items()}


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def refresh(monkeypatch, folder: Path, server: DemoServer) -> dg.ExecuteInProcessResult:
    from orchestration.definitions import build_definitions

    config = yaml.safe_load((folder / "pipeline.yml").read_text(encoding="utf-8"))
    env = point_environment(
        monkeypatch,
        folder,
        config=config,
        LGINFORM_BASE_URL=server.url,
        LGINFORM_APPLICATION_KEY=DEMO_APPLICATION_KEY,
        LGINFORM_SECRET=DEMO_SECRET,
    )
    return (
        build_definitions(env)
        .resolve_job_def("refresh_all")
        .execute_in_process(instance=dg.DagsterInstance.ephemeral(), run_config=FULL_REFRESH, raise_on_error=False)
    )


def test_a_mixed_dialect_publishes_the_same_marts_and_a_revised_250_percent_is_blocked(
    demo_baseline, tmp_path, monkeypatch
):
    folder = tmp_path / "pipeline"
    shutil.copytree(demo_baseline, folder)
    warehouse = folder / "warehouse.duckdb"
    plain = meaning(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        council_tax = connection.execute(
            "SELECT period_id FROM marts.fct_indicator_values WHERE indicator_id = '91023' AND area_code = 'E08000009' "
            "ORDER BY period_id DESC LIMIT 1"
        ).fetchall()[0][0]

    with DemoServer(dialect="mixed") as server:
        mixed = refresh(monkeypatch, folder, server)
    assert mixed.success
    assert meaning(warehouse) == plain
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        # the dialects really were met: the service's own unit words reached raw
        labels = {
            r[0] for r in connection.execute("SELECT DISTINCT unit_label FROM raw.lginform_metric_types").fetchall()
        }
    assert "Percentage" in labels and "%" in labels

    published = digest(folder / "exports" / "open-data")

    def unknown_unit(document: dict) -> dict:
        if document.get("metricType", {}).get("identifier") == "91003":
            document["metricType"]["measure"]["measurementUnit"]["label"] = "Furlongs per fortnight"
        return document

    with DemoServer(dialect="service_words") as server:
        server.revise("91023", "E08000009", council_tax, 250.0)
        server.faults.add("edit", times=1000, path_prefix="/metricTypes/", edit=unknown_unit)
        revised = refresh(monkeypatch, folder, server)

    assert not revised.success
    gate = next(
        e.event_specific_data
        for e in revised.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == "gx_fct_indicator_values"
    )
    assert not gate.passed and gate.severity == dg.AssetCheckSeverity.ERROR
    failures = gate.metadata["failures"].value
    assert [f["why"] for f in failures if f["severity"] == "error"] == ["a percentage stays within 0-100"]
    assert [f["unexpected_count"] for f in failures if f["severity"] == "error"] == [1]
    # a unit the vocabulary does not know is a warning naming the indicator and the unit, never a silent pass
    assert (
        "every unit is one the unit vocabulary knows, so its range is checked (add an unknown one to "
        "seeds/unit_vocabulary.csv)"
    ) in [f["why"] for f in failures if f["severity"] == "warning"]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        [(sample,)] = connection.execute(
            "SELECT failing_sample FROM audit.validation_results WHERE run_id = ? AND kwargs LIKE '%unit_problem%'",
            [revised.run_id],
        ).fetchall()
    assert (
        "indicator 91003 (Average days to process new Housing Benefit claims) has unit 'Furlongs per fortnight'"
        in sample
    )
    assert digest(folder / "exports" / "open-data") == published  # 250% was not published
    materialised = {e.asset_key.to_user_string() for e in revised.get_asset_materialization_events()}
    assert not any(key.startswith("exports/") for key in materialised)
