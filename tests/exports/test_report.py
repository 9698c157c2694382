"""The councillors' report in a real headless Chromium: built from one real refresh_all of the
small demo (once per module), then opened from disk with no network.

Every expectation is read back from the warehouse the report was built from, so the test checks
that the page shows the warehouse's numbers, not numbers of its own.
"""

import re
import shutil
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import open_from_disk
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from expectations.runner import load_suites, read_frame
from exports.controlled_counts import controlled
from exports.report import benchmark_sentence, limitations, short_position, write_report
from exports.report_wording import DIRECTION
from lgperf.settings import FreshnessSettings

COUNCIL = "E08000009"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PAGES = ("index.html", "satisfaction.html", "complaints.html")


@pytest.fixture(scope="module")
def warehouse(demo_baseline, tmp_path_factory) -> Path:
    """A copy of the warehouse of conftest's demo_baseline: one real refresh_all of the small demo,
    surveys and complaints included (the baseline itself is never touched)."""
    copy = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    shutil.copyfile(demo_baseline / "warehouse.duckdb", copy)
    return copy


def query(warehouse: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, parameters or []).fetchall()


AS_OF = date(2025, 11, 1)  # the demo catalogue's date, as conftest's pipeline.yml sets it for the gate
FRESHNESS = FreshnessSettings(as_of=AS_OF)


def build(warehouse: Path, destination: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        written = write_report(connection, destination, council=COUNCIL, disclosure_min_count=5, freshness=FRESHNESS)
        return written.counts


@pytest.fixture(scope="module")
def report(warehouse, tmp_path_factory) -> tuple[Path, dict[str, int]]:
    destination = tmp_path_factory.mktemp("exports") / "report"
    return destination, build(warehouse, destination)


@pytest.fixture(scope="module")
def latest(warehouse) -> dict[str, dict]:
    """The latest scorecard row per indicator, with its dimension's rationale."""
    cursor_sql = """
        SELECT p.indicator_id, p.title, p.value, p.output_precision, p.unit, p.rag, p.theme, p.priority, p.owner,
               p.trial_limits, d.rationale
        FROM marts.indicator_performance p JOIN marts.dim_indicators d USING (indicator_id)
        QUALIFY row_number() OVER (PARTITION BY p.indicator_id ORDER BY p.period_start DESC) = 1"""
    names = [
        "indicator_id",
        "title",
        "value",
        "precision",
        "unit",
        "rag",
        "theme",
        "priority",
        "owner",
        "trial_limits",
        "rationale",
    ]
    return {row[0]: dict(zip(names, row)) for row in query(warehouse, cursor_sql)}


def open_page(browser, folder: Path, name: str) -> list[dict]:
    """Load a page from disk; return its SEVERE console entries (reading the log empties it)."""
    browser.get_log("browser")
    open_from_disk(browser, folder / name)
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def shown(value: float, precision: int, unit: str) -> str:
    """A tile's value with its unit, to its precision."""
    text = half_up(value, precision)
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def half_up(value: float, precision: int = 1) -> str:
    """As a reader rounds it: half away from zero from the number as written (90.05 -> 90.1)."""
    return f"{Decimal(repr(value)).quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP):,f}"


def visible_tiles(browser) -> set[str]:
    return {
        t.get_attribute("data-indicator") for t in browser.find_elements(By.CSS_SELECTOR, ".tile") if t.is_displayed()
    }


# --- the files -------------------------------------------------------------------------------


def test_the_counts_are_the_marts_rows(report, warehouse):
    folder, counts = report
    assert sorted(p.name for p in folder.iterdir()) == sorted([*PAGES, "report.pdf"])  # Chromium is here: it prints
    assert counts == {
        "indicators": query(warehouse, "SELECT count(DISTINCT indicator_id) FROM marts.indicator_performance")[0][0],
        "satisfaction_rows": query(warehouse, "SELECT count(*) FROM marts.resident_satisfaction")[0][0],
        "complaints_rows": query(warehouse, "SELECT count(*) FROM marts.complaints_summary")[0][0],
    }
    assert counts["indicators"] == 4 and counts["satisfaction_rows"] > 0 and counts["complaints_rows"] > 0


def test_the_same_warehouse_gives_the_same_bytes(report, warehouse, tmp_path):
    folder, _ = report
    again = tmp_path / "report"
    build(warehouse, again)
    build(warehouse, again)  # over an existing report too
    for name in PAGES:
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name


def test_the_same_warehouse_prints_the_same_pdf(report, warehouse, tmp_path):
    """A fresh print of the same page is byte for byte the PDF printed before (Chromium's
    printing time is blanked); an unchanged index.html keeps its PDF without printing again."""
    folder, _ = report
    again = tmp_path / "report"
    build(warehouse, again)
    assert (again / "report.pdf").read_bytes() == (folder / "report.pdf").read_bytes()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        kept = write_report(connection, again, council=COUNCIL, disclosure_min_count=5, freshness=FRESHNESS).pdf
    assert kept.written and kept.kept
    assert (again / "report.pdf").read_bytes() == (folder / "report.pdf").read_bytes()


def test_no_page_asks_for_anything_outside_itself(report):
    folder, _ = report
    for name in PAGES:
        text = (folder / name).read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text
        for link in re.findall(r"""(?:src|href)=["']([^"']*)["']""", text):
            assert link in PAGES or link.startswith(("#", "data:")), (name, link)
        assert "default-src 'none'" in text  # the browser itself refuses any request


# --- the indicator page in Chromium ----------------------------------------------------------


def test_every_indicator_has_a_tile_with_its_title_value_and_status(report, browser, latest):
    folder, _ = report
    assert open_page(browser, folder, "index.html") == []
    tiles = browser.find_elements(By.CSS_SELECTOR, ".tile")
    assert len(tiles) == len(latest)
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "report.png"))
    for tile in tiles:
        row = latest[tile.get_attribute("data-indicator")]
        assert tile.is_displayed()
        assert tile.find_element(By.CSS_SELECTOR, ".tile-title").text == row["title"]
        assert tile.find_element(By.CSS_SELECTOR, ".value").text == shown(row["value"], row["precision"], row["unit"])
        rag = tile.find_element(By.CSS_SELECTOR, ".rag")
        assert rag.get_attribute("data-rag") == row["rag"]
        assert rag.text and rag.text[0] in "✔▲✖–○"  # a symbol and words, not colour alone
        chart = tile.find_element(By.CSS_SELECTOR, "svg.trend[role=img]")
        assert shown(row["value"], row["precision"], row["unit"]) in chart.get_attribute("aria-label")


