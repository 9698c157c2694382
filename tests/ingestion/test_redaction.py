"""Redaction of complaint free text: every kind in every common form, near misses untouched,
idempotent, and nothing that looks like contact data left in any demo complaint."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import openpyxl
import pytest
import yaml

from demo.synthetic_inbox import render_demo_files
from ingestion.redaction import Redacted, redact

CORPUS = yaml.safe_load((Path(__file__).parent / "redaction_corpus.yaml").read_text(encoding="utf-8"))
KINDS = {"name", "email", "phone", "postcode", "ni_number", "address", "case_ref"}


# --------------------------------------------------------------------------- the corpus


def test_corpus_is_big_enough_and_well_formed():
    assert len(CORPUS) >= 40
    assert len({case["id"] for case in CORPUS}) == len(CORPUS)
    for case in CORPUS:
        assert ("expected" in case) != bool(case.get("survives")), case["id"]
        assert set(case.get("counts", {})) <= KINDS, case["id"]
    assert sum(1 for case in CORPUS if case.get("survives")) >= 10
    assert set().union(*(case.get("counts", {}) for case in CORPUS)) == KINDS


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c["id"])
def test_corpus_text_is_redacted_as_expected(case):
    result = redact(case["text"])
    if case.get("survives"):
        assert result.text == case["text"]
        assert result.counts == {} and result.total == 0
    else:
        assert result.text == case["expected"]
        assert result.counts == case["counts"]
        assert result.total == sum(case["counts"].values())


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c["id"])
def test_redacting_twice_changes_nothing(case):
    once = redact(case["text"]).text
    twice = redact(once)
    assert twice.text == once and twice.counts == {}


# --------------------------------------------------------------------------- every form of every kind

FORMS = [
    # (kind, the personal data as written, the sentence it sits in)
    ("name", "Mrs Patel", "Refund to {} please."),
    ("name", "Mr John Smith", "Spoke to {} today."),
    ("name", "Dr. A. Khan", "Seen by {} last week."),
    ("name", "Dr A Khan", "Seen by {} last week."),
    ("name", "Ms Jones", "Copy to {} please."),
    ("name", "Miss Wright", "My neighbour {} complained too."),
    ("name", "Mx Taylor", "Ask {} to ring."),
    ("name", "Prof Evans", "Letter from {} attached."),
    ("name", "Dear Ms Jones", "{},\nthe bin was missed."),
    ("name", "Dear John", "{},\nthe bin was missed."),
    ("name", "Regards, John Smith", "Fix it.\n{}"),
    ("name", "Kind regards\nSarah O'Neill", "Fix it.\n{}"),
    ("name", "Kind regards,\nSarah O'Neill", "Fix it.\n{}"),
    ("name", "Thanks, Priya", "Fix it.\n{}"),
    ("name", "Yours sincerely, Grace Ahmed", "Fix it. {}"),
    ("name", "Yours faithfully,\nTomasz Nowak", "Fix it.\n{}"),
    ("email", "grace.ahmed@example.co.uk", "Email {} please."),
    ("email", "gahmed87@example.com", "Email {} please."),
    ("phone", "07700 900123", "Ring {} please."),
    ("phone", "07700900123", "Ring {} please."),
    ("phone", "+44 7700 900456", "Ring {} please."),
    ("phone", "+44 (0)161 496 0123", "Ring {} please."),
    ("phone", "(0161) 496 0123", "Ring {} please."),
    ("phone", "0161-496-0123", "Ring {} please."),
    ("phone", "0161 496 0123", "Ring {} please."),
    ("phone", "+44 161 496 0123", "Ring {} please."),
    ("phone", "020 7946 0123", "Ring {} please."),
    ("phone", "0113 496 0123", "Ring {} please."),
    ("postcode", "M33 7ZP", "We live in {} now."),
    ("postcode", "m32 0th", "We live in {} now."),
    ("postcode", "WA142DW", "We live in {} now."),
    ("postcode", "SW1A 1AA", "We live in {} now."),
    ("postcode", "wa15 9qt", "We live in {} now."),
    ("ni_number", "QQ 12 34 56 C", "My NI number is {} as asked."),
    ("ni_number", "QQ123456C", "My NI number is {} as asked."),
    ("ni_number", "qq 12 34 56 c", "My NI number is {} as asked."),
    ("address", "14 Washway Road", "We live at {} now."),
    ("address", "3a Church Lane", "We live at {} now."),
    ("address", "Flat 2", "We live at {} now."),
    ("address", "Flat 2, 45 Cross Street", "We live at {} now."),
    ("address", "45 Cross Street", "We live at {} now."),
    ("address", "9 Hale Rd", "We live at {} now."),
    ("case_ref", "CRM-2025-004512", "Previous case was {} again."),
    ("case_ref", "REF/12345", "Please quote {} again."),
    ("case_ref", "ref 123456", "Please quote {} again."),
    ("case_ref", "case no. 98765", "Please quote {} again."),
    ("case_ref", "Our ref: ABC/123/45", "{}. Thank you."),
]
FORMS += [
    ("address", f"12 Acacia {street_type}", "We live at {} now.")
    for street_type in (
        "Road",
        "Rd",
        "Street",
        "St",
        "Lane",
        "Avenue",
        "Ave",
        "Drive",
        "Close",
        "Way",
        "Crescent",
        "Grove",
        "Place",
        "Gardens",
        "Terrace",
        "Court",
        "Walk",
        "Park",
        "Hill",
        "Row",
        "Square",
        "Mews",
    )
]


@pytest.mark.parametrize("kind, data, sentence", FORMS, ids=[f"{k}:{d}" for k, d, _ in FORMS])
def test_every_kind_is_caught_in_every_form(kind, data, sentence):
    result = redact(sentence.format(data))
    assert result.counts == {kind: 1}
    assert f"[{kind}]" in result.text
    # none of the personal part is left: its digits and its capitalised words are gone
    # (a title, greeting or sign-off word may stay in front of the marker)
    kept = {"Mrs", "Mr", "Ms", "Miss", "Mx", "Dr", "Prof", "Dear", "Regards", "Kind", "Thanks", "Yours"}
    outside_markers = re.sub(r"\[[a-z_]+\]", "", result.text)
    for token in re.findall(r"[A-Za-z0-9]+", data):
        if token.rstrip(".") in kept or token.lower() in {"regards", "sincerely", "faithfully"}:
            continue
        assert not re.search(rf"(?<![A-Za-z0-9]){re.escape(token)}(?![A-Za-z0-9])", outside_markers), token


# --------------------------------------------------------------------------- near misses

NEAR_MISSES = [
    "12 March 2025",
    "12/03/2025",
    "on 3 April",
    "£45.50",
    "£1,200",
    "Waste & Recycling",
    "Council Tax & Benefits",
    "Adult Social Care",
    "Stage 2",
    "stage 1",
    "240 litre",
    "140L",
    "240-litre",
    "3 times",
    "2 weeks",
    "10 working days",
    "2024/25",
    "Dear Sir/Madam,",
    "St Mary's",
    "Hale Barns",
    "Council Tax",
    "10:30",
    "the M60 2nd exit",
    "Thanks to Parking",
    "Dear Council Tax team,",
    "Regards,\nthe residents of our street",
    "case 2024/25",
    "reference to 2 letters",
    "A56",
    "4.99%",
    "1 in 5 residents",
    "Flat rate of £30",
    "Dear Councillors,",
    "Hi all,",
    "Room 101",
    "COVID-19",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_survive_byte_for_byte(text):
    for sentence in (text, f"Complaint: {text}.", f"{text}\nNothing else."):
        result = redact(sentence)
        assert result.text == sentence and result.counts == {}


@pytest.mark.parametrize("text", [None, ""])
def test_none_and_empty_pass_through(text):
    result = redact(text)
    assert result.text == text and result.counts == {} and result.total == 0


def test_counts_add_up_and_result_is_frozen():
    result = redact("Mr Smith and Mrs Smith at 14 Washway Road, M33 7ZP, 07700 900123 or 07700 900124.")
    assert result.counts == {"name": 2, "address": 1, "postcode": 1, "phone": 2}
    assert result.total == 6
    assert isinstance(result, Redacted)
    with pytest.raises(AttributeError):
        result.text = "changed"  # type: ignore[misc]


# --------------------------------------------------------------------------- the demo inbox


@pytest.fixture(scope="module")
def demo_complaint_texts() -> list[str]:
    """Every complaint text the demo inbox generates: CSV "Summary", XLSX "Details"."""
    texts: list[str] = []
    for name, content in render_demo_files().items():
        if not name.startswith("complaints/"):
            continue
        if name.endswith(".csv"):
            reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
            texts += [row["Summary"] for row in reader]
        elif name.endswith(".xlsx"):
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
            for sheet in workbook.worksheets:
                column = None
                for row in sheet.iter_rows(values_only=True):
                    if column is None and "Details" in row:
                        column = row.index("Details")
                    elif column is not None and row[column]:
                        texts.append(row[column])
    return [text for text in texts if isinstance(text, str) and text]


# Deliberately simple detectors, independent of the module's patterns: any hit is a leak.
LEAKS = {
    "email": re.compile(r"\S+@\S+\.\w+"),
    "phone": re.compile(r"\+44|\b07\d{3}\s?\d{3}\s?\d{3}\b|\(?\b0\d{3}\)?[\s-]?\d{3}[\s-]?\d{4}\b"),
    "drama number": re.compile(r"7700\s?900|496\s?0\d{3}"),
    "postcode": re.compile(r"(?i)\b[a-z]{1,2}\d[a-z\d]?\s?\d[a-z]{2}\b"),
    "ni_number": re.compile(r"(?i)\b[a-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[a-d]?\b"),
}


def test_no_email_phone_postcode_or_ni_number_survives_in_any_demo_complaint(demo_complaint_texts):
    assert len(demo_complaint_texts) > 1000
    # the detectors do fire on the raw texts: otherwise this test would prove nothing
    raw = "\n".join(demo_complaint_texts)
    assert all(pattern.search(raw) for pattern in LEAKS.values())
    leaks = []
    for text in demo_complaint_texts:
        redacted = redact(text).text
        leaks += [(kind, redacted) for kind, pattern in LEAKS.items() if pattern.search(redacted)]
    assert not leaks, leaks[:5]


def test_demo_complaints_redact_idempotently_and_keep_their_near_misses(demo_complaint_texts):
    near_miss = re.compile(
        r"£\d[\d,]*(?:\.\d{2})?|\b\d{1,2} (?:January|February|March|April|May|June|July"
        r"|August|September|October|November|December) 20\d{2}\b|\bStage [12]\b"
        r"|\b\d{3}[- ]litre\b|Waste & Recycling|Council Tax & Benefits|Adult Social Care"
    )
    for text in demo_complaint_texts:
        redacted = redact(text).text
        assert redact(redacted).text == redacted
        assert near_miss.findall(redacted) == near_miss.findall(text), text


def test_ten_thousand_summaries_redact_in_well_under_five_seconds(demo_complaint_texts):
    # ~300 characters each: two demo complaints joined
    texts = [
        f"{demo_complaint_texts[i % len(demo_complaint_texts)]} "
        f"{demo_complaint_texts[(i * 7 + 3) % len(demo_complaint_texts)]}"
        for i in range(10_000)
    ]
    started = time.perf_counter()
    for text in texts:
        redact(text)
    assert time.perf_counter() - started < 5.0
