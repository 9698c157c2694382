"""What the Dagster UI says about each asset besides its code: owners, kinds, column schemas,
freshness checks and links to the code that writes it.

Owners. Dagster accepts an email or ``team:<name>``; the library names posts, not people, so
a post becomes a team by its slug ("Head of Planning and Building Control" is
``team:head-of-planning-and-building-control``). Assets are owned where that is honest: the data
team (``team:data``) owns ingestion, transformation, the publish step and the quality report; the
performance team (``team:performance``) owns the exports it sends out. No asset holds one
indicator only, so the indicator owners are not asset owners: they are listed, each with their
indicators, in the metadata ``lgperf/indicator_owners`` of ``indicator_performance`` (the mart a
councillor reads by owner).

Column schemas. dbt's models carry theirs from the manifest (the documented columns); the raw
tables Python writes get theirs from lgperf/warehouse.py's DDL, created in an in-memory DuckDB
(types and nullability), described by the DDL's comments and, for the lineage columns, below.
The publish step, the exports and the quality report are not one table, so they have none.

Freshness: see FRESHNESS below.
"""

import functools
import re
import warnings
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

import dagster as dg
import yaml

from lgperf import warehouse
from lgperf.settings import ConfigError, LibrarySettings, load_pipeline_config, project_path

DATA_TEAM = "team:data"
PERFORMANCE_TEAM = "team:performance"

# Freshness. The LG Inform pull and the publication are refreshed by the monthly_refresh schedule
# (the 2nd of each month), so they are at most a calendar month (31 days) apart: a warning after
# that, a failure after 4 days' more grace (time for a failed run to be fixed and rerun by hand).
# Dagster's daemon judges the policy (freshness is on by default in dagster.yaml's instance). The
# data's own age against each indicator's frequency (LG Inform publishes some annually, some
# quarterly or monthly) is not a Dagster policy but the Great Expectations check
# gx_fct_indicator_values (its freshness_problem column, pipeline.yml thresholds.freshness).
LONGEST_MONTH = timedelta(days=31)
GRACE = timedelta(days=4)
FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=LONGEST_MONTH + GRACE, warn_window=LONGEST_MONTH)
FRESH_KEYS = (dg.AssetKey(["raw", "lginform_values"]), dg.AssetKey(["marts", "publication"]))

INDICATOR_PERFORMANCE = dg.AssetKey(["candidate", "indicator_performance"])
INDICATOR_OWNERS_METADATA = "lgperf/indicator_owners"

# kinds that are not a storage or tool but what a file export is made of
EXPORT_KINDS: Mapping[str, set[str]] = {
    "open_data": {"duckdb", "csv"},
    "bi": {"duckdb", "parquet"},
    "report": {"duckdb", "html"},
    "officer_returns": {"duckdb", "excel"},
}


def team_of_post(post: str) -> str:
    """A post as a Dagster owner: ``team:`` and the post's slug."""
    slug = re.sub(r"[^a-z0-9]+", "-", post.lower()).strip("-")
    return f"team:{slug}"


def indicators_file(config_path: Path) -> Path:
    """The library's indicators file that pipeline.yml names (its default when pipeline.yml cannot
    be read: the run itself then reports the bad file, not the loading of the code location)."""
    try:
        return project_path(load_pipeline_config(config_path).library.indicators)
    except ConfigError:
        return project_path(LibrarySettings().indicators)


