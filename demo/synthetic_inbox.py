"""Deterministic demo inbox: resident-survey files and complaints extracts for Trafford.

The pipeline's sensors watch ``INBOX_DIR/surveys`` and ``INBOX_DIR/complaints`` and key every
file by its SHA-256, so the demo must produce byte-identical files on every call: each file
has its own constant random seed, XLSX workbooks carry fixed document properties and zip
member dates, and a file is only rewritten when its bytes would change.

The files imitate what a council really receives: a BOM-prefixed CSV per survey wave, an older
Windows-1252/semicolon export, an agency workbook with title rows and merged headers, a CRM
complaints export and a casework spreadsheet. About 4% of the rows in every file are messy on
purpose, one reason per row, so the parser's quarantine has something to catch; the manifest
says how many rows of each reason every file holds. Complaint summaries carry fictional
personal data (Ofcom drama phone numbers, ``QQ`` National Insurance numbers, ``example.*``
email addresses) for the redactor, plus near-misses (dates, money, bin sizes, "Stage 2") that
must survive it. All responses and cases are synthetic, not Trafford Council results.
"""

from __future__ import annotations

import csv
import io
import math
import os
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.writer.excel import ExcelWriter

HOME_COUNCIL = "E08000009"  # Trafford
FIXED_TIMESTAMP = datetime(2026, 1, 1)
_ZIP_DATE_TIME = (2026, 1, 1, 0, 0, 0)

__all__ = ["DemoFile", "HOME_COUNCIL", "demo_manifest", "write_demo_inbox"]


@dataclass(frozen=True)
class DemoFile:
    """One demo file: where it is, what it holds, and how many rows are messy and why."""

    path: Path
    kind: str  # "survey" | "complaint"
    layout: str
    rows_received: int  # data rows, title and header rows excluded, messy rows included
    rows_messy: int
    messy_reasons: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- reference lists

# Pre-2023 Trafford wards, with a logit shift in resident satisfaction: the affluent south of
# the borough is happier than the north-west, so an equity view has a gradient to find.
WARD_EFFECTS: dict[str, float] = {
    "Altrincham": 0.10,
    "Ashton upon Mersey": 0.15,
    "Bowdon": 0.45,
    "Broadheath": 0.05,
    "Brooklands": 0.20,
    "Bucklow-St Martins": -0.55,
    "Clifford": -0.45,
    "Davyhulme East": 0.0,
    "Davyhulme West": 0.0,
    "Flixton": 0.10,
    "Gorse Hill": -0.35,
    "Hale Barns": 0.35,
    "Hale Central": 0.35,
    "Longford": -0.30,
    "Priory": 0.0,
    "Sale Moor": -0.05,
    "St Mary's": 0.0,
    "Stretford": -0.30,
    "Timperley": 0.25,
    "Urmston": 0.05,
    "Village": 0.20,
}
WARDS = tuple(WARD_EFFECTS)

AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
PANEL_AGE_GROUPS = ("16 to 24", "25 to 34", "35 to 44", "45 to 54", "55 to 64", "65 to 74", "75 and over")
_AGE_POPULATION = (0.12, 0.15, 0.17, 0.17, 0.15, 0.12, 0.12)  # adults 16+, roughly Trafford
_AGE_RESPONDING = (0.06, 0.10, 0.15, 0.18, 0.19, 0.17, 0.15)  # older people reply more
_AGE_EFFECTS = (-0.35, -0.25, -0.10, -0.05, 0.0, 0.20, 0.35)
SEXES = ("Female", "Male", "Prefer not to say")
ETHNICITIES = (
    "White British",
    "White other",
    "Mixed or multiple",
    "Asian or Asian British",
    "Black or Black British",
    "Other ethnic group",
    "Prefer not to say",
)
_MORE_DIVERSE_WARDS = {"Clifford": 3.0, "Longford": 2.5, "Gorse Hill": 2.0, "Stretford": 1.8}
DISABILITY = ("Yes", "No", "Prefer not to say")

SATISFACTION = (
    "Very satisfied",
    "Fairly satisfied",
    "Neither satisfied nor dissatisfied",
    "Fairly dissatisfied",
    "Very dissatisfied",
)
AGREEMENT = ("Strongly agree", "Tend to agree", "Neither agree nor disagree", "Tend to disagree", "Strongly disagree")
INFORMED = ("Very well informed", "Fairly well informed", "Not very well informed", "Not at all informed")
TRUST = ("A great deal", "A fair amount", "Not very much", "Not at all")
DONT_KNOW = "Don't know"
DONT_KNOW_CODE = 9


@dataclass(frozen=True)
class Question:
    """An LGA benchmarking question; codes are 1..len(scale), 1 the most positive."""

    key: str
    csv_column: str
    panel_column: str
    wording: str
    scale: tuple[str, ...]
    very_share: float  # of positive answers, how many are the top box
    dont_know_rate: float
    bad_labels: tuple[str, ...]  # what a keying slip or old questionnaire leaves behind


QUESTIONS = (
    Question(
        "local_area",
        "Q1_LocalArea",
        "Q1 Local area",
        "Overall, how satisfied or dissatisfied are you with your local area as a place to live?",
        SATISFACTION,
        0.45,
        0.01,
        ("Quite satisfied", "Very satisified"),
    ),
    Question(
        "runs_things",
        "Q2_RunsThings",
        "Q2 Council runs things",
        "Overall, how satisfied or dissatisfied are you with the way Trafford Council runs things?",
        SATISFACTION,
        0.25,
        0.04,
        ("Satisfied", "Fairly satisfied."),
    ),
    Question(
        "value_for_money",
        "Q3_ValueForMoney",
        "Q3 Value for money",
        "To what extent do you agree or disagree that Trafford Council provides value for money?",
        AGREEMENT,
        0.20,
        0.08,
        ("Agree", "Tend to agre"),
    ),
    Question(
        "acts_on_concerns",
        "Q4_ActsOnConcerns",
        "Q4 Acts on concerns",
        "To what extent do you agree or disagree that Trafford Council acts on the concerns of local residents?",
        AGREEMENT,
        0.20,
        0.09,
        ("Somewhat agree", "Agree strongly"),
    ),
    Question(
        "kept_informed",
        "Q5_KeptInformed",
        "Q5 How well informed",
        "Overall, how well informed do you think Trafford Council keeps residents about "
        "the services and benefits it provides?",
        INFORMED,
        0.20,
        0.02,
        ("Well informed", "Informed"),
    ),
    Question(
        "trust",
        "Q6_Trust",
        "Q6 Trust in council",
        "How much do you trust Trafford Council?",
        TRUST,
        0.15,
        0.05,
        ("Some", "Quite a lot"),
    ),
)

