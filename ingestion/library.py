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

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from lgperf.settings import INDICATOR_ID

IndicatorId = Annotated[str, StringConstraints(pattern=INDICATOR_ID)]


class LibraryError(ValueError):
    """A library file is missing or invalid; the message names the file, entry and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorEntry(_Strict):
    id: IndicatorId
    owner: str
    rationale: str
    theme: Literal["economy", "efficiency", "quality", "effectiveness", "impact", "equity"]
    perspective: Literal["citizen", "financial", "internal_process", "learning"]
    priority: str
    definition: str | None = None
    rag_off_periods: list[str] = []
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
        if "period" in row:
            row["period_label"] = row.pop("period")
        rows.append({**row, "source_system": "library", "source_reference": f"{path.name}#{key}[{index}]", "source_sha256": digest})
    return digest, rows
