"""A snapshot of the asset graph: a renamed asset, a lost dependency or a dropped check shows
in review as a diff of tests/orchestration/asset_graph.json.

Regenerate after an intended change with: UPDATE_SNAPSHOTS=1 make test
"""

import json
import os
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def describe(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "checks": sorted(c.name for c in node.check_keys),
            "pool": node.pools and sorted(node.pools)[0] if node.is_materializable else None,
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "sensors": sorted(s.name for s in defs.sensors or []),
        "schedules": sorted(f"{s.name}: {s.cron_schedule} {s.execution_timezone} -> {s.job_name}" for s in defs.schedules or []),
    }


def test_asset_graph_matches_snapshot(definitions):
    current = describe(definitions)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing: run UPDATE_SNAPSHOTS=1 make test and review it"
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_every_stage_has_its_group_and_every_writer_holds_the_warehouse_pool(definitions):
    assets = describe(definitions)["assets"]
    groups = {a["group"] for a in assets.values() if a["group"] != "default"}
    assert groups == {"ingestion", "transformation", "publish", "quality", "exports"}
    for key, asset in assets.items():
        assert asset["pool"] == "warehouse", f"{key} opens the warehouse without holding its pool"


def test_exports_read_only_what_the_publish_step_let_through(definitions):
    """Write, audit, publish: dbt writes the candidate, the publish step (whose checks are every
    GX suite) is the only way into marts, and every export depends on it and nothing else."""
    graph = definitions.resolve_asset_graph()
    publication = dg.AssetKey(["marts", "publication"])
    for name in ("open_data", "bi", "report"):
        assert graph.get(dg.AssetKey(["exports", name])).parent_keys == {publication}
    node = graph.get(publication)
    assert dg.AssetKey(["candidate", "fct_indicator_values"]) in node.parent_keys
    assert all(k.path[0] == "candidate" for k in node.parent_keys)
    suites = {path.stem for path in (Path(__file__).parents[2] / "expectations" / "suites").glob("*.json")}
    assert {c.name for c in node.check_keys} == {f"gx_{name}" for name in suites}
    assert not any(k.path[0] == "marts" for k in graph.get_all_asset_keys() if k != publication)  # dbt never writes marts


def test_dbt_sources_are_the_ingestion_assets(definitions):
    graph = definitions.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_lginform__values"]))
    assert staging.parent_keys == {dg.AssetKey(["raw", "lginform_values"]), dg.AssetKey(["raw", "lginform_periods"])}
    assert graph.get(dg.AssetKey(["raw", "lginform_values"])).is_materializable