def test_a_latest_figure_older_than_the_quality_gate_allows_says_how_old_it_is(report, warehouse):
    """Recycling's latest figure is 2021/22 and adult social care's 2022/23: on 1 November 2025
    both are older than the gate's 730 days for a yearly figure, and their tiles say by how much;
    council tax (2024/25) is not. Every indicator the gate's freshness check flags is flagged."""
    folder, _ = report
    page = (folder / "index.html").read_text(encoding="utf-8")
    stale = {}
    for tile in re.split(r'(?=<li class="tile )', page)[1:]:
        notice = re.search(r'<p class="warning stale"><strong>Old figure\.</strong> (.*?)</p>', tile)
        if notice:
            stale[re.search(r'data-indicator="([^"]+)"', tile).group(1)] = notice.group(1).replace("&#39;", "'")
    assert stale["90101"].startswith(
        "Latest available: 2021/22, 3 years 7 months before this report (1 November 2025)."
    )
    assert stale["90005"].startswith(
        "Latest available: 2022/23, 2 years 7 months before this report (1 November 2025)."
    )
    assert "within 730 days of the period's end" in stale["90101"] and "91023" not in stale
    suite = next(s for s in load_suites() if s.name == "fct_indicator_values")
    days = FRESHNESS.max_days_after_period_end
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        frame = read_frame(
            connection,
            suite,
            {
                "as_of": AS_OF,
                "max_days_annually": days["annually"],
                "max_days_quarterly": days["quarterly"],
                "max_days_monthly": days["monthly"],
                "run_id": "r",
                "council": COUNCIL,
                "published_through": None,
            },
        )
    flagged_by_the_gate = set(frame.loc[frame["freshness_problem"].notna(), "indicator_id"])
    assert flagged_by_the_gate and flagged_by_the_gate <= set(stale)


