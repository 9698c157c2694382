"""The councillors' report opens with its exceptions, prints as committee papers, and is a PDF.

``exceptions()`` is tested on tile dictionaries for every reason; the page is read in a real
headless Chromium (the small demo's warehouse, as tests/exports/test_report.py builds it), on
screen and with print media emulated; report.pdf is the one write_report prints with Debian's
chromium, read back with pypdf (a test dependency) page by page.
"""

import logging
import os
import stat
import sys
import time
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import exports.report as report_module
from exports.report import EXCEPTION_REASONS, NO_ACTION, build_tiles, exceptions, status_counts, write_report
from exports.report_pdf import ENV, find_chromium, write_pdf
from tests.exports.test_report import COUNCIL, FRESHNESS, open_page, warehouse  # noqa: F401 (fixtures)

PUBLICATION = "20251101T090000Z-c0ffee1f"  # ff and fi: a ligature would change the id a reader copies


def write(warehouse: Path, destination: Path, **options):
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return write_report(
            connection,
            destination,
            council=COUNCIL,
            disclosure_min_count=5,
            freshness=FRESHNESS,
            publication_id=PUBLICATION,
            **options,
        )


@pytest.fixture(scope="module")
def printed(warehouse, tmp_path_factory) -> Path:
    """The small demo's report with its PDF, printed by the machine's Chromium."""
    folder = tmp_path_factory.mktemp("printed") / "report"
    written = write(warehouse, folder)
    assert written.pdf.written, written.pdf.reason
    return folder


@pytest.fixture(scope="module")
def tiles(warehouse) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return build_tiles(connection, COUNCIL, FRESHNESS)


# --- exceptions(): pure, on tile dictionaries -----------------------------------------------------


def tile(indicator_id: str, **changes) -> dict:
    """A tile that is no exception at all, changed by ``changes``."""
    return {
        "indicator_id": indicator_id,
        "title": f"Indicator {indicator_id}",
        "value_text": "12.5%",
        "period_label": "2024/25",
        "rag": "green",
        "target": 10.0,
        "variation_icon": "common_cause",
        "green_but_bottom_quartile": False,
        "revised_from": None,
        "stale": None,
        "commentary": None,
        "commentary_author": None,
        **changes,
    }


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"variation_icon": "special_cause_concern"}, "special_cause_concern"),
        ({"green_but_bottom_quartile": True}, "green_but_bottom_quartile"),
        ({"target": None, "rag": "no_target"}, "no_target"),
        ({"revised_from": "11.9%"}, "revised"),
        ({"stale": "Latest available: 2021/22, 3 years 7 months before this report."}, "stale"),
    ],
)
def test_each_reason_makes_an_exception_and_says_so(changes, reason):
    listed = exceptions([tile("a"), tile("b", **changes), tile("c", variation_icon="special_cause_improvement")])
    assert [e["indicator_id"] for e in listed] == ["b"]
    assert listed[0]["reasons"] == [reason] and listed[0]["reason_texts"] == [EXCEPTION_REASONS[reason]]
    assert (listed[0]["value_text"], listed[0]["period_label"], listed[0]["anchor"]) == ("12.5%", "2024/25", "tile-b")


def test_an_exception_carries_every_reason_its_commentary_and_its_action_when_there_is_one():
    both = tile("x", target=None, stale="Old.", commentary="Volumes rose.", commentary_author="Head of Service")
    [listed] = exceptions([both])
    assert listed["reasons"] == ["stale", "no_target"]
    assert (listed["commentary"], listed["commentary_author"]) == ("Volumes rose.", "Head of Service")
    assert listed["action"] is None
    # the approved return's action, whole: what, by whom, by when
    action = {"action": "Two assessors start", "action_by": "Benefits Service", "action_due": date(2026, 7, 1)}
    assert exceptions([{**both, **action}])[0]["action"] == "Two assessors start (Benefits Service, by 1 July 2026)"
    assert exceptions([{**both, "action": "Review", "action_by": None, "action_due": None}])[0]["action"] == "Review"
    assert exceptions([tile("y"), tile("z", variation_icon="special_cause_neutral")]) == []


