"""The demo catalogue: areas, metric types, periods, comparison groups and values.

Everything is deterministic. Areas, the adult social care measures and several Trafford
corporate-plan indicators come from published files in ``demo/data`` (see demo/README.md);
every other number is drawn from ``random.Random`` seeded with a CRC-32 of stable strings
(metric id, area code), never from the clock or Python's salted ``hash()``. Only
``random()`` is used, because it is the one stream Python promises to keep stable.

Visibility follows publication: a period counts only once its ``published_on`` date is on or
before ``as_of``, so an older ``as_of`` shows the catalogue as it stood then.
"""

from __future__ import annotations

import csv
import functools
import math
import random
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from statistics import NormalDist, fmean, pstdev

DATA_DIR = Path(__file__).with_name("data")
# The ONS lookups (ons_*.csv) are the pipeline's own reference data, its dbt seeds: one copy, read by both.
ONS_SEEDS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
DEFAULT_AS_OF = date(2025, 11, 1)
SCALES = ("demo",)

ENGLAND = "E92000001"
TRAFFORD = "E08000009"
WARD_TIER = "ward"
WARD_SUFFIX = ":AdministrativeWard"  # LG Inform's area token for a council's wards
POPULATION_METRIC = "3281"  # the one metric the demo serves for wards (the council's split)

HIGH_IS_GOOD = "High value is good"
LOW_IS_GOOD = "Low value is good"
NOT_APPLICABLE = "Not applicable"
THEMES = ("economy", "efficiency", "quality", "effectiveness", "impact", "equity")

ANNUAL_PUBLICATION_LAG = timedelta(days=120)
QUARTERLY_PUBLICATION_LAG = timedelta(days=75)

TIER_BY_PREFIX = {
    "E07": "non_metropolitan_district",
    "E06": "unitary",
    "E08": "metropolitan_district",
    "E09": "london_borough",
    "E10": "county",
    "W06": "welsh_unitary",
    "S12": "scottish_council",
    "N09": "ni_district",
    "E92": "country",
}
LOWER_TIER = frozenset({"non_metropolitan_district", "unitary", "metropolitan_district", "london_borough"})
UPPER_TIER = frozenset({"unitary", "metropolitan_district", "london_borough", "county"})
ENGLISH_TIERS = LOWER_TIER | UPPER_TIER
DEVOLVED_TIERS = frozenset({"welsh_unitary", "scottish_council", "ni_district"})
UK_TIERS = ENGLISH_TIERS | DEVOLVED_TIERS
_GB_LOCAL_TAX = frozenset({"welsh_unitary", "scottish_council"})  # NI councils collect no council tax


# ---------------------------------------------------------------------------------------------
# Public records


@dataclass(frozen=True)
class Area:
    identifier: str
    label: str
    short_label: str
    tier: str
    region_code: str
    region_name: str
    country_code: str
    parent_code: str | None = None  # a ward's council


@dataclass(frozen=True)
class MetricType:
    identifier: str
    label: str
    short_label: str
    help_text: str
    unit_label: str
    measurement_unit_identifier: str
    dataset_identifier: str
    period_type: str
    frequency: str
    output_precision: int
    polarity: str
    null_as_zero: bool
    discontinued: bool
    theme: str
    applies_to_tiers: frozenset[str]
    source: str
    is_real: bool


@dataclass(frozen=True)
class Period:
    identifier: str
    label: str
    start_date: date
    end_date: date
    period_type: str
    frequency: str
    published_on: date


@dataclass(frozen=True)
class ComparisonGroup:
    identifier: str
    label: str
    owner_area: str | None
    members: tuple[str, ...]


@dataclass(frozen=True)
class Unit:
    identifier: str
    label: str
    measure: str  # the LG Inform "measure" family the unit belongs to


UNITS = {
    u.identifier: u
    for u in (
        Unit("percent", "%", "percentage"),
        Unit("count", "count", "count"),
        Unit("score", "score", "score"),
        Unit("days", "days", "duration"),
        Unit("years", "years", "duration"),
        Unit("gbp_per_head", "£ per head", "money"),
        Unit("gbp_per_household", "£ per household", "money"),
        Unit("gbp_per_dwelling", "£ per dwelling", "money"),
        Unit("kg_per_household", "kg per household", "weight"),
        Unit("tonnes_per_head", "tonnes CO2 per head", "weight"),
        Unit("rate_per_1000", "per 1,000", "rate"),
        Unit("rate_per_10000", "per 10,000", "rate"),
        Unit("rate_per_100000", "per 100,000", "rate"),
        Unit("points", "points", "score"),
    )
}


# ---------------------------------------------------------------------------------------------
# Periods: ids are parsed once; start and end dates are the truth, the id is only a name


def financial_year(start_year: int) -> Period:
    end = date(start_year + 1, 3, 31)
    return Period(
        f"fin_{start_year}_{(start_year + 1) % 100:02d}",
        f"{start_year}/{(start_year + 1) % 100:02d}",
        date(start_year, 4, 1),
        end,
        "FinancialYear",
        "Annually",
        end + ANNUAL_PUBLICATION_LAG,
    )


def calendar_year(year: int) -> Period:
    end = date(year, 12, 31)
    return Period(
        f"cal_{year}", str(year), date(year, 1, 1), end, "CalendarYear", "Annually", end + ANNUAL_PUBLICATION_LAG
    )


def financial_quarter(start_year: int, quarter: int) -> Period:
    """Q1 is April to June of ``start_year``; Q4 is January to March of the next year."""
    first_month = 4 + 3 * (quarter - 1)
    year = start_year + (first_month - 1) // 12
    month = (first_month - 1) % 12 + 1
    start = date(year, month, 1)
    end = date(year + (month + 3 > 12), (month + 2) % 12 + 1, 1) - timedelta(days=1)
    fin = financial_year(start_year)
    return Period(
        f"{fin.identifier}_q{quarter}",
        f"{fin.label} Q{quarter}",
        start,
        end,
        "FinancialQuarter",
        "Quarterly",
        end + QUARTERLY_PUBLICATION_LAG,
    )


_PERIOD_ID = re.compile(r"^(?:fin_(\d{4})_(\d{2})(?:_q([1-4]))?|cal_(\d{4}))$")


def period_from_id(identifier: str) -> Period:
    match = _PERIOD_ID.match(identifier)
    if not match:
        raise KeyError(identifier)
    fin_start, fin_end, quarter, cal = match.groups()
    if cal:
        return calendar_year(int(cal))
    if (int(fin_start) + 1) % 100 != int(fin_end):
        raise KeyError(identifier)
    return financial_quarter(int(fin_start), int(quarter)) if quarter else financial_year(int(fin_start))