SERVICES: dict[str, float] = {  # service -> share of complaints
    "Waste & Recycling": 0.28,
    "Council Tax & Benefits": 0.15,
    "Highways": 0.12,
    "Parking": 0.10,
    "Housing": 0.08,
    "Adult Social Care": 0.07,
    "Planning": 0.06,
    "Children's Services": 0.06,
    "Parks & Leisure": 0.05,
    "Libraries": 0.03,
}
CHANNELS: dict[str, float] = {"Online form": 0.45, "Email": 0.25, "Telephone": 0.20, "Letter": 0.06, "In person": 0.04}
THEMES = (
    "Delay",
    "Staff conduct",
    "Communication",
    "Quality of service",
    "Policy disagreement",
    "Missed collection",
    "Charges",
)
_SERVICE_THEMES: dict[str, dict[str, float]] = {
    "Waste & Recycling": {
        "Missed collection": 0.45,
        "Quality of service": 0.15,
        "Staff conduct": 0.10,
        "Communication": 0.10,
        "Charges": 0.10,
        "Delay": 0.05,
        "Policy disagreement": 0.05,
    },
    "Council Tax & Benefits": {
        "Delay": 0.30,
        "Charges": 0.30,
        "Communication": 0.20,
        "Policy disagreement": 0.10,
        "Staff conduct": 0.05,
        "Quality of service": 0.05,
    },
    "Highways": {
        "Quality of service": 0.35,
        "Delay": 0.30,
        "Communication": 0.15,
        "Policy disagreement": 0.15,
        "Staff conduct": 0.05,
    },
    "Parking": {"Charges": 0.45, "Policy disagreement": 0.30, "Staff conduct": 0.15, "Communication": 0.10},
    "Housing": {"Delay": 0.35, "Quality of service": 0.30, "Communication": 0.20, "Staff conduct": 0.15},
    "Adult Social Care": {
        "Quality of service": 0.30,
        "Communication": 0.25,
        "Delay": 0.20,
        "Charges": 0.15,
        "Staff conduct": 0.10,
    },
    "Planning": {"Policy disagreement": 0.40, "Delay": 0.25, "Communication": 0.25, "Quality of service": 0.10},
    "Children's Services": {
        "Communication": 0.30,
        "Staff conduct": 0.25,
        "Delay": 0.20,
        "Quality of service": 0.15,
        "Policy disagreement": 0.10,
    },
    "Parks & Leisure": {"Quality of service": 0.50, "Charges": 0.20, "Staff conduct": 0.15, "Communication": 0.15},
    "Libraries": {"Quality of service": 0.30, "Policy disagreement": 0.30, "Staff conduct": 0.20, "Charges": 0.20},
}
# Share of responses that miss the target date: social care and housing run late, bins don't.
_LATE_RATE = {
    "Adult Social Care": 0.35,
    "Children's Services": 0.40,
    "Housing": 0.30,
    "Planning": 0.25,
    "Waste & Recycling": 0.08,
}
OUTCOMES = ("Upheld", "Partly upheld", "Not upheld", "Withdrawn")
_OUTCOME_WEIGHTS = {1: (0.25, 0.25, 0.42, 0.08), 2: (0.18, 0.22, 0.55, 0.05), "ombudsman": (0.55, 0.10, 0.30, 0.05)}
CRM_STAGES = {1: "Stage 1", 2: "Stage 2", "ombudsman": "LGSCO"}
CASEWORK_STAGES = {1: 1, 2: 2, "ombudsman": "Ombudsman"}
# Working days to respond; for the ombudsman, the deadline the LGSCO sets on its enquiries.
TARGET_WORKING_DAYS = {1: 10, 2: 20, "ombudsman": 20}

# England and Wales bank holidays, for working-day targets.
_BANK_HOLIDAYS = frozenset(
    date.fromisoformat(d)
    for d in (
        "2024-01-01",
        "2024-03-29",
        "2024-04-01",
        "2024-05-06",
        "2024-05-27",
        "2024-08-26",
        "2024-12-25",
        "2024-12-26",
        "2025-01-01",
        "2025-04-18",
        "2025-04-21",
        "2025-05-05",
        "2025-05-26",
        "2025-08-25",
        "2025-12-25",
        "2025-12-26",
        "2026-01-01",
        "2026-04-03",
        "2026-04-06",
        "2026-05-04",
        "2026-05-25",
        "2026-08-31",
        "2026-12-25",
        "2026-12-28",
    )
)
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# --------------------------------------------------------------------------- file specifications


@dataclass(frozen=True)
class _SurveyWave:
    path: str
    layout: str
    label: str
    fieldwork: tuple[date, date]
    positive: dict[str, float]  # target share positive among valid answers, per question
    rows: int
    messy: dict[str, int]
    seed: int


@dataclass(frozen=True)
class _ComplaintsExtract:
    path: str
    layout: str
    received: tuple[date, date]
    extracted: date
    rows: int
    messy: dict[str, int]
    seed: int


def _survey_messy(missing, duplicate, weight, answer, dates, blank, age) -> dict[str, int]:
    counts = {
        "missing_respondent_id": missing,
        "duplicate_respondent_id": duplicate,
        "non_positive_weight": weight,
        "answer_out_of_scale": answer,
        "fieldwork_end_before_start": dates,
        "blank_row": blank,
        "age_band_not_in_list": age,
    }
    return {reason: n for reason, n in counts.items() if n}


def _complaint_messy(missing, duplicate, before, stage, bad_date, outcome, corrected=0) -> dict[str, int]:
    counts = {
        "missing_complaint_id": missing,
        "duplicate_complaint_id": duplicate,
        "responded_before_received": before,
        "unknown_stage": stage,
        "unparseable_date": bad_date,
        "blank_outcome_when_responded": outcome,
        "corrected_record_from_earlier_file": corrected,
    }
    return {reason: n for reason, n in counts.items() if n}