def test_every_direction_of_travel_the_mart_gives_has_words_of_its_own():
    """Neutral indicators increase or decrease; they are comparable, never "Cannot be compared"."""
    import yaml

    models = yaml.safe_load(
        (Path(__file__).parents[2] / "dbt_project/models/marts/indicator_performance.yml").read_text()
    )
    column = next(c for c in models["models"][0]["columns"] if c["name"] == "direction_vs_previous")
    values = column["data_tests"][0]["accepted_values"]["arguments"]["values"]
    assert set(values) == set(DIRECTION)
    assert DIRECTION["increased"][1] == "Increased" and DIRECTION["decreased"][1] == "Decreased"
    assert [v for v in values if DIRECTION[v][1] == "Cannot be compared"] == ["not_comparable"]


def test_a_trend_chart_names_every_period_and_target_of_the_scorecard(report, browser, warehouse):
    folder, _ = report
    open_page(browser, folder, "index.html")
    for (indicator,) in query(warehouse, "SELECT DISTINCT indicator_id FROM marts.indicator_performance"):
        label = browser.find_element(By.CSS_SELECTOR, f"#tile-{indicator} svg.trend").get_attribute("aria-label")
        rows = query(
            warehouse,
            "SELECT period_label, target, output_precision FROM marts.indicator_performance "
            "WHERE indicator_id = ? ORDER BY period_start",
            [indicator],
        )
        assert [p for p, _, _ in rows] == re.findall(r"(?:\. |; )([^:;]+): ", label)
        for _, target, precision in rows:
            if target is not None:
                assert f"(target {target:,.{precision}f}" in label


def test_each_tile_chart_draws_the_spc_mean_limits_and_special_causes_of_the_council(report, browser, warehouse):
    folder, _ = report
    open_page(browser, folder, "index.html")
    for indicator, special, baselines in query(
        warehouse,
        """
            SELECT p.indicator_id, count(*) FILTER (WHERE s.variation_icon <> 'common_cause'),
                   count(DISTINCT s.baseline_segment)
            FROM marts.indicator_performance p
            JOIN marts.spc s ON s.indicator_id = p.indicator_id AND s.period_id = p.period_id AND s.area_code = ?
            GROUP BY p.indicator_id""",
        [COUNCIL],
    ):
        chart = browser.find_element(By.CSS_SELECTOR, f"#tile-{indicator} svg.trend")
        assert len(chart.find_elements(By.CSS_SELECTOR, "circle.special")) == special
        assert len(chart.find_elements(By.CSS_SELECTOR, "polyline.mean-line")) == baselines
        assert "The latest baseline has a mean of" in chart.get_attribute("aria-label")
    assert (
        query(
            warehouse,
            "SELECT count(*) FROM marts.spc WHERE area_code = ? AND variation_icon <> 'common_cause'",
            [COUNCIL],
        )[0][0]
        > 0
    )


def test_the_theme_and_priority_filters_hide_the_other_tiles(report, browser, latest):
    folder, _ = report
    open_page(browser, folder, "index.html")
    theme = Select(browser.find_element(By.ID, "filter-theme"))
    for value in sorted({r["theme"] for r in latest.values()}):
        theme.select_by_value(value)
        assert visible_tiles(browser) == {i for i, r in latest.items() if r["theme"] == value}
        assert (
            browser.find_element(By.ID, "filter-status").text
            == f"Showing {len(visible_tiles(browser))} of {len(latest)} indicators."
        )
    theme.select_by_value("all")
    assert visible_tiles(browser) == set(latest)

    priority = Select(browser.find_element(By.ID, "filter-priority"))
    chosen = min(r["priority"] for r in latest.values())
    priority.select_by_value(chosen)
    assert visible_tiles(browser) == {i for i, r in latest.items() if r["priority"] == chosen}
    both = {i for i, r in latest.items() if r["priority"] == chosen and r["theme"] == "efficiency"}
    theme.select_by_value("efficiency")
    assert visible_tiles(browser) == both
    priority.select_by_value("all")
    theme.select_by_value("all")
    assert visible_tiles(browser) == set(latest)
    assert open_page(browser, folder, "index.html") == []  # and nothing went wrong on the way


