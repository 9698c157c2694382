"""Settings: the environment variables of the design and a validated ``pipeline.yml``.

Every setting has one home. Environment variables say *where* things are (warehouse, exports,
inbox, API); ``pipeline.yml`` says *what* the pipeline does (council, indicators, groups,
thresholds). Unknown keys and wrong types in ``pipeline.yml`` are errors that name the key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

GSS_CODE = r"^[EWSN]\d{8}$"
# LG Inform metric type ids are digits; the council's own (local) indicators are L + 4 digits.
INDICATOR_ID = r"^(\d+|L\d{4})$"
GROUP_ID = r"^[A-Za-z][A-Za-z0-9_]*$"
AREA_QUALIFIER = r"^[A-Za-z0-9_]+$"
PERIODS = r"^(latest(:[1-9]\d*)?|[a-z]+_\d{4}(_\d{2})?(_q[1-4]|_m\d{2})?(,[a-z]+_\d{4}(_\d{2})?(_q[1-4]|_m\d{2})?)*)$"


def project_path(path: str | os.PathLike[str]) -> Path:
    """A path from pipeline.yml: absolute as given, or relative to the project root."""
    candidate = Path(path)
    return (candidate if candidate.is_absolute() else PROJECT_ROOT / candidate).resolve()


class ConfigError(ValueError):
    """pipeline.yml is missing, unreadable or invalid; the message names the file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(_Strict):
    connect_seconds: Annotated[float, Field(gt=0)] = 5.0
    read_seconds: Annotated[float, Field(gt=0)] = 60.0


class RetrySettings(_Strict):
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    max_total_seconds: Annotated[float, Field(gt=0)] = 120.0
    initial_backoff_seconds: Annotated[float, Field(ge=0)] = 0.5
    max_backoff_seconds: Annotated[float, Field(gt=0)] = 30.0


class LgInformSettings(_Strict):
    metric_types: Annotated[list[Annotated[str, StringConstraints(pattern=r"^\d+$")]], Field(min_length=1)]
    areas: Annotated[list[str], Field(min_length=1)]
    periods: Annotated[str, StringConstraints(pattern=PERIODS)] = "latest:10"
    batch_size: Annotated[int, Field(ge=1, le=100)] = 10
    timeouts: Timeouts = Timeouts()
    retry: RetrySettings = RetrySettings()
    # Fetch every metric type even when dataChangedSince says it has not changed.
    full_refresh: bool = False
    # An answer the reader cannot understand holds back only its own metric types; the rest
    # load and publish. "fail": the run then ends non-zero naming them; "warn": it succeeds
    # with a warning (the check on raw.lginform_values says which are behind either way).
    on_metric_type_failure: Literal["fail", "warn"] = "fail"

    @field_validator("areas")
    @classmethod
    def _areas_are_codes_or_groups(cls, areas: list[str]) -> list[str]:
        for token in areas:
            code, colon, qualifier = token.partition(":")
            # "E08000009:<qualifier>" is passed to the API; the qualifier is a plain word, so no
            # quote, semicolon or space ever travels from pipeline.yml into a request or the warehouse
            if colon and not re.match(AREA_QUALIFIER, qualifier):
                raise ValueError(f"{token!r}: the part after ':' must be letters, digits or '_'")
            if not (re.match(GSS_CODE, code) or re.match(GROUP_ID, token)):
                raise ValueError(f"{token!r} is neither a GSS code nor a comparison group id")
        return areas


class SpcSettings(_Strict):
    run_length: Annotated[int, Field(ge=5, le=12)] = 7
    trend_length: Annotated[int, Field(ge=5, le=12)] = 7
    min_points_for_limits: Annotated[int, Field(ge=2)] = 12
    # NHSRplotthedots' default: a moving range of 3.267 x mR-bar or more (a one-off jump) does
    # not widen the limits; false follows the MDC Excel tool
    screen_moving_ranges: bool = True
    # limits from the first N points of each baseline (NHSRplotthedots' fix_after_n_points);
    # none = every point; an indicator's library entry may set its own
    freeze_after_points: Annotated[int, Field(ge=12)] | None = None
    # indicator id -> periods that start a new baseline (e.g. after a change of definition)
    rebase_periods: dict[
        Annotated[str, StringConstraints(pattern=INDICATOR_ID)],
        list[Annotated[str, StringConstraints(pattern=PERIODS)]],
    ] = {}


class FreshnessSettings(_Strict):
    """How long after a period ends its value may still be the latest one (publication lag
    included), by the indicator's frequency; judged on ``as_of`` (default: the run's date)."""

    as_of: date | None = None
    max_days_after_period_end: dict[Literal["annually", "quarterly", "monthly"], Annotated[int, Field(ge=1)]] = {
        "annually": 730,
        "quarterly": 365,
        "monthly": 180,
    }

    def judged_on(self) -> date:
        """The date ages are judged on: ``as_of``, else today in the UK (the quality gate and
        the report's tiles alike, so a figure the gate calls stale says so on its tile)."""
        return self.as_of or datetime.now(ZoneInfo("Europe/London")).date()