def _positive(local, runs, vfm, acts, informed, trust) -> dict[str, float]:
    return dict(zip((q.key for q in QUESTIONS), (local, runs, vfm, acts, informed, trust)))


SURVEY_WAVES = (
    _SurveyWave(
        "surveys/trafford_residents_survey_2024_spring_cp1252.csv",
        "trafford_residents_survey_cp1252",
        "Spring 2024",
        (date(2024, 3, 4), date(2024, 3, 28)),
        _positive(0.79, 0.63, 0.47, 0.55, 0.60, 0.60),
        884,
        _survey_messy(5, 6, 4, 7, 3, 3, 5),
        seed=20240301,
    ),
    _SurveyWave(
        "surveys/trafford_residents_survey_2024_autumn.csv",
        "trafford_residents_survey_csv",
        "Autumn 2024",
        (date(2024, 10, 7), date(2024, 11, 1)),
        _positive(0.78, 0.61, 0.46, 0.54, 0.59, 0.59),
        1012,
        _survey_messy(6, 8, 5, 9, 4, 3, 6),
        seed=20241007,
    ),
    _SurveyWave(
        "surveys/trafford_residents_survey_2025_spring.csv",
        "trafford_residents_survey_csv",
        "Spring 2025",
        (date(2025, 3, 3), date(2025, 3, 28)),
        _positive(0.77, 0.58, 0.43, 0.52, 0.60, 0.56),
        947,
        _survey_messy(5, 7, 4, 8, 3, 4, 5),
        seed=20250303,
    ),
    _SurveyWave(
        "surveys/trafford_residents_survey_2025_autumn.csv",
        "trafford_residents_survey_csv",
        "Autumn 2025",
        (date(2025, 10, 6), date(2025, 10, 31)),
        _positive(0.78, 0.57, 0.44, 0.51, 0.62, 0.56),
        1068,
        _survey_messy(7, 9, 6, 10, 4, 3, 6),
        seed=20251006,
    ),
)
# An online panel runs more critical than the door-to-door survey: a separate series.
PANEL_WAVE = _SurveyWave(
    "surveys/trafford_residents_panel_2025_winter.xlsx",
    "panel_survey_xlsx",
    "Winter 2025",
    (date(2025, 1, 13), date(2025, 2, 7)),
    _positive(0.76, 0.55, 0.41, 0.48, 0.63, 0.53),
    612,
    _survey_messy(4, 5, 3, 6, 2, 0, 4),
    seed=20250113,
)

CRM_EXTRACTS = (
    _ComplaintsExtract(
        "complaints/crm_complaints_2024-25.csv",
        "crm_complaints_csv",
        (date(2024, 4, 1), date(2025, 3, 31)),
        date(2025, 4, 7),
        652,
        _complaint_messy(5, 6, 4, 4, 4, 5),
        seed=202404,
    ),
    # The H1 extract re-exports one 2024/25 case whose response was corrected after year end.
    _ComplaintsExtract(
        "complaints/crm_complaints_2025-26_h1.csv",
        "crm_complaints_csv",
        (date(2025, 4, 1), date(2025, 9, 30)),
        date(2025, 10, 6),
        431,
        _complaint_messy(4, 4, 3, 3, 3, 3, corrected=1),
        seed=202504,
    ),
)
CASEWORK_EXTRACT = _ComplaintsExtract(
    "complaints/casework_log_2025-26_q3.xlsx",
    "casework_xlsx",
    (date(2025, 10, 1), date(2025, 12, 31)),
    date(2026, 1, 9),
    304,
    _complaint_messy(3, 3, 2, 2, 2, 2),
    seed=202510,
)

_SURVEY_SPECS = (*SURVEY_WAVES, PANEL_WAVE)
_COMPLAINT_SPECS = (*CRM_EXTRACTS, CASEWORK_EXTRACT)


# --------------------------------------------------------------------------- public API


def demo_manifest(inbox_dir: Path | None = None) -> list[DemoFile]:
    """The demo files without writing them; paths are relative to the inbox unless given one."""
    root = Path(inbox_dir) if inbox_dir is not None else Path()
    return [
        DemoFile(root / spec.path, kind, spec.layout, spec.rows, sum(spec.messy.values()), dict(spec.messy))
        for kind, specs in (("survey", _SURVEY_SPECS), ("complaint", _COMPLAINT_SPECS))
        for spec in specs
    ]


def write_demo_inbox(inbox_dir: Path) -> list[DemoFile]:
    """Drop the demo files under ``inbox_dir``, each once: a file already waiting with the same
    bytes, or already taken (in ``processed/``), is left alone."""
    contents = render_demo_files()
    manifest = demo_manifest(inbox_dir)
    for entry in manifest:
        _drop_once(entry.path, contents[entry.path.relative_to(inbox_dir).as_posix()])
    return manifest


def render_demo_files() -> dict[str, bytes]:
    """Every demo file's bytes, keyed by its path relative to the inbox."""
    files = {wave.path: _survey_csv(wave) for wave in SURVEY_WAVES}
    files[PANEL_WAVE.path] = _panel_xlsx(PANEL_WAVE)
    files.update(_crm_csvs(CRM_EXTRACTS))
    files[CASEWORK_EXTRACT.path] = _casework_xlsx(CASEWORK_EXTRACT)
    return files


def _drop_once(path: Path, content: bytes) -> None:
    """Replace atomically, so a sensor never picks up a half-written file; the file is dated
    FIXED_TIMESTAMP, as if dropped long ago, so it has settled (inbox.settle_seconds) at once."""
    taken = path.parent / "processed"
    if any(p.read_bytes() == content for p in [path, *taken.glob(f"*_{path.name}")] if p.is_file()):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    stamp = FIXED_TIMESTAMP.replace(tzinfo=UTC).timestamp()
    os.utime(partial, (stamp, stamp))
    os.replace(partial, path)


# --------------------------------------------------------------------------- shared helpers


def _weighted(rng: random.Random, options: dict[Any, float]) -> Any:
    return rng.choices(list(options), weights=list(options.values()))[0]


def _messy_plan(rng: random.Random, rows: int, messy: dict[str, int]) -> dict[int, str]:
    """Row index -> the one reason it is messy; the first rows stay clean to copy ids from."""
    reasons = [reason for reason, n in messy.items() for _ in range(n)]
    indices = rng.sample(range(10, rows), len(reasons))
    return dict(zip(indices, reasons))