def _period_id_from_label(label: str) -> str:
    """Period spellings of the published files ('2016/17', '2016-17', '2019', 'Jan 2012-Dec 2012')."""
    label = label.strip()
    if match := re.fullmatch(r"(\d{4})[/-](\d{2})", label):
        return financial_year(int(match.group(1))).identifier
    if match := re.fullmatch(r"(?:Jan )?(\d{4})(?:-Dec \1)?", label):
        return calendar_year(int(match.group(1))).identifier
    raise ValueError(f"unrecognised period label {label!r}")


CADENCES = {
    # cadence -> the demo's full run of periods (visibility trims the tail)
    "fin": tuple(financial_year(y).identifier for y in range(2015, 2026)),
    "cal": tuple(calendar_year(y).identifier for y in range(2015, 2026)),
    "quarter": tuple(financial_quarter(y, q).identifier for y in range(2017, 2026) for q in (1, 2, 3, 4)),
}


# ---------------------------------------------------------------------------------------------
# Deterministic draws


_STANDARD_NORMAL = NormalDist()


def stable_seed(*parts: str) -> int:
    """CRC-32 of the parts: the same on every machine and Python version, unlike hash()."""
    return zlib.crc32("|".join(parts).encode("utf-8"))


class _Draws:
    """Uniform and standard-normal draws built only on ``random.Random.random()``."""

    def __init__(self, *parts: str):
        self._rng = random.Random(stable_seed(*parts))

    def uniform(self) -> float:
        return self._rng.random()

    def normal(self) -> float:
        return _STANDARD_NORMAL.inv_cdf(min(max(self._rng.random(), 1e-12), 1 - 1e-12))

    def index(self, low: int, high: int) -> int:
        """An integer in [low, high)."""
        return low + min(int(self._rng.random() * (high - low)), high - low - 1)

    def sign(self) -> int:
        return 1 if self._rng.random() < 0.5 else -1


# ---------------------------------------------------------------------------------------------
# How each metric's values are made


@dataclass(frozen=True)
class _Synthetic:
    """Parameters of a synthetic metric (see demo/README.md for the model)."""

    national: float  # England's level at the first period; for per-resident counts, per 1,000 residents
    spread: float  # between-council standard deviation of the level
    trend: float  # national change per year
    noise: float  # standard deviation of the period-to-period noise
    per_resident: bool = False  # value = national rate x population / 1,000: a whole count
    events: bool = True  # step changes, single outliers and gaps for some councils


@dataclass(frozen=True)
class _Published:
    """Values read from a published file: {area: {period: value}}; others optionally filled."""

    values: Mapping[str, Mapping[str, float | None]]
    fill_other_councils: bool  # synthetic values around England's published value


@dataclass(frozen=True)
class _Recipe:
    period_ids: tuple[str, ...]
    source: _Synthetic | _Published


@dataclass(frozen=True)
class _Storyline:
    """A pattern planted in Trafford's series so the SPC and benchmarking marts have cases to find."""

    kind: str  # "run" (a trend each period), "outlier" (one point), "step" (a sustained shift)
    from_period: str
    improving: bool
    size: float  # per period for a run, once for an outlier or a step


# Trafford (E08000009) storylines, all on quarterly synthetic metrics.
TRAFFORD_STORYLINES = {
    "91001": _Storyline("run", "fin_2023_24_q1", improving=True, size=1.2),  # major planning in time
    "91003": _Storyline("run", "fin_2023_24_q2", improving=False, size=1.1),  # HB new claims: days rise
    "91011": _Storyline("outlier", "fin_2024_25_q2", improving=False, size=24.0),  # complaints in time
    "91009": _Storyline("step", "fin_2022_23_q1", improving=True, size=0.7),  # sickness absence
}

# Oflog codes of councils whose footprint carried over unchanged to a current council.
_OFLOG_SAME_FOOTPRINT = {"E10000002": "E06000060", "E10000023": "E06000065", "E10000027": "E06000066"}

_OFLOG_POLARITY = {"desc": HIGH_IS_GOOD, "asc": LOW_IS_GOOD, "none": NOT_APPLICABLE}

