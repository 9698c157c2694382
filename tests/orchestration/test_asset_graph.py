"""A snapshot of the asset graph: a renamed asset, a lost dependency or a dropped check shows
in review as a diff of tests/orchestration/asset_graph.json.

Regenerate after an intended change with: UPDATE_SNAPSHOTS=1 make test
"""

import json
import os
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def columns(schema: dg.TableSchema | None) -> list[str] | None:
    return [c.name for c in schema.columns] if schema is not None else None


def freshness(policy) -> str | None:
    if policy is None:
        return None
    return (
        f"warn after {policy.warn_window.to_timedelta().days} days, "
        f"fail after {policy.fail_window.to_timedelta().days} days"
    )


def code_references(metadata) -> set[str]:
    """The files (relative to the project) the asset's code references point to."""
    references = metadata.get("dagster/code_references")
    root = Path(__file__).parents[2]
    return (
        {Path(r.file_path).resolve().relative_to(root).as_posix() for r in references.code_references}
        if references
        else set()
    )


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
            "owners": sorted(node.owners),
            "kinds": sorted(node.kinds),
            "columns": columns(node.metadata.get("dagster/column_schema")),
            "freshness": freshness(node.freshness_policy),
            "code_references": sorted(code_references(node.metadata)),
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "sensors": sorted(s.name for s in defs.sensors or []),
        "schedules": sorted(
            f"{s.name}: {s.cron_schedule} {s.execution_timezone} -> {s.job_name}" for s in defs.schedules or []
        ),
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
    assert not any(
        k.path[0] == "marts" for k in graph.get_all_asset_keys() if k != publication
    )  # dbt never writes marts


def test_dbt_sources_are_the_ingestion_assets(definitions):
    graph = definitions.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_lginform__values"]))
    assert staging.parent_keys == {dg.AssetKey(["raw", "lginform_values"]), dg.AssetKey(["raw", "lginform_periods"])}
    assert graph.get(dg.AssetKey(["raw", "lginform_values"])).is_materializable


NOT_ONE_TABLE = {
    "marts/publication",
    "exports/open_data",
    "exports/bi",
    "exports/report",
    "exports/officer_returns",
    "quality/report",
}  # the publish step, the files exported and the auditor's report


def test_every_asset_is_described_owned_kinded_and_linked_to_its_code(definitions):
    """What a newcomer reads in the Dagster UI cannot silently vanish (orchestration/catalog.py)."""
    graph = definitions.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node, name = graph.get(key), key.to_user_string()
        assert node.description, f"{name} has no description"
        assert node.kinds, f"{name} has no kinds"
        assert node.owners and all(o.startswith("team:") for o in node.owners), f"{name}: owners {node.owners}"
        assert code_references(node.metadata), f"{name} has no code reference"
        schema = node.metadata.get("dagster/column_schema")
        if name in NOT_ONE_TABLE:
            assert schema is None, f"{name} is not one table"
        else:
            assert schema is not None and schema.columns, f"{name} has no column schema"
    exports = [k for k in graph.get_all_asset_keys() if k.path[0] == "exports"]
    assert exports and all(list(graph.get(k).owners) == ["team:performance"] for k in exports)
    assert {"great_expectations"} <= graph.get(dg.AssetKey(["marts", "publication"])).kinds


def test_raw_column_schemas_are_the_warehouse_tables(definitions):
    import duckdb

    from lgperf import warehouse

    graph = definitions.resolve_asset_graph()
    with duckdb.connect() as connection:
        warehouse.initialise(connection)
        for key in graph.get_all_asset_keys():
            if key.path[0] == "raw" and "dbt" not in graph.get(key).kinds:
                expected = [
                    r[0]
                    for r in connection.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' "
                        "AND table_name = ? ORDER BY ordinal_position",
                        [key.path[-1]],
                    ).fetchall()
                ]
                schema = graph.get(key).metadata["dagster/column_schema"]
                assert columns(schema) == expected
                assert all(c.description for c in schema.columns if c.name in ("source_system", "run_id"))
    described = {
        c.name: c.description
        for c in graph.get(dg.AssetKey(["raw", "inbox_files"])).metadata["dagster/column_schema"].columns
    }
    assert described["reason"] == "why a file was refused"  # the DDL's comment beside the column


def test_indicator_owners_are_teams_named_after_their_posts(definitions):
    import yaml

    library = yaml.safe_load((Path(__file__).parents[2] / "library" / "indicators.yml").read_text(encoding="utf-8"))
    node = definitions.resolve_asset_graph().get(dg.AssetKey(["candidate", "indicator_performance"]))
    owners = node.metadata["lgperf/indicator_owners"].value
    assert set(owners) == {entry["owner"] for entry in library["indicators"]}
    assert owners["Head of Planning and Building Control"]["team"] == "team:head-of-planning-and-building-control"
    assert sorted(i for o in owners.values() for i in o["indicators"]) == sorted(
        str(e["id"]) for e in library["indicators"]
    )
