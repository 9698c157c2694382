"""The open-data export: a Frictionless Data Package of the public marts.

``EXPORT_DIR/open-data/`` holds one CSV per small resource, one CSV per financial year of each
large one (``indicator_values/2023-24.csv``: written by DuckDB's COPY, exports/sql_cells.py, and
kept as it was when its rows did not change, exports/partitions.py) and ``datapackage.json`` (licence
OGL-UK-3.0, sources, created, version, and a Table Schema per CSV: types, constraints, primary
key, missing values); beside each CSV its CSVW metadata, ``<file>.csv-metadata.json``, and a
DCAT 3 record of the whole, ``dcat.jsonld`` (exports/open_data_metadata.py). Counts about people
(complaints, survey respondents) pass through statistical disclosure control
(exports/disclosure.py) and a suppressed cell reads ``c``.
Text that a spreadsheet would run as a formula is neutralised. The package is validated with
frictionless before it is published (``validate_package``): an invalid one never replaces the
previous export. Rows are in primary-key order
and ``created`` is the newest ingestion time of the data, so an unchanged warehouse gives
byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
import frictionless

from exports.controlled_counts import COMPLAINTS, POLICIES, WARDS, controlled, controlled_columns
from exports.disclosure import SUPPRESSED
from exports.open_data_metadata import (
    DATA_PACKAGE,
    DCAT_RECORD,
    DescribedColumn,
    DescribedTable,
    csvw_metadata,
    datapackage_resource,
    dcat_record,
    partition_title,
)
from exports.partitions import Manifest, export_partitions, prepare_financial_years, write_or_keep
from exports.publish import staged_folder, write_csv
from exports.sql_cells import CSV_OPTIONS, quoted, row_sql, sql_literal
from lgperf.dbt_manifest import column_descriptions

LICENCE = {
    "name": "OGL-UK-3.0",
    "title": "Open Government Licence v3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
}
MISSING_VALUES = ["", SUPPRESSED]
GSS = r"^[EWSNK]\d{8}$"
INDICATOR_ID = r"^(\d+|L\d{4})$"
PERCENT = {"minimum": 0, "maximum": 100}
COUNT = {"minimum": 0}

_TYPES = {
    "VARCHAR": "string",
    "DOUBLE": "number",
    "FLOAT": "number",
    "BIGINT": "integer",
    "INTEGER": "integer",
    "HUGEINT": "integer",
    "DATE": "date",
    "BOOLEAN": "boolean",
    "TIMESTAMP WITH TIME ZONE": "datetime",
}


@dataclass(frozen=True)
class PublicResource:
    """One CSV of the package: which mart, which columns, its key, constraints and SDC."""

    name: str
    title: str
    mart: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]
    constraints: dict[str, dict[str, Any]] = field(default_factory=dict)
    where: str = "true"
    descriptions: dict[str, str] = field(default_factory=dict)  # for a table the publish step writes (not a dbt model)
    by_financial_year: bool = False  # large: one CSV per financial year of period_id, written by DuckDB


RESOURCES = (
    PublicResource(
        "indicator_values",
        "Indicator values",
        "fct_indicator_values",
        ("indicator_id", "area_code", "period_id", "value"),
        ("indicator_id", "area_code", "period_id"),
        {"indicator_id": {"pattern": INDICATOR_ID}, "area_code": {"pattern": GSS}},
        by_financial_year=True,
    ),
    PublicResource(
        "revisions",
        "Indicator values added, revised or withdrawn, publication by publication",
        "revisions",
        (
            "publication_id",
            "published_at",
            "indicator_id",
            "area_code",
            "period_id",
            "change",
            "old_value",
            "new_value",
        ),
        ("publication_id", "indicator_id", "area_code", "period_id"),
        {"change": {"enum": ["added", "revised", "withdrawn"]}, "area_code": {"pattern": GSS}},
        descriptions={
            "publication_id": "The publication that made the change (the package's own is in its 'publication' "
            "property).",
            "published_at": "When that publication went out.",
            "indicator_id": "LG Inform metric type id, or a local id L + 4 digits.",
            "area_code": "GSS code of the area.",
            "period_id": "The period of the value.",
            "change": "added (a value the previous publication did not have), revised (its value changed) or withdrawn "
            "(no longer published).",
            "old_value": "The value as previously published (empty when added, or when there was no value).",
            "new_value": "The value as published now (empty when withdrawn, or when there is no value).",
        },
        by_financial_year=True,
    ),
    PublicResource(
        "benchmarks",
        "Benchmarks against comparison groups",
        "benchmarks",
        (
            "comparison_group_id",
            "indicator_id",
            "period_id",
            "area_code",
            "value",
            "group_size",
            "group_members",
            "group_mean",
            "group_median",
            "group_q1",
            "group_q3",
            "group_mad",
            "mads_from_median",
            "rank",
            "percentile",
            "quartile_band",
        ),
        ("comparison_group_id", "indicator_id", "period_id", "area_code"),
        {
            "area_code": {"pattern": GSS},
            "group_size": {"minimum": 1},
            "group_members": {"minimum": 1},
            "rank": {"minimum": 1},
            "percentile": PERCENT,
            "quartile_band": {"enum": [1, 2, 3, 4]},
        },
        by_financial_year=True,
    ),
    PublicResource(
        "performance_scorecard",
        "The council's performance scorecard",
        "indicator_performance",
        (
            "indicator_id",
            "title",
            "unit",
            "polarity",
            "theme",
            "priority",
            "owner",
            "period_id",
            "period_label",
            "value",
            "target",
            "tolerance_percent",
            "rag",
            "previous_period_id",
            "previous_value",
            "direction_vs_previous",
            "year_ago_period_id",
            "year_ago_value",
            "direction_vs_year_ago",
            "variation_icon",
            "special_cause_rule",
            "assurance_icon",
            "trial_limits",
            "neighbours_rank",
            "neighbours_size",
            "neighbours_quartile_band",
            "country_rank",
            "country_size",
            "country_quartile_band",
            "neighbours_members",
            "country_members",
            "neighbours_position",
            "country_position",
            "compared_as_indicator_id",
            "comparison_note",
            "green_but_bottom_quartile",
            "commentary",
            "action",
            "action_due",
            "narrative",
        ),
        ("indicator_id", "period_id"),
        {
            "rag": {"enum": ["green", "amber", "red", "not_rated", "no_target"]},
            "polarity": {"enum": ["high_is_good", "low_is_good", "neutral"]},
            "neighbours_quartile_band": {"enum": [1, 2, 3, 4]},
            "country_quartile_band": {"enum": [1, 2, 3, 4]},
        },
    ),
    PublicResource(
        "resident_satisfaction",
        "Resident satisfaction by survey wave and question",
        "resident_satisfaction",
        (
            "survey",
            "wave_start",
            "wave_end",
            "question",
            "breakdown",
            "breakdown_value",
            "unweighted_n",
            "dont_know_n",
            "weighted_base",
            "effective_n",
            "percent_positive",
            "ci_lower",
            "ci_upper",
            "benchmark_percent",
            "benchmark_round",
            "benchmark_fieldwork_month",
            "benchmark_age_months",
            "benchmark_stale",
            "benchmark_difference",
            "benchmark_significant",
            "benchmark_statement",
            "previous_wave_percent",
            "change_vs_previous_wave",
            "change_significant",
            "change_p_value",
            "change_significant_fdr",
            "change_tests_in_family",
            "difference_from_rest",
            "difference_p_value",
            "difference_significant_fdr",
            "tests_in_family",
            "fdr_level",
        ),
        ("survey", "wave_start", "question", "breakdown", "breakdown_value"),
        {
            "unweighted_n": COUNT,
            "dont_know_n": COUNT,
            "percent_positive": PERCENT,
            "ci_lower": PERCENT,
            "ci_upper": PERCENT,
            "benchmark_age_months": COUNT,
            "difference_p_value": {"minimum": 0, "maximum": 1},
            "tests_in_family": {"minimum": 1},
            "change_p_value": {"minimum": 0, "maximum": 1},
            "change_tests_in_family": {"minimum": 1},
            "fdr_level": {"minimum": 0, "maximum": 1},
        },
    ),
    PublicResource(
        "complaints_summary",
        "Complaints by period, service and theme",
        "complaints_summary",
        (
            "period_id",
            "service",
            "theme",
            "coverage_start",
            "coverage_end",
            "period_complete",
            "coverage_label",
            "received",
            "received_per_10000_residents",
            "same_months_previous_year_received",
            "stage_1_due",
            "stage_1_on_time",
            "stage_1_percent_on_time",
            "stage_2_due",
            "stage_2_on_time",
            "stage_2_percent_on_time",
            "stage_1_decided",
            "stage_1_upheld",
            "stage_1_percent_upheld",
            "stage_2_decided",
            "stage_2_upheld",
            "stage_2_percent_upheld",
            "ombudsman_escalations",
            "ombudsman_decided",
            "ombudsman_upheld",
            "ombudsman_percent_upheld",
        ),
        ("period_id", "service", "theme"),
        {
            "coverage_start": {"required": True},
            "coverage_end": {"required": True},
            "period_complete": {"required": True},
            **{c: COUNT for c in COMPLAINTS.counts},
            **{c: PERCENT for c in COMPLAINTS.derived if "_percent_" in c},
        },
    ),
    PublicResource(
        "complaints_by_ward",
        "Complaints by period and ward",
        "complaints_by_ward",
        (
            "period_id",
            "ward",
            "coverage_start",
            "coverage_end",
            "period_complete",
            "coverage_label",
            "received",
            "population",
            "received_per_10000_residents",
            "stage_1_due",
            "stage_1_on_time",
            "stage_1_percent_on_time",
        ),
        ("period_id", "ward"),
        {
            "coverage_start": {"required": True},
            "coverage_end": {"required": True},
            "period_complete": {"required": True},
            "population": COUNT,
            **{c: COUNT for c in WARDS.counts},
            "stage_1_percent_on_time": PERCENT,
        },
    ),
)


def write_open_data(
    connection: duckdb.DuckDBPyConnection,
    destination: Path,
    *,
    disclosure_min_count: int,
    publication_id: str | None = None,
    demo: bool = False,
    council: str | None = None,
) -> dict[str, int]:
    """Write the data package into ``destination`` atomically; return rows per CSV (path in the package).
    ``council`` (a GSS code) names the publisher, from dim_areas."""
    written: dict[str, int] = {}
    tables: list[DescribedTable] = []
    documented = {r.mart: column_descriptions(r.mart) for r in RESOURCES if not r.descriptions}  # dbt's manifest
    manifest = Manifest(destination, publication_id)  # the export as published before: its unchanged files are kept
    prepare_financial_years(connection)
    with staged_folder(destination) as folder:
        for resource in RESOURCES:
            source = f"SELECT {', '.join(resource.columns)} FROM marts.{resource.mart} WHERE {resource.where}"
            columns = dict(connection.execute(f"SELECT column_name, column_type FROM (DESCRIBE {source})").fetchall())
            types = {c: _TYPES.get(str(t).upper(), "string") for c, t in columns.items()}
            if resource.by_financial_year:
                for path, partition in _write_by_year(connection, folder, manifest, resource, source, columns):
                    written[path] = partition.rows
                    tables.append(_described_table(resource, path, types, documented, partition.label))
                continue
            if (
                resource.mart in POLICIES
            ):  # the one disclosure policy (exports/controlled_counts.py), on the whole table
                rows = controlled(connection, resource.mart, disclosure_min_count).rows
                cells: Iterable[Sequence[Any]] = ([row[c] for c in resource.columns] for row in rows)
            else:
                cells = connection.execute(f"{source} ORDER BY {', '.join(resource.primary_key)}").fetchall()  # small
            path = f"{resource.name}.csv"
            written[path] = write_csv(folder / path, resource.columns, cells)
            tables.append(_described_table(resource, path, types, documented))
        package = _package_descriptor(
            connection, [datapackage_resource(t) for t in tables], disclosure_min_count, publication_id, demo, council
        )
        validate_package(package, folder, manifest)  # raises before the swap: an invalid package is never published
        manifest.write(folder)
        _write_metadata(connection, folder, destination, package, tables)
    return written


class InvalidPackage(ValueError):
    """The open-data package failed frictionless validation; the export stopped before publishing it."""


VALIDATION_ERRORS_SHOWN = 10


def validate_package(package: dict[str, Any], folder: Path, manifest: Manifest) -> None:
    """Validate ``package`` with frictionless against its CSVs in ``folder``; raise InvalidPackage naming
    each error's resource, row and field. A year's file kept from the previous export under the same
    resource descriptor passed then (partitions.json keeps the mark), so it is not read again: reading all
    of the demo's 490,000 rows costs tens of seconds, its small resources under a second."""
    marks = {r["path"]: _validation_mark(r) for r in package["resources"]}
    unchecked = [
        r for r in package["resources"] if manifest.files.get(r["path"], {}).get("validated") != marks[r["path"]]
    ]
    checked = frictionless.Package.from_descriptor(
        {**package, "resources": unchecked}, basepath=str(folder), allow_invalid=True
    )  # an invalid descriptor is reported below
    report = checked.validate(limit_errors=VALIDATION_ERRORS_SHOWN)
    if not report.valid:
        errors = [*(("package", e) for e in report.errors), *((t.name, e) for t in report.tasks for e in t.errors)]
        shown = "; ".join(_validation_error(name, error) for name, error in errors[:VALIDATION_ERRORS_SHOWN])
        raise InvalidPackage(
            f"the open-data package is not valid, so it was not published ({len(errors)} "
            f"error(s) found, frictionless {version('frictionless')}): {shown}"
        )
    for path in manifest.files.keys() & marks.keys():
        manifest.annotate(path, validated=marks[path])