def test_an_information_panel_opens_from_the_keyboard(report, browser, latest, warehouse):
    folder, _ = report
    open_page(browser, folder, "index.html")
    indicator = "91003"  # the quarterly series: trial limits, commentary, a special cause of concern
    row = latest[indicator]
    summary = browser.find_element(By.CSS_SELECTOR, f"#tile-{indicator} details.info > summary")
    panel = browser.find_element(By.CSS_SELECTOR, f"#tile-{indicator} details.info")
    rationale = panel.find_element(By.CSS_SELECTOR, ".rationale")
    assert not rationale.is_displayed()

    # reach it the way a keyboard user does: Tab until the summary has the focus, then Enter
    browser.find_element(By.TAG_NAME, "body").click()
    for _ in range(40):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if browser.switch_to.active_element == summary:
            break
    assert browser.switch_to.active_element == summary
    browser.switch_to.active_element.send_keys(Keys.ENTER)

    assert panel.get_attribute("open") is not None
    assert rationale.is_displayed() and rationale.text == row["rationale"]
    assert panel.find_element(By.CSS_SELECTOR, ".owner").text == row["owner"]
    points = query(
        warehouse, "SELECT count(value) FROM marts.spc WHERE indicator_id = ? AND area_code = ?", [indicator, COUNCIL]
    )[0][0]
    notes = [li.text for li in panel.find_elements(By.CSS_SELECTOR, ".limitations li")]
    assert row["trial_limits"] and any(f"trial limits, based on only {points} points" in n for n in notes)
    size = query(
        warehouse,
        "SELECT group_size FROM marts.benchmarks WHERE indicator_id = ? AND area_code = ? "
        "AND comparison_group_id LIKE '%_CIPFA_Near_Neighbours' ORDER BY period_id DESC LIMIT 1",
        [indicator, COUNCIL],
    )[0][0]
    assert f"compares {size} councils" in " ".join(notes)
    median = query(
        warehouse,
        "SELECT group_median FROM marts.benchmarks WHERE indicator_id = ? AND area_code = ? "
        "AND comparison_group_id LIKE '%_CIPFA_Near_Neighbours' ORDER BY period_id DESC LIMIT 1",
        [indicator, COUNCIL],
    )[0][0]
    assert f"Neighbours' median {half_up(median)} days" in panel.text
    summary.send_keys(Keys.ENTER)
    assert panel.get_attribute("open") is None and not rationale.is_displayed()


