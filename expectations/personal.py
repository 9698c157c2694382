"""Which columns of the gate's frames hold personal data: declared once, in ``personal_data.yml``.

Why one file rather than a line in each suite's meta: it is what a data-protection officer
reviews and signs off, in one read, and the suites stay about checks. Every consumer reads it
from here: the failing rows and samples written to the auditor's folder (``masking.py``) and the
GX Data Docs, rendered without values for a suite with personal columns (``runner.py``). A test
holds every frame column whose name ``looks_personal`` to a declaration, so a new one cannot
slip through unmasked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PERSONAL_FILE = Path(__file__).parent / "personal_data.yml"
KINDS = ("identifiers", "demographics", "free_text", "counts_of_people")  # how each is masked: masking.py


@dataclass(frozen=True)
class Personal:
    """A frame's personal columns by kind, and the personal-looking columns cleared (with why)."""

    identifiers: frozenset[str] = frozenset()
    demographics: frozenset[str] = frozenset()
    free_text: frozenset[str] = frozenset()
    counts_of_people: frozenset[str] = frozenset()  # an aggregate's counts (and figures from them): small ones identify
    not_personal: Mapping[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> frozenset[str]:
        return self.identifiers | self.demographics | self.free_text | self.counts_of_people

    def kind(self, column: str | None) -> str | None:
        """``identifiers``, ``demographics``, ``free_text``, ``counts_of_people``, or None for a column that is not
        personal."""
        return next((k for k in KINDS if column in getattr(self, k)), None)


NONE = Personal()


def load(path: Path = PERSONAL_FILE) -> dict[str, Personal]:
    """Suite name -> its frame's personal columns; a suite not listed has none."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    declared = {}
    for suite, entry in document.items():
        unknown = set(entry) - {*KINDS, "not_personal"}
        if unknown:
            raise ValueError(
                f"{path.name}: {suite}: unknown key(s) {', '.join(sorted(unknown))}; expected {', '.join(KINDS)}, "
                "not_personal"
            )
        kinds = {k: frozenset(entry.get(k) or ()) for k in KINDS}
        cleared = dict(entry.get("not_personal") or {})
        counted = [c for columns in (*kinds.values(), cleared) for c in columns]
        twice = sorted({c for c in counted if counted.count(c) > 1})
        if twice:
            raise ValueError(f"{path.name}: {suite}: {', '.join(twice)} declared under more than one kind")
        declared[suite] = Personal(**kinds, not_personal=cleared)
    return declared


# What a personal column's name looks like: a word about a person, or the id of a person or case.
_PERSONAL_WORDS = {
    "ethnicity",
    "ethnic",
    "race",
    "religion",
    "disability",
    "disabled",
    "sex",
    "gender",
    "age",
    "dob",
    "birth",
    "ward",
    "postcode",
    "address",
    "street",
    "uprn",
    "nhs",
    "nino",
    "email",
    "phone",
    "mobile",
    "telephone",
    "name",
    "surname",
    "forename",
    "author",
    "summary",
    "comment",
    "comments",
    "commentary",
    "narrative",
    "note",
    "notes",
}
_PERSON_OR_CASE = {
    "complaint",
    "respondent",
    "person",
    "resident",
    "case",
    "customer",
    "client",
    "patient",
    "pupil",
    "user",
    "applicant",
    "tenant",
    "claimant",
    "caller",
    "contact",
    "household",
    "staff",
    "employee",
}
_ID = re.compile(r"_(id|ref|reference|number|no)$")


def looks_personal(column: str) -> bool:
    """Whether a column's name suggests personal data (so it must be declared, one way or the other)."""
    words = column.lower().split("_")
    return (
        bool(_PERSONAL_WORDS & set(words))
        or bool(_ID.search(column.lower()) and _PERSON_OR_CASE & set(words[:-1]))
        or "national_insurance" in column.lower()
    )
