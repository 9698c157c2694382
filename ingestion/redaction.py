"""Redaction of personal data in complaint free text, before it leaves the raw layer.

``redact(text)`` returns the text with every finding replaced by a ``[kind]`` marker, and how
many of each kind it replaced::

    >>> redact("Mrs Patel, 14 Washway Road, M33 7ZP, rang from 07700 900123.")
    Redacted(text='Mrs [name], [address], [postcode], rang from [phone].', counts={...})

Kinds: ``name``, ``email``, ``phone``, ``postcode``, ``ni_number``, ``address``, ``case_ref``.
A title, greeting or sign-off word stays ("Mrs [name]", "Dear [name]", "Regards, [name]") so
the text still reads; a case reference takes its label with it ("Ref CRM-2025-004512" ->
"[case_ref]") because the label alone says nothing.

Phone numbers are found with Google's ``phonenumbers`` (offline, the UK numbering plan): it
knows every valid UK range and spelling (+44, (0), brackets, hyphens), which no hand-written
pattern keeps up with. Presidio was not used: its ``AnalyzerEngine`` fetches a spaCy model at
start-up (not installable from PyPI, so it cannot run here), and its stand-alone UK recognisers
reject the ``QQ`` specimen NI prefix while pulling in spaCy and some fifty packages.

Everything UK-specific (postcodes, NI numbers, addresses, titled names, greetings, sign-offs,
case references) is a compiled pattern below. The steps run in a deliberate order, because
the kinds overlap:

1. ``email`` first: an address holds names, digits and dots that later kinds would half-eat.
2. ``case_ref`` before phones and NI numbers: "CRM-2025-004512" or "ref 01614960123" hold
   digit runs the phone matcher would otherwise claim.
3. ``ni_number`` before phones and postcodes: "QQ 12 34 56 C" is digits and letters both.
4. ``phone`` before addresses: "Tel 0161 496 0123" must not become a house number.
5. ``postcode`` before addresses, so "45 Cross Street, M33 7ZP" gives one of each.
6. ``address``.
7. names last, once every marker is in place: titled names, then greetings, introductions
   ("my name is ...") and sign-offs
   (which skip a title, so "Regards, Mr Brown" counts one name), then a bare name on the line
   just above a redacted phone or email (a signature block).

Markers are never matched again (no pattern matches "[" or lower-case words after a title),
so redacting twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import phonenumbers

__all__ = ["Redacted", "redact", "personal_data_kinds", "redact_personal_data", "PERSONAL_DATA_KINDS"]

# --------------------------------------------------------------------------- building blocks

# One word of a person's name: capitalised, may hold an apostrophe or hyphen (O'Neill,
# Smith-Jones), but a possessive "'s" stays outside it ("Mr Patel's team" -> "Mr [name]'s team").
_NAME = r"[A-Z][a-zA-Z]*(?:['’\-](?!s\b)[A-Za-z]+)*"
# Up to three name words on one line: "John", "John Smith", "Mary Ann Jones".
_FULL_NAME = rf"{_NAME}(?:[ \t]+{_NAME}){{0,2}}"
# One word of a street name, where a possessive belongs to it: "St Mary's Road".
_PLACE = r"[A-Z][a-zA-Z]*(?:['’\-][A-Za-z]+)*"
_TITLES = r"(?:Mrs|Mr|Ms|Miss|Mx|Dr|Prof|Cllr|Councillor)"
# Words that follow "Dear", "Hello" or "Regards," without being a person.
_NOT_A_NAME = (
    r"(?:Sir|Sirs|Madam|Sir/Madam|All|Council|Councillors|Team|Colleagues?|Customer|Customers|"
    r"Residents?|Officer|Manager|Complaints|Trafford|Everyone|Again|For|In|To)\b"
)
_STREET_TYPES = (
    r"(?:[Rr]oad|[Rr]d|[Ss]treet|[Ss]t|[Ll]ane|[Ll]n|[Aa]venue|[Aa]ve|[Dd]rive|[Cc]lose|[Ww]ay|"
    r"[Cc]rescent|[Gg]rove|[Pp]lace|[Gg]ardens|[Tt]errace|[Cc]ourt|[Ww]alk|[Pp]ark|[Hh]ill|"
    r"[Rr]ow|[Ss]quare|[Mm]ews|[Pp]arade|[Gg]reen|[Vv]iew|[Rr]ise|[Ff]old|[Bb]row)"
)

# --------------------------------------------------------------------------- one pattern per kind

# a.khan+council@example.co.uk. The look-behind starts a match only where a run of local-part
# characters starts: without it every position inside a long run without "@" rescans the run
# to its end, and 100,000 characters of text took 25 seconds (quadratic).
EMAIL = re.compile(r"(?<![\w.+'’-])[\w.+'’-]+@[\w-]+(?:\.[\w-]+)+")

# CRM-2025-004512, REF/12345, ABC/123/45, "ref 123456", "case no. 98765", "Our ref: ABC/123/45".
CASE_REF = re.compile(
    # a system reference on its own: letters, year, sequence
    r"\b[A-Z]{2,5}-\d{2,4}-\d{3,7}\b"
    # letters then slash-separated numbers
    r"|\b[A-Z]{2,5}(?:/\d{2,})+\b"
    # a label ("ref", "reference", "case no.", "our ref:", "account number") and what follows
    # it, when that holds a digit; a financial year ("2024/25") after "case" is not a reference
    r"|(?i:\b(?:our\s+|your\s+|my\s+)?(?:ref(?:erence)?|case|account)"
    r"(?:\s+(?:no|number|ref))?\.?\s*[:#]?\s*)"
    r"(?!\d{4}/\d{2}\b|(?:19|20)\d{2}\b)(?=[A-Za-z/-]*\d)[A-Za-z0-9][A-Za-z0-9/-]{3,}"
)

# QQ 12 34 56 C, QQ123456C, qq 43 24 37 d, and "QQ 12 34 56" with the suffix left off. Any
# two letters: HMRC's specimen prefix QQ breaks the issuing rules, and a typo should still be
# caught. Without the suffix only the spaced upper-case form counts ("on 123456" is not one).
NI_NUMBER = re.compile(
    r"\b[A-Za-z]{2}[ \-]?\d{2}[ \-]?\d{2}[ \-]?\d{2}[ \-]?[A-Da-d]\b"
    r"|\b[A-Z]{2} \d{2} \d{2} \d{2}\b"
)

# Candidate phone spans for phonenumbers to judge: digits with spaces, hyphens, dots or
# brackets, optionally led by + or "(". Scanning these few spans instead of the whole text
# keeps the library's (slow) matcher off prose.
_PHONE_CANDIDATE = re.compile(r"[+(]?\d[\d \t().\-]{7,}\d")

# M33 7ZP, m32 0th, WA142DW, SW1A 1AA. Outward code, optional space, inward code (whose two
# letters are never C, I, K, M, O or V).
POSTCODE = re.compile(r"\b(?P<out>[A-Za-z]{1,2}\d[A-Za-z\d]?)[ \t]?(?P<in>\d[ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2})\b")
# "the M60 2nd time", "A56 3rd exit": a road number and an ordinal, not a postcode.
_ORDINAL = re.compile(r"1st|2nd|3rd|[4-9]th")

# 14 Washway Road, 3a Church Lane, 14, Stamford New Road, Flat 2, 45 Cross Street, Flat 2.
ADDRESS = re.compile(
    rf"\b(?:(?:Flat|Apartment|Apt|Unit)\s+\d+[A-Za-z]?,?\s+)?"  # optional flat before a house
    rf"\d{{1,4}}[A-Za-z]?,?[ \t]+(?:{_PLACE}[ \t]+){{1,3}}{_STREET_TYPES}\b"  # number, name, type
    r"|\b(?:Flat|Apartment|Apt)\s+\d+[A-Za-z]?\b"  # a flat on its own
)

# The name after a title (the title stays): Mrs Patel, Mr John Smith, Dr. A. Khan, Mr J Smith.
TITLED_NAME = re.compile(
    rf"\b({_TITLES}\.?[ \t]+)((?:[A-Z]\.?[ \t]*(?=[A-Z]))*{_NAME}(?:[ \t]+(?!{_NOT_A_NAME}){_NAME})?)"
)

# Dear John, Hello Priya (not Dear Sir/Madam, Dear Council; a titled name is already done).
GREETING = re.compile(
    rf"\b((?:Dear|Hello|Hi)[ \t]+)(?!{_TITLES}\b|{_NOT_A_NAME})({_NAME}(?:[ \t]+{_NAME})?)"
    r"(?=[ \t]*(?:[,.!:\n]|$))"
)

# My name is John Smith, Name: Priya Shah.
INTRODUCTION = re.compile(rf"((?i:\bmy[ \t]+name[ \t]+is|\bname:)[ \t]*)(?!{_TITLES}\b)({_FULL_NAME})")

# Regards, John Smith / Kind regards\nSarah O'Neill / Thanks, Priya / Yours sincerely, A Brown.
# The name must end its line (or be followed by punctuation), so "Thanks to Adult Social
# Care for nothing" is left alone.
SIGN_OFF = re.compile(
    r"\b((?:(?:[Kk]ind|[Bb]est|[Ww]arm|[Mm]any)\s+)?"
    r"(?:[Rr]egards|[Tt]hanks|[Tt]hank\s+you|[Ww]ishes|[Cc]heers|"
    r"Yours\s+(?:sincerely|faithfully|truly))"
    r"[ \t]*(?:[,\-][ \t]*|\n[ \t]*|,[ \t]*\n[ \t]*))"
    rf"(?!{_TITLES}\b|{_NOT_A_NAME})((?:[A-Z]\.?[ \t]+)?{_FULL_NAME})"
    r"(?=[ \t]*(?:[.,;]|\n|$))",
)

# A bare name alone on the line above a redacted phone or email: a signature block
# ("John Smith\n07700 900123" after the phone step reads "John Smith\n[phone]").
SIGNATURE = re.compile(
    rf"^([ \t]*)(?!{_TITLES}\b|{_NOT_A_NAME})({_NAME}(?:[ \t]+{_NAME}){{1,2}})[ \t]*"
    r"(?=\n[ \t]*\[(?:phone|email)\])",
    re.MULTILINE,
)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Redacted:
    """The redacted text and how many findings of each kind it replaced (kinds found only)."""

    text: str | None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --------------------------------------------------------------------------- steps

Step = Callable[[str], tuple[str, int]]


def _substitute(pattern: re.Pattern[str], kind: str, keep_prefix: bool = False) -> Step:
    """Replace every match with ``[kind]``; with ``keep_prefix`` group 1 (a title, "Dear ",
    "Regards, ") stays in front of the marker."""
    marker = f"[{kind}]"

    def apply(text: str) -> tuple[str, int]:
        if keep_prefix:
            return pattern.subn(lambda m: m.group(1) + marker, text)
        return pattern.subn(marker, text)

    return apply


def _phone_step(text: str) -> tuple[str, int]:
    """UK and international numbers, judged by phonenumbers within each candidate span.

    Leniency POSSIBLE accepts a number of a possible length for its region even in a range not
    yet allocated (Ofcom's drama numbers among them); ten digits or more keeps years, counts and
    short codes such as 101 out."""
    spans: list[tuple[int, int]] = []
    for candidate in _PHONE_CANDIDATE.finditer(text):
        offset = candidate.start()
        for match in phonenumbers.PhoneNumberMatcher(candidate.group(), "GB", leniency=phonenumbers.Leniency.POSSIBLE):
            if sum(c.isdigit() for c in match.raw_string) >= 10:
                spans.append((offset + match.start, offset + match.end))
    for start, end in reversed(spans):
        text = text[:start] + "[phone]" + text[end:]
    return text, len(spans)


def _postcode_step(text: str) -> tuple[str, int]:
    found = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        outward, inward = match.group("out"), match.group("in")
        if _ORDINAL.fullmatch(inward) and not outward.islower():
            return match.group()  # "M60 2nd": a road and an ordinal
        found += 1
        return "[postcode]"

    return POSTCODE.sub(replace, text), found


STEPS: tuple[tuple[str, Step], ...] = (
    ("email", _substitute(EMAIL, "email")),
    ("case_ref", _substitute(CASE_REF, "case_ref")),
    ("ni_number", _substitute(NI_NUMBER, "ni_number")),
    ("phone", _phone_step),
    ("postcode", _postcode_step),
    ("address", _substitute(ADDRESS, "address")),
    ("name", _substitute(TITLED_NAME, "name", keep_prefix=True)),
    ("name", _substitute(GREETING, "name", keep_prefix=True)),
    ("name", _substitute(INTRODUCTION, "name", keep_prefix=True)),
    ("name", _substitute(SIGN_OFF, "name", keep_prefix=True)),
    ("name", _substitute(SIGNATURE, "name", keep_prefix=True)),
)


def redact(text: str | None) -> Redacted:
    """``text`` with personal data replaced by ``[kind]`` markers, and a count per kind found.

    ``None`` and ``""`` come back unchanged with no counts."""
    if not text:
        return Redacted(text)
    counts: dict[str, int] = {}
    for kind, step in STEPS:
        text, found = step(text)
        if found:
            counts[kind] = counts.get(kind, 0) + found
    return Redacted(text, counts)


# The kinds that identify a person wherever they appear, even in a column that should hold a
# code or a label (an email in a Service cell); names, addresses and case references are only
# judged in free text, where their context tells them apart from ids and labels.
PERSONAL_DATA_KINDS = ("email", "phone", "postcode", "ni_number")


def personal_data_kinds(text: str | None) -> list[str]:
    """The PERSONAL_DATA_KINDS found in ``text``, in that order (empty when none)."""
    if not text:
        return []
    counts = redact(text).counts
    return [kind for kind in PERSONAL_DATA_KINDS if counts.get(kind)]


def redact_personal_data(text: str) -> str:
    """``text`` redacted when it holds one of PERSONAL_DATA_KINDS, else unchanged (so an id
    such as CRM-2025-004512 stays readable)."""
    redacted = redact(text)
    return redacted.text if any(redacted.counts.get(kind) for kind in PERSONAL_DATA_KINDS) else text
