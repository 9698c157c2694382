"""Redaction of personal data in complaint free text, before it leaves the raw layer.

Phone numbers are found with Google's ``phonenumbers`` (offline; UK numbering plan). Presidio
was not used: its analyzer needs a spaCy language model that is not installable from PyPI, so it
cannot run here. The UK-specific kinds are ours: one compiled pattern per kind, applied in an
order that keeps them from eating each other (case references before phone numbers, whose
digits they contain; titled names before sign-offs, so "Regards, Mr Brown" counts one name).
Each finding becomes a ``[kind]`` marker; markers are never matched again, so redacting twice
changes nothing. Known limit: a bare first name with no title, greeting or sign-off around it
("my neighbour Sarah said") is not caught; that needs a named-entity model we cannot install
offline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import phonenumbers

_NAME = r"[A-Z][a-zA-Z'’\-]+"
_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)"
_STREET_TYPES = (
    r"(?:Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Drive|Close|Way|Crescent|Grove|Place|Gardens|"
    r"Terrace|Court|Walk|Park|Hill|Row|Square|Mews|Parade|Green|View|Rise|Meadow|Fold|Brow)"
)

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# CRM-2025-004512, REF/12345, "ref 123456", "case no. 98765", "Our ref: ABC/123/45"
CASE_REF = re.compile(
    r"\b[A-Z]{2,5}-\d{2,4}-\d{3,7}\b"
    r"|\bREF/\d{3,}\b"
    r"|(?i:\b(?:our\s+|your\s+)?(?:ref(?:erence)?|case)(?:\s+(?:no|number))?\.?\s*[:#]?\s*)(?=[A-Z0-9/-]*\d)[A-Z0-9][A-Z0-9/-]{3,}",
)
# QQ 12 34 56 C, QQ123456C (any two letters: the demo and documents use the QQ example prefix)
NI_NUMBER = re.compile(r"\b[A-Za-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-Da-d]\b")
# M33 7ZP, m32 0th, WA142DW, SW1A 1AA
POSTCODE = re.compile(r"\b[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2}\b")
# 14 Washway Road, 3a Church Lane, Flat 2, 45 Cross Street
ADDRESS = re.compile(
    rf"\b(?:(?:Flat|Apartment|Apt|Unit)\s+\d+[A-Za-z]?,?\s+)?\d{{1,4}}[A-Za-z]?,?\s+(?:{_NAME}\s+){{1,3}}{_STREET_TYPES}\b"
    r"|\b(?:Flat|Apartment|Apt)\s+\d+[A-Za-z]?\b"
)
# the name after a title: Mrs Patel, Mr John Smith, Dr. A. Khan (the title itself is kept)
TITLED_NAME = re.compile(rf"\b({_TITLES}\.?\s+)((?:[A-Z]\.\s*)*{_NAME}(?:\s+{_NAME})?)")
# Dear John (not Dear Sir/Madam, Dear Council); a titled name was already handled
GREETING = re.compile(rf"\b(Dear\s+)(?!(?:Sir|Madam|Sirs|Council|Team|Colleague|Customer|Resident|{_TITLES})\b)({_NAME}(?:\s+{_NAME})?)")
# Regards, John Smith / Kind regards\nSarah O'Neill / Thanks, Priya
SIGN_OFF = re.compile(
    r"\b((?:Kind\s+|Best\s+|Warm\s+|Many\s+)?(?:[Rr]egards|[Tt]hanks|[Tt]hank\s+you|[Ww]ishes|"
    r"Yours\s+(?:sincerely|faithfully|truly)|Cheers)\s*,?[ \t]*\n?[ \t]*)"
    rf"(?!{_TITLES}\b)({_NAME}(?:[ \t]+{_NAME}){{0,2}})"
)


@dataclass(frozen=True)
class Redacted:
    text: str | None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _phones(text: str) -> list[tuple[int, int]]:
    """Spans of UK and international phone numbers (ten digits or more: not a year or a count)."""
    spans = []
    for match in phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.POSSIBLE):
        if sum(c.isdigit() for c in match.raw_string) >= 10:
            spans.append((match.start, match.end))
    return spans


def _replace_spans(text: str, spans: list[tuple[int, int]], marker: str) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + marker + text[end:]
    return text


def _substitute(pattern: re.Pattern[str], kind: str, keep_prefix: bool = False) -> Callable[[str], tuple[str, int]]:
    def apply(text: str) -> tuple[str, int]:
        if keep_prefix:
            return pattern.subn(lambda m: f"{m.group(1)}[{kind}]", text)
        return pattern.subn(f"[{kind}]", text)

    return apply


def _phone_step(text: str) -> tuple[str, int]:
    spans = _phones(text)
    return _replace_spans(text, spans, "[phone]"), len(spans)


STEPS: tuple[tuple[str, Callable[[str], tuple[str, int]]], ...] = (
    ("email", _substitute(EMAIL, "email")),
    ("case_ref", _substitute(CASE_REF, "case_ref")),
    ("ni_number", _substitute(NI_NUMBER, "ni_number")),
    ("phone", _phone_step),
    ("postcode", _substitute(POSTCODE, "postcode")),
    ("address", _substitute(ADDRESS, "address")),
    ("name", _substitute(TITLED_NAME, "name", keep_prefix=True)),
    ("name", _substitute(GREETING, "name", keep_prefix=True)),
    ("name", _substitute(SIGN_OFF, "name", keep_prefix=True)),
)


def redact(text: str | None) -> Redacted:
    """``text`` with personal data replaced by ``[kind]`` markers, and a count per kind."""
    if not text:
        return Redacted(text)
    counts: dict[str, int] = {}
    for kind, step in STEPS:
        text, found = step(text)
        if found:
            counts[kind] = counts.get(kind, 0) + found
    return Redacted(text, counts)
