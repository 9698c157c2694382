"""Redaction of complaint text: every kind in every common form, near misses untouched."""

import csv
import io
import re

import openpyxl
import pytest

from demo.inbox import render_demo_files
from ingestion.redaction import redact

CAUGHT = [
    # (text, expected text, expected counts)
    ("Mrs Patel rang twice.", "Mrs [name] rang twice.", {"name": 1}),
    ("Spoke to Mr John Smith and Dr. A. Khan.", "Spoke to Mr [name] and Dr. [name].", {"name": 2}),
    ("Dear Ms Jones,\nthe bin was missed.", "Dear Ms [name],\nthe bin was missed.", {"name": 1}),
    ("Dear John,\nthanks.", "Dear [name],\nthanks.", {"name": 1}),
    ("Fine.\nRegards, John Smith", "Fine.\nRegards, [name]", {"name": 1}),
    ("Kind regards,\nSarah O'Neill", "Kind regards,\n[name]", {"name": 1}),
    ("Thanks, Priya", "Thanks, [name]", {"name": 1}),
    ("Yours sincerely,\nMr Brown", "Yours sincerely,\nMr [name]", {"name": 1}),
    ("Email me at grace.ahmed@example.co.uk today", "Email me at [email] today", {"email": 1}),
    ("Call 07700 900123 or 07700900124", "Call [phone] or [phone]", {"phone": 2}),
    ("Mobile +44 7700 900456.", "Mobile [phone].", {"phone": 1}),
    ("Ring (0161) 496 0123 or 0161-496-0124", "Ring [phone] or [phone]", {"phone": 2}),
    ("Office +44 (0)161 496 0125", "Office [phone]", {"phone": 1}),
    ("Postcode M33 7ZP, m32 0th, WA142DW and SW1A 1AA", "Postcode [postcode], [postcode], [postcode] and [postcode]", {"postcode": 4}),
    ("NI QQ 12 34 56 C and QQ123456C", "NI [ni_number] and [ni_number]", {"ni_number": 2}),
    ("I live at 14 Washway Road.", "I live at [address].", {"address": 1}),
    ("Flat 2, 45 Cross Street and 3a Church Lane", "[address] and [address]", {"address": 2}),
    ("My reference is CRM-2025-004512.", "My reference is [case_ref].", {"case_ref": 1}),
    ("Quote REF/12345 please", "Quote [case_ref] please", {"case_ref": 1}),
    ("Case no. 98765 was closed", "[case_ref] was closed", {"case_ref": 1}),
]

SURVIVE = [
    "Missed on 12 March 2025, again on 12/03/2025 and on 3 April.",
    "I paid £45.50 and then £1,200 for nothing.",
    "Waste & Recycling, Council Tax & Benefits and Adult Social Care all failed.",
    "This is now a Stage 2 complaint; stage 1 took 10 working days.",
    "The 240 litre bin and the 140L caddy were missed 3 times in 2 weeks.",
    "Budget for 2024/25 at 10:30 in St Mary's and Hale Barns.",
    "Dear Sir/Madam,\nTo whom it may concern,",
    "Brooklands Road has potholes.",
    "Council Tax went up by 4.99%.",
]


@pytest.mark.parametrize("text, expected, counts", CAUGHT)
def test_each_kind_is_caught(text, expected, counts):
    result = redact(text)
    assert result.text == expected
    assert result.counts == counts and result.total == sum(counts.values())


@pytest.mark.parametrize("text", SURVIVE)
def test_near_misses_survive_byte_for_byte(text):
    assert redact(text).text == text and redact(text).counts == {}


@pytest.mark.parametrize("text", [None, ""])
def test_nothing_passes_through(text):
    assert redact(text).text == text and redact(text).total == 0


@pytest.mark.parametrize("text", [t for t, _, _ in CAUGHT])
def test_redacting_twice_changes_nothing(text):
    once = redact(text).text
    assert redact(once).text == once and redact(once).counts == {}


def demo_complaint_texts() -> list[str]:
    files = render_demo_files()
    texts = []
    for name, content in files.items():
        if name.startswith("complaints/") and name.endswith(".csv"):
            texts += [r["Summary"] for r in csv.DictReader(io.StringIO(content.decode("utf-8")))]
        elif name.startswith("complaints/") and name.endswith(".xlsx"):
            sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True)["Complaints"]
            header = None
            for row in sheet.iter_rows(values_only=True):
                if header is None and "Details" in row:
                    header = row.index("Details")
                elif header is not None and row[header]:
                    texts.append(row[header])
    return [t for t in texts if t]


# independent, deliberately simple detectors: not the module's own patterns
LEAKS = {
    "email": re.compile(r"\S+@\S+\.\w+"),
    "mobile": re.compile(r"7700\s?900"),
    "landline": re.compile(r"496\s?0\d{3}"),
    "postcode": re.compile(r"\b[A-Za-z]{1,2}\d{1,2}[A-Za-z]?\s?\d[A-Za-z]{2}\b"),
    "ni_number": re.compile(r"\bQQ\s?\d{2}"),
}


def test_no_contact_detail_survives_in_any_demo_complaint():
    texts = demo_complaint_texts()
    assert len(texts) > 1000
    for text in texts:
        redacted = redact(text).text
        for kind, pattern in LEAKS.items():
            assert not pattern.search(redacted), (kind, text, redacted)
