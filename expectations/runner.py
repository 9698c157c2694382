"""Run one suite file against the warehouse and return flat, storable results.

The gate validates where the data is (``validate_in_warehouse``: SQL reduces the frame to its
violating rows and counts, GX judges them; see ``reduction.py``); ``validate`` judges a whole
DataFrame, for small frames and as the yardstick in tests. A suite (``suites/<name>.json``) names
its target table and, optionally, the asset its check attaches to; its frame is
``frames/<name>.sql`` when that file exists (the table plus derived columns, see
``frames/_README.md``), else the whole target table. Validation goes through a GX checkpoint,
and ``Judge`` renders the Data Docs pages of a whole gate run in one build; for a suite whose
frame has personal columns (``personal_data.yml``) the page is rendered by a second pass whose
result format holds no values (the outcomes keep GX's complete result), since the pages sit
beside the open data.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse
from urllib.request import url2pathname

import duckdb
import pandas as pd

from expectations import personal as personal_data
from expectations.reduction import KEY_EXPECTATIONS, ROWS_PER_EXPECTATION, reduction

SUITES_DIR = Path(__file__).parent / "suites"
FRAMES_DIR = Path(__file__).parent / "frames"
FAILING_ROWS_KEPT = ROWS_PER_EXPECTATION  # per expectation; the unexpected count says how many there were
POSITION = "suite_position"  # in each expectation's GX meta: where it stands in the suite file
RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 10}  # what the outcomes are read from
# for the Data Docs of a suite with personal columns: counts and percentages, no value (a public GX option)
DOCS_WITHOUT_VALUES = {"result_format": "BASIC", "exclude_unexpected_values": True}
DOCS_SITE = "quality"  # the Data Docs site's name in GX's context
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


class SqlReader(Protocol):
    """A warehouse other than DuckDB behind DuckDB's ``execute``, given by the caller (the gate
    passes ``lgperf.postgres.Reader`` on PostgreSQL); ``dialect`` says whose SQL it reads."""

    @property
    def dialect(self) -> str: ...

    def execute(self, query: str, parameters: Any = None) -> duckdb.DuckDBPyConnection: ...


# where a suite's SQL runs: the caller's choice, never the runner's
Warehouse = duckdb.DuckDBPyConnection | SqlReader


def _dialect(connection: Warehouse) -> str:
    return "duckdb" if isinstance(connection, duckdb.DuckDBPyConnection) else connection.dialect


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    schema: str
    table: str
    document: dict[str, Any]
    asset: tuple[str, str]
    frame_sql: str
    personal: personal_data.Personal = personal_data.NONE  # its frame's personal columns

    @property
    def target(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def parameters(self) -> set[str]:
        """The ``$name`` parameters its frame query needs."""
        return set(_PARAMETER.findall(self.frame_sql))

    @property
    def new_rows_column(self) -> str | None:
        """The target's column that says which build computed a row (``meta.new_rows``): when set,
        the frame holds only rows not yet published (``$new_rows_since``), while keys and row counts
        are checked over the whole target. See ``validate_in_warehouse``."""
        return self.document.get("meta", {}).get("new_rows")

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


def load_suites(
    directory: Path = SUITES_DIR, frames: Path = FRAMES_DIR, personal: Path = personal_data.PERSONAL_FILE
) -> list[Suite]:
    """Every suite file, with its target (and asset) validated as plain identifiers, and its
    frame's personal columns."""
    declared = personal_data.load(personal)
    suites = []
    for path in sorted(directory.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        meta = document.get("meta", {})
        schema, table = _identifiers(meta.get("target", ""), path, "target")
        asset = _identifiers(meta.get("asset", f"{schema}.{table}"), path, "asset")
        frame_file = frames / f"{document['name']}.sql"
        frame_sql = frame_file.read_text(encoding="utf-8") if frame_file.exists() else f"SELECT * FROM {schema}.{table}"
        suites.append(
            Suite(
                document["name"],
                path,
                schema,
                table,
                document,
                asset,
                frame_sql,
                declared.get(document["name"], personal_data.NONE),
            )
        )
    return suites


def read_frame(connection: Warehouse, suite: Suite, parameters: dict[str, Any]) -> pd.DataFrame:
    """The suite's frame from the caller's warehouse (DuckDB, or a ``SqlReader`` such as PostgreSQL's);
    parameters are bound, never formatted into SQL."""
    return connection.execute(suite.frame_sql, _bound(suite, parameters)).df()


def _bound(suite: Suite, parameters: dict[str, Any]) -> dict[str, Any]:
    missing = suite.parameters - parameters.keys()
    if missing:
        raise ValueError(f"{suite.path.name}: its frame needs parameter(s) {', '.join(sorted(missing))}")
    return {name: parameters[name] for name in suite.parameters}


def _distinct(values: list[Any]) -> list[Any]:
    """The sample without repeats (a derived *_problem sentence repeats on every row it covers)."""
    seen: dict[str, Any] = {}
    for value in values:
        seen.setdefault(json.dumps(value, sort_keys=True, default=str), value)
    return list(seen.values())


def _severity(config: Any) -> str:
    return "warning" if str(getattr(config, "severity", "critical")).lower().endswith("warning") else "error"


def _gx_context(docs_dir: Path | None) -> Any:
    """An ephemeral GX context (imported here: it costs seconds); with ``docs_dir``, it has the
    Data Docs site there."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        context.add_data_docs_site(
            DOCS_SITE,
            {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_cta_footer": False},
            },
        )
    return context


def _run_gx(
    context: Any,
    name: str,
    frame: pd.DataFrame,
    expectations: dict[int, dict[str, Any]],
    expectation_parameters: dict[str, Any],
    run_name: str,
    result_format: dict[str, Any],
) -> tuple[Any, dict[int, Any]]:
    """One GX suite called ``name`` over ``frame``, through a checkpoint: the identifier GX stored
    its result under (for its Data Docs page), and its expectation results by their position in
    the suite file (GX lists them in its own order)."""
    import great_expectations as gx
    from great_expectations.checkpoint import Checkpoint
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    batch_definition = (
        context.data_sources.add_pandas(f"warehouse {name}")
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("frame")
    )
    configured = [
        ExpectationConfiguration(
            type=e["type"],
            kwargs=e["kwargs"],
            meta={**e.get("meta", {}), POSITION: position},
            severity=e.get("severity", "critical"),
        ).to_domain_obj()
        for position, e in expectations.items()
    ]
    gx_suite = context.suites.add(ExpectationSuite(name=name, expectations=configured))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=gx_suite)
    )
    checkpoint = context.checkpoints.add(
        Checkpoint(name=f"gate_{name}", validation_definitions=[definition], result_format=result_format)
    )
    run = checkpoint.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=expectation_parameters,
        run_id=RunIdentifier(run_name=run_name),
    )
    ((identifier, result),) = run.run_results.items()
    return identifier, {item.expectation_config.meta[POSITION]: item for item in result.results}


class Judge:
    """GX's side of a gate run. The checkpoints of every suite run in one ephemeral context, and
    ``render_docs`` renders their Data Docs pages in one build at the end: GX compiles its page
    templates again on every build, so a build per checkpoint (19 in a publication of the demo)
    cost the gate about a third of its time, for the same pages.

    A suite whose frame has personal columns is judged in a second context, without a site; its
    pages come from a second pass in the site's context whose result format holds no values (the
    pages sit beside the open data)."""

    def __init__(self, docs_dir: Path | None = None):
        self.docs_dir = docs_dir
        self._contexts: dict[bool, Any] = {}  # with the Data Docs site: its context
        self._pages: dict[tuple[str, str], Any] = {}  # (GX suite name, run name): its result's identifier

    def _context(self, with_docs: bool) -> Any:
        if with_docs not in self._contexts:
            self._contexts[with_docs] = _gx_context(self.docs_dir if with_docs else None)
        return self._contexts[with_docs]

    def judge(
        self,
        suite: Suite,
        runs: list[tuple[str, pd.DataFrame, dict[int, dict[str, Any]]]],
        expectation_parameters: dict[str, Any],
        run_name: str,
    ) -> dict[str, dict[int, Any]]:
        """Each (GX suite name, frame, expectations by position) through a checkpoint: per name, the
        complete results by position."""
        with_docs = self.docs_dir is not None
        private = with_docs and bool(suite.personal.columns)
        results = {}
        for name, frame, expectations in runs:
            identifier, results[name] = _run_gx(
                self._context(with_docs and not private),
                name,
                frame,
                expectations,
                expectation_parameters,
                run_name,
                RESULT_FORMAT,
            )
            if with_docs and not private:
                self._pages[name, run_name] = identifier
        if private:
            for name, frame, expectations in runs:
                self._pages[name, run_name], _ = _run_gx(
                    self._context(True),
                    name,
                    frame,
                    expectations,
                    expectation_parameters,
                    run_name,
                    DOCS_WITHOUT_VALUES,
                )
        return results

    def page(self, name: str, run_name: str) -> Path | None:
        """Where the Data Docs page of the GX suite ``name`` in ``run_name`` is, once rendered."""
        identifier = self._pages.get((name, run_name))
        if identifier is None:
            return None
        (site,) = self._context(True).get_docs_sites_urls(
            resource_identifier=identifier, site_names=[DOCS_SITE], only_if_exists=False
        )
        return Path(url2pathname(urlparse(site["site_url"]).path))

    def render_docs(self) -> None:
        """Render the Data Docs page of every validation judged, its suite's page and the site's
        index, in one build. GX's index lists what this context judged and removes the pages of
        earlier runs: the quality report's index is the way in to every run."""
        if not self._pages:
            return
        identifiers = list(self._pages.values())
        suites = [i.expectation_suite_identifier for i in identifiers]
        self._context(True).build_data_docs(site_names=[DOCS_SITE], resource_identifiers=[*identifiers, *suites])