def test_a_group_is_named_by_the_members_with_a_value_and_a_raw_count_by_its_rate():
    """The full demo's claimant figures: the extract holds 16 of England's 317 councils, the count
    (L0001) is compared as the rate (L0002); a raw count without a rate is not ranked."""
    in_file = "ranks 5 among the 16 of the 317 councils in England with a value in trafford_claimant_count.csv"
    assert benchmark_sentence(in_file, 2, "councils in England") == (
        "Ranks 5 among the 16 of the 317 councils in England with a value in trafford_claimant_count.csv "
        "(1 is best), second quartile."
    )
    assert benchmark_sentence(
        "ranks 5 of 16 among its nearest neighbours",
        2,
        "its nearest neighbours",
        compared_as="Claimants as a proportion of residents aged 16-64",
    ) == (
        "As Claimants as a proportion of residents aged 16-64: ranks 5 of 16 among its nearest neighbours (1 is best), "
        "second quartile."
    )
    assert benchmark_sentence(None, None, "councils in England", raw_count=True) == (
        "Not ranked: a raw count, not adjusted for population."
    )
    assert (
        benchmark_sentence(None, None, "councils in England")
        == "No comparison with councils in England is available for this period."
    )

    claimants = {
        "indicator_id": "L0001",
        "neighbours_rank": 5,
        "neighbours_size": 16,
        "neighbours_members": 16,
        "neighbours_position": "ranks 5 of 16 among its nearest neighbours",
        "compared_as_indicator_id": "L0002",
        "compared_as_title": "Claimants as a proportion of residents aged 16-64",
        "comparison_note": "A raw count, not adjusted for population: it is compared with other councils as "
        "Claimants as a proportion of residents aged 16-64 (%).",
    }
    assert (
        short_position(claimants)
        == "as Claimants as a proportion of residents aged 16-64, ranks 5 of 16 nearest neighbours"
    )
    missing_one = {
        "indicator_id": "91039",
        "neighbours_rank": 9,
        "neighbours_size": 15,
        "neighbours_members": 16,
        "neighbours_position": "ranks 9 among the 15 of the 16 councils in its nearest-neighbour group with a value",
        "compared_as_indicator_id": "91039",
        "comparison_note": None,
    }
    assert short_position(missing_one) == missing_one["neighbours_position"]
    rough_sleepers = {
        "indicator_id": "91053",
        "neighbours_rank": None,
        "compared_as_indicator_id": "91053",
        "comparison_note": "A raw count, not adjusted for population: it is not ranked against other councils.",
    }
    assert short_position(rough_sleepers) == "Not ranked: a raw count"
    row = {
        **rough_sleepers,
        "value": 15,
        "rag": "no_target",
        "green_but_bottom_quartile": False,
        "trial_limits": False,
        "direction_vs_previous": "no_change",
        "country_rank": None,
        "commentary": "",
        "period_label": "2024",
    }
    notes = limitations(row, {"group_size": 16}, 10)
    assert (
        rough_sleepers["comparison_note"] in notes
        and "There is no England-wide comparison for this period." not in notes
    )


# --- the satisfaction and complaints pages -----------------------------------------------------


def test_the_satisfaction_page_shows_each_wave_with_confidence_intervals(report, browser, warehouse):
    folder, _ = report
    assert open_page(browser, folder, "satisfaction.html") == []
    waves = query(warehouse, "SELECT DISTINCT survey, wave_start FROM marts.resident_satisfaction")
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart[role=img]")
    assert len(charts) == len(waves) and all(c.get_attribute("aria-label") for c in charts)
    # the newest wave of the first survey comes first; its chart names every question's % and interval
    first = query(
        warehouse,
        "SELECT survey, max(wave_start) FROM marts.resident_satisfaction GROUP BY survey ORDER BY survey LIMIT 1",
    )[0]
    rows = query(
        warehouse,
        "SELECT percent_positive, ci_lower, ci_upper, unweighted_n FROM marts.resident_satisfaction "
        "WHERE survey = ? AND wave_start = ? AND breakdown = 'all'",
        list(first),
    )
    assert rows and all(n >= 5 for *_, n in rows)  # the whole sample is large: nothing withheld
    label = charts[0].get_attribute("aria-label")
    for value, lower, upper, _ in rows:
        assert f"{half_up(value)}% (95% confidence interval {half_up(lower)}% to {half_up(upper)}%)" in label
    assert len(charts[0].find_elements(By.CSS_SELECTOR, ".whisker")) == len(rows)
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "[c] marks a figure withheld to protect the people counted" in text
    assert "“Don't know” answers are left out of the base" in text
    assert "Wilson score interval" in text


