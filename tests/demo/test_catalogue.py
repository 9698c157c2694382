"""The demo catalogue: deterministic, complete, faithful to the published files it copies."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from demo.catalogue import (
    ENGLAND,
    HIGH_IS_GOOD,
    LOW_IS_GOOD,
    NOT_APPLICABLE,
    THEMES,
    TRAFFORD,
    UPPER_TIER,
    build_catalogue,
    data_file,
)


def _rows(name: str) -> list[dict[str, str]]:
    with open(data_file(name), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def catalogue():
    return build_catalogue()


def test_two_builds_are_equal():
    build_catalogue.cache_clear()
    first = build_catalogue()
    build_catalogue.cache_clear()
    second = build_catalogue()
    assert first is not second
    assert first.areas == second.areas
    assert first.metric_types == second.metric_types
    assert first.periods == second.periods
    assert first.comparison_groups == second.comparison_groups
    for metric_id in first.metric_types:
        for area in (TRAFFORD, ENGLAND, "E07000223", "E10000016", "S12000036", "W06000015"):
            assert first.series(metric_id, area) == second.series(metric_id, area)


@pytest.mark.parametrize(
    ("metric_id", "area", "period", "expected"),
    [
        ("3281", TRAFFORD, "cal_2019", 218715),  # synthetic: pins the seeded draws across machines
        ("91001", TRAFFORD, "fin_2025_26_q1", 87.0),
        ("91020", "W06000015", "fin_2019_20", 1398),
        ("91040", "E07000223", "fin_2022_23", 353),
        ("90002", TRAFFORD, "fin_2016_17", 0.401),  # Oflog, as published
        ("90102", TRAFFORD, "cal_2019", 78.6),  # Trafford extract, as published
    ],
)
def test_pinned_values(catalogue, metric_id, area, period, expected):
    assert catalogue.value(metric_id, area, period) == expected


def test_metric_types_cover_themes_polarities_and_frequencies(catalogue):
    metrics = catalogue.metric_types.values()
    assert len(metrics) >= 40
    assert {m.theme for m in metrics} == set(THEMES)
    assert {m.polarity for m in metrics} == {HIGH_IS_GOOD, LOW_IS_GOOD, NOT_APPLICABLE}
    assert {m.frequency for m in metrics} == {"Annually", "Quarterly"}
    assert {m.period_type for m in metrics} == {"FinancialYear", "CalendarYear", "FinancialQuarter"}
    assert any(m.discontinued for m in metrics)
    assert {m.is_real for m in metrics} == {True, False}


def test_synthetic_metrics_span_eight_years_or_more(catalogue):
    for metric in catalogue.metric_types.values():
        if metric.is_real or metric.discontinued:
            continue
        periods = catalogue.periods_for(metric.identifier)
        assert (periods[-1].end_date - periods[0].start_date).days >= 8 * 365, metric.identifier


def test_every_current_council_and_county_is_an_area(catalogue):
    current = [row for row in _rows("ons_lad_codes.csv") if row["Current"] == "TRUE"]
    counties = {row["UTLACD"] for row in current if row["UTLACD"].startswith("E10")}
    expected = {row["LADCD"] for row in current} | counties | {ENGLAND}
    assert set(catalogue.areas) == expected
    assert catalogue.areas["E10000016"].tier == "county"
    assert catalogue.areas[TRAFFORD].tier == "metropolitan_district"
    assert catalogue.areas[TRAFFORD].region_name == "North West"
    assert catalogue.areas["S12000036"].region_name == "Scotland"


def test_trafford_neighbours_are_the_published_cipfa_list(catalogue):
    published = tuple(row["area_code"] for row in _rows("trafford_cipfa2021.csv"))
    group = catalogue.comparison_groups["Trafford_CIPFA_Near_Neighbours"]
    assert group.members == published
    assert group.owner_area == TRAFFORD


def test_every_upper_tier_english_council_has_fifteen_neighbours(catalogue):
    owners = {g.owner_area: g for g in catalogue.comparison_groups.values() if g.owner_area}
    upper = {code for code, area in catalogue.areas.items() if area.tier in UPPER_TIER}
    assert set(owners) == upper
    for code, group in owners.items():
        assert len(set(group.members)) == 15 and code not in group.members
        assert all(catalogue.areas[m].tier in UPPER_TIER for m in group.members)


def test_groups_resolve_and_unknown_tokens_raise(catalogue):
    england = catalogue.areas_for_group_or_code("AllLaInCountry_England")
    assert ENGLAND not in england and TRAFFORD in england and "E10000016" in england
    assert len(catalogue.areas_for_group_or_code("AllBoroughInRegion_London")) == 33
    assert catalogue.areas_for_group_or_code(ENGLAND) == (ENGLAND,)
    with pytest.raises(KeyError, match="Nowhere_CIPFA_Near_Neighbours"):
        catalogue.areas_for_group_or_code("Nowhere_CIPFA_Near_Neighbours")


def test_oflog_values_are_the_published_ones(catalogue):
    assert catalogue.value("90001", "E06000005", "fin_2016_17") == 7.6  # Darlington, ASC1, 2016-17
    row = next(
        r
        for r in _rows("oflog_asc_data.csv")
        if r["Local authority name"] == "Trafford" and r["Code"] == "ASC3" and r["Financial year"] == "2018-19"
    )
    assert catalogue.value("90003", TRAFFORD, "fin_2018_19") == round(float(row["Value"]), 1)
    assert catalogue.metric_types["90001"].polarity == HIGH_IS_GOOD  # rank_order desc
    assert catalogue.metric_types["90007"].polarity == NOT_APPLICABLE  # rank_order None
    assert catalogue.value("90001", "E07000223", "fin_2016_17") is None  # districts have no adult social care
    assert catalogue.value("90001", "E08000039", "fin_2016_17") is not None  # Sheffield, published as E08000019


def test_trafford_extract_values_are_published_for_its_neighbours(catalogue):
    for row in _rows("trafford_employment_rate.csv"):
        period = "cal_" + row["period"][-4:]
        assert catalogue.value("90102", row["area_code"], period) == float(row["value"])
    assert catalogue.value("90102", "E06000001", "cal_2019") is not None  # filled for other councils


def test_counts_are_whole_and_percentages_in_range(catalogue):
    sample = [code for i, code in enumerate(catalogue.areas) if i % 5 == 0] + [TRAFFORD, ENGLAND]
    for metric in catalogue.metric_types.values():
        for area in sample:
            for value in catalogue.series(metric.identifier, area).values():
                if value is None:
                    continue
                assert value >= 0
                if metric.measurement_unit_identifier == "count":
                    assert isinstance(value, int)
                if metric.measurement_unit_identifier == "percent":
                    assert 0 <= value <= 100


def test_some_series_have_gaps(catalogue):
    gaps = [
        (metric_id, code)
        for metric_id in ("91002", "91011", "91023")
        for code in catalogue.areas_for_group_or_code("AllLaInCountry_England")
        if None in catalogue.series(metric_id, code).values()
        and catalogue.areas[code].tier in catalogue.metric_types[metric_id].applies_to_tiers
    ]
    assert gaps


def test_trafford_storylines(catalogue):
    improving = list(catalogue.series("91001", TRAFFORD).values())[-9:]  # % in time: high is good
    assert all(b > a for a, b in zip(improving, improving[1:]))
    worsening = list(catalogue.series("91003", TRAFFORD).values())[-8:]  # days: low is good
    assert all(b > a for a, b in zip(worsening, worsening[1:]))


def test_as_of_hides_later_periods():
    early = build_catalogue(as_of=date(2020, 1, 1))
    now = build_catalogue()
    assert early.periods_for("91001")[-1].identifier == "fin_2019_20_q2"  # Q3 is published in March 2020
    assert "fin_2019_20_q3" in {p.identifier for p in now.periods_for("91001")}
    assert early.value("91001", TRAFFORD, "fin_2019_20_q3") is None
    assert early.value("91001", TRAFFORD, "fin_2019_20_q2") == now.value("91001", TRAFFORD, "fin_2019_20_q2")
    assert early.data_changed_on("91001") < now.data_changed_on("91001") <= now.as_of
    assert all(p.published_on <= now.as_of for m in now.metric_types for p in now.periods_for(m))


def test_only_the_demo_scale_exists():
    with pytest.raises(ValueError, match="benchmark"):
        build_catalogue(scale="benchmark")


def test_period_shapes(catalogue):
    fin = catalogue.periods["fin_2016_17"]
    assert (fin.label, fin.start_date, fin.end_date) == ("2016/17", date(2016, 4, 1), date(2017, 3, 31))
    quarter = catalogue.periods["fin_2018_19_q1"]
    assert (quarter.label, quarter.start_date, quarter.end_date) == ("2018/19 Q1", date(2018, 4, 1), date(2018, 6, 30))
    q4 = catalogue.periods["fin_2018_19_q4"]
    assert (q4.start_date, q4.end_date) == (date(2019, 1, 1), date(2019, 3, 31))
    assert catalogue.periods["cal_2019"].label == "2019"