# id, label, short label, unit, cadence, polarity, theme, tiers, recipe, precision[, last period]
_SYNTHETIC_METRICS: tuple[tuple, ...] = (
    # quarterly performance returns
    (
        "91001",
        "Major planning applications determined within 13 weeks or agreed time",
        "Major planning in time",
        "percent",
        "quarter",
        HIGH_IS_GOOD,
        "quality",
        LOWER_TIER,
        _Synthetic(86, 6, 0.5, 3),
        1,
    ),
    (
        "91002",
        "Non-major planning applications determined within 8 weeks or agreed time",
        "Non-major planning in time",
        "percent",
        "quarter",
        HIGH_IS_GOOD,
        "quality",
        LOWER_TIER,
        _Synthetic(84, 6, 0.6, 2.5),
        1,
    ),
    (
        "91003",
        "Average days to process new Housing Benefit claims",
        "HB new claims (days)",
        "days",
        "quarter",
        LOW_IS_GOOD,
        "efficiency",
        LOWER_TIER,
        _Synthetic(20, 4, -0.3, 1.2),
        1,
    ),
    (
        "91004",
        "Average days to process Housing Benefit change events",
        "HB change events (days)",
        "days",
        "quarter",
        LOW_IS_GOOD,
        "efficiency",
        LOWER_TIER,
        _Synthetic(8, 2.5, -0.2, 1.0),
        1,
    ),
    (
        "91005",
        "Households in temporary accommodation per 1,000 households",
        "Temporary accommodation rate",
        "rate_per_1000",
        "quarter",
        LOW_IS_GOOD,
        "equity",
        LOWER_TIER,
        _Synthetic(4.0, 2.0, 0.35, 0.25),
        2,
    ),
    (
        "91006",
        "Households owed a homelessness prevention duty",
        "Prevention duties owed",
        "count",
        "quarter",
        NOT_APPLICABLE,
        "effectiveness",
        LOWER_TIER,
        _Synthetic(0.45, 0.12, 0.01, 0.05, per_resident=True),
        0,
    ),
    (
        "91007",
        "Fly-tipping incidents per 1,000 residents",
        "Fly-tipping rate",
        "rate_per_1000",
        "quarter",
        LOW_IS_GOOD,
        "quality",
        LOWER_TIER,
        _Synthetic(3.5, 2.0, 0.1, 0.4),
        2,
    ),
    (
        "91008",
        "Re-referrals to children's social care within 12 months",
        "Children's social care re-referrals",
        "percent",
        "quarter",
        LOW_IS_GOOD,
        "effectiveness",
        UPPER_TIER,
        _Synthetic(22, 4, -0.2, 2),
        1,
    ),
    (
        "91009",
        "Working days lost to sickness absence per full-time equivalent employee",
        "Sickness absence (days per FTE)",
        "days",
        "quarter",
        LOW_IS_GOOD,
        "efficiency",
        ENGLISH_TIERS,
        _Synthetic(2.3, 0.4, 0.03, 0.12),
        2,
    ),
    (
        "91010",
        "Complaints received per 10,000 residents",
        "Complaints rate",
        "rate_per_10000",
        "quarter",
        NOT_APPLICABLE,
        "quality",
        ENGLISH_TIERS,
        _Synthetic(12, 4, 0.3, 1.2),
        1,
    ),
    (
        "91011",
        "Stage 1 complaints answered within 10 working days",
        "Complaints answered in time",
        "percent",
        "quarter",
        HIGH_IS_GOOD,
        "quality",
        ENGLISH_TIERS,
        _Synthetic(78, 8, 0.4, 3),
        1,
    ),
    (
        "91012",
        "Undisputed invoices paid within 30 days",
        "Invoices paid in 30 days",
        "percent",
        "quarter",
        HIGH_IS_GOOD,
        "efficiency",
        ENGLISH_TIERS,
        _Synthetic(91, 4, 0.3, 1.5),
        1,
    ),
    (
        "91013",
        "Freedom of information requests received",
        "FOI requests received",
        "count",
        "quarter",
        NOT_APPLICABLE,
        "efficiency",
        ENGLISH_TIERS,
        _Synthetic(0.9, 0.25, 0.02, 0.08, per_resident=True),
        0,
    ),
    # annual, financial year
    (
        "91020",
        "Revenue expenditure per head",
        "Revenue spend per head",
        "gbp_per_head",
        "fin",
        NOT_APPLICABLE,
        "economy",
        UPPER_TIER | _GB_LOCAL_TAX,
        _Synthetic(1450, 180, 35, 25),
        0,
    ),
    (
        "91021",
        "Adult social care net expenditure per adult",
        "Adult social care spend per adult",
        "gbp_per_head",
        "fin",
        NOT_APPLICABLE,
        "economy",
        UPPER_TIER,
        _Synthetic(420, 60, 18, 10),
        0,
    ),
    (
        "91022",
        "Children's social care net expenditure per child",
        "Children's social care spend per child",
        "gbp_per_head",
        "fin",
        NOT_APPLICABLE,
        "economy",
        UPPER_TIER,
        _Synthetic(780, 160, 45, 20),
        0,
    ),
    (
        "91023",
        "Council tax collected in year",
        "Council tax collection rate",
        "percent",
        "fin",
        HIGH_IS_GOOD,
        "efficiency",
        LOWER_TIER | _GB_LOCAL_TAX,
        _Synthetic(96.2, 1.3, 0.0, 0.4),
        1,
    ),
    (
        "91024",
        "Non-domestic rates collected in year",
        "Business rates collection rate",
        "percent",
        "fin",
        HIGH_IS_GOOD,
        "efficiency",
        LOWER_TIER,
        _Synthetic(97.5, 1.2, 0.0, 0.5),
        1,
    ),
    (
        "91025",
        "Residual household waste per household",
        "Residual waste per household",
        "kg_per_household",
        "fin",
        LOW_IS_GOOD,
        "effectiveness",
        LOWER_TIER,
        _Synthetic(560, 70, -6, 12),
        0,
    ),
    (
        "91026",
        "Net cost of waste collection per household",
        "Waste collection cost per household",
        "gbp_per_household",
        "fin",
        LOW_IS_GOOD,
        "economy",
        LOWER_TIER,
        _Synthetic(62, 15, 1.8, 3),
        2,
    ),
    (
        "91027",
        "Core spending power per dwelling",
        "Core spending power per dwelling",
        "gbp_per_dwelling",
        "fin",
        NOT_APPLICABLE,
        "economy",
        ENGLISH_TIERS,
        _Synthetic(2050, 250, 60, 15),
        0,
    ),
    (
        "91028",
        "Usable reserves as a percentage of net revenue expenditure",
        "Reserves (% of net revenue spend)",
        "percent",
        "fin",
        NOT_APPLICABLE,
        "efficiency",
        ENGLISH_TIERS,
        _Synthetic(38, 14, 0.5, 3),
        1,
    ),
    (
        "91029",
        "Debt servicing as a percentage of core spending power",
        "Debt servicing (% of spending power)",
        "percent",
        "fin",
        LOW_IS_GOOD,
        "economy",
        ENGLISH_TIERS,
        _Synthetic(7, 3.5, 0.2, 0.6),
        1,
    ),
    (
        "91030",
        "Adults with learning disabilities in paid employment",
        "Learning disability employment",
        "percent",
        "fin",
        HIGH_IS_GOOD,
        "equity",
        UPPER_TIER,
        _Synthetic(5.2, 2.2, 0.05, 0.6),
        1,
    ),
    (
        "91031",
        "Permanent admissions to residential and nursing care homes, aged 65 and over, per 100,000",
        "Care home admissions 65+",
        "rate_per_100000",
        "fin",
        LOW_IS_GOOD,
        "effectiveness",
        UPPER_TIER,
        _Synthetic(560, 120, -6, 35),
        1,
    ),
    (
        "91032",
        "Older people still at home 91 days after discharge into reablement",
        "Reablement at 91 days",
        "percent",
        "fin",
        HIGH_IS_GOOD,
        "effectiveness",
        UPPER_TIER,
        _Synthetic(82, 6, 0.1, 2.5),
        1,
    ),
    (
        "91033",
        "Children in need per 10,000 children",
        "Children in need rate",
        "rate_per_10000",
        "fin",
        NOT_APPLICABLE,
        "effectiveness",
        UPPER_TIER,
        _Synthetic(330, 70, 0.5, 12),
        1,
    ),
    (
        "91034",
        "Looked-after children per 10,000 children",
        "Looked-after children rate",
        "rate_per_10000",
        "fin",
        NOT_APPLICABLE,
        "impact",
        UPPER_TIER,
        _Synthetic(67, 22, 1.0, 2.5),
        0,
    ),
    (
        "91035",
        "Education, health and care plans issued within 20 weeks",
        "EHC plans in 20 weeks",
        "percent",
        "fin",
        HIGH_IS_GOOD,
        "quality",
        UPPER_TIER,
        _Synthetic(58, 20, -1.5, 7),
        1,
    ),
    (
        "91036",
        "Pupils attending good or outstanding schools",
        "Good or outstanding schools",
        "percent",
        "fin",
        HIGH_IS_GOOD,
        "quality",
        UPPER_TIER,
        _Synthetic(84, 7, 0.6, 1.5),
        1,
    ),
    (
        "91037",
        "Principal roads where maintenance should be considered",
        "Principal roads needing maintenance",
        "percent",
        "fin",
        LOW_IS_GOOD,
        "quality",
        UPPER_TIER,
        _Synthetic(4, 2, 0.05, 0.6),
        1,
    ),
    (
        "91038",
        "Residents satisfied with the way the council runs things",
        "Satisfaction with the council",
        "percent",
        "fin",
        HIGH_IS_GOOD,
        "quality",
        ENGLISH_TIERS,
        _Synthetic(64, 6, -0.8, 2.5),
        0,
    ),
    (
        "91039",
        "Residents agreeing the council provides value for money",
        "Value for money",
        "percent",
        "fin",
        HIGH_IS_GOOD,
        "economy",
        ENGLISH_TIERS,
        _Synthetic(48, 6, -0.9, 2.5),
        0,
    ),
    (
        "91040",
        "Net additional dwellings",
        "Net additional dwellings",
        "count",
        "fin",
        HIGH_IS_GOOD,
        "impact",
        LOWER_TIER,
        _Synthetic(3.8, 1.4, 0.05, 0.6, per_resident=True),
        0,
    ),
    (
        "91041",
        "Affordable homes delivered",
        "Affordable homes delivered",
        "count",
        "fin",
        HIGH_IS_GOOD,
        "equity",
        LOWER_TIER,
        _Synthetic(1.0, 0.45, 0.02, 0.2, per_resident=True),
        0,
    ),
    (
        "91042",
        "Households on the housing register",
        "Housing register",
        "count",
        "fin",
        NOT_APPLICABLE,
        "equity",
        LOWER_TIER,
        _Synthetic(27, 10, 0.3, 1.5, per_resident=True),
        0,
    ),
    (
        "91043",
        "Women among the top 5% of earners in the council",
        "Women in top 5% of earners",
        "percent",
        "fin",
        HIGH_IS_GOOD,
        "equity",
        ENGLISH_TIERS,
        _Synthetic(52, 8, 0.6, 2.5),
        1,
    ),
    (
        "91044",
        "Disadvantage gap in average Attainment 8 score",
        "Attainment 8 disadvantage gap",
        "points",
        "fin",
        LOW_IS_GOOD,
        "equity",
        UPPER_TIER,
        _Synthetic(13.5, 3.0, 0.1, 0.6),
        1,
    ),
    (
        "91045",
        "Delayed transfers of care from hospital, days per 100,000 adults",
        "Delayed transfers of care",
        "rate_per_100000",
        "fin",
        LOW_IS_GOOD,
        "efficiency",
        UPPER_TIER,
        _Synthetic(11, 5, 0.4, 1.2),
        1,
        "fin_2019_20",
    ),
    (
        "91046",
        "Physically inactive adults",
        "Inactive adults",
        "percent",
        "fin",
        LOW_IS_GOOD,
        "impact",
        UPPER_TIER,
        _Synthetic(25, 4, 0.1, 1.0),
        1,
    ),
    # annual, calendar year
    (
        "3281",
        "Total resident population",
        "Population",
        "count",
        "cal",
        NOT_APPLICABLE,
        "impact",
        UK_TIERS,
        _Synthetic(1000, 0, 6, 0.8, per_resident=True, events=False),
        0,
    ),
    (
        "91050",
        "Healthy life expectancy at birth",
        "Healthy life expectancy",
        "years",
        "cal",
        HIGH_IS_GOOD,
        "impact",
        UPPER_TIER,
        _Synthetic(63.2, 3.2, -0.05, 0.5),
        1,
    ),
    (
        "91051",
        "Under-75 mortality rate from causes considered preventable, per 100,000",
        "Preventable mortality under 75",
        "rate_per_100000",
        "cal",
        LOW_IS_GOOD,
        "impact",
        UPPER_TIER,
        _Synthetic(142, 35, -1.0, 6),
        1,
    ),
    (
        "91052",
        "Killed or seriously injured road casualties per 100,000 residents",
        "Road casualties (KSI)",
        "rate_per_100000",
        "cal",
        LOW_IS_GOOD,
        "impact",
        UPPER_TIER,
        _Synthetic(45, 15, -0.4, 4),
        1,
    ),
    (
        "91053",
        "People sleeping rough on a single autumn night",
        "Rough sleeping count",
        "count",
        "cal",
        LOW_IS_GOOD,
        "equity",
        LOWER_TIER,
        _Synthetic(0.055, 0.04, 0.002, 0.015, per_resident=True),
        0,
    ),
    (
        "91054",
        "Territorial carbon dioxide emissions per resident",
        "CO2 emissions per resident",
        "tonnes_per_head",
        "cal",
        LOW_IS_GOOD,
        "impact",
        ENGLISH_TIERS | _GB_LOCAL_TAX,
        _Synthetic(4.8, 1.1, -0.15, 0.15),
        1,
    ),
)