def _outcome(item: Any, frame: pd.DataFrame) -> ExpectationOutcome:
    config = item.expectation_config
    details = item.result or {}
    indexes = [i for i in (details.get("unexpected_index_list") or []) if not isinstance(i, dict)][:FAILING_ROWS_KEPT]
    return ExpectationOutcome(
        expectation=config.type,
        kwargs={k: v for k, v in config.kwargs.items() if k != "batch_id"},
        severity=_severity(config),
        success=bool(item.success),
        observed_value=details.get("observed_value"),
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        # distinct failing values over every failing row kept (GX's own list stops short of them)
        failing_sample=_distinct(
            frame.loc[indexes, config.kwargs["column"]].tolist()
            if indexes and "column" in config.kwargs
            else details.get("unexpected_list") or details.get("partial_unexpected_list") or []
        )[:10],
        why=config.meta.get("why"),
        failing_rows=frame.loc[indexes].to_dict(orient="records") if indexes and not item.success else [],
    )


def validate(
    frame: pd.DataFrame,
    suite: Suite,
    *,
    expectation_parameters: dict[str, Any] | None = None,
    docs_dir: Path | None = None,
    run_name: str = "adhoc",
) -> SuiteValidation:
    """Validate a whole ``frame`` in pandas: for small frames, and as the yardstick the warehouse
    validation is tested against. The gate uses ``validate_in_warehouse``."""
    judge = Judge(docs_dir)
    results = judge.judge(
        suite,
        [(suite.name, frame, dict(enumerate(suite.document["expectations"])))],
        expectation_parameters or {},
        run_name,
    )[suite.name]
    judge.render_docs()
    return SuiteValidation([_outcome(results[i], frame) for i in sorted(results)], judge.page(suite.name, run_name))