def indicator_owners(indicators_file: Path) -> dict[str, dict[str, object]]:
    """Post -> its team and its indicator ids, from the library's indicators file (none when it
    cannot be read: library_raw says why when it runs)."""
    try:
        document = yaml.safe_load(indicators_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    owners: dict[str, dict[str, object]] = {}
    for entry in (document.get("indicators") or []) if isinstance(document, dict) else []:
        post = entry.get("owner") if isinstance(entry, dict) else None
        if post:
            owner = owners.setdefault(post, {"team": team_of_post(post), "indicators": []})
            owner["indicators"].append(str(entry["id"]))  # type: ignore[union-attr]
    return dict(sorted(owners.items()))


# the lineage columns every raw table carries (lgperf/warehouse.py LINEAGE_COLUMNS)
LINEAGE_DESCRIPTIONS = {
    "source_system": "lineage: the system or kind of file the row came from",
    "source_reference": "lineage: the request or file (and row) the row came from",
    "source_sha256": "lineage: SHA-256 of the answer or file the row came from",
    "ingested_at": "lineage: when the row was loaded",
    "run_id": "lineage: the Dagster run that loaded it",
}
_CREATE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+\.\w+) \((.*?)\n\);", re.DOTALL)
_COMMENTED = re.compile(r"^\s*(\w+)\s+[A-Z].*?--\s*(.+?)\s*$")


def ddl_comments(ddl: str) -> dict[tuple[str, str], str]:
    """(table, column) -> the comment beside the column in the DDL."""
    return {
        (table, m.group(1)): m.group(2)
        for table, body in _CREATE.findall(ddl)
        for m in map(_COMMENTED.match, body.splitlines())
        if m
    }


@functools.cache
def raw_table_schemas() -> dict[str, dg.TableSchema]:
    """``schema.table`` -> its columns (name, DuckDB type, nullable) as lgperf/warehouse.py creates them."""
    rows = warehouse.python_owned_layout()
    comments = ddl_comments(warehouse.DDL)
    columns: dict[str, list[dg.TableColumn]] = {}
    for table, name, data_type, nullable in rows:
        columns.setdefault(table, []).append(
            dg.TableColumn(
                name,
                data_type,
                description=comments.get((table, name)) or LINEAGE_DESCRIPTIONS.get(name),
                constraints=dg.TableColumnConstraints(nullable=nullable),
            )
        )
    return {table: dg.TableSchema(columns=cols) for table, cols in columns.items()}


def describe_spec(spec: dg.AssetSpec, *, indicators_file: Path) -> dg.AssetSpec:
    """The spec with its owner, kinds and column schema (see the module's docstring)."""
    layer, name = spec.key.path[0], spec.key.path[-1]
    kinds = set(spec.kinds)
    metadata: dict[str, object] = {}
    owners = [DATA_TEAM]
    if layer == "exports":
        owners = [PERFORMANCE_TEAM]
        kinds |= EXPORT_KINDS[name]
    elif layer == "marts":  # the publish step: the Great Expectations gate
        kinds |= {"duckdb", "great_expectations"}
    elif layer == "quality":
        kinds |= {"great_expectations", "html"}
    elif not kinds:  # the raw tables Python writes (dbt's own seeds already say dbt, duckdb)
        kinds |= {"duckdb"}
    if "dagster/column_schema" not in spec.metadata:
        schema = raw_table_schemas().get(f"{layer}.{name}")
        if schema is not None:
            metadata["dagster/column_schema"] = schema
            metadata["dagster/table_name"] = f"{layer}.{name}"
    if spec.key == INDICATOR_PERFORMANCE:
        metadata[INDICATOR_OWNERS_METADATA] = dg.MetadataValue.json(indicator_owners(indicators_file))
    described = spec.replace_attributes(owners=owners, kinds=kinds).merge_attributes(metadata=metadata)
    return described.replace_attributes(freshness_policy=FRESHNESS) if spec.key in FRESH_KEYS else described


def describe_assets(assets: Sequence[dg.AssetsDefinition], *, indicators_file: Path) -> list[dg.AssetsDefinition]:
    """Every asset described, with references to its code (the file and line of its function)."""
    described = [
        dg.map_asset_specs(functools.partial(describe_spec, indicators_file=indicators_file), [a])[0] for a in assets
    ]
    with warnings.catch_warnings():  # code references are a beta API of Dagster: say so once, here
        warnings.simplefilter("ignore", dg.BetaWarning)
        return list(dg.with_source_code_references(described))