# Oflog adult social care measures: code -> (id, label, short label, unit, theme, precision)
_OFLOG_METRICS = {
    "ASC1": ("90001", "Carer-reported quality of life score", "Carer quality of life", "score", "quality", 1),
    "ASC2": (
        "90002",
        "Social care-related quality of life: impact of adult social care services",
        "Social care quality of life impact",
        "score",
        "impact",
        3,
    ),
    "ASC3": (
        "90003",
        "Service users who find it easy to find information about services",
        "Users finding information easily",
        "percent",
        "quality",
        1,
    ),
    "ASC4": (
        "90004",
        "Carers who find it easy to find information about support",
        "Carers finding information easily",
        "percent",
        "quality",
        1,
    ),
    "ASC5": (
        "90005",
        "Outcome of short-term services: no ongoing or lower-level support afterwards",
        "Short-term service outcome",
        "percent",
        "effectiveness",
        1,
    ),
    "ASC6": (
        "90006",
        "Requests for adult social care support resulting in a service (rate as published by Oflog)",
        "Requests resulting in a service",
        "rate_per_100000",
        "efficiency",
        1,
    ),
    "ASC7": (
        "90007",
        "Adult social care workforce turnover rate",
        "Care workforce turnover",
        "percent",
        "efficiency",
        1,
    ),
}
_OFLOG_SOURCE = "Office for Local Government (Oflog), adult social care measures"

# Trafford corporate-plan extracts: id, file, indicator, label,
# short, unit, cadence, polarity, theme, source, discontinued
_TRAFFORD_METRICS = (
    (
        "90101",
        "trafford_household_waste_recycling.csv",
        "Household waste sent for reuse, recycling or composting",
        "Household waste sent for reuse, recycling or composting",
        "Household waste recycled",
        "percent",
        "fin",
        HIGH_IS_GOOD,
        "effectiveness",
        "Defra, local authority collected waste statistics",
        False,
    ),
    (
        "90102",
        "trafford_employment_rate.csv",
        "Employment rate - aged 16-64",
        "Employment rate, residents aged 16-64",
        "Employment rate 16-64",
        "percent",
        "cal",
        HIGH_IS_GOOD,
        "impact",
        "ONS, Annual Population Survey",
        False,
    ),
    (
        "90103",
        "trafford_fuel_poverty.csv",
        "Fuel poverty (low income, high cost methodology)",
        "Households in fuel poverty (low income, high cost)",
        "Fuel poverty (LIHC)",
        "percent",
        "cal",
        LOW_IS_GOOD,
        "equity",
        "BEIS, sub-regional fuel poverty statistics",
        True,
    ),
    (
        "90104",
        "trafford_fuel_poverty.csv",
        "Fuel poverty (low income, low energy efficiency methodology)",
        "Households in fuel poverty (low income, low energy efficiency)",
        "Fuel poverty (LILEE)",
        "percent",
        "cal",
        LOW_IS_GOOD,
        "equity",
        "DESNZ, sub-regional fuel poverty statistics",
        False,
    ),
    (
        "90105",
        "trafford_real_living_wage.csv",
        "Employees paid at or above the real living wage by work geography",
        "Employees paid at or above the real living wage",
        "Paid the real living wage",
        "percent",
        "cal",
        HIGH_IS_GOOD,
        "equity",
        "ONS, Annual Survey of Hours and Earnings",
        False,
    ),
    (
        "90106",
        "trafford_adults_walking_or_cycling.csv",
        "Proportion of adults who do any walking or cycling, for any purpose, five times per week",
        "Adults walking or cycling five times a week",
        "Walking or cycling 5x a week",
        "percent",
        "fin",
        HIGH_IS_GOOD,
        "impact",
        "DfT, walking and cycling statistics",
        False,
    ),
)