@dataclass
class _Pass:
    """One SQL scan of a validation: its GX name, its SQL and bound values, which expectations it
    judges, and what it found."""

    name: str
    sql: str
    values: dict[str, Any]
    only: Callable[[dict[str, Any]], bool]
    counted: dict[int, tuple[int, int]] = field(
        default_factory=dict
    )  # position: (rows it applies to, rows that break it)
    violations: pd.DataFrame | None = None


def validate_in_warehouse(
    connection: Warehouse,
    suite: Suite,
    parameters: dict[str, Any],
    *,
    expectation_parameters: dict[str, Any] | None = None,
    judge: Judge | None = None,
    run_name: str = "adhoc",
) -> SuiteValidation:
    """Validate the suite's frame where it lives: SQL scans the whole frame for the counts and the
    violating rows (``expectations/reduction.py``), GX judges those rows and the row count. The
    element and unexpected counts reported are SQL's, over the whole frame.

    A suite with ``meta.new_rows`` (the target's ``computed_at``) is scanned in two passes: its
    frame holds only the rows not yet published (its SQL filters on ``$new_rows_since``), and
    the keys' uniqueness and the row count are checked over the whole target, since a new row
    may repeat an old key and a lost row is not new.

    With a ``judge`` that has a Data Docs folder, the page is rendered by its ``render_docs``,
    once every suite of the run is judged."""
    bound = _bound(suite, parameters)
    dialect = _dialect(connection)
    frame_sql = suite.frame_sql.strip().rstrip(";")
    expectations = suite.document["expectations"]
    passes = [_Pass(suite.name, frame_sql, bound, lambda e: True)]
    if suite.new_rows_column:
        passes = [
            _Pass(suite.name, frame_sql, bound, lambda e: e["type"] not in KEY_EXPECTATIONS),
            _Pass(f"{suite.name}__keys", f"SELECT * FROM {suite.target}", {}, lambda e: e["type"] in KEY_EXPECTATIONS),
        ]
    rows = 0
    for scan in passes:
        empty = connection.execute(f"with __frame as ({scan.sql}\n) select * from __frame limit 0", scan.values).df()
        plan = reduction(scan.sql, list(empty.columns), expectations, dialect, suite.path.name, scan.only)
        totals = connection.execute(plan.counts_sql, scan.values).fetchone()
        rows = int(totals[0])  # the last pass's: the whole target's when the frame holds new rows only
        scan.counted = {
            p: (int(totals[1 + 2 * k] or 0), int(totals[2 + 2 * k] or 0))
            for k, p in enumerate(plan.column_expectations)
        }
        failing = [k for k in range(len(plan.scans)) if totals[2 + 2 * k]]
        scan.violations = connection.execute(plan.violations_sql(failing), scan.values).df() if failing else empty
    table = pd.DataFrame(index=pd.RangeIndex(rows))  # the row count, without a single column

    by_table = {i: e for i, e in enumerate(expectations) if not any(i in scan.counted for scan in passes)}
    runs = [(scan.name, scan.violations, {i: expectations[i] for i in scan.counted}) for scan in passes]
    runs.append((f"{suite.name}__table", table, by_table))
    judge = judge or Judge()
    judged = judge.judge(suite, [run for run in runs if run[2]], expectation_parameters or {}, run_name)
    outcomes: dict[int, ExpectationOutcome] = {}
    for scan in passes:
        for position, (elements, unexpected) in sorted(scan.counted.items()):
            outcome = _outcome(judged[scan.name][position], scan.violations)
            if outcome.success != (unexpected == 0):
                raise RuntimeError(
                    f"{suite.path.name}, expectation {position + 1} ({outcome.expectation} {outcome.kwargs}): "
                    f"SQL counted {unexpected} breaking row(s) but GX judged it "
                    f"{'met' if outcome.success else 'failed'}; the warehouse scan in expectations/reduction.py does "
                    "not match GX for this expectation"
                )
            outcomes[position] = replace(outcome, element_count=elements, unexpected_count=unexpected)
    if by_table:
        outcomes.update({position: _outcome(item, table) for position, item in judged[f"{suite.name}__table"].items()})
    return SuiteValidation([outcomes[i] for i in range(len(expectations))], judge.page(suite.name, run_name))
