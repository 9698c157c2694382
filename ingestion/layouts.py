"""Layout files: how one supplier's file spells the canonical survey or complaint row.

A layout (``layouts/<name>.yml``) maps canonical fields to the file's column names, answer
labels to scale codes, and other labels to canonical values. The layout of a file is chosen by
its header: every mapped column must be present (extra columns are kept in raw). A file that
no layout fits is refused whole, naming the columns the closest layout misses.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ingestion.inbox_schema import COMPLAINT_FIELDS, DONT_KNOW, QUESTIONS, SCALES, SURVEY_FIELDS, VALUE_SETS

LAYOUTS_DIR = Path(__file__).with_name("layouts")
VOCABULARY_FILE = "vocabulary.yml"
FIELDS = {"survey": SURVEY_FIELDS, "complaint": COMPLAINT_FIELDS}


def normalise_label(value: Any) -> str:
    """The form labels are compared in: NFKC, typographic quotes straightened, spaces collapsed,
    case folded. "St Mary’s " and "st mary's" are the same ward."""
    text = unicodedata.normalize("NFKC", str(value)).replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text).strip().casefold()


class LayoutError(ValueError):
    """A layout or vocabulary file is invalid; the message names the file and key."""


class _Layout(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["survey", "complaint"]
    description: str
    columns: dict[str, str]
    date_formats: list[str] = ["%d/%m/%Y"]
    answers: dict[str, dict[str, int]] = {}
    values: dict[str, dict[str, str]] = {}

    @model_validator(mode="after")
    def _fields_are_canonical(self) -> _Layout:
        unknown = [f for f in self.columns if f not in FIELDS[self.kind]]
        if unknown:
            raise ValueError(f"columns: {', '.join(unknown)} not canonical {self.kind} fields")
        for scale, labels in self.answers.items():
            if scale not in SCALES:
                raise ValueError(f"answers.{scale}: not a scale ({', '.join(SCALES)})")
            allowed = {*range(1, len(SCALES[scale]) + 1), DONT_KNOW}
            bad = [label for label, code in labels.items() if code not in allowed]
            if bad:
                raise ValueError(f"answers.{scale}: codes for {bad} must be 1-{len(SCALES[scale])} or {DONT_KNOW}")
        if self.kind == "survey":
            missing = {QUESTIONS[q] for q in self.columns if q in QUESTIONS} - set(self.answers)
            if missing:
                raise ValueError(f"answers: no labels for the scale(s) {', '.join(sorted(missing))}")
        return self

    @field_validator("values")
    @classmethod
    def _values_have_targets(cls, values: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for field, mapping in values.items():
            allowed = VALUE_SETS.get(field)
            if allowed is not None:
                bad = [v for v in mapping.values() if v not in allowed]
                if bad:
                    raise ValueError(f"values.{field}: {bad} not in {list(allowed)}")
        return values


@dataclass(frozen=True)
class Layout:
    name: str
    kind: str
    description: str
    columns: dict[str, str]  # canonical field -> file column
    date_formats: tuple[str, ...]
    answers: dict[str, dict[str, int]]  # scale -> normalised label -> code
    values: dict[str, dict[str, str]]  # field -> normalised label -> canonical value

    @property
    def signature(self) -> set[str]:
        return set(self.columns.values())

    def missing_columns(self, header: Iterable[str]) -> list[str]:
        present = {normalise_label(h) for h in header}
        return [c for c in self.columns.values() if normalise_label(c) not in present]


class FileColumns(Mapping[str, str]):
    """One layout's file column -> canonical field, a column looked up as the inbox matches it
    (``normalise_label``: "case ref" is "Case Ref"), so the report masks what the inbox read."""

    def __init__(self, layout: Layout) -> None:
        self._field_of = {normalise_label(column): canonical for canonical, column in layout.columns.items()}

    def __getitem__(self, column: str) -> str:
        return self._field_of[normalise_label(column)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._field_of)

    def __len__(self) -> int:
        return len(self._field_of)


def fields_of_layouts(layouts: Sequence[Layout]) -> dict[str, FileColumns]:
    """Layout name -> its file columns' canonical fields, for the report's files received."""
    return {layout.name: FileColumns(layout) for layout in layouts}


def load_layouts(directory: Path = LAYOUTS_DIR) -> list[Layout]:
    layouts = []
    for path in sorted(directory.glob("*.yml")):
        if path.name == VOCABULARY_FILE:
            continue
        try:
            spec = _Layout.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except ValidationError as error:
            first = error.errors()[0]
            raise LayoutError(f"{path}: {'.'.join(map(str, first['loc'])) or '(top level)'}: {first['msg']}") from None
        layouts.append(
            Layout(
                name=path.stem,
                kind=spec.kind,
                description=spec.description,
                columns=dict(spec.columns),
                date_formats=tuple(spec.date_formats),
                answers={s: {normalise_label(k): v for k, v in labels.items()} for s, labels in spec.answers.items()},
                values={f: {normalise_label(k): v for k, v in m.items()} for f, m in spec.values.items()},
            )
        )
    return layouts


def load_vocabulary(directory: Path = LAYOUTS_DIR) -> dict[str, dict[str, str]]:
    """field -> normalised label -> the council's spelling (wards, services, channels, themes),
    plus the canonical value sets."""
    path = directory / VOCABULARY_FILE
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict) or not all(isinstance(v, list) for v in document.values()):
        raise LayoutError(f"{path}: expected a mapping of field -> list of labels")
    vocabulary = {field: {normalise_label(v): v for v in values} for field, values in VALUE_SETS.items()}
    for field, values in document.items():
        vocabulary[field] = {normalise_label(v): str(v) for v in values}
    return vocabulary


class NoLayoutFits(ValueError):
    """No layout of the folder's kind fits the file's header."""


def choose_layout(header: Sequence[str], layouts: Sequence[Layout], *, kind: str, file_name: str) -> Layout:
    """The layout whose columns are all in the header (the one using most columns if several)."""
    candidates = [layout for layout in layouts if layout.kind == kind]
    fitting = [layout for layout in candidates if not layout.missing_columns(header)]
    if fitting:
        return max(fitting, key=lambda layout: len(layout.columns))
    if not candidates:
        raise NoLayoutFits(f"{file_name}: no {kind} layouts are defined in {LAYOUTS_DIR}")
    closest = min(candidates, key=lambda layout: len(layout.missing_columns(header)))
    raise NoLayoutFits(
        f"{file_name}: no {kind} layout fits its header; the closest, {closest.name}, is missing column(s) "
        + ", ".join(repr(c) for c in closest.missing_columns(header))
    )