def test_the_most_pressing_exceptions_come_first_whatever_the_tiles_order():
    listed = exceptions(
        [
            tile("n1", target=None),
            tile("s", stale="Old."),
            tile("n2", target=None),
            tile("c", variation_icon="special_cause_concern", target=None),
            tile("g", green_but_bottom_quartile=True),
            tile("r", revised_from="1.0"),
        ]
    )
    assert [e["indicator_id"] for e in listed] == ["c", "g", "r", "s", "n1", "n2"]


def test_the_status_counts_add_up_to_the_tiles_and_keep_an_unknown_code():
    counted = status_counts([tile("a"), tile("b", rag="red", variation_icon=None), tile("c", rag="mystery")])
    assert dict((code, n) for code, _, n in counted["rag"]) == {
        "green": 1,
        "amber": 0,
        "red": 1,
        "not_rated": 0,
        "no_target": 0,
        "mystery": 1,
    }
    assert dict((code, n) for code, _, n in counted["variation"]) == {
        "special_cause_concern": 0,
        "special_cause_improvement": 0,
        "special_cause_neutral": 0,
        "common_cause": 2,
        "none": 1,
    }


# --- the summary in Chromium ------------------------------------------------------------------------


def counted_on_page(browser, table: str) -> dict[str, int]:
    return {
        li.get_attribute("data-status"): int(li.find_element(By.CSS_SELECTOR, ".n").text)
        for li in browser.find_elements(By.CSS_SELECTOR, f"#counts-{table} li")
    }


def test_the_page_opens_with_counts_recounted_from_the_tiles_and_their_exceptions(printed, browser, tiles):
    assert open_page(browser, printed, "index.html") == []
    # the summary comes before the first tile
    assert (
        browser.execute_script(
            "return document.querySelector('.summary').compareDocumentPosition(document.querySelector('.tile')) & 4"
        )
        == 4
    )
    rag = Counter(t["rag"] for t in tiles)
    variation = Counter(t["variation_icon"] or "none" for t in tiles)
    on_page = counted_on_page(browser, "rag")
    assert on_page == {code: rag.get(code, 0) for code in on_page} and sum(on_page.values()) == len(tiles)
    on_page = counted_on_page(browser, "spc")
    assert on_page == {code: variation.get(code, 0) for code in on_page} and sum(on_page.values()) == len(tiles)
    assert {"green", "amber", "red", "no_target"} <= set(counted_on_page(browser, "rag"))
    assert {"special_cause_concern", "special_cause_improvement", "common_cause"} <= set(
        counted_on_page(browser, "spc")
    )

    expected = exceptions(tiles)
    assert expected  # the small demo has some (stale figures, no targets, the claims series' concern)
    items = browser.find_elements(By.CSS_SELECTOR, ".exceptions .exception")
    assert [i.get_attribute("data-indicator") for i in items] == [e["indicator_id"] for e in expected]
    for item, exception in zip(items, expected):
        reasons = item.find_elements(By.CSS_SELECTOR, ".reasons li")
        assert [r.get_attribute("data-reason") for r in reasons] == exception["reasons"]
        assert f"{exception['value_text']} in {exception['period_label']}" in item.text
        assert item.find_element(By.CSS_SELECTOR, ".action").text == f"Action: {NO_ACTION}"
        link = item.find_element(By.CSS_SELECTOR, "a")
        assert link.get_attribute("href").endswith(f"#tile-{exception['indicator_id']}")
        assert browser.find_elements(By.ID, f"tile-{exception['indicator_id']}")