_DATASETS = {"oflog": "oflog-adult-social-care", "trafford": "trafford-corporate-plan"}


# ---------------------------------------------------------------------------------------------
# Reading the published files


def data_file(name: str) -> Path:
    """A file of the demo's data: the ONS lookups (ons_*.csv) from the dbt seeds, the rest from demo/data/."""
    return (ONS_SEEDS_DIR if name.startswith("ons_") else DATA_DIR) / name


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(data_file(name), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> float | None:
    text = text.strip()
    if text in ("", "NA", "NaN", "..", "x", "c"):
        return None
    return float(text)


def _short_label(name: str) -> str:
    return re.sub(r", (City|County) of$", "", name)


def _load_areas() -> dict[str, Area]:
    """Current councils, the counties above them, and England, in code order."""
    districts = [row for row in _read_csv("ons_lad_codes.csv") if row["Current"] == "TRUE"]
    county_codes = {row["UTLACD"] for row in districts if row["UTLACD"].startswith("E10")}
    counties = [row for row in _read_csv("ons_utla_codes.csv") if row["UTLACD"] in county_codes]
    countries = {"E92000001": "England", "W92000004": "Wales", "S92000003": "Scotland", "N92000002": "Northern Ireland"}
    areas = [Area(ENGLAND, "England", "England", "country", ENGLAND, "England", ENGLAND)]
    for code_key, name_key, rows in (("LADCD", "LADNM", districts), ("UTLACD", "UTLANM", counties)):
        for row in rows:
            code, name, country = row[code_key], row[name_key], row["CTRYCD"]
            region_code = row["RGNCD"] or country
            region_name = row["RGNNM"] or countries[country]
            areas.append(
                Area(code, name, _short_label(name), TIER_BY_PREFIX[code[:3]], region_code, region_name, country)
            )
    return {area.identifier: area for area in sorted(areas, key=lambda a: a.identifier)}


def _load_wards(areas: Mapping[str, Area]) -> dict[str, Area]:
    """The home council's wards (ons_ward_lad_codes.csv), each with its council as parent."""
    wards = []
    for row in _read_csv("ons_ward_lad_codes.csv"):
        council = areas[row["LAD22CD"]]
        wards.append(
            Area(
                row["WD22CD"],
                row["WD22NM"],
                row["WD22NM"],
                WARD_TIER,
                council.region_code,
                council.region_name,
                council.country_code,
                council.identifier,
            )
        )
    return {ward.identifier: ward for ward in sorted(wards, key=lambda a: a.identifier)}


def split_by_stable_weights(total: int, codes: Iterable[str]) -> dict[str, int]:
    """``total`` shared among ``codes`` in whole numbers that add up to it: each code's weight
    (0.6 to 1.4) is drawn from its own seed, the remainders go to the largest fractions."""
    codes = sorted(codes)
    weights = {code: 0.6 + 0.8 * _Draws("ward share", code).uniform() for code in codes}
    exact = {code: total * w / sum(weights.values()) for code, w in weights.items()}
    shares = {code: math.floor(x) for code, x in exact.items()}
    for code in sorted(codes, key=lambda c: (shares[c] - exact[c], c))[: total - sum(shares.values())]:
        shares[code] += 1
    return shares


def _load_recodes() -> dict[str, str]:
    """Retired district codes whose council only changed code (same name), e.g. Sheffield E08000019."""
    recodes = dict(_OFLOG_SAME_FOOTPRINT)
    for row in _read_csv("ons_lad_codes.csv"):
        if row["Current"] != "TRUE" and row["LADNM"] == row["LADNM_ACTIVE"]:
            recodes[row["LADCD"]] = row["LADCD_ACTIVE"]
    return recodes


def _load_oflog(areas: Mapping[str, Area]) -> tuple[dict[str, dict[str, dict[str, float | None]]], dict[str, str]]:
    """{code: {area: {period: value}}} and {code: polarity} from Oflog's file; blank values stay None."""
    recodes = _load_recodes()
    values: dict[str, dict[str, dict[str, float | None]]] = {code: {} for code in _OFLOG_METRICS}
    polarity: dict[str, str] = {}
    for row in _read_csv("oflog_asc_data.csv"):
        code = row["Code"]
        if row["rank_order"].strip():
            polarity[code] = _OFLOG_POLARITY[row["rank_order"].strip().lower()]
        area = recodes.get(row["Local authority code"], row["Local authority code"])
        if area not in areas:
            continue  # a footprint that no current council has (e.g. Cumbria county, Poole)
        series = values[code].setdefault(area, {})
        period = _period_id_from_label(row["Financial year"])
        if series.get(period) is None:  # a current code's own row wins over a recoded one
            series[period] = _number(row["Value"])
    return values, polarity


def _load_tidy(file_name: str, indicator: str) -> dict[str, dict[str, float | None]]:
    """{area: {period: value}} of one indicator's Percentage rows in a Trafford tidy extract."""
    values: dict[str, dict[str, float | None]] = {}
    for row in _read_csv(file_name):
        if row["indicator"] == indicator and row["measure"] == "Percentage":
            values.setdefault(row["area_code"], {})[_period_id_from_label(row["period"])] = _number(row["value"])
    if TRAFFORD not in values or ENGLAND not in values:
        raise ValueError(f"{file_name}: {indicator!r} lacks Trafford or England")
    return values


# ---------------------------------------------------------------------------------------------
# Synthetic area profiles and CIPFA-style neighbours

_POPULATION_RANGE = {  # log-uniform range of the synthetic 2015 population, by tier
    "non_metropolitan_district": (55_000, 190_000),
    "unitary": (90_000, 560_000),
    "metropolitan_district": (150_000, 1_150_000),
    "london_borough": (150_000, 400_000),
    "welsh_unitary": (60_000, 390_000),
    "scottish_council": (22_000, 640_000),
    "ni_district": (100_000, 350_000),
}
_POPULATION_OVERRIDES = {"E09000001": 8_600, "E06000053": 2_200}  # City of London, Isles of Scilly
_REGIONAL_DEPRIVATION = {
    "E12000001": 0.6,
    "E12000002": 0.4,
    "E12000003": 0.3,
    "E12000004": 0.1,
    "E12000005": 0.3,
    "E12000006": -0.3,
    "E12000007": 0.2,
    "E12000008": -0.4,
    "E12000009": -0.2,
}


@dataclass(frozen=True)
class _Profile:
    population: int  # synthetic 2015 population
    deprivation: float  # synthetic standardised score, higher = more deprived


def _profiles(areas: Mapping[str, Area]) -> dict[str, _Profile]:
    profiles: dict[str, _Profile] = {}
    for area in areas.values():
        if area.tier in _POPULATION_RANGE:
            draws = _Draws("profile", area.identifier)
            low, high = _POPULATION_RANGE[area.tier]
            population = _POPULATION_OVERRIDES.get(area.identifier) or round(
                math.exp(math.log(low) + draws.uniform() * math.log(high / low))
            )
            deprivation = 0.8 * draws.normal() + _REGIONAL_DEPRIVATION.get(area.region_code, 0.0)
            profiles[area.identifier] = _Profile(population, deprivation)
    # a county is the sum of its districts; England of its single- and lower-tier councils
    lower_of: dict[str, list[_Profile]] = {}
    for row in _read_csv("ons_lad_codes.csv"):
        if row["Current"] == "TRUE" and row["UTLACD"] in areas and areas[row["UTLACD"]].tier == "county":
            lower_of.setdefault(row["UTLACD"], []).append(profiles[row["LADCD"]])
    lower_of[ENGLAND] = [p for code, p in profiles.items() if areas[code].tier in LOWER_TIER]
    for code, parts in lower_of.items():
        population = sum(p.population for p in parts)
        profiles[code] = _Profile(population, sum(p.population * p.deprivation for p in parts) / population)
    return profiles


def group_name(label: str) -> str:
    """'St. Helens' -> 'StHelens', 'Brighton and Hove' -> 'BrightonAndHove': the stem of a group id."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^A-Za-z0-9]+", label) if word)


def _nearest_neighbours(
    code: str, candidates: Iterable[str], profiles: Mapping[str, _Profile], areas: Mapping[str, Area], k: int = 15
) -> tuple[str, ...]:
    """The k candidates closest in (log population, deprivation), a small penalty across regions; ties by code."""
    pool = [c for c in candidates if c != code]
    log_pop = {c: math.log(profiles[c].population) for c in [*pool, code]}
    pop_sd = pstdev(log_pop.values()) or 1.0
    dep_sd = pstdev(profiles[c].deprivation for c in [*pool, code]) or 1.0

    def distance(other: str) -> float:
        d_pop = (log_pop[other] - log_pop[code]) / pop_sd
        d_dep = (profiles[other].deprivation - profiles[code].deprivation) / dep_sd
        return math.hypot(d_pop, d_dep) + (0.25 if areas[other].region_code != areas[code].region_code else 0.0)

    return tuple(sorted(pool, key=lambda c: (round(distance(c), 9), c))[:k])


def _comparison_groups(areas: Mapping[str, Area], profiles: Mapping[str, _Profile]) -> dict[str, ComparisonGroup]:
    def codes(*tiers: str) -> tuple[str, ...]:
        return tuple(a.identifier for a in areas.values() if a.tier in tiers)

    groups = [
        ComparisonGroup("AllLaInCountry_England", "All English local authorities", None, codes(*ENGLISH_TIERS)),
        ComparisonGroup("AllLaInCountry_Wales", "All Welsh unitary authorities", None, codes("welsh_unitary")),
        ComparisonGroup("AllLaInCountry_Scotland", "All Scottish councils", None, codes("scottish_council")),
        ComparisonGroup(
            "AllLaInCountry_NorthernIreland", "All Northern Ireland district councils", None, codes("ni_district")
        ),
        ComparisonGroup("AllBoroughInRegion_London", "All London boroughs", None, codes("london_borough")),
        ComparisonGroup(
            "AllMetropolitanDistricts_England",
            "All English metropolitan districts",
            None,
            codes("metropolitan_district"),
        ),
        ComparisonGroup("AllUnitaryAuthorities_England", "All English unitary authorities", None, codes("unitary")),
        ComparisonGroup(
            "AllNonMetropolitanDistricts_England",
            "All English non-metropolitan districts",
            None,
            codes("non_metropolitan_district"),
        ),
        ComparisonGroup("AllCounties_England", "All English county councils", None, codes("county")),
        ComparisonGroup(
            "AllSingleTierAndCounties_England", "All English single-tier and county councils", None, codes(*UPPER_TIER)
        ),
    ]
    real_trafford = tuple(row["area_code"] for row in _read_csv("trafford_cipfa2021.csv"))
    single_tier = codes("unitary", "metropolitan_district", "london_borough")
    for area in areas.values():
        if area.tier not in UPPER_TIER:
            continue
        if area.identifier == TRAFFORD:
            members = real_trafford
        else:
            members = _nearest_neighbours(
                area.identifier, codes("county") if area.tier == "county" else single_tier, profiles, areas
            )
        groups.append(
            ComparisonGroup(
                f"{group_name(area.short_label)}_CIPFA_Near_Neighbours",
                f"CIPFA nearest neighbours to {area.short_label}",
                area.identifier,
                members,
            )
        )
    by_id = {g.identifier: g for g in groups}
    if len(by_id) != len(groups):
        raise ValueError("comparison group ids collide")
    return by_id


# ---------------------------------------------------------------------------------------------
# The catalogue


class DemoCatalogue:
    """Read-only view of the demo universe as it stood on ``as_of``; series are computed lazily."""

    def __init__(
        self,
        *,
        as_of: date,
        areas: Mapping[str, Area],
        metric_types: Mapping[str, MetricType],
        periods: Mapping[str, Period],
        comparison_groups: Mapping[str, ComparisonGroup],
        recipes: Mapping[str, _Recipe],
        profiles: Mapping[str, _Profile],
        wards: Mapping[str, Area] | None = None,
    ):
        self.as_of = as_of
        self.areas = areas
        self.wards = wards or {}  # apart from areas: a ward is in no group and no council's benchmark
        self.metric_types = metric_types
        self.periods = periods
        self.comparison_groups = comparison_groups
        self._recipes = recipes
        self._profiles = profiles
        self._series: dict[tuple[str, str], dict[str, float | int | None]] = {}  # all periods, as_of-independent

    # -- lookups -------------------------------------------------------------------------------

    def periods_for(self, metric_id: str) -> tuple[Period, ...]:
        """The metric's periods published by ``as_of``, oldest first."""
        return tuple(
            p for p in (self.periods[i] for i in self._recipes[metric_id].period_ids) if p.published_on <= self.as_of
        )

    def data_changed_on(self, metric_id: str) -> date | None:
        """The latest publication date visible on ``as_of`` (None when nothing is published yet)."""
        visible = self.periods_for(metric_id)
        return max(p.published_on for p in visible) if visible else None

    def areas_for_group_or_code(self, token: str) -> tuple[str, ...]:
        """A GSS code (E92000001 included) -> (code,); a comparison group id -> its members."""
        if token in self.areas:
            return (token,)
        if token in self.comparison_groups:
            return self.comparison_groups[token].members
        raise KeyError(token)

    def wards_of(self, council_code: str) -> tuple[str, ...]:
        """The wards of a council (KeyError for an unknown council; empty when the demo has none)."""
        if council_code not in self.areas:
            raise KeyError(council_code)
        return tuple(code for code, ward in self.wards.items() if ward.parent_code == council_code)

    def area(self, code: str) -> Area:
        """A council, county, country or ward by its GSS code."""
        return self.areas[code] if code in self.areas else self.wards[code]

    def groups_owned_by(self, area_code: str) -> list[ComparisonGroup]:
        return [g for g in self.comparison_groups.values() if g.owner_area == area_code]

    def groups_containing(self, area_code: str) -> list[ComparisonGroup]:
        return [g for g in self.comparison_groups.values() if area_code in g.members]

    # -- values --------------------------------------------------------------------------------

    def series(self, metric_id: str, area_code: str) -> dict[str, float | int | None]:
        """{period id: value} over the periods visible on ``as_of``; None where there is no value."""
        metric, area = self.metric_types[metric_id], self.area(area_code)
        key = (metric_id, area_code)
        if key not in self._series:
            self._series[key] = (
                self._ward_series(metric, area) if area.tier == WARD_TIER else self._compute(metric, area)
            )  # deterministic, so a racing duplicate is harmless
        full = self._series[key]
        return {p.identifier: full[p.identifier] for p in self.periods_for(metric_id)}

    def value(self, metric_id: str, area_code: str, period_id: str) -> float | int | None:
        if period_id not in self.periods:
            raise KeyError(period_id)
        return self.series(metric_id, area_code).get(period_id)

    def _compute(self, metric: MetricType, area: Area) -> dict[str, float | int | None]:
        recipe = self._recipes[metric.identifier]
        if area.tier != "country" and area.tier not in metric.applies_to_tiers:
            return dict.fromkeys(recipe.period_ids)
        if isinstance(recipe.source, _Published):
            raw = self._published(metric, recipe, area)
        else:
            raw = self._synthetic(metric, recipe, area)
        return {p: _tidy(v, metric) for p, v in zip(recipe.period_ids, raw)}

    def _ward_series(self, metric: MetricType, ward: Area) -> dict[str, float | int | None]:
        """Population (3281): the council's value split across its wards by stable weights, so
        the wards add up to the council in every period. Any other metric: no value (null)."""
        period_ids = self._recipes[metric.identifier].period_ids
        if metric.identifier != POPULATION_METRIC:
            return dict.fromkeys(period_ids)
        council = self._compute(metric, self.areas[ward.parent_code])
        siblings = [code for code, w in self.wards.items() if w.parent_code == ward.parent_code]
        return {
            p: None if council[p] is None else split_by_stable_weights(int(council[p]), siblings)[ward.identifier]
            for p in period_ids
        }

    def _years(self, period_ids: tuple[str, ...]) -> list[float]:
        origin = self.periods[period_ids[0]].start_date
        return [(self.periods[p].start_date - origin).days / 365.25 for p in period_ids]

    def _level_effect(self, metric: MetricType, area: Area, draws: _Draws) -> float:
        """A standard-normal-ish council effect; deprivation pulls towards the bad end of the polarity."""
        towards_bad = {HIGH_IS_GOOD: -1.0, LOW_IS_GOOD: 1.0}.get(metric.polarity, 0.0)
        return 0.5 * towards_bad * self._profiles[area.identifier].deprivation + 0.85 * draws.normal()

    def _synthetic(self, metric: MetricType, recipe: _Recipe, area: Area) -> list[float | None]:
        spec: _Synthetic = recipe.source  # type: ignore[assignment]
        draws = _Draws(metric.identifier, area.identifier)
        years = self._years(recipe.period_ids)
        if area.tier == "country":
            level, slope, noise = spec.national, spec.trend, spec.noise / 4
        else:
            level = spec.national + spec.spread * self._level_effect(metric, area, draws)
            slope, noise = spec.trend + 0.05 * spec.spread * draws.normal(), spec.noise
        values: list[float | None] = [level + slope * y + noise * draws.normal() for y in years]
        if spec.events and area.tier != "country":
            _add_events(values, draws, spec)
        if area.identifier == TRAFFORD and metric.identifier in TRAFFORD_STORYLINES:
            _plant(values, recipe.period_ids, TRAFFORD_STORYLINES[metric.identifier], metric.polarity, spec)
        if spec.per_resident:
            population = self._profiles[area.identifier].population
            values = [None if v is None else max(v, 0.0) * population / 1000 for v in values]
        return values

    def _published(self, metric: MetricType, recipe: _Recipe, area: Area) -> list[float | None]:
        """Published values where the file has the area; otherwise, if allowed, drawn around England's."""
        source: _Published = recipe.source  # type: ignore[assignment]
        if area.identifier in source.values:
            return [source.values[area.identifier].get(p) for p in recipe.period_ids]
        if not source.fill_other_councils or ENGLAND not in source.values:
            return [None] * len(recipe.period_ids)
        england = source.values[ENGLAND]
        councils = [series for code, series in source.values.items() if code != ENGLAND]
        spread = fmean(
            pstdev(vs) for p in recipe.period_ids if len(vs := [s[p] for s in councils if s.get(p) is not None]) > 1
        )
        draws = _Draws(metric.identifier, area.identifier)
        level = spread * self._level_effect(metric, area, draws)
        return [
            None if england.get(p) is None else england[p] + level + 0.3 * spread * draws.normal()
            for p in recipe.period_ids
        ]


def _add_events(values: list[float | None], draws: _Draws, spec: _Synthetic) -> None:
    """Step changes (12% of councils), single outliers (7%) and one or two gaps (8%)."""
    n = len(values)
    if draws.uniform() < 0.12 and n >= 6:
        at, jump = draws.index(2, n - 2), draws.sign() * spec.spread * (1.0 + draws.uniform())
        values[at:] = [v + jump for v in values[at:]]  # type: ignore[operator]
    if draws.uniform() < 0.07:
        at = draws.index(0, n)
        values[at] += draws.sign() * (4 + 2 * draws.uniform()) * max(spec.noise, spec.spread / 2)  # type: ignore[operator]
    if draws.uniform() < 0.08:
        for _ in range(1 + draws.index(0, 2)):
            values[draws.index(0, n)] = None


def _plant(
    values: list[float | None], period_ids: tuple[str, ...], story: _Storyline, polarity: str, spec: _Synthetic
) -> None:
    """Overwrite Trafford's series from ``story.from_period`` with the storyline's pattern."""
    start = period_ids.index(story.from_period)
    good = 1.0 if polarity == HIGH_IS_GOOD else -1.0
    direction = good if story.improving else -good
    before = [v for v in values[:start] if v is not None]
    base = fmean(before[-4:]) if before else spec.national
    if story.kind == "run":  # each point strictly better (or worse) than the one before
        for k in range(start, len(values)):
            values[k] = base + direction * story.size * (k - start + 1)
    elif story.kind == "step":
        values[start:] = [
            base + direction * story.size + 0.15 * spec.noise * math.sin(k) for k in range(len(values) - start)
        ]
    elif story.kind == "outlier":
        values[start] = base + direction * story.size
    else:
        raise ValueError(story.kind)


def _tidy(value: float | None, metric: MetricType) -> float | int | None:
    """Clamp to the unit's range and round to the metric's precision; counts are whole numbers."""
    if value is None:
        return None
    value = max(value, 0.0)  # every demo quantity is non-negative
    if metric.measurement_unit_identifier == "percent":
        value = min(value, 100.0)
    if metric.output_precision == 0:
        return int(round(value))
    return round(value, metric.output_precision)


# ---------------------------------------------------------------------------------------------
# Building


def _metric(
    identifier: str,
    label: str,
    short: str,
    unit: str,
    cadence: str,
    polarity: str,
    theme: str,
    tiers: frozenset[str],
    precision: int,
    *,
    help_text: str,
    dataset: str,
    source: str,
    is_real: bool,
    discontinued: bool = False,
) -> MetricType:
    first = period_from_id(CADENCES[cadence][0])
    return MetricType(
        identifier=identifier,
        label=label,
        short_label=short,
        help_text=help_text,
        unit_label=UNITS[unit].label,
        measurement_unit_identifier=unit,
        dataset_identifier=dataset,
        period_type=first.period_type,
        frequency=first.frequency,
        output_precision=precision,
        polarity=polarity,
        null_as_zero=False,
        discontinued=discontinued,
        theme=theme,
        applies_to_tiers=frozenset(tiers),
        source=source,
        is_real=is_real,
    )


def _cadence_of(period_ids: Iterable[str]) -> str:
    kinds = {period_from_id(p).period_type for p in period_ids}
    if len(kinds) != 1:
        raise ValueError(f"mixed period types {kinds}")
    return {"FinancialYear": "fin", "CalendarYear": "cal", "FinancialQuarter": "quarter"}[kinds.pop()]


def _sorted_periods(period_ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(period_ids), key=lambda p: (period_from_id(p).start_date, period_from_id(p).end_date, p)))


