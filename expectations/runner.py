"""Run one suite file against a DataFrame and return flat, storable results.

A suite (``suites/<name>.json``) names its target table and, optionally, the asset its check
attaches to; its frame is ``frames/<name>.sql`` when that file exists (the table plus derived
columns, see ``frames/_README.md``), else the whole target table. Validation goes through a GX
checkpoint so that GX renders its Data Docs page for the run.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from lgperf.postgres import Reader

SUITES_DIR = Path(__file__).parent / "suites"
FRAMES_DIR = Path(__file__).parent / "frames"
FAILING_ROWS_KEPT = 1000  # per expectation; the unexpected count says how many there were
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    schema: str
    table: str
    document: dict[str, Any]
    asset: tuple[str, str]
    frame_sql: str

    @property
    def target(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def parameters(self) -> set[str]:
        """The ``$name`` parameters its frame query needs."""
        return set(_PARAMETER.findall(self.frame_sql))

    @property
    def checks_row_count_drift(self) -> bool:
        return any("$PARAMETER" in json.dumps(e["kwargs"]) for e in self.document["expectations"])


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    kwargs: dict[str, Any]
    severity: str  # "error" blocks exports; "warning" is reported only
    success: bool
    observed_value: Any
    element_count: int | None
    unexpected_count: int | None
    failing_sample: list[Any]
    why: str | None = None
    failing_rows: list[dict[str, Any]] = field(default_factory=list)  # whole rows, up to FAILING_ROWS_KEPT


@dataclass(frozen=True)
class SuiteValidation:
    outcomes: list[ExpectationOutcome]
    docs_page: Path | None  # the GX Data Docs page of this validation


def _identifiers(value: str, path: Path, key: str) -> tuple[str, str]:
    schema, _, table = value.partition(".")
    if not (_IDENTIFIER.match(schema) and _IDENTIFIER.match(table)):
        raise ValueError(f"{path}: meta.{key} {value!r} must be <schema>.<table> in lower-case identifiers")
    return schema, table


def load_suites(directory: Path = SUITES_DIR, frames: Path = FRAMES_DIR) -> list[Suite]:
    """Every suite file, with its target (and asset) validated as plain identifiers."""
    suites = []
    for path in sorted(directory.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        meta = document.get("meta", {})
        schema, table = _identifiers(meta.get("target", ""), path, "target")
        asset = _identifiers(meta.get("asset", f"{schema}.{table}"), path, "asset")
        frame_file = frames / f"{document['name']}.sql"
        frame_sql = frame_file.read_text(encoding="utf-8") if frame_file.exists() else f"SELECT * FROM {schema}.{table}"
        suites.append(Suite(document["name"], path, schema, table, document, asset, frame_sql))
    return suites


def read_frame(connection: duckdb.DuckDBPyConnection | Reader, suite: Suite, parameters: dict[str, Any]) -> pd.DataFrame:
    """The suite's frame from the warehouse (DuckDB, or PostgreSQL through ``lgperf.postgres.Reader``);
    parameters are bound, never formatted into SQL."""
    missing = suite.parameters - parameters.keys()
    if missing:
        raise ValueError(f"{suite.path.name}: its frame needs parameter(s) {', '.join(sorted(missing))}")
    bound = {name: parameters[name] for name in suite.parameters}
    return connection.execute(suite.frame_sql, bound).df()


def _distinct(values: list[Any]) -> list[Any]:
    """The sample without repeats (a derived *_problem sentence repeats on every row it covers)."""
    seen: dict[str, Any] = {}
    for value in values:
        seen.setdefault(json.dumps(value, sort_keys=True, default=str), value)
    return list(seen.values())


def _severity(config: Any) -> str:
    return "warning" if str(getattr(config, "severity", "critical")).lower().endswith("warning") else "error"


def validate(
    frame: pd.DataFrame,
    suite: Suite,
    *,
    expectation_parameters: dict[str, Any] | None = None,
    docs_dir: Path | None = None,
    run_name: str = "adhoc",
) -> SuiteValidation:
    """Validate ``frame`` with GX (imported here: it costs seconds); with ``docs_dir``, GX also
    renders the validation into the Data Docs site there."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.checkpoint import Checkpoint, UpdateDataDocsAction
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    actions = []
    if docs_dir is not None:
        context.add_data_docs_site(
            "quality",
            {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_cta_footer": False},
            },
        )
        actions.append(UpdateDataDocsAction(name="data_docs", site_names=["quality"]))
    batch_definition = (
        context.data_sources.add_pandas("warehouse").add_dataframe_asset(suite.target).add_batch_definition_whole_dataframe("whole table")
    )
    expectations = [
        ExpectationConfiguration(
            type=e["type"], kwargs=e["kwargs"], meta=e.get("meta", {}), severity=e.get("severity", "critical")
        ).to_domain_obj()
        for e in suite.document["expectations"]
    ]
    gx_suite = context.suites.add(ExpectationSuite(name=suite.name, expectations=expectations))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=gx_suite))
    checkpoint = context.checkpoints.add(
        Checkpoint(name=f"gate_{suite.name}", validation_definitions=[definition], actions=actions,
                   result_format={"result_format": "COMPLETE", "partial_unexpected_count": 10})
    )
    run = checkpoint.run(
        batch_parameters={"dataframe": frame}, expectation_parameters=expectation_parameters or {},
        run_id=RunIdentifier(run_name=run_name),
    )
    (result,) = run.run_results.values()
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        details = item.result or {}
        indexes = [i for i in (details.get("unexpected_index_list") or []) if not isinstance(i, dict)][:FAILING_ROWS_KEPT]
        outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                kwargs={k: v for k, v in config.kwargs.items() if k != "batch_id"},
                severity=_severity(config),
                success=bool(item.success),
                observed_value=details.get("observed_value"),
                element_count=details.get("element_count"),
                unexpected_count=details.get("unexpected_count"),
                failing_sample=_distinct(details.get("unexpected_list") or details.get("partial_unexpected_list") or [])[:10],
                why=(config.meta or {}).get("why"),
                failing_rows=frame.loc[indexes].to_dict(orient="records") if indexes and not item.success else [],
            )
        )
    docs_page = None
    if docs_dir is not None:
        pages = sorted((docs_dir / "validations" / suite.name / run_name).glob("*/*.html"))
        docs_page = pages[-1] if pages else None
    return SuiteValidation(outcomes, docs_page)