def _validation_mark(resource: dict[str, Any]) -> str:
    """What a file was validated against: its resource descriptor and the frictionless version."""
    text = json.dumps([version("frictionless"), resource], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _validation_error(resource: str, error: Any) -> str:
    where = [f"resource '{resource}'"]
    if getattr(error, "row_number", None) is not None:
        where.append(f"row {error.row_number}")
    if getattr(error, "field_name", None):
        where.append(f"field '{error.field_name}'")
    cell = getattr(error, "cell", None)
    detail = f"{error.type}: {error.note or error.message}" + (f" (cell {cell[:40]!r})" if cell is not None else "")
    return f"{', '.join(where)}: {detail}"


def _write_metadata(
    connection: duckdb.DuckDBPyConnection,
    folder: Path,
    previous: Path,
    package: dict[str, Any],
    tables: list[DescribedTable],
) -> None:
    """datapackage.json, each CSV's CSVW metadata (kept as it was when its text is the same) and dcat.jsonld."""
    for table in tables:
        write_or_keep(folder, previous, table.metadata_path, _json(csvw_metadata(table, package)))
    (folder / DATA_PACKAGE).write_text(_json(package), encoding="utf-8")
    period = connection.execute(
        "SELECT min(period_start)::VARCHAR, max(period_end)::VARCHAR FROM marts.dim_periods "
        "WHERE period_id IN (SELECT DISTINCT period_id FROM marts.fct_indicator_values)"
    ).fetchall()[0]
    record = dcat_record(package, tables, folder, period if None not in period else None)
    (folder / DCAT_RECORD).write_text(_json(record), encoding="utf-8")


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _write_by_year(
    connection: duckdb.DuckDBPyConnection,
    folder: Path,
    manifest: Manifest,
    resource: PublicResource,
    source: str,
    columns: dict[str, str],
):
    """One CSV per financial year, ``<resource>/<year>.csv``, by COPY with the Python writer's cells."""
    cells = row_sql(columns)
    order = ", ".join(f"source.{quoted(k)}" for k in resource.primary_key)

    def copy(connection: duckdb.DuckDBPyConnection, rows: str, target: Path) -> None:
        connection.execute(
            f"COPY (SELECT {cells} FROM ({rows}) AS source ORDER BY {order}) TO {sql_literal(target)} ({CSV_OPTIONS})"
        ).fetchall()

    shape = f"csv: SELECT {cells} ORDER BY {order} ({CSV_OPTIONS})"  # a change in how cells are written rewrites all
    return export_partitions(
        connection, folder, manifest, source, shape, lambda label: f"{resource.name}/{label}.csv", copy
    )


def _described_table(
    resource: PublicResource,
    path: str,
    types: dict[str, str],
    documented: dict[str, dict[str, str]],
    financial_year: str | None = None,
) -> DescribedTable:
    """One CSV as every descriptor of it (Frictionless, CSVW, DCAT) is built from."""
    descriptions = resource.descriptions or documented.get(resource.mart, {})
    columns = []
    for column in resource.columns:
        constraints = dict(resource.constraints.get(column, {}))
        if column in resource.primary_key:
            constraints["required"] = True
        described = descriptions.get(column, "")
        if column in controlled_columns(resource.mart):
            described = (
                described + f" Suppressed ('{SUPPRESSED}') where it could identify fewer than the disclosure "
                "threshold of people."
            ).strip()
        columns.append(DescribedColumn(column, types[column], described, constraints))
    whole = {"name": resource.name, "title": resource.title}
    if financial_year is not None:  # one file of a resource written per financial year: which year
        whole = {
            "name": f"{resource.name}-{financial_year}",
            "title": partition_title(resource.title, financial_year),
            "partition_of": resource.name,
            "financial_year": financial_year,
        }
    return DescribedTable(
        **whole,
        path=path,
        columns=tuple(columns),
        primary_key=resource.primary_key,
        missing_values=tuple(MISSING_VALUES),
    )


DEMO_TITLE = "Demonstration data: synthetic values, not published statistics"
KEYWORDS = ("benchmarking", "complaints", "local government", "performance indicators", "resident satisfaction")
AREA_IRI = "http://statistics.data.gov.uk/id/statistical-geography/"  # ONS's identifier of a GSS code


def _publisher(connection: duckdb.DuckDBPyConnection, council: str | None) -> list[dict[str, str]]:
    """The council as the package's publisher (a Data Package contributor), named as dim_areas names it."""
    if council is None:
        return []
    named = connection.execute("SELECT area_name FROM marts.dim_areas WHERE area_code = ?", [council]).fetchall()
    return [{"title": named[0][0] if named else council, "role": "publisher", "path": AREA_IRI + council}]


def _package_descriptor(
    connection: duckdb.DuckDBPyConnection,
    resources: Sequence[dict],
    threshold: int,
    publication_id: str | None = None,
    demo: bool = False,
    council: str | None = None,
) -> dict[str, Any]:
    created = connection.execute("SELECT max(ingested_at) FROM marts.fct_indicator_values").fetchall()[0][0]
    publisher = _publisher(connection, council)
    title = "Council performance: indicators, benchmarks, scorecard, resident satisfaction and complaints"
    return {
        "profile": "tabular-data-package",
        "name": "council-performance-demonstration" if demo else "council-performance",
        "title": f"{DEMO_TITLE}. {title}" if demo else title,
        "description": (
            (
                f"{DEMO_TITLE}: this package was made by the pipeline's demo from a synthetic catalogue, "
                "and its values must not be quoted or published as statistics. "
                if demo
                else ""
            )
            + "Published by the council's performance pipeline (lgperf). Indicator values come from LG Inform "
            "(Local Government Association) and the council's own published files; satisfaction and complaints from "
            "the council's surveys and case records. A complaints year not yet complete says which months it covers "
            "(period_complete false, coverage_label such as 'April to December 2025 (year to date)') and is compared "
            "with the same months of the previous year (same_months_previous_year_received), not the whole of it. "
            f"Counts of 1 to {threshold - 1} people, and any figure that would reveal one, "
            f"are shown as '{SUPPRESSED}'. Text that a spreadsheet would run as a formula starts with an apostrophe."
        ),
        "licenses": [LICENCE],
        "sources": [
            {"title": "LG Inform (Local Government Association)", "path": "https://lginform.local.gov.uk/"},
            {"title": "The council's resident surveys and complaints records"},
        ],
        "created": created.astimezone(UTC).replace(microsecond=0).isoformat() if created else None,
        "version": version("lgperf"),
        # the publication these files come from: audit.publications says what checks it passed
        **({"publication": publication_id} if publication_id else {}),
        **({"contributors": publisher} if publisher else {}),
        "keywords": sorted([*KEYWORDS, *(["demonstration", "synthetic"] if demo else [])]),
        "resources": list(resources),
    }