def test_every_reason_shows_its_words_commentary_and_action(warehouse, tiles, browser, tmp_path, monkeypatch):
    """Each reason on its own tile (the small demo has four indicators: one has two reasons),
    the approved commentary beside it, and an action once a tile carries one."""
    assert len(tiles) >= 4
    calm = {
        "variation_icon": "common_cause",
        "green_but_bottom_quartile": False,
        "target": 1.0,
        "revised_from": None,
        "stale": None,
    }
    changes = [
        {
            "variation_icon": "special_cause_concern",
            "commentary": "Claims rose.",
            "commentary_author": "Head of Benefits",
        },
        {"green_but_bottom_quartile": True, "action": "Review with the neighbours' best performer."},
        {"target": None},
        {"revised_from": "41.0%", "stale": "Latest available: 2021/22."},
    ]
    staged = [{**t, **calm, **change} for t, change in zip(tiles, changes)] + [{**t, **calm} for t in tiles[4:]]
    monkeypatch.setattr(report_module, "build_tiles", lambda connection, council, freshness: staged)
    monkeypatch.setenv(ENV, str(tmp_path / "no-chromium"))  # the HTML alone is enough here
    write(warehouse, tmp_path / "report")
    open_page(browser, tmp_path / "report", "index.html")
    items = {i.get_attribute("data-indicator"): i for i in browser.find_elements(By.CSS_SELECTOR, ".exception")}
    # most pressing first: the no-target tile after the revised and stale one
    assert list(items) == [t["indicator_id"] for t in (staged[0], staged[1], staged[3], staged[2])]
    reasons = {k: [r.text for r in item.find_elements(By.CSS_SELECTOR, ".reasons li")] for k, item in items.items()}
    first, second, third, fourth = (t["indicator_id"] for t in staged[:4])
    words = EXCEPTION_REASONS
    assert reasons == {
        first: [words["special_cause_concern"]],
        second: [words["green_but_bottom_quartile"]],
        third: [words["no_target"]],
        fourth: [words["revised"], words["stale"]],
    }
    commentary = items[first].find_element(By.CSS_SELECTOR, ".commentary").text
    assert commentary == "Commentary: Claims rose. (Head of Benefits)"
    assert items[first].find_element(By.CSS_SELECTOR, ".action").text == "Action: No action recorded"
    action = items[second].find_element(By.CSS_SELECTOR, ".action").text
    assert action == "Action: Review with the neighbours' best performer."
    assert counted_on_page(browser, "spc")["special_cause_concern"] == 1


# --- print: the layout with print media emulated ------------------------------------------------------


def visible(browser, css: str) -> list[bool]:
    """Whether each element is rendered (a closed details' content is not: checkVisibility says so)."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".map(e => e.checkVisibility() && e.getBoundingClientRect().height > 0)",
        css,
    )


def test_printing_opens_every_information_panel_and_leaves_out_navigation_and_filters(printed, browser, tiles):
    open_page(browser, printed, "index.html")
    Select(browser.find_element(By.ID, "filter-theme")).select_by_index(1)  # a reader filtered before printing
    assert not all(visible(browser, ".tile"))
    assert visible(browser, ".info dl") and not any(visible(browser, ".info dl"))
    assert all(visible(browser, "header nav")) and all(visible(browser, ".filters"))
    try:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        assert visible(browser, ".tile") == [True] * len(tiles)  # every tile, whatever the filter
        assert visible(browser, ".info dl") == [True] * len(tiles)
        assert visible(browser, ".info .limitations") == [True] * len(tiles)
        assert not any(visible(browser, "header nav")) and not any(visible(browser, ".filters"))
        assert all(visible(browser, ".summary"))
        assert browser.execute_script("return getComputedStyle(document.querySelector('.tile')).breakInside") == "avoid"
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


# --- report.pdf ------------------------------------------------------------------------------------------


def squeezed(text: str) -> str:
    """Text as pypdf gives it and as the page has it alike: ligatures undone, no white space."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def test_the_pdf_has_the_summary_first_and_no_tile_split_across_pages(printed, tiles):
    pypdf = pytest.importorskip("pypdf", reason="pypdf is a test dependency (pyproject.toml [test])")
    reader = pypdf.PdfReader(printed / "report.pdf")
    pages = [squeezed(page.extract_text()) for page in reader.pages]
    assert len(pages) > 1
    first = pages[0]
    assert squeezed("Summary: exceptions first") in first and squeezed(f"Page 1 of {len(pages)}") in first
    assert squeezed(f"Publication {PUBLICATION}") in first and squeezed("Trafford") in first
    assert squeezed(f"Page {len(pages)} of {len(pages)}") in pages[-1]
    assert all(squeezed(f"Publication {PUBLICATION}") in page for page in pages)  # the running header

    text = "".join(pages)
    starts = [sum(len(p) for p in pages[:i]) for i in range(len(pages))]
    page_of = lambda offset: max(i for i, start in enumerate(starts) if start <= offset)  # noqa: E731
    cursor = text.index(squeezed("Every indicator"))
    for t in tiles:  # in the page's order: each tile from its title to the last of its limitations
        begin = text.index(squeezed(t["title"]), cursor)
        end = text.index(squeezed(t["limitations"][-1]), begin) + len(squeezed(t["limitations"][-1])) - 1
        assert page_of(begin) == page_of(end), f"{t['title']} runs from page {page_of(begin) + 1} to {page_of(end) + 1}"
        cursor = end