def _build_metrics(areas: Mapping[str, Area]) -> tuple[dict[str, MetricType], dict[str, _Recipe]]:
    metrics: dict[str, MetricType] = {}
    recipes: dict[str, _Recipe] = {}

    oflog_values, oflog_polarity = _load_oflog(areas)
    for code, (identifier, label, short, unit, theme, precision) in _OFLOG_METRICS.items():
        period_ids = _sorted_periods(p for series in oflog_values[code].values() for p in series)
        metrics[identifier] = _metric(
            identifier,
            label,
            short,
            unit,
            _cadence_of(period_ids),
            oflog_polarity[code],
            theme,
            UPPER_TIER,
            precision,
            help_text=f"Oflog measure {code}, as published for upper-tier English councils. "
            "No England figure is published in the source file.",
            dataset=_DATASETS["oflog"],
            source=_OFLOG_SOURCE,
            is_real=True,
        )
        recipes[identifier] = _Recipe(period_ids, _Published(oflog_values[code], fill_other_councils=False))

    for (
        identifier,
        file_name,
        indicator,
        label,
        short,
        unit,
        cadence,
        polarity,
        theme,
        source,
        discontinued,
    ) in _TRAFFORD_METRICS:
        values = _load_tidy(file_name, indicator)
        period_ids = _sorted_periods(p for series in values.values() for p in series)
        if _cadence_of(period_ids) != cadence:
            raise ValueError(f"{file_name}: expected {cadence} periods")
        metrics[identifier] = _metric(
            identifier,
            label,
            short,
            unit,
            cadence,
            polarity,
            theme,
            ENGLISH_TIERS,
            1,
            help_text="Published values for Trafford, its CIPFA nearest neighbours and England (LG Inform extract in "
            "Trafford's corporate plan); other councils are synthetic, drawn around England's value.",
            dataset=_DATASETS["trafford"],
            source=f"{source} (via LG Inform)",
            is_real=True,
            discontinued=discontinued,
        )
        recipes[identifier] = _Recipe(period_ids, _Published(values, fill_other_councils=True))

    for identifier, label, short, unit, cadence, polarity, theme, tiers, spec, precision, *last in _SYNTHETIC_METRICS:
        period_ids = CADENCES[cadence]
        if last:
            period_ids = period_ids[: period_ids.index(last[0]) + 1]
        metrics[identifier] = _metric(
            identifier,
            label,
            short,
            unit,
            cadence,
            polarity,
            theme,
            tiers,
            precision,
            help_text=f"{label}. Demo data: a deterministic synthetic series, not a published statistic.",
            dataset=f"demo-{theme}",
            source="LG Inform demo (synthetic)",
            is_real=False,
            discontinued=bool(last),
        )
        recipes[identifier] = _Recipe(period_ids, spec)

    if len(metrics) != len(_OFLOG_METRICS) + len(_TRAFFORD_METRICS) + len(_SYNTHETIC_METRICS):
        raise ValueError("metric type ids collide")
    ordered = sorted(metrics, key=int)
    return {i: metrics[i] for i in ordered}, {i: recipes[i] for i in ordered}


@functools.lru_cache(maxsize=4)
def build_catalogue(*, as_of: date = DEFAULT_AS_OF, scale: str = "demo") -> DemoCatalogue:
    """The demo catalogue as it stood on ``as_of``; ``scale`` is the hook for larger benchmark universes."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {SCALES}")
    areas = _load_areas()
    profiles = _profiles(areas)
    metric_types, recipes = _build_metrics(areas)
    period_ids = _sorted_periods(p for recipe in recipes.values() for p in recipe.period_ids)
    periods = {p: period_from_id(p) for p in period_ids}
    return DemoCatalogue(
        as_of=as_of,
        areas=areas,
        metric_types=metric_types,
        periods=periods,
        comparison_groups=_comparison_groups(areas, profiles),
        recipes=recipes,
        profiles=profiles,
        wards=_load_wards(areas),
    )