class SurveySettings(_Strict):
    """Resident surveys. ``fdr_level``: the false discovery rate at which a group's difference
    from the rest of the sample is called significant (Benjamini-Hochberg over a wave's group
    comparisons); 0.05 is the usual level, 0.2 the most allowed. ``benchmark_max_age_months``: a national benchmark
    polled longer than this before a wave's fieldwork ended is flagged stale."""

    fdr_level: Annotated[float, Field(gt=0, le=0.2)] = 0.05
    benchmark_max_age_months: Annotated[int, Field(ge=1, le=240)] = 24


class Thresholds(_Strict):
    """``no_change_points`` and ``no_change_percent``: the direction of travel calls a change
    smaller than this "no change", in percentage points for a percentage indicator (unit '%')
    and in % of the earlier value for any other unit; a library entry's ``no_change_within``
    (in the indicator's own unit) overrides both for its indicator."""

    rag_tolerance_percent: Annotated[float, Field(ge=0, le=100)] = 5.0
    no_change_points: Annotated[float, Field(ge=0, le=100)] = 0.5
    no_change_percent: Annotated[float, Field(ge=0, le=100)] = 1.0
    disclosure_min_count: Annotated[int, Field(ge=1)] = 5
    row_count_drift_max_share: Annotated[float, Field(gt=0, le=1)] = 0.25
    spc: SpcSettings = SpcSettings()
    freshness: FreshnessSettings = FreshnessSettings()
    survey: SurveySettings = SurveySettings()


IndicatorId = Annotated[str, StringConstraints(pattern=INDICATOR_ID)]
Polarity = Literal["high_is_good", "low_is_good", "neutral"]


class ExtractIndicator(_Strict):
    """Which rows of a tidy extract are which indicator; label etc. describe a local indicator."""

    indicator: str
    measure: str | None = None
    metric_type: IndicatorId
    label: str | None = None
    unit: str | None = None
    polarity: Polarity | None = None


class _Extract(_Strict):
    path: str  # relative to the project root, or absolute


class LgInformCsvExtract(_Extract):
    """An LG Inform ``data.csv`` export (rows = areas, columns = periods) of one metric type."""

    format: Literal["lginform_csv"]
    metric_type: IndicatorId


class TidyExtract(_Extract):
    """A tidy file: area_code, area_name, period, indicator, measure, unit, value."""

    format: Literal["tidy"]
    indicators: Annotated[list[ExtractIndicator], Field(min_length=1)]


class OflogExtract(_Extract):
    """Oflog's published CSV; ``codes`` maps its measure codes (ASC1...) to indicator ids."""

    format: Literal["oflog_csv"]
    codes: Annotated[dict[str, IndicatorId], Field(min_length=1)]


Extract = Annotated[LgInformCsvExtract | TidyExtract | OflogExtract, Field(discriminator="format")]


class InboxSettings(_Strict):
    """How the drop folders are read: docs/inbox.md."""

    max_file_bytes: Annotated[int, Field(gt=0)] = 50 * 1024 * 1024
    # layout files (one per supplier layout) and the council's vocabulary.yml
    layouts_dir: str = "ingestion/layouts"
    # a file is taken once its size and modification time have not changed for this long
    # (a copy from a network share may still be under way)
    settle_seconds: Annotated[float, Field(ge=0)] = 60
    # true: take a file only once "<name>.done" is beside it (the share writes it after the copy)
    ready_marker: bool = False
    # "folder/glob" patterns, e.g. "surveys/wave_*.xlsx": a file of such a name replaces, whole,
    # the files of the same name received before it (otherwise a file updates the records it holds)
    reissue_names: list[Annotated[str, StringConstraints(pattern=r"^(surveys|complaints)/[^/]+$")]] = []


class LibrarySettings(_Strict):
    """Paths (relative to the project) of the council's indicator library files."""

    indicators: str = "library/indicators.yml"
    targets: str = "library/targets.yml"
    commentary: str = "library/commentary.yml"


class BiSettings(_Strict):
    """The BI copy for officers. By default its counts of people are controlled like the open
    data's; ``unsuppressed_counts: true`` writes them as they are, to EXPORT_DIR/bi-unsuppressed/
    (never to bi/), marked so in its file names and metadata, for officers' eyes only."""

    unsuppressed_counts: bool = False