def test_the_satisfaction_page_dates_the_benchmark_and_never_calls_a_difference_from_it_significant(
    report, browser, warehouse
):
    """The LGA's national telephone poll of February 2021 is years older than every wave: each
    wave says so, the table says when it was polled, and the comparison is worded with caution."""
    folder, _ = report
    assert open_page(browser, folder, "satisfaction.html") == []
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "ignificantly higher" not in text and "ignificantly lower" not in text
    stale = query(
        warehouse,
        "SELECT DISTINCT survey, wave_start, benchmark_age_months FROM marts.resident_satisfaction "
        "WHERE benchmark_stale ORDER BY survey, wave_start DESC",
    )
    assert stale and all(age > 24 for *_, age in stale)  # round 28 (February 2021) against waves of 2024 and 2025
    warnings = [w.text for w in browser.find_elements(By.CSS_SELECTOR, ".wave .benchmark-age")]
    assert len(warnings) == len(stale)
    assert {w for w in warnings} == {
        f"Old benchmark: the national figures come from the LGA's telephone poll of February 2021, "
        f"{age} months before this survey; opinion may have moved since, and the poll was not "
        f"asked the way this survey was. Compare with caution."
        for *_, age in stale
    }
    statements = query(
        warehouse,
        "SELECT DISTINCT benchmark_statement FROM marts.resident_satisfaction "
        "WHERE breakdown = 'all' AND benchmark_statement IS NOT NULL",
    )
    assert statements and all(s.endswith("months before this survey; compare with caution)") for (s,) in statements)
    for (statement,) in statements:
        assert statement[:1].upper() + statement[1:] in text
    assert "67.0%, polled February 2021" in text


def test_the_by_group_tables_say_how_many_comparisons_were_made_and_allow_for_them(report, warehouse):
    folder, _ = report
    page = (folder / "satisfaction.html").read_text(encoding="utf-8")
    families = query(
        warehouse,
        "SELECT survey, wave_start, max(tests_in_family), min(tests_in_family), "
        "count(*) FILTER (WHERE difference_significant_fdr), "
        "count(*) FILTER (WHERE difference_p_value < 0.05) FROM marts.resident_satisfaction "
        "WHERE breakdown <> 'all' GROUP BY ALL ORDER BY survey, wave_start DESC",
    )
    assert families and all(most == least for _, _, most, least, *_ in families)
    sentences = re.findall(
        r"(\d[\d,]*) comparisons were made; differences shown as significant allow for that "
        r"\(false discovery rate 5%\)\.",
        page,
    )
    assert [int(n.replace(",", "")) for n in sentences] == [m for _, _, m, *_ in families]
    # the control matters: fewer differences survive it than a test at 5% each would call significant
    assert sum(f[4] for f in families) < sum(f[5] for f in families)
    shown = re.findall(r"<td>(Higher|Lower) \([+-][\d.]+ points\)</td>", page)
    with duckdb.connect(str(warehouse), read_only=True) as connection:  # what the disclosure policy lets through
        published = controlled(connection, "resident_satisfaction", 5).rows
    assert len(shown) == sum(r["difference_significant_fdr"] is True for r in published) > 0


def test_the_changes_since_the_previous_wave_say_how_many_were_tested_and_allow_for_them(report, warehouse):
    folder, _ = report
    page = (folder / "satisfaction.html").read_text(encoding="utf-8")
    families = query(
        warehouse,
        "SELECT survey, wave_start, max(change_tests_in_family), min(change_tests_in_family), "
        "count(*) FILTER (WHERE change_significant_fdr), count(*) FILTER (WHERE change_significant) "
        "FROM marts.resident_satisfaction WHERE breakdown = 'all' AND change_tests_in_family IS NOT NULL "
        "GROUP BY ALL ORDER BY survey, wave_start DESC",
    )
    assert families and all(most == least for _, _, most, least, *_ in families)
    sentences = re.findall(
        r"(\d[\d,]*) changes since the previous wave were tested; changes shown as significant allow "
        r"for that \(false discovery rate 5%\)\.",
        page,
    )
    assert [int(n.replace(",", "")) for n in sentences] == [m for _, _, m, *_ in families]
    # a change is called significant only after the control, never on its own test alone
    stated = query(
        warehouse,
        "SELECT count(*) FILTER (WHERE change_statement LIKE 'significant%'), "
        "count(*) FILTER (WHERE change_significant_fdr) FROM marts.resident_satisfaction",
    )[0]
    assert stated[0] == stated[1]
    assert sum(f[4] for f in families) <= sum(f[5] for f in families)


