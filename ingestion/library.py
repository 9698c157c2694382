"""The council's indicator library (``library/*.yml``): owners, rationale, theme, balanced-
scorecard perspective, priority, periods where RAG is off, targets by year with tolerance, and
officers' commentary by period. Validated with pydantic (an unknown key or a wrong type names
the file, entry and key) and loaded whole, with lineage, whenever a file's bytes change;
staging reads the latest version of each file.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from lgperf.settings import INDICATOR_ID

IndicatorId = Annotated[str, StringConstraints(pattern=INDICATOR_ID)]
# one canonical period id, as dim_periods spells it (fin_2021_22, fin_2024_25_q3, cal_2024_m04)
PeriodId = Annotated[str, StringConstraints(pattern=r"^[a-z]+_\d{4}(_\d{2})?(_q[1-4]|_m\d{2})?$")]


class LibraryError(ValueError):
    """A library file is missing or invalid; the message names the file, entry and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpcRebase(_Strict):
    """A new SPC baseline from ``period`` on, accepted by an officer (often from a proposal in
    the mart spc_rebase_proposals): who accepted it, when and why stay on record."""

    period: PeriodId
    reason: Annotated[str, StringConstraints(min_length=1)]
    accepted_by: Annotated[str, StringConstraints(min_length=1)]
    accepted_on: date


class SpcBaseline(_Strict):
    """How an indicator's SPC limits are set: frozen after the first N points of each baseline
    (NHSRplotthedots' fix_after_n_points, at least 12) and rebased at accepted periods."""

    freeze_after_points: Annotated[int, Field(ge=12)] | None = None
    rebase: list[SpcRebase] = []


class IndicatorEntry(_Strict):
    id: IndicatorId
    owner: str
    rationale: str
    theme: Literal["economy", "efficiency", "quality", "effectiveness", "impact", "equity"]
    perspective: Literal["citizen", "financial", "internal_process", "learning"]
    priority: str
    definition: str | None = None
    rag_off_periods: list[str] = []
    spc_baseline: SpcBaseline | None = None
    # a raw count is not ranked against other councils; this rate of the same measure is, in its place
    compare_as: IndicatorId | None = None
    # a change smaller than this, in the indicator's own unit (percentage points for a %), is
    # "about the same"; without it the pipeline.yml thresholds apply
    no_change_within: Annotated[float, Field(ge=0)] | None = None


class TargetEntry(_Strict):
    id: IndicatorId
    year: Annotated[int, Field(ge=2000, le=2100)]  # the financial year starting in April of it
    target: float
    tolerance_percent: Annotated[float, Field(ge=0, le=100)]
    set_on: date


class CommentaryEntry(_Strict):
    id: IndicatorId
    period: Annotated[str, StringConstraints(min_length=1)]
    author: str
    text: Annotated[str, StringConstraints(min_length=1)]


class IndicatorsFile(_Strict):
    indicators: list[IndicatorEntry]

    @field_validator("indicators")
    @classmethod
    def _one_entry_per_indicator(cls, entries: list[IndicatorEntry]) -> list[IndicatorEntry]:
        seen: dict[str, int] = {}
        for index, entry in enumerate(entries):
            if entry.id in seen:
                raise ValueError(
                    f"entry {index} repeats indicator {entry.id} of entry {seen[entry.id]}: one entry per indicator"
                )
            seen[entry.id] = index
        return entries


class TargetsFile(_Strict):
    targets: list[TargetEntry]


class CommentaryFile(_Strict):
    commentary: list[CommentaryEntry]


FILES: dict[str, tuple[type[_Strict], str, str]] = {
    # kind: (model, list key, raw table)
    "indicators": (IndicatorsFile, "indicators", "raw.library_indicators"),
    "targets": (TargetsFile, "targets", "raw.library_targets"),
    "commentary": (CommentaryFile, "commentary", "raw.library_commentary"),
}


def _spc_baseline_columns(baseline: dict[str, Any] | None) -> dict[str, Any]:
    """The raw columns of an entry's spc_baseline: the freeze, the rebase periods as the SQL
    reads them (comma-separated) and each rebase's record as the auditor reads it."""
    rebases = (baseline or {}).get("rebase", [])
    return {
        "spc_freeze_after_points": (baseline or {}).get("freeze_after_points"),
        "spc_rebase_periods": ",".join(r["period"] for r in rebases) or None,
        "spc_rebase_record": "; ".join(
            f"{r['period']}: {r['reason']} (accepted by {r['accepted_by']} on {r['accepted_on'].isoformat()})"
            for r in rebases
        )
        or None,
    }


def read_library_file(kind: str, path: Path) -> tuple[str, list[dict[str, Any]]]:
    """(SHA-256 of the file, one raw row per entry with its lineage)."""
    model, key, _ = FILES[kind]
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise LibraryError(f"{path}: library file not found (pipeline.yml library.{kind})") from None
    try:
        document = model.model_validate(yaml.safe_load(content) or {})
    except (ValidationError, yaml.YAMLError) as error:
        if isinstance(error, yaml.YAMLError):
            raise LibraryError(f"{path}: not valid YAML: {error}") from None
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise LibraryError(f"{path}: {where}: {message}") from None
    digest = hashlib.sha256(content).hexdigest()
    rows = []
    for index, entry in enumerate(getattr(document, key)):
        row = entry.model_dump()
        row["indicator_id"] = row.pop("id")
        if "rag_off_periods" in row:
            row["rag_off_periods"] = ",".join(row["rag_off_periods"])
        if "spc_baseline" in row:
            row.update(_spc_baseline_columns(row.pop("spc_baseline")))
        if "period" in row:
            row["period_label"] = row.pop("period")
        rows.append(
            {
                **row,
                "source_system": "library",
                "source_reference": f"{path.name}#{key}[{index}]",
                "source_sha256": digest,
            }
        )
    return digest, rows


def loaded_digests(connection: duckdb.DuckDBPyConnection) -> set[str]:
    """The SHA-256 of every library file version already in raw: one whose bytes are among them
    is not loaded again."""
    return {
        r[0]
        for r in connection.execute(
            "SELECT DISTINCT source_sha256 FROM raw.library_indicators "
            "UNION SELECT DISTINCT source_sha256 FROM raw.library_targets "
            "UNION SELECT DISTINCT source_sha256 FROM raw.library_commentary"
        ).fetchall()
    }