def _earlier_clean(rng: random.Random, index: int, plan: dict[int, str]) -> int:
    return rng.choice([i for i in range(index) if i not in plan])


def _long_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _BANK_HOLIDAYS


def _add_working_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        days -= _is_working_day(day)
    return day


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _csv_bytes(header: list[str], rows: list[list[Any]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    """CRLF line ends, as the councils' Windows exports have them."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode(encoding)


def _xlsx_bytes(workbook: Workbook, creator: str) -> bytes:
    """Save with fixed properties, then re-zip with fixed member dates in sorted order."""
    props = workbook.properties
    props.creator = props.lastModifiedBy = creator
    props.created = props.modified = FIXED_TIMESTAMP
    saved = io.BytesIO()
    # ExcelWriter, not Workbook.save: save() stamps `modified` with the current time.
    ExcelWriter(workbook, zipfile.ZipFile(saved, "w", zipfile.ZIP_DEFLATED)).save()
    normalised = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(normalised, "w") as target:
        for name in sorted(source.namelist()):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            target.writestr(info, source.read(name))
    return normalised.getvalue()


def _title_font() -> Font:
    return Font(bold=True, size=12)


# --------------------------------------------------------------------------- surveys


@dataclass(frozen=True)
class _SurveyLayout:
    """How one supplier spells the canonical survey fields."""

    columns: dict[str, str]  # canonical field -> column header
    answer: Callable[[Question, int], Any]  # code -> cell value
    bad_answers: Callable[[Question], tuple[Any, ...]]
    age_bands: tuple[str, ...]
    bad_age_bands: tuple[str, ...]
    wards: tuple[str, ...] = WARDS


_CANONICAL_SURVEY_FIELDS = (
    "respondent_id",
    "fieldwork_start",
    "fieldwork_end",
    "weight",
    "age_band",
    "sex",
    "ethnicity",
    "disability",
    "ward",
)

_COUNCIL_CSV = _SurveyLayout(
    columns=dict(
        zip(
            _CANONICAL_SURVEY_FIELDS,
            (
                "RespondentID",
                "FieldworkStart",
                "FieldworkEnd",
                "Weight",
                "AgeBand",
                "Sex",
                "Ethnicity",
                "Disability",
                "Ward",
            ),
        )
    )
    | {q.key: q.csv_column for q in QUESTIONS},
    answer=lambda q, code: DONT_KNOW if code == DONT_KNOW_CODE else q.scale[code - 1],
    bad_answers=lambda q: q.bad_labels,
    age_bands=AGE_BANDS,
    bad_age_bands=("Under 16", "15 or under", "99"),
)
# The older system behind the cp1252 export keeps the typographic apostrophe in ward names.
_COUNCIL_CP1252 = replace(_COUNCIL_CSV, wards=tuple(w.replace("'", "\u2019") for w in WARDS))
_PANEL = _SurveyLayout(
    columns=dict(
        zip(
            _CANONICAL_SURVEY_FIELDS,
            (
                "Resp_No",
                "Fieldwork start",
                "Fieldwork end",
                "Wt",
                "Age group",
                "Gender",
                "Ethnic group",
                "Disabled",
                "Ward",
            ),
        )
    )
    | {q.key: q.panel_column for q in QUESTIONS},
    answer=lambda q, code: code,
    bad_answers=lambda q: (0, 6, 7),
    age_bands=PANEL_AGE_GROUPS,
    bad_age_bands=("Under 16", "99", "Not stated"),
)

# Open comments in the cp1252 export: £, en dashes and curly quotes that need Windows-1252.
_CP1252_COMMENTS = (
    "Council tax is now over £2,000 a year – what do we get for it?",
    "Bins are fine but the roads round here are a disgrace.",
    "The new café in the park is lovely, more of this please.",
    "Nobody ever answers the phone at the town hall.",
    "Paid £65 for garden waste and it’s been missed twice.",
    "Libraries are brilliant – don’t cut them.",
    "Too much money spent on cycle lanes nobody uses.",
    "Street lights on our road have been out for weeks.",
    "I’d like more say in what happens to Stretford Mall.",
    "Parking permits went up to £40 – daylight robbery.",
)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


# Ward, age and personal mood shifts pull the average of a logistic towards 50%; stretching
# the target's logit by sqrt(1 + pi * variance / 8) (the probit approximation) undoes that.
_SHIFT_VARIANCE = 0.6**2 + 0.08 + 0.04
_STRETCH = math.sqrt(1 + math.pi * _SHIFT_VARIANCE / 8)


def _answer_code(rng: random.Random, question: Question, target: float, shift: float) -> int:
    """Top boxes are positive; the rest splits into neutral (five-point scales) and negative."""
    if rng.random() < question.dont_know_rate:
        return DONT_KNOW_CODE
    if rng.random() < _sigmoid(_logit(target) * _STRETCH + shift):
        return 1 if rng.random() < question.very_share else 2
    if len(question.scale) == 5:
        if rng.random() < 0.45:
            return 3
        return 4 if rng.random() < 0.6 else 5
    return 3 if rng.random() < 0.65 else 4


def _respondent(rng: random.Random, wave: _SurveyWave, layout: _SurveyLayout, respondent_id: Any) -> dict[str, Any]:
    age = rng.choices(range(len(AGE_BANDS)), weights=_AGE_RESPONDING)[0]
    ward_index = rng.randrange(len(WARDS))
    ward = WARDS[ward_index]
    diversity = _MORE_DIVERSE_WARDS.get(ward, 1.0)
    ethnicity = rng.choices(
        ETHNICITIES, weights=(0.75, 0.05, *(s * diversity for s in (0.03, 0.10, 0.03)), 0.01, 0.03)
    )[0]
    disabled_rate = 0.08 + 0.04 * age
    disability = rng.choices(DISABILITY, weights=(disabled_rate, 0.96 - disabled_rate, 0.04))[0]
    # Design weight corrects the older skew of who replies; the noise stands in for raking.
    weight = _AGE_POPULATION[age] / _AGE_RESPONDING[age] * rng.lognormvariate(0.0, 0.15)
    shift = (
        WARD_EFFECTS[ward] + _AGE_EFFECTS[age] + (-0.3 if disability == "Yes" else 0.0) + rng.gauss(0.0, 0.6)
    )  # a respondent's general mood links the six answers
    record = {
        "respondent_id": respondent_id,
        "fieldwork_start": wave.fieldwork[0],
        "fieldwork_end": wave.fieldwork[1],
        "weight": round(weight, 4),
        "age_band": layout.age_bands[age],
        "sex": rng.choices(SEXES, weights=(0.53, 0.45, 0.02))[0],
        "ethnicity": ethnicity,
        "disability": disability,
        "ward": layout.wards[ward_index],
    }
    for question in QUESTIONS:
        code = _answer_code(rng, question, wave.positive[question.key], shift)
        record[question.key] = layout.answer(question, code)
    return record


def _survey_records(
    wave: _SurveyWave, layout: _SurveyLayout, ids: list[Any], rng: random.Random
) -> list[dict[str, Any]]:
    records = [_respondent(rng, wave, layout, respondent_id) for respondent_id in ids]
    plan = _messy_plan(rng, wave.rows, wave.messy)
    for index, reason in sorted(plan.items()):
        record = records[index]
        if reason == "missing_respondent_id":
            record["respondent_id"] = None
        elif reason == "duplicate_respondent_id":
            source = records[_earlier_clean(rng, index, plan)]
            record["respondent_id"] = source["respondent_id"]
        elif reason == "non_positive_weight":
            record["weight"] = rng.choice((0.0, -1.0, -0.5))
        elif reason == "answer_out_of_scale":
            question = rng.choice(QUESTIONS)
            record[question.key] = rng.choice(layout.bad_answers(question))
        elif reason == "fieldwork_end_before_start":
            record["fieldwork_start"], record["fieldwork_end"] = (record["fieldwork_end"], record["fieldwork_start"])
        elif reason == "blank_row":
            records[index] = dict.fromkeys(record)
        elif reason == "age_band_not_in_list":
            record["age_band"] = rng.choice(layout.bad_age_bands)
        else:  # pragma: no cover - a typo in a spec
            raise ValueError(f"unknown messy reason {reason!r}")
    return records


def _survey_csv(wave: _SurveyWave) -> bytes:
    """Council export: one file per wave, text labels, dd/mm/yyyy dates."""
    rng = random.Random(wave.seed)
    code = wave.label[0] + wave.label[-2:]  # "Spring 2025" -> "S25"
    ids = [f"TRS-{code}-{n:05d}" for n in range(1, wave.rows + 1)]
    if wave.layout == "trafford_residents_survey_cp1252":
        layout, delimiter, encoding = _COUNCIL_CP1252, ";", "cp1252"
    else:
        layout, delimiter, encoding = _COUNCIL_CSV, ",", "utf-8-sig"
    records = _survey_records(wave, layout, ids, rng)
    fields = list(layout.columns)
    header = [layout.columns[f] for f in fields]
    rows = [[record[f] for f in fields] for record in records]
    if encoding == "cp1252":
        header.append("Comments")
        for row in rows:
            has_comment = any(v is not None for v in row) and rng.random() < 0.15
            row.append(rng.choice(_CP1252_COMMENTS) if has_comment else None)
    return _csv_bytes(header, rows, delimiter=delimiter, encoding=encoding)


def _panel_xlsx(wave: _SurveyWave) -> bytes:
    """Agency workbook: two title rows, a merged group header, codes 1-5 with 9 = don't know."""
    rng = random.Random(wave.seed)
    ids = sorted(rng.sample(range(100_000, 140_000), wave.rows))
    records = _survey_records(wave, _PANEL, ids, rng)
    start, end = wave.fieldwork

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet["A1"] = "Trafford Council \u2013 Residents' Panel"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = (
        f"Fieldwork: {_long_date(start)} to {_long_date(end)}; online with telephone "
        "follow-up; weighted base all respondents"
    )
    fields = list(_PANEL.columns)
    first_question = fields.index(QUESTIONS[0].key) + 1
    for label, first, last in (
        ("Respondent profile", 1, first_question - 1),
        ("Satisfaction questions", first_question, len(fields)),
    ):
        sheet.merge_cells(start_row=3, start_column=first, end_row=3, end_column=last)
        cell = sheet.cell(row=3, column=first, value=label)
        cell.font = _title_font()
        cell.alignment = Alignment(horizontal="center")
    for column, f in enumerate(fields, start=1):
        sheet.cell(row=4, column=column, value=_PANEL.columns[f]).font = Font(bold=True)
    for row, record in enumerate(records, start=5):
        for column, f in enumerate(fields, start=1):
            cell = sheet.cell(row=row, column=column, value=record[f])
            if isinstance(record[f], date):
                cell.number_format = "dd/mm/yyyy"
    sheet.freeze_panes = "B5"

    notes = workbook.create_sheet("Notes")
    lines = [
        f"Trafford Council \u2013 Residents' Panel, {wave.label.lower()} wave",
        "DEMO DATA: synthetic responses generated for lgperf; not Trafford Council results.",
        f"Fieldwork {_long_date(start)} to {_long_date(end)}. Online self-completion by panel "
        "members, with telephone interviews for members without internet access.",
        "Weights (Wt) correct the achieved sample to ONS mid-year population estimates by age "
        "band; they average about 1.",
        "Answer codes: 1 is the most positive answer and 5 (or 4) the least positive; "
        f"{DONT_KNOW_CODE} = Don't know; blank = not answered.",
        "",
    ]
    for question in QUESTIONS:
        codes = "; ".join(f"{i} = {label}" for i, label in enumerate(question.scale, start=1))
        lines.append(f"{question.panel_column}: {question.wording} ({codes}; {DONT_KNOW_CODE} = {DONT_KNOW})")
    for line in lines:
        notes.append([line])
    notes["A1"].font = _title_font()
    return _xlsx_bytes(workbook, creator="North West Social Research")


# --------------------------------------------------------------------------- complaint summaries

_TITLES = ("Mr", "Mrs", "Ms", "Miss", "Dr")
_FIRST_NAMES = (
    "John",
    "Sarah",
    "Aisha",
    "David",
    "Margaret",
    "Tomasz",
    "Grace",
    "Imran",
    "Siobhan",
    "Peter",
    "Helen",
    "Mohammed",
    "Karen",
    "Gary",
    "Priya",
    "Linda",
    "Chukwuemeka",
    "Emma",
)
_SURNAMES = (
    "Patel",
    "Jones",
    "Smith",
    "Khan",
    "O'Brien",
    "Kowalski",
    "Okafor",
    "Hughes",
    "Begum",
    "Murphy",
    "Wright",
    "Nowak",
    "Ahmed",
    "Taylor",
    "Brown",
    "Williams",
    "Evans",
    "Chen",
    "Ali",
    "McDonald",
)
_STREETS = (
    "Washway Road",
    "Cross Street",
    "Moss Lane",
    "Chester Road",
    "Northenden Road",
    "Flixton Road",
    "Stamford New Road",
    "Park Road",
    "Marsland Road",
    "Barton Road",
    "Seymour Grove",
    "Urmston Lane",
    "Brooklands Road",
    "Ashley Road",
    "Church Road",
    "Derbyshire Lane",
    "Harboro Road",
    "Kings Road",
    "Woodsend Road",
    "Ashton Lane",
)
_POSTCODES = (
    "M33 7ZP",
    "M33 2BL",
    "M33 5HH",
    "M32 0TH",
    "M32 9AX",
    "M41 5LH",
    "M41 0XT",
    "WA14 2DW",
    "WA14 4PB",
    "WA15 9QT",
    "WA15 0AB",
    "M31 4BE",
    "M16 0LN",
)
_BIN_SIZES = ("240 litre", "140 litre", "360 litre", "180-litre", "240-litre")

# (theme, services it fits or None for any, text). Slots are filled with fictional data.
_TEMPLATES: tuple[tuple[str, tuple[str, ...] | None, str], ...] = (
    (
        "Missed collection",
        None,
        "Our {bin} grey bin has been missed three weeks running at {address}, {postcode}. "
        "Reported online on {date} and nobody came back.",
    ),
    (
        "Missed collection",
        None,
        "Recycling not collected again, {bin} blue bin left out since {date}. Please ring me on {phone}.",
    ),
    (
        "Missed collection",
        None,
        "Assisted collection for my mother {name} missed again although it was agreed on {date}. "
        "She cannot get the {bin} bin to the kerb. Contact me on {phone} or {email}.",
    ),
    (
        "Missed collection",
        None,
        "Whole street missed on bin day, {address} and neighbours. I was told on {date} it would "
        "be collected within 48 hours. Previous case {ref}.",
    ),
    (
        "Charges",
        ("Waste & Recycling",),
        "Charged {money} twice for the garden waste subscription. Please refund one payment. "
        "Account holder {name}, {address}, {postcode}.",
    ),
    (
        "Charges",
        ("Waste & Recycling",),
        "I was charged {money} for a replacement {bin} bin that your crew damaged. Refund to "
        "{name}, {postcode} please.",
    ),
    (
        "Charges",
        ("Council Tax & Benefits",),
        "My bill shows arrears of {money} which I paid on {date}. My NI number is {ni} if you need "
        "it for the benefit claim. Ref {ref}.",
    ),
    (
        "Charges",
        ("Parking",),
        "PCN issued on {date} outside {address} while I was unloading shopping for my neighbour. "
        "{money} is unfair, there is no sign. Tel {phone}.",
    ),
    (
        "Charges",
        ("Adult Social Care",),
        "Care charges for my father {name} went up to {money} a week from {date} without a new "
        "financial assessment. His NI number is {ni}.",
    ),
    ("Charges", None, "Fees went up to {money} with no notice. {service} should have told users. {email}"),
    (
        "Delay",
        None,
        "I reported this on {date} and have heard nothing for eight weeks. I want this treated as "
        "a Stage 2 complaint because the Stage 1 reply did not answer my points. Ref {ref}. "
        "Contact {email} or {phone}.",
    ),
    (
        "Delay",
        ("Highways",),
        "Pothole outside {address}, {postcode} reported on {date} is still not repaired. "
        "Replacing my tyre cost {money}.",
    ),
    (
        "Delay",
        ("Council Tax & Benefits",),
        "Change of circumstances sent on {date} still not processed and I am now in arrears. "
        "NI {ni}, previous case {ref}.",
    ),
    (
        "Delay",
        ("Housing",),
        "Housing application for {name} waiting since {date}. Family of four in one room at "
        "{address}, {postcode}. Please call {phone}.",
    ),
    ("Delay", None, "Waiting since {date} for {service} to reply. Nobody returns calls to {phone}."),
    (
        "Staff conduct",
        None,
        "The officer who visited {address} on {date} was rude to my wife and would not give his "
        "name. I expect an apology.",
    ),
    (
        "Staff conduct",
        ("Waste & Recycling",),
        "A member of the crew swore at my son on {date} because the {bin} bin was in the way of "
        "the van. We live at {address}, {postcode}.",
    ),
    (
        "Staff conduct",
        ("Adult Social Care", "Children's Services"),
        "Social worker did not attend the meeting on {date} and did not apologise. {name} was "
        "left waiting two hours. Please reply to {email}.",
    ),
    ("Staff conduct", None, "Staff were dismissive when I asked about {service} on {date}. My reference is {ref}."),
    (
        "Communication",
        None,
        "Nobody has replied to three emails about {service} since {date}. Please respond to "
        "{email} rather than posting to {address}.",
    ),
    (
        "Communication",
        None,
        "Letter about case {ref} went to my old address. I now live at {address}, {postcode}. Tel {phone}.",
    ),
    ("Communication", None, "I was promised a call back from {name}'s team by {date} and nobody rang. Mobile {phone}."),
    (
        "Quality of service",
        ("Highways",),
        "Resurfacing on {street} left unfinished with loose chippings near the A56 junction. "
        "Neighbours including {name} have complained too. {postcode}",
    ),
    (
        "Quality of service",
        ("Adult Social Care",),
        "Carers for my mother {name} at {address} arrive late and leave after 10 minutes of a "
        "30-minute call. Please contact me on {phone} or {email}.",
    ),
    (
        "Quality of service",
        ("Parks & Leisure",),
        "Play area in the park near {address} has had broken equipment since {date}. A child cut their hand. {name}",
    ),
    (
        "Quality of service",
        ("Housing",),
        "Damp and mould repair at {address}, {postcode} was done badly and the mould is back. Previous ref {ref}.",
    ),
    ("Quality of service", None, "Poor standard of service from {service}. Nothing done about {street} since {date}."),
    (
        "Policy disagreement",
        ("Waste & Recycling",),
        "I object to three-weekly collections of the {bin} general waste bin. A family of five cannot manage.",
    ),
    (
        "Policy disagreement",
        ("Planning",),
        "Permission granted next to {address} ignores objections from neighbours including "
        "{name}. Traffic off the M60 already queues here. I want this escalated to Stage 2.",
    ),
    (
        "Policy disagreement",
        ("Parking",),
        "I disagree with the resident parking zone on our road ({postcode}). Permits at {money} a "
        "year are a tax on residents.",
    ),
    ("Policy disagreement", ("Libraries",), "Saturday opening hours cut at the library. Please reconsider. {email}"),
    ("Policy disagreement", None, "The decision of {date} under the {service} policy is wrong. NI number {ni}."),
)
_GREETINGS = ("Dear {title} {surname},\n", "Dear Sir/Madam,\n", "To whom it may concern,\n", "Hello,\n")
_SIGN_OFFS = (
    "\nRegards, {first} {last}",
    "\nKind regards,\n{first} {last}",
    "\nThanks, {first}",
    "\nYours faithfully,\n{title} {last}",
    "\n{first} {last}\n{phone}",
)


def _phone(rng: random.Random) -> str:
    """Ofcom's drama ranges: 07700 900xxx mobiles, 0161 496 0xxx for Manchester."""
    n = rng.randrange(1000)
    return rng.choice(
        (
            f"07700 900{n:03d}",
            f"07700900{n:03d}",
            f"+44 7700 900{n:03d}",
            f"(0161) 496 0{n:03d}",
            f"0161 496 0{n:03d}",
            f"+44 161 496 0{n:03d}",
        )
    )


def _postcode(rng: random.Random) -> str:
    postcode = rng.choice(_POSTCODES)
    return rng.choices((postcode, postcode.lower(), postcode.replace(" ", "")), weights=(0.6, 0.2, 0.2))[0]


def _ni_number(rng: random.Random) -> str:
    """QQ is HMRC's specimen prefix: never issued to anyone."""
    digits = f"{rng.randrange(10**6):06d}"
    suffix = rng.choice("ABCD")
    spaced = f"QQ {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return rng.choice((spaced, f"QQ{digits}{suffix}", spaced.lower()))


def _email(rng: random.Random, first: str, last: str) -> str:
    last = last.replace("'", "").lower()
    domain = rng.choice(("example.com", "example.co.uk", "example.org"))
    return rng.choice((f"{first.lower()}.{last}@{domain}", f"{first[0].lower()}{last}{rng.randrange(10, 99)}@{domain}"))


def _money(rng: random.Random) -> str:
    return rng.choice(
        (
            f"£{rng.randrange(5, 400)}.{rng.choice(('00', '50', '99', '25'))}",
            f"£{rng.randrange(20, 150)}",
            f"£{rng.randrange(1, 4)},{rng.randrange(1000):03d}",
        )
    )


def _summary(rng: random.Random, service: str, theme: str, received: date) -> str:
    """A complaint as residents write it, with fictional personal data for the redactor."""
    candidates = [text for t, services, text in _TEMPLATES if t == theme and (services is None or service in services)]
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_SURNAMES)
    house = rng.randrange(1, 180)
    slots = {
        "name": f"{rng.choice(_TITLES)} {rng.choice(_SURNAMES)}",
        "first": first,
        "last": last,
        "title": rng.choice(_TITLES),
        "surname": rng.choice(_SURNAMES),
        "email": _email(rng, first, last),
        "phone": _phone(rng),
        "postcode": _postcode(rng),
        "ni": _ni_number(rng),
        "street": rng.choice(_STREETS),
        "address": f"{house}{rng.choice(('', '', '', 'a'))} {rng.choice(_STREETS)}",
        "ref": f"CRM-{received.year - rng.randrange(2)}-{rng.randrange(1, 9000):06d}",
        "date": _long_date(received - timedelta(days=rng.randrange(3, 60))),
        "money": _money(rng),
        "bin": rng.choice(_BIN_SIZES),
        "service": service,
    }
    text = rng.choice(candidates).format(**slots)
    if rng.random() < 0.35:
        text = rng.choice(_GREETINGS).format(**slots) + text
    if rng.random() < 0.35:
        text += rng.choice(_SIGN_OFFS).format(**slots)
    return text


# --------------------------------------------------------------------------- complaints


def _received_dates(rng: random.Random, extract: _ComplaintsExtract, count: int) -> list[date]:
    """Fewer complaints arrive at weekends; online forms still come in."""
    start, end = extract.received
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    weights = [1.0 if _is_working_day(d) else 0.25 for d in days]
    return sorted(rng.choices(days, weights=weights, k=count))


def _complaints(rng: random.Random, extract: _ComplaintsExtract, count: int) -> list[dict[str, Any]]:
    """Clean cases in the order they arrived; the caller numbers them."""
    records = [_complaint(rng, received, extract.extracted) for received in _received_dates(rng, extract, count)]
    return sorted(records, key=lambda record: record["received"])


def _complaint(rng: random.Random, received: date, extracted: date) -> dict[str, Any]:
    service = _weighted(rng, SERVICES)
    theme = _weighted(rng, _SERVICE_THEMES[service])
    channel = _weighted(rng, CHANNELS)
    stage = rng.choices((1, 2, "ombudsman"), weights=(0.85, 0.12, 0.03))[0]
    target = TARGET_WORKING_DAYS[stage]
    if rng.random() < _LATE_RATE.get(service, 0.15):
        took = target + rng.randrange(1, 26)
    else:
        took = rng.randrange(2, target + 1)
    responded: date | None = _add_working_days(received, took)
    if responded > extracted:
        responded = None  # still open when the extract was taken
    office_hours = channel in ("Telephone", "In person", "Letter")
    hour = rng.randrange(9, 17) if office_hours else rng.randrange(7, 23)
    return {
        "complaint_id": None,
        "received": datetime.combine(received, time(hour, rng.randrange(60))),
        "stage": stage,
        "service": service,
        "channel": channel,
        "theme": theme,
        "summary": _summary(rng, service, theme, received),
        "due": _add_working_days(received, target),
        "responded": responded,
        "outcome": rng.choices(OUTCOMES, weights=_OUTCOME_WEIGHTS[stage])[0] if responded else None,
        "ward": rng.choice(WARDS) if rng.random() < 0.94 else None,  # blank: outside borough
        "age_band": rng.choice(AGE_BANDS) if rng.random() < 0.6 else None,
        "sex": rng.choice(SEXES[:2]) if rng.random() < 0.6 else None,
    }


_BAD_DATES = ("31/02/2025", "TBC", "2025-13-04", "31/09/2025")


def _make_complaints_messy(
    rng: random.Random, records: list[dict[str, Any]], extract: _ComplaintsExtract, bad_stages: tuple[Any, ...]
) -> set[int]:
    """Spoil the planned rows in place; returns their indices."""
    messy = {r: n for r, n in extract.messy.items() if r != "corrected_record_from_earlier_file"}
    plan = _messy_plan(rng, len(records), messy)
    for index, reason in sorted(plan.items()):
        record = records[index]
        if reason == "missing_complaint_id":
            record["complaint_id"] = None
        elif reason == "duplicate_complaint_id":  # the same case exported twice
            records[index] = dict(records[_earlier_clean(rng, index, plan)])
        elif reason == "responded_before_received":
            received = record["received"]
            if isinstance(received, datetime):
                received = received.date()
            record["responded"] = received - timedelta(days=rng.randrange(1, 15))
            record["outcome"] = record["outcome"] or rng.choice(OUTCOMES[:3])
        elif reason == "unknown_stage":
            record["stage"] = rng.choice(bad_stages)
        elif reason == "unparseable_date":
            record[rng.choice(("received", "due"))] = rng.choice(_BAD_DATES)
        elif reason == "blank_outcome_when_responded":
            record["responded"] = record["responded"] or min(record["due"], extract.extracted)
            record["outcome"] = None
        else:  # pragma: no cover - a typo in a spec
            raise ValueError(f"unknown messy reason {reason!r}")
    return set(plan)


def _crm_csvs(extracts: tuple[_ComplaintsExtract, ...]) -> dict[str, bytes]:
    """CRM exports: the case sequence runs on across files and restarts each calendar year."""
    sequence: dict[int, int] = {}
    files: dict[str, bytes] = {}
    previous_clean: list[dict[str, Any]] = []
    for extract in extracts:
        rng = random.Random(extract.seed)
        corrected = extract.messy.get("corrected_record_from_earlier_file", 0)
        records = _complaints(rng, extract, extract.rows - corrected)
        for record in records:  # other case types share the sequence, hence the gaps
            year = record["received"].year
            sequence[year] = sequence.get(year, 3000) + rng.randrange(1, 7)
            record["complaint_id"] = f"CRM-{year}-{sequence[year]:06d}"
        messy = _make_complaints_messy(rng, records, extract, bad_stages=("Stage 3", "Informal", "Stg1"))
        clean = [r for i, r in enumerate(records) if i not in messy]
        if corrected:
            records[:0] = _corrected_records(rng, previous_clean, corrected)
        previous_clean = clean
        columns = {
            "complaint_id": "Case Ref",
            "received": "Date Received",
            "stage": "Stage",
            "service": "Service Area",
            "channel": "Contact Channel",
            "theme": "Category",
            "summary": "Summary",
            "due": "Target Date",
            "responded": "Date Responded",
            "outcome": "Outcome",
            "ward": "Ward",
        }
        rows = [[CRM_STAGES.get(r[f], r[f]) if f == "stage" else r[f] for f in columns] for r in records]
        files[extract.path] = _csv_bytes(list(columns.values()), rows)
    return files


def _corrected_records(rng: random.Random, previous_clean: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Year-end cases of the previous extract, re-exported after their response was corrected."""
    answered = [r for r in previous_clean[-60:] if r["responded"]]
    corrected = []
    for record in rng.sample(answered, count):
        again = dict(record, responded=_add_working_days(record["responded"], 7))
        again["outcome"] = "Partly upheld" if record["outcome"] == "Not upheld" else "Upheld"
        corrected.append(again)
    return corrected


def _casework_xlsx(extract: _ComplaintsExtract) -> bytes:
    """Casework log kept in a spreadsheet: one title row, Excel dates, a Lookup sheet."""
    rng = random.Random(extract.seed)
    records = _complaints(rng, extract, extract.rows)
    for n, record in enumerate(records, start=412):  # a log kept by hand: dates, no times
        record["complaint_id"] = f"CX-{record['received']:%y}-{n:04d}"
        record["received"] = record["received"].date()
        record["stage"] = CASEWORK_STAGES[record["stage"]]
    _make_complaints_messy(rng, records, extract, bad_stages=(3, "Informal"))

    columns = {
        "complaint_id": "Reference",
        "received": "Received",
        "stage": "Complaint stage",
        "service": "Service",
        "channel": "How received",
        "theme": "Theme",
        "summary": "Details",
        "due": "Due",
        "responded": "Responded",
        "outcome": "Decision",
        "ward": "Ward",
        "age_band": "Age band",
        "sex": "Sex",
    }
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Complaints"
    start, end = extract.received
    sheet["A1"] = f"Trafford Council \u2013 Complaints casework log, {_long_date(start)} to {_long_date(end)}"
    sheet["A1"].font = _title_font()
    sheet.append(list(columns.values()))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for record in records:
        sheet.append([record[f] for f in columns])
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            if isinstance(cell.value, date):
                cell.number_format = "dd/mm/yyyy"
    sheet.freeze_panes = "B3"

    lookup = workbook.create_sheet("Lookup")
    lists = {
        "Complaint stage": list(CASEWORK_STAGES.values()),
        "Service": list(SERVICES),
        "How received": list(CHANNELS),
        "Theme": list(THEMES),
        "Decision": list(OUTCOMES),
        "Ward": list(WARDS),
        "Age band": list(AGE_BANDS),
        "Sex": list(SEXES),
    }
    for column, (name, values) in enumerate(lists.items(), start=1):
        lookup.cell(row=1, column=column, value=name).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            lookup.cell(row=row, column=column, value=value)
    return _xlsx_bytes(workbook, creator="Trafford Council Customer Relations")