def test_the_complaints_page_shows_each_period_per_service(report, browser, warehouse):
    folder, _ = report
    assert open_page(browser, folder, "complaints.html") == []
    periods = query(warehouse, "SELECT DISTINCT period_id FROM marts.complaints_summary ORDER BY period_id DESC")
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart[role=img]")
    assert len(charts) == len(periods)
    services = query(
        warehouse,
        "SELECT service, received FROM marts.complaints_summary WHERE period_id = ? "
        "AND theme = 'all' AND service <> 'all' ORDER BY service",
        [periods[0][0]],
    )
    assert all(r >= 5 for _, r in services)  # every service received enough for its count to be shown
    label = charts[0].get_attribute("aria-label")
    assert label.endswith("; ".join(f"{s}: {r:,}" for s, r in services) + ".")
    assert len(charts[0].find_elements(By.CSS_SELECTOR, "rect.bar")) == len(services)
    total = query(
        warehouse,
        "SELECT received, ombudsman_escalations, period_complete, coverage_label, "
        "same_months_previous_year_received, stage_1_percent_on_time FROM marts.complaints_summary "
        "WHERE period_id = ? AND service = 'all' AND theme = 'all'",
        [periods[0][0]],
    )[0]
    received, _, complete, coverage, same_months, on_time = total
    text = browser.find_element(By.TAG_NAME, "main").text
    assert f"In total {received:,} complaints were received" in text
    # the demo's latest year is a year to date: it says so, and is compared with the same months
    assert not complete and coverage.endswith("(year to date)") and coverage in text
    assert same_months is not None and f"against {same_months:,} in the same months of the previous year" in text
    change = (Decimal(100 * (received - same_months)) / same_months).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert f"({change:+}%)" in text
    # the overdue never answered are in the base: the rate is of the responses due
    assert f"{half_up(on_time)}% of the stage 1 responses due were on time" in text


def _tables(page: Path) -> dict[str, list[list[str]]]:
    """Every table of a page, by caption: its body rows as cell texts."""
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tables, self.caption, self.row, self.cell, self.where = {}, None, None, None, None

        def handle_starttag(self, tag, attrs):
            if tag == "caption":
                self.where = "caption"
                self.caption = ""
            elif tag == "tr":
                self.row = []
            elif tag in ("td", "th") and self.row is not None:
                self.cell = ""

        def handle_endtag(self, tag):
            if tag == "caption":
                self.where = None
                self.tables[self.caption] = []
            elif tag in ("td", "th") and self.cell is not None:
                self.row.append(self.cell.strip())
                self.cell = None
            elif tag == "tr" and self.row is not None:
                if self.caption in self.tables and not self.row[0].startswith(("Service", "Question", "Group", "Ward")):
                    self.tables[self.caption].append(self.row)
                self.row = None

        def handle_data(self, data):
            if self.where == "caption":
                self.caption += data
            elif self.cell is not None:
                self.cell += data

    parser = Tables()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.tables


def test_the_report_shows_the_open_datas_controlled_counts_and_no_small_one(report, warehouse, tmp_path):
    from exports.open_data import write_open_data

    folder, _ = report
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        write_open_data(connection, tmp_path / "open-data", disclosure_min_count=5)
    import csv

    with (tmp_path / "open-data" / "complaints_summary.csv").open(encoding="utf-8", newline="") as handle:
        complaints = {(r["service"], r["theme"]): r for r in csv.DictReader(handle) if r["period_id"] == "fin_2025_26"}
    label = query(
        warehouse,
        "SELECT period_label || ': ' || coverage_label FROM marts.complaints_summary "
        "JOIN marts.dim_periods USING (period_id) WHERE period_id = 'fin_2025_26' LIMIT 1",
    )[0][0]
    tables = _tables(folder / "complaints.html")
    shown = {}
    for service, received, same_months, *_, ombudsman in tables[f"Complaints per service, {label}"]:
        shown[(service if service != "All services" else "all", "all")] = (received, same_months, ombudsman)
    for service, theme, received, _ in tables[f"Complaint themes per service, {label}"]:
        shown[(service, theme)] = (received, None, None)
    as_in_open_data = lambda v: "[c]" if v == "c" else "–" if v == "" else f"{int(v):,}"  # noqa: E731
    assert len(shown) == len(complaints)
    withheld = 0
    for key, (received, same_months, ombudsman) in shown.items():
        assert received == as_in_open_data(complaints[key]["received"]), key
        if ombudsman is not None:
            assert ombudsman == as_in_open_data(complaints[key]["ombudsman_escalations"]), key
            assert same_months == as_in_open_data(complaints[key]["same_months_previous_year_received"]), key
        withheld += received == "[c]"
    assert withheld > 0  # the demo has small themes: the comparison met a withheld count
    # no count of 1-4 people on either page (respondents and complaints alike)
    for page in ("complaints.html", "satisfaction.html"):
        for caption, rows in _tables(folder / page).items():
            for row in rows:
                counts = [
                    row[i]
                    for i in (
                        (1, 2, -1)
                        if "per service" in caption
                        else (2,)
                        if "themes" in caption
                        else (3,)
                        if "all respondents" in caption
                        else (4,)
                    )
                ]
                assert not [c for c in counts if c.replace(",", "").isdigit() and 0 < int(c.replace(",", "")) < 5], (
                    caption,
                    row,
                )