def test_the_pdf_text_is_what_the_page_says_with_no_ligatures(printed):
    """A councillor who copies the publication id, or searches the PDF for 'figures', finds the text as typed:
    a font's ﬀ or ﬁ ligature would put another character into the PDF's text."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf is a test dependency (pyproject.toml [test])")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(printed / "report.pdf").pages)
    assert [c for c in text if unicodedata.normalize("NFKC", c) != c and "\ufb00" <= c <= "\ufb06"] == []
    assert f"Publication {PUBLICATION}" in text and "these figures passed" in text


def test_without_chromium_the_html_is_written_and_the_reason_returned(warehouse, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    nowhere = tmp_path / "nowhere" / "chromium"
    missing = write(warehouse, tmp_path / "report", environ={ENV: str(nowhere), "PATH": str(empty)})
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        "complaints.html",
        "index.html",
        "satisfaction.html",
    ]
    assert not missing.pdf.written
    assert missing.pdf.reason == (
        f"report.pdf not written: {ENV} names {nowhere}, which is not a program that can be run"
    )
    not_found = "report.pdf not written: no headless Chromium found (set LGPERF_CHROMIUM)"
    assert find_chromium({"PATH": str(empty)}) == (None, not_found)
    assert missing.counts["indicators"] == 4


def fake_chromium(folder: Path, body: str) -> Path:
    script = folder / "chromium"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_a_failing_or_hanging_chromium_leaves_no_pdf_and_says_why(printed, tmp_path):
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "index.html").write_bytes((printed / "index.html").read_bytes())
    # half a PDF, then a crash
    broken = fake_chromium(
        tmp_path,
        'for a in "$@"; do case "$a" in --print-to-pdf=*) printf "%%PDF-1.4 half" > "${a#*=}";; esac; done; exit 3',
    )
    outcome = write_pdf(folder, None, environ={ENV: str(broken)})
    assert not outcome.written and "Chromium exited with 3 without a complete PDF" in outcome.reason
    assert sorted(p.name for p in folder.iterdir()) == ["index.html"]

    pids = tmp_path / "pids"
    # it starts a child of its own, as Chromium does
    hanging = fake_chromium(tmp_path, f"echo $$ > {pids}; sleep 60 & echo $! >> {pids}; wait")
    started = time.monotonic()
    outcome = write_pdf(folder, None, environ={ENV: str(hanging)}, timeout=1)
    assert time.monotonic() - started < 20
    assert not outcome.written and outcome.reason == "report.pdf not written: Chromium took longer than 1 s"
    assert sorted(p.name for p in folder.iterdir()) == ["index.html"]
    time.sleep(0.5)
    for pid in pids.read_text().split():  # the whole process group was ended, the child too
        status = Path(f"/proc/{pid}/stat")
        assert not status.exists() or status.read_text().rsplit(")", 1)[1].split()[0] == "Z", pid


def test_the_report_asset_warns_in_plain_words_when_no_pdf_is_written(demo_baseline, tmp_path, monkeypatch):
    """The Dagster asset publishes the HTML without a PDF, logs why as a warning and says it in
    its metadata (the baseline is published: the report alone is materialised again)."""
    import shutil

    import dagster as dg

    from orchestration.definitions import build_definitions
    from tests.conftest import point_environment, run_assets

    folder = tmp_path / "run"
    shutil.copytree(demo_baseline, folder)
    env = point_environment(monkeypatch, folder)
    (env.export_dir / "report" / "report.pdf").unlink()  # else the unchanged page keeps the PDF printed before
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}:{os.path.dirname(sys.executable)}")
    monkeypatch.delenv(ENV, raising=False)
    report = dg.AssetKey(["exports", "report"])
    instance = dg.DagsterInstance.ephemeral()
    result = run_assets(build_definitions(env), "report_only", [report], instance)
    assert result.success
    reason = "report.pdf not written: no headless Chromium found (set LGPERF_CHROMIUM)"
    [materialised] = [
        e.event_specific_data.materialization
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == report
    ]
    assert materialised.metadata["report_pdf"].value == reason
    warned = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]
    assert any(reason in message for message in warned), warned
    published = env.export_dir / "report"
    assert (published / "index.html").exists() and not (published / "report.pdf").exists()