class PipelineConfig(_Strict):
    council: Annotated[str, StringConstraints(pattern=GSS_CODE)]
    lginform: LgInformSettings
    comparison_groups: Annotated[list[Annotated[str, StringConstraints(pattern=GROUP_ID)]], Field(min_length=1)]
    thresholds: Thresholds = Thresholds()
    inbox: InboxSettings = InboxSettings()
    library: LibrarySettings = LibrarySettings()
    bi: BiSettings = BiSettings()
    # Published files loaded through the same raw tables as the API (see docs/configuration.md).
    extracts: list[Extract] = []


def load_pipeline_config(path: str | os.PathLike[str]) -> PipelineConfig:
    """Read and validate ``pipeline.yml``; raise ConfigError naming the file and every bad key."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found (set LGPERF_CONFIG or create it)") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    try:
        return PipelineConfig.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "(top level)"
            message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{key}: {message}")
        raise ConfigError(f"{path}: " + "; ".join(problems)) from None


WAREHOUSES = ("duckdb", "postgres")
DEMO_SWITCH = "LGPERF_DEMO"
DEMO_CONFIG = "pipeline.demo.yml"
_YES, _NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


class NoDataSource(ConfigError):
    """Neither a real LG Inform service nor the demo was asked for: nothing may run."""


@dataclass(frozen=True)
class Environment:
    """Where things are, from the environment (all optional; defaults relative to the project)."""

    warehouse_path: Path
    export_dir: Path
    inbox_dir: Path
    config_path: Path
    lginform_base_url: str | None
    lginform_application_key: str | None
    lginform_secret: str | None
    warehouse: str = "duckdb"  # where dbt builds the marts: duckdb (the file above) or postgres (PG* variables)
    demo: bool = False  # asked for with LGPERF_DEMO=1 (or `--demo`): the embedded demo API and synthetic data

    @property
    def uses_demo(self) -> bool:
        """The embedded demo API and demo inbox stand in for the real ones: only when asked for."""
        return self.demo

    def require_source(self) -> None:
        """Refuse to run without a data source: a missing LGINFORM_BASE_URL must never quietly
        become synthetic data published as real (the demo is asked for, never assumed)."""
        if self.demo and self.lginform_base_url:
            raise NoDataSource(
                f"both {DEMO_SWITCH} (the demo) and LGINFORM_BASE_URL={self.lginform_base_url!r} (a real service) are "
                "set: unset one. The demo never reads a real service, and a real run never loads synthetic data."
            )
        if not self.demo and not self.lginform_base_url:
            raise NoDataSource(
                "LGINFORM_BASE_URL is not set, so there is no LG Inform service to read and nothing was run or "
                "written. Set LGINFORM_BASE_URL (with LGINFORM_APPLICATION_KEY and LGINFORM_SECRET) for a real "
                f"service, or ask for the demo's synthetic data with `--demo` or {DEMO_SWITCH}=1 (`make run` does)."
            )

    def export_to_environ(self) -> None:
        """Write the resolved absolute paths back, so dbt and Dagster subprocesses see the same files."""
        if self.demo:
            os.environ[DEMO_SWITCH] = "1"
        os.environ.update(
            WAREHOUSE_PATH=str(self.warehouse_path),
            EXPORT_DIR=str(self.export_dir),
            INBOX_DIR=str(self.inbox_dir),
            LGPERF_CONFIG=str(self.config_path),
        )

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Environment:
        env = os.environ if environ is None else environ

        def path(name: str, default: str) -> Path:
            value = Path(env.get(name) or default)
            return (value if value.is_absolute() else PROJECT_ROOT / value).resolve()

        warehouse = env.get("WAREHOUSE") or "duckdb"
        if warehouse not in WAREHOUSES:
            raise ConfigError(f"environment variable WAREHOUSE={warehouse!r}: expected one of {', '.join(WAREHOUSES)}")
        switch = (env.get(DEMO_SWITCH) or "").strip().lower()
        if switch not in _YES + _NO:
            raise ConfigError(
                f"environment variable {DEMO_SWITCH}={env.get(DEMO_SWITCH)!r}: expected 1 (the demo) or 0"
            )
        demo = switch in _YES
        return cls(
            warehouse_path=path("WAREHOUSE_PATH", "data/warehouse.duckdb"),
            export_dir=path("EXPORT_DIR", "data/exports"),
            inbox_dir=path("INBOX_DIR", "data/inbox"),
            # the demo has its own settings; pipeline.yml is the council's
            config_path=path("LGPERF_CONFIG", DEMO_CONFIG if demo else "pipeline.yml"),
            lginform_base_url=env.get("LGINFORM_BASE_URL") or None,
            lginform_application_key=env.get("LGINFORM_APPLICATION_KEY") or None,
            lginform_secret=env.get("LGINFORM_SECRET") or None,
            warehouse=warehouse,
            demo=demo,
        )