def test_an_age_is_said_in_whole_years_and_months():
    from exports.report import age_in_words

    assert age_in_words(date(2022, 3, 31), AS_OF) == "3 years 7 months"  # recycling 2021/22 on the demo's date
    assert age_in_words(date(2024, 4, 30), AS_OF) == "1 year 6 months"  # the claimant count, April 2024
    assert age_in_words(date(2025, 9, 30), AS_OF) == "1 month"
    assert age_in_words(date(2023, 11, 1), AS_OF) == "2 years"


def test_the_wards_table_shows_the_latest_years_controlled_complaints_and_satisfaction_by_ward(warehouse, report):
    folder, _ = report
    latest = query(warehouse, "SELECT max(period_id) FROM marts.complaints_by_ward")[0][0]
    label = query(
        warehouse,
        "SELECT period_label || ': ' || coverage_label FROM marts.complaints_by_ward "
        "JOIN marts.dim_periods USING (period_id) WHERE period_id = ? LIMIT 1",
        [latest],
    )[0][0]
    (rows,) = [
        rows for caption, rows in _tables(folder / "complaints.html").items() if caption.endswith(f"per ward, {label}")
    ]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        published = {
            r["ward"]: r for r in controlled(connection, "complaints_by_ward", 5).rows if r["period_id"] == latest
        }
    shown = {("all" if r[0] == "All wards" else r[0]): r for r in rows}
    assert set(shown) == set(published) and rows[-1][0] == "All wards" and rows[-2][0] == "Not known"
    as_shown = lambda v: "[c]" if v == "c" else f"{v:,}"  # noqa: E731
    assert all(shown[w][1] == as_shown(r["received"]) for w, r in published.items())
    assert not [r for r in rows if r[1].replace(",", "").isdigit() and 0 < int(r[1].replace(",", "")) < 5]
    assert any(r[1] == "[c]" for r in rows) or min(r["received"] for r in published.values()) >= 5
    # the overall satisfaction by ward, from the latest wave with ward results, as the survey page shows groups
    waves = query(
        warehouse,
        "SELECT survey, wave_start, wave_end FROM marts.resident_satisfaction WHERE breakdown = 'ward' "
        "AND question = 'q_runs_things' ORDER BY wave_end DESC, wave_start DESC, survey DESC LIMIT 1",
    )
    if waves:
        survey, start, end = waves[0]
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            groups = {
                r["breakdown_value"]: r
                for r in controlled(connection, "resident_satisfaction", 5).rows
                if (r["survey"], r["wave_start"], r["wave_end"], r["breakdown"], r["question"])
                == (survey, start, end, "ward", "q_runs_things")
            }
        for ward, group in groups.items():
            if ward in shown:
                expected = "[c]" if group["percent_positive"] == "c" else f"{half_up(group['percent_positive'])}%"
                assert shown[ward][3] == expected, ward
