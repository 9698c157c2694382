"""Personal data and the auditor's folder: every personal-looking column of every validation frame
is declared (expectations/personal_data.yml), and what the folder shows of one is masked with a
key kept in the warehouse. The gate end to end: test_quality_gate.py."""

import hashlib
import re
from datetime import date

import duckdb
import pytest

from expectations import personal
from expectations.masking import REMOVED, Mask
from expectations.runner import FRAMES_DIR, load_suites
from lgperf import pseudonyms, warehouse
from lgperf.publication import EPOCH

SUITES = {s.name: s for s in load_suites()}
PARAMETERS = {
    "run_id": None,
    "published_through": EPOCH,
    "council": "E08000009",
    "as_of": date(2025, 11, 1),
    "max_days_annually": 730,
    "max_days_quarterly": 365,
    "max_days_monthly": 180,
    "new_rows_since": EPOCH,
}


def frame_columns(connection: duckdb.DuckDBPyConnection, suite) -> list[str]:
    sql = suite.frame_sql.strip().rstrip(";")
    bound = {name: PARAMETERS[name] for name in suite.parameters}
    return list(connection.execute(f"with __frame as ({sql}\n) select * from __frame limit 0", bound).df().columns)


def test_every_personal_looking_frame_column_is_declared(demo_baseline):
    """A new column named like personal data (an id of a person or case, ethnicity, a comment...)
    fails here until personal_data.yml says what it is; and nothing declared is stale."""
    assert set(personal.load()) <= set(SUITES), "personal_data.yml names a suite that does not exist"
    undeclared, stale = {}, {}
    with duckdb.connect(str(demo_baseline / "warehouse.duckdb"), read_only=True) as connection:
        for name, suite in SUITES.items():
            columns = frame_columns(connection, suite)
            declared = suite.personal.columns | set(suite.personal.not_personal)
            undeclared[name] = [c for c in columns if personal.looks_personal(c) and c not in declared]
            stale[name] = sorted(declared - set(columns))
    assert {k: v for k, v in undeclared.items() if v} == {}
    assert {k: v for k, v in stale.items() if v} == {}
    assert SUITES["raw_complaints"].personal.kind("complaint_id") == "identifiers"
    assert SUITES["raw_survey_responses"].personal.kind("ethnicity") == "demographics"
    assert SUITES["indicator_performance"].personal.kind("narrative") == "free_text"


@pytest.mark.parametrize(
    "column, expected",
    [
        *[
            (c, True)
            for c in (
                "complaint_id",
                "respondent_id",
                "case_ref",
                "resident_number",
                "ethnicity",
                "disability",
                "sex",
                "age_band",
                "ward",
                "postcode",
                "summary_redacted",
                "comment",
                "narrative",
                "commentary",
                "email",
                "phone_number",
                "contact_name",
                "commentary_author",
                "national_insurance_number",
            )
        ],
        *[
            (c, False)
            for c in (
                "indicator_id",
                "period_id",
                "run_id",
                "area_code",
                "row_number",
                "stage",
                "comparison_group_id",
                "source_reference",
                "metric_type_id",
                "percent_positive",
                "breakdown_value",
                "stage_1_answered",
            )
        ],
    ],
)
def test_what_looks_personal(column, expected):
    assert personal.looks_personal(column) is expected


def test_checks_on_personal_columns_show_no_value_but_the_masked_sample():
    """The masked sample is all the folder shows of a personal column: a check on one must be a
    per-row check (GX reports no observed statistic, such as a maximum id, for those), and no
    derived problem sentence may quote one (frames/_README.md)."""
    for name, suite in SUITES.items():
        for expectation in suite.document["expectations"]:
            kwargs = expectation["kwargs"]
            columns = {kwargs.get("column"), *kwargs.get("column_list", [])} & suite.personal.columns
            assert not columns or expectation["type"].startswith("expect_column_values_"), (
                name,
                expectation["type"],
                columns,
            )
        frame = FRAMES_DIR / f"{name}.sql"
        sentences = (
            re.findall(
                r"\bthen\b(.*?)\b(?:when|else|end)\b",
                frame.read_text(encoding="utf-8"),
                flags=re.DOTALL | re.IGNORECASE,
            )
            if frame.exists()
            else []
        )
        # what a sentence is built from, its fixed words ('...') aside
        quoted = {
            c
            for text in sentences
            for c in suite.personal.columns
            if re.search(rf"\b{c}\b", re.sub(r"'[^']*'", "", text))
        }
        assert quoted == set(), f"{frame.name}: a problem sentence quotes {quoted}"


def test_the_pseudonym_key_is_made_once_per_warehouse_and_kept_in_its_audit_schema(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        first = pseudonyms.key(connection)
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        assert pseudonyms.key(connection) == first
        assert connection.execute("SELECT count(*) FROM audit.pseudonym_key").fetchall() == [(1,)]
    with warehouse.connect(tmp_path / "other.duckdb") as connection:
        other = pseudonyms.key(connection)
    assert len(first) == 32 and other != first
    shown = pseudonyms.pseudonym(first, "CX-25-0412")
    assert shown == pseudonyms.pseudonym(first, "CX-25-0412") != pseudonyms.pseudonym(other, "CX-25-0412")
    assert shown.startswith(pseudonyms.PREFIX) and shown[3:] not in hashlib.sha256(b"CX-25-0412").hexdigest()


def test_a_mask_pseudonymises_identifiers_and_removes_demographics_and_free_text():
    mask = Mask(b"k" * 32, SUITES["raw_complaints"].personal)
    row = {
        "complaint_id": "CX-25-0412",
        "ethnicity": "Any other",
        "disability": None,
        "summary_redacted": "Nobody calls back",
        "stage": "stage 9",
        "row_number": 3,
    }
    assert mask.row(row) == {
        "complaint_id": pseudonyms.pseudonym(b"k" * 32, "CX-25-0412"),
        "ethnicity": REMOVED["demographics"],
        "disability": None,
        "summary_redacted": REMOVED["free_text"],
        "stage": "stage 9",
        "row_number": 3,
    }
    assert mask.sample({"column": "summary_redacted"}, ["a", "b"]) == [REMOVED["free_text"]]
    assert mask.sample({"column": "stage"}, ["stage 9"]) == ["stage 9"]
    assert mask.sample(
        {"column_list": ["complaint_id", "row_number"]}, [{"complaint_id": "CX-1", "row_number": 1}]
    ) == [{"complaint_id": pseudonyms.pseudonym(b"k" * 32, "CX-1"), "row_number": 1}]
    assert mask.observed({"column": "complaint_id"}, None) is None
