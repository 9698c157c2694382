"""The quality gate, family by family: data broken on purpose after a good run; the export is
blocked, the old export is untouched, and the auditor's report shows the failure with its rows
(personal data in them masked: the rows as found stay in the warehouse's audit schema).

One real refresh_all of the small demo is the baseline (conftest's demo_baseline); each case copies it,
breaks one thing in the warehouse, and runs the gate the way production does: the GX check and
the export in one Dagster run (so the blocking check stands between them), then the quality
report job. Every suite's families are also checked one by one at suite level below.
"""

import csv
import hashlib
import json
import re
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import point_environment, run_assets, small_config

from expectations.masking import REMOVED
from expectations.reduction import KEY_EXPECTATIONS
from expectations.runner import load_suites, read_frame, validate, validate_in_warehouse
from exports.quality_report import failing_rows_file
from lgperf import pseudonyms
from lgperf.publication import EPOCH, new_rows_since
from lgperf.settings import Environment

PUBLICATION = dg.AssetKey(["marts", "publication"])
OPEN_DATA = dg.AssetKey(["exports", "open_data"])
REPORT = dg.AssetKey(["exports", "report"])
SUITES = {s.name: s for s in load_suites()}


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def copy(demo_baseline, tmp_path, monkeypatch):
    """copy(config=None) -> this test's copy of the baseline, the environment pointing at it."""

    def make(config: dict | None = None) -> Environment:
        folder = tmp_path / "run"
        shutil.copytree(demo_baseline, folder)
        return point_environment(monkeypatch, folder, config=config)

    return make


def execute(env: Environment, sql: str) -> None:
    with duckdb.connect(str(env.warehouse_path)) as connection:
        connection.execute(sql).fetchall()


def run_gate(env: Environment) -> tuple[dg.ExecuteInProcessResult, str]:
    """The publish step (every suite on the candidate) and the exports in one run, then the
    quality report job."""
    from orchestration.definitions import build_definitions

    defs = build_definitions(env)
    instance = dg.DagsterInstance.ephemeral()
    result = run_assets(defs, "gate_and_export", [PUBLICATION, OPEN_DATA, REPORT], instance)
    assert (
        defs.resolve_job_def("quality_report_job").execute_in_process(instance=instance, raise_on_error=False).success
    )
    report = (env.export_dir / "quality" / "index.html").read_text(encoding="utf-8")
    return result, report


def failed_checks(env: Environment, run_id: str, suite: str) -> list[tuple[str, str, str]]:
    """(expectation, kwargs as audit.validation_results keeps them, severity) of each of
    ``suite``'s failed checks in ``run_id``."""
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        return connection.execute(
            "SELECT expectation, kwargs, severity FROM audit.validation_results WHERE run_id = ? AND suite = ? "
            "AND NOT success",
            [run_id, suite],
        ).fetchall()


def checked_column(kwargs: str) -> str:
    """The column (or columns, or "table") a check's kwargs name."""
    arguments = json.loads(kwargs)
    return arguments.get("column") or ",".join(arguments.get("column_list", [])) or "table"


def failures(env: Environment, run_id: str, suite: str = "fct_indicator_values") -> set[tuple[str, str, str]]:
    """What ``suite`` found (the publish step runs every suite: a broken fact also breaks the
    lineage of the benchmarks and the scorecard built on it, which their own suites report)."""
    return {(e, checked_column(k), s) for e, k, s in failed_checks(env, run_id, suite)}


LATEST = "(SELECT max(period_id) FROM candidate.fct_indicator_values WHERE indicator_id = '90005')"


def row_of(area: str) -> str:
    """The latest 90005 (a percentage) row of ``area``: each family breaks a row of its own."""
    return f"indicator_id = '90005' AND area_code = '{area}' AND period_id = {LATEST}"


# family: (how the fact is broken, what fct_indicator_values' suite finds, what identifies the
# planted row in that failure's rows: a table-level expectation has none). All eight are broken
# in one copy of the baseline and judged in one gate run: each family on its own rows, so the
# run also shows that one break never hides or sets off another family's check.
BROKEN = {
    "completeness": (
        f"UPDATE candidate.fct_indicator_values SET period_id = NULL WHERE {row_of('E08000009')}",
        ("expect_column_values_to_not_be_null", "period_id", "error"),
        ("area_code", "E08000009"),
    ),
    "uniqueness on the grain": (
        "INSERT INTO candidate.fct_indicator_values SELECT * FROM candidate.fct_indicator_values "
        f"WHERE {row_of('E08000002')}",
        ("expect_compound_columns_to_be_unique", "indicator_id,area_code,period_id", "error"),
        ("area_code", "E08000002"),
    ),
    "allowed values": (
        f"UPDATE candidate.fct_indicator_values SET source_system = 'a spreadsheet' WHERE {row_of('E08000007')}",
        ("expect_column_values_to_be_in_set", "source_system", "error"),
        ("source_system", "a spreadsheet"),
    ),
    "a percentage within 0-100": (
        f"UPDATE candidate.fct_indicator_values SET value = 112.5 WHERE {row_of('E08000029')}",
        ("expect_column_values_to_be_between", "value", "error"),
        ("value", "112.5"),
    ),
    "a count is a whole number": (
        # days with decimals, now called a count (the unit kind is dim_indicators' column, as dbt would derive it)
        "UPDATE candidate.dim_indicators SET unit = 'count', unit_kind = 'count' WHERE indicator_id = '91003'",
        ("expect_column_values_to_be_null", "whole_number_problem", "error"),
        ("indicator_id", "91003"),
    ),
    "referential integrity": (
        "INSERT INTO candidate.fct_indicator_values SELECT indicator_id, 'E09999999', period_id, value, "
        "source_system, source_reference, source_sha256, ingested_at, run_id, computed_at "
        f"FROM candidate.fct_indicator_values WHERE {row_of('E06000007')}",
        ("expect_column_values_to_be_null", "area_problem", "error"),
        ("area_code", "E09999999"),
    ),
    "lineage on every row": (
        f"UPDATE candidate.fct_indicator_values SET source_sha256 = 'typed in by hand' WHERE {row_of('E06000014')}",
        ("expect_column_values_to_match_regex", "source_sha256", "error"),
        ("source_sha256", "typed in by hand"),
    ),
    "row-count drift": (
        # 90101's 8 years x 16 areas are 128 of the 512 rows, the 25% allowed; with the two rows the
        # families above insert, three more deleted take the table one row below 384
        "DELETE FROM candidate.fct_indicator_values WHERE indicator_id = '90101' OR "
        f"({row_of('E06000015')}) OR ({row_of('E06000025')}) OR ({row_of('E06000030')})",
        ("expect_table_row_count_to_be_between", "table", "error"),
        None,
    ),
}


def test_each_broken_fact_blocks_the_export_and_the_report_shows_why(copy):
    env = copy()
    export = env.export_dir / "open-data"
    before = digest(export)
    for sql, _, _ in BROKEN.values():
        execute(env, sql)
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM candidate.fct_indicator_values").fetchall() == [(383,)]

    result, report = run_gate(env)

    assert not result.success
    materialised = {e.asset_key for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert OPEN_DATA not in materialised
    assert digest(export) == before  # byte for byte
    # each family's check, and nothing else (the demo's real Oflog series end in 2021/22 and
    # 2022/23: a freshness warning on every run)
    found = {f for f in failures(env, result.run_id) if f[2] == "error"}
    assert {family: expected for family, (_, expected, _) in BROKEN.items() if expected not in found} == {}
    assert found == {expected for _, expected, _ in BROKEN.values()}
    run = report[report.index(f"id='run-{result.run_id}'") :]
    assert "gate failed" in run[:400]
    assert "exports/open_data" in re.search(r"not written \(blocked or not run\)</span>: ([^<]*)</p>", run).group(1)
    # the failing rows are a click away (a table-level expectation has none): the planted row is among them
    section = run.split("<h2", 1)[0]
    linked = set(re.findall(r"href='(failing/[^']+)'", section))
    not_shown = {}
    for family, (_, (expectation, column, _), planted) in BROKEN.items():
        rows_files = failing_files(env, result.run_id, expectation, column)
        if planted is None:
            assert rows_files == [], family
            continue
        (rows_file,) = rows_files
        with (env.export_dir / "quality" / rows_file).open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        if rows_file.as_posix() not in linked or not any(r[planted[0]] == planted[1] for r in rows):
            not_shown[family] = (rows_file.as_posix(), rows[:3])
    assert not_shown == {}


def failing_files(env: Environment, run_id: str, expectation: str, column: str) -> list[Path]:
    """The failing rows' CSV files (relative to the quality folder) of fct_indicator_values'
    failed ``expectation`` on ``column`` in ``run_id``, where they exist."""
    return [
        path
        for e, kwargs, _ in failed_checks(env, run_id, "fct_indicator_values")
        if e == expectation and checked_column(kwargs) == column
        for path in [failing_rows_file(run_id, "fct_indicator_values", expectation, kwargs)]
        if (env.export_dir / "quality" / path).exists()
    ]


def found_in_quality_folder(env: Environment, *needles: str) -> list[str]:
    """Every file under EXPORT_DIR/quality (the index, the failing-row CSVs, every GX page) that
    holds one of ``needles`` (case-insensitive), with the needle."""
    folder = env.export_dir / "quality"
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    assert any(p.suffix == ".csv" for p in files) and any(p.relative_to(folder).parts[0] == "gx" for p in files)
    texts = {p: p.read_bytes().decode("utf-8", errors="replace").lower() for p in files}
    return [f"{p.relative_to(folder)}: {n}" for p, text in texts.items() for n in needles if n.lower() in text]


def kept_in_audit(env: Environment, run_id: str, suite: str) -> tuple[list[dict], str]:
    """The failing rows (audit.failing_rows, as JSON rows) and the failing samples of a run's suite."""
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        rows = connection.execute(
            "SELECT row_json FROM audit.failing_rows WHERE run_id = ? AND suite = ? ORDER BY row_number",
            [run_id, suite],
        ).fetchall()
        samples = connection.execute(
            "SELECT failing_sample FROM audit.validation_results WHERE run_id = ? AND suite = ?", [run_id, suite]
        ).fetchall()
    return [json.loads(r) for (r,) in rows], " ".join(s or "" for (s,) in samples)


def test_personal_data_in_the_scorecard_blocks_the_open_data_and_the_report(copy):
    env = copy()
    before = {name: digest(env.export_dir / name) for name in ("open-data", "report")}
    execute(
        env,
        "UPDATE candidate.indicator_performance SET narrative = narrative || ' Ask Jo Bloggs, jo.bloggs@example.org.' "
        "WHERE indicator_id = '91003'",
    )
    result, report = run_gate(env)
    assert not result.success
    materialised = {e.asset_key for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert not materialised & {OPEN_DATA, REPORT}
    assert {name: digest(env.export_dir / name) for name in ("open-data", "report")} == before
    assert ("expect_column_values_to_not_match_regex_list", "narrative", "error") in failures(
        env, result.run_id, "indicator_performance"
    )
    # the auditor sees what was caught, and where; the text itself stays in the warehouse's audit schema
    run = report[report.index(f"id='run-{result.run_id}'") :].split("<h2", 1)[0]
    assert "FAILED" in run and REMOVED["free_text"] in run
    assert found_in_quality_folder(env, "jo.bloggs@example.org", "Jo Bloggs") == []
    rows, samples = kept_in_audit(env, result.run_id, "indicator_performance")
    assert rows and all("jo.bloggs@example.org" in row["narrative"] for row in rows)
    assert "jo.bloggs@example.org" in samples


CANARY_ID, CANARY_ETHNICITY, CANARY_DISABILITY = "CX-CANARY-0412", "Zq-ethnicity-canary", "Zq-disability-canary"


def test_a_failing_complaint_shows_in_the_quality_folder_by_its_pseudonym_only(copy):
    """A complaint row with a bad stage blocks the publication; the auditor's folder shows its id
    as the keyed pseudonym (the same one run after run) and none of its personal values."""
    env = copy()
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        row = read_frame(connection, SUITES["raw_complaints"], {"published_through": EPOCH}).iloc[0]
    assert row["ethnicity"] != CANARY_ETHNICITY
    # loaded again just now (so not yet published: the raw suite judges it)
    execute(
        env,
        f"UPDATE raw.complaints SET stage = 'stage 9', complaint_id = '{CANARY_ID}', ethnicity = '{CANARY_ETHNICITY}', "
        f"disability = '{CANARY_DISABILITY}', ingested_at = now() "
        f"WHERE source_sha256 = '{row['source_sha256']}' AND row_number = {int(row['row_number'])}",
    )

    pseudonyms_shown = []
    for _attempt in (1, 2):  # blocked, and blocked again with nothing changed
        result, report = run_gate(env)
        assert not result.success
        assert ("expect_column_values_to_be_in_set", "stage", "error") in failures(env, result.run_id, "raw_complaints")
        with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
            expected = pseudonyms.pseudonym(pseudonyms.key(connection), CANARY_ID)
            assert connection.execute("SELECT count(*) FROM audit.pseudonym_key").fetchall() == [(1,)]
        assert found_in_quality_folder(env, CANARY_ID, CANARY_ETHNICITY, CANARY_DISABILITY) == []
        (path,) = (env.export_dir / "quality" / "failing" / result.run_id / "raw_complaints").glob("*.csv")
        with path.open(encoding="utf-8") as handle:
            shown = [r for r in csv.DictReader(handle) if r["stage"] == "stage 9"]
        assert [(r["complaint_id"], r["ethnicity"], r["disability"]) for r in shown] == [
            (expected, REMOVED["demographics"], REMOVED["demographics"])
        ]
        run = report[report.index(f"id='run-{result.run_id}'") :].split("<h2", 1)[0]
        assert expected in run  # the inline rows show the row's keys, the id among them
        rows, _ = kept_in_audit(env, result.run_id, "raw_complaints")
        assert [(r["complaint_id"], r["ethnicity"], r["disability"], r["stage"]) for r in rows] == [
            (CANARY_ID, CANARY_ETHNICITY, CANARY_DISABILITY, "stage 9")
        ]
        pseudonyms_shown.append(shown[0]["complaint_id"])
    assert pseudonyms_shown[0] == pseudonyms_shown[1] and pseudonyms_shown[0].startswith(pseudonyms.PREFIX)


def test_a_stale_indicator_is_a_warning_and_every_suite_has_its_data_docs_page(copy):
    """A gate run that passes with a warning: the export is written, and the run's section links
    every suite's GX page (the one site GX renders for the whole run)."""
    config = small_config()
    config["thresholds"]["freshness"]["as_of"] = "2030-01-01"
    env = copy(config)
    result, report = run_gate(env)
    assert result.success
    assert OPEN_DATA in {e.asset_key for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert failures(env, result.run_id) == {("expect_column_values_to_be_null", "freshness_problem", "warning")}
    run = report[report.index(f"id='run-{result.run_id}'") :].split("<h2", 1)[0]
    assert "gate passed" in run and "failed (warning)" in run
    assert "exports/open_data" in re.search(r"Exports written: ([^<]*)", run).group(1)
    assert "indicator 91003 (quarterly): latest period" in run

    linked = set(re.findall(r"href='gx/validations/([a-z_]+)/" + re.escape(result.run_id), run))
    assert linked == set(SUITES)
    pages = re.findall(r"href='(gx/validations/fct_indicator_values/[^']+\.html)'", run)
    assert pages and (env.export_dir / "quality" / pages[0]).exists()
    page = (env.export_dir / "quality" / pages[0]).read_text(encoding="utf-8")
    assert "expect_compound_columns_to_be_unique" in page or "compound" in page.lower()
    # GX's own index, which lists only this run, sends the reader to the quality report instead
    gx_index = (env.export_dir / "quality" / "gx" / "index.html").read_text(encoding="utf-8")
    assert "url=../index.html" in gx_index


# Suite level: each suite's families judged directly on its frame (fast; the gate wiring is proven above).


@pytest.fixture
def warehouse(copy):
    return copy()


PARAMETERS = {
    "run_id": None,
    "published_through": EPOCH,
    "council": "E08000009",
    "as_of": date(2025, 11, 1),
    "max_days_annually": 730,
    "max_days_quarterly": 365,
    "max_days_monthly": 180,
    "new_rows_since": EPOCH,
}  # as if nothing were published: every row is new
NO_DRIFT_BOUND = {"previous_rows_min": 0, "previous_rows_max": None}


def judge(env: Environment, suite_name: str, sql: str) -> set[tuple[str, str, str]]:
    """The suite's failures as the gate finds them (SQL reduces, GX judges), after checking that
    GX over the whole frame in pandas reaches the same verdict and counts on every expectation."""
    execute(env, sql)
    suite = SUITES[suite_name]
    # raw suites judge every row not yet published: here, every row (as if nothing had been published)
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        reduced = validate_in_warehouse(connection, suite, PARAMETERS, expectation_parameters=NO_DRIFT_BOUND).outcomes
        whole = validate(
            read_frame(connection, suite, PARAMETERS), suite, expectation_parameters=NO_DRIFT_BOUND
        ).outcomes
        if (
            suite.new_rows_column
        ):  # its keys are judged over its table, not over the frame (whose joins may repeat rows)
            expectations = suite.document["expectations"]
            keys = [i for i, e in enumerate(expectations) if e["type"] in KEY_EXPECTATIONS]
            on_table = validate(
                connection.execute(f"SELECT * FROM {suite.target}").df(),
                replace(suite, document={**suite.document, "expectations": [expectations[i] for i in keys]}),
                expectation_parameters=NO_DRIFT_BOUND,
            ).outcomes
            whole = [on_table[keys.index(i)] if i in keys else o for i, o in enumerate(whole)]
    for mine, yardstick in zip(reduced, whole, strict=True):
        counts = lambda o: (o.expectation, o.kwargs, o.success, o.element_count, o.unexpected_count)  # noqa: E731
        assert counts(mine) == counts(yardstick)
        assert len(mine.failing_rows) == min(yardstick.unexpected_count or 0, 1000) * (not yardstick.success)
    return {(o.expectation, o.kwargs.get("column") or "table", o.severity) for o in reduced if not o.success}


SUITE_CASES = {
    "no personal data in the narrative": (
        "indicator_performance",
        "UPDATE candidate.indicator_performance SET narrative = narrative || ' Call Jo on 0161 496 0123.' "
        "WHERE period_id = (SELECT max(period_id) FROM candidate.indicator_performance)",
        {("expect_column_values_to_not_match_regex_list", "narrative", "error")},
    ),
    "no personal data in a complaints label": (
        "complaints_summary",
        "UPDATE candidate.complaints_summary SET theme = 'jo.bloggs@example.org' "
        "WHERE received = (SELECT max(received) FROM candidate.complaints_summary)",
        {("expect_column_values_to_not_match_regex_list", "theme", "error")},
    ),
    "allowed RAG values": (
        "indicator_performance",
        "UPDATE candidate.indicator_performance SET rag = 'purple'",
        {("expect_column_values_to_be_in_set", "rag", "error")},
    ),
    "quartile bands": (
        "benchmarks",
        "UPDATE candidate.benchmarks SET quartile_band = 5 WHERE quartile_band = 4",
        {
            ("expect_column_values_to_be_in_set", "quartile_band", "error"),
            ("expect_column_values_to_be_null", "order_problem", "error"),
        },
    ),  # 5 contradicts the quartiles too
    "a quartile band that contradicts its quartiles": (
        "benchmarks",
        "UPDATE candidate.benchmarks SET quartile_band = 1 WHERE quartile_band = 4",
        {("expect_column_values_to_be_null", "order_problem", "error")},
    ),
    "benchmark lineage through the fact": (
        "benchmarks",
        "DELETE FROM candidate.fct_indicator_values WHERE indicator_id = '91003' AND area_code = 'E08000009'",
        {("expect_column_values_to_be_null", "lineage_problem", "error")},
    ),
    "an estimate inside its interval": (
        "resident_satisfaction",
        "UPDATE candidate.resident_satisfaction SET percent_positive = ci_upper + 1 WHERE breakdown = 'all'",
        {("expect_column_values_to_be_null", "interval_problem", "error")},
    ),
    "nothing received is lost": (
        "raw_inbox_files",
        "UPDATE raw.inbox_files SET rows_accepted = rows_accepted - 1 WHERE folder = 'surveys'",
        {("expect_column_values_to_be_null", "accounting_problem", "error")},
    ),
    "survey weights are positive": (
        "raw_survey_responses",
        "UPDATE raw.survey_responses SET weight = -1 WHERE row_number = 2",
        {("expect_column_values_to_be_between", "weight", "error")},
    ),
    "answers on their scale": (
        "raw_survey_responses",
        "UPDATE raw.survey_responses SET q_trust = 7 WHERE row_number = 3",
        {("expect_column_values_to_be_in_set", "q_trust", "error")},
    ),
    "no personal data in the redacted summary": (
        "raw_complaints",
        "UPDATE raw.complaints SET summary_redacted = 'Mrs Smith, SW1A 1AA, asked us to call' WHERE row_number = 2",
        {("expect_column_values_to_not_match_regex_list", "summary_redacted", "error")},
    ),
    "complaint dates in order": (
        "raw_complaints",
        "UPDATE raw.complaints SET responded_date = received_date - 3 WHERE row_number = 4 "
        "AND responded_date IS NOT NULL",
        {("expect_column_values_to_be_null", "date_order_problem", "error")},
    ),
    "a tolerance is a percentage": (
        "raw_library_targets",
        "UPDATE raw.library_targets SET tolerance_percent = 150 "
        "WHERE year = (SELECT max(year) FROM raw.library_targets)",
        {("expect_column_values_to_be_between", "tolerance_percent", "error")},
    ),
    "raw codes": (
        "raw_lginform_values",
        "UPDATE raw.lginform_values SET area_code = 'Trafford' WHERE area_code = 'E08000009' "
        "AND metric_type_id = '90005'",
        {("expect_column_values_to_match_regex", "area_code", "error")},
    ),
}


@pytest.mark.parametrize("case", SUITE_CASES)
def test_each_suite_catches_its_family(case, warehouse):
    suite, sql, expected = SUITE_CASES[case]
    assert judge(warehouse, suite, "SELECT 1") == set()  # the baseline passes
    assert judge(warehouse, suite, sql) == expected


def test_the_warehouse_scan_counts_what_gx_counts_on_whole_frames(warehouse):
    """Every suite, on data broken in several ways at once (repeated keys, missing values, values
    out of range and out of set, a failing regex): the same verdicts and counts both ways."""
    execute(
        warehouse,
        """
        INSERT INTO candidate.fct_indicator_values SELECT * FROM candidate.fct_indicator_values LIMIT 3;
        UPDATE candidate.fct_indicator_values SET value = 250 WHERE rowid % 7 = 0 AND value IS NOT NULL;
        UPDATE candidate.fct_indicator_values SET area_code = 'x' || area_code WHERE rowid % 11 = 0;
        UPDATE candidate.benchmarks SET quartile_band = NULL WHERE rowid % 5 = 0;
        UPDATE candidate.benchmarks SET quartile_band = 7 WHERE rowid % 13 = 0;
        UPDATE raw.survey_responses SET weight = 0 WHERE row_number % 3 = 0;
    """,
    )
    for name in SUITES:
        judge(warehouse, name, "SELECT 1")


def test_a_suite_of_new_rows_judges_the_rows_not_yet_published_and_keys_across_the_whole_table(warehouse):
    """benchmarks (meta.new_rows): after a publication, a row computed since is judged, a published
    row is not judged again (its build's gate judged it), and a new row repeating a published key
    is caught, as is a lost row by the row count."""
    suite = SUITES["benchmarks"]
    with duckdb.connect(str(warehouse.warehouse_path)) as connection:
        since = new_rows_since(connection, suite.table, suite.new_rows_column)
        assert since > EPOCH  # the baseline is published
        published = connection.execute("SELECT count(*) FROM marts.benchmarks").fetchall()[0][0]
        copied = connection.execute("""
            INSERT INTO candidate.benchmarks SELECT * REPLACE (computed_at + INTERVAL 1 HOUR AS computed_at)
                FROM candidate.benchmarks WHERE rowid % 19 = 2 AND quartile_band IS NOT NULL
        """).fetchall()[0][0]  # published rows again, as if computed anew: their keys repeat
        connection.execute(
            "UPDATE candidate.benchmarks SET quartile_band = 7 "  # published rows
            "WHERE rowid % 13 = 0 AND computed_at <= $since",
            {"since": since},
        ).fetchall()
        connection.execute(
            "UPDATE candidate.benchmarks SET quartile_band = 9, computed_at = computed_at + INTERVAL 1 HOUR "
            "WHERE rowid % 17 = 1 AND computed_at <= $since",
            {"since": since},
        ).fetchall()  # rows computed since

        def count(where: str) -> int:
            return connection.execute(
                f"SELECT count(*) FROM candidate.benchmarks WHERE {where}", {"since": since}
            ).fetchall()[0][0]

        new, total = count("computed_at > $since"), count("computed_at <= $since OR computed_at > $since")
        spoilt_new, spoilt_old = (
            count("computed_at > $since AND quartile_band = 9"),
            count("computed_at <= $since AND quartile_band = 7"),
        )
        outcomes = validate_in_warehouse(
            connection,
            suite,
            {**PARAMETERS, "new_rows_since": since},
            expectation_parameters={"previous_rows_min": total, "previous_rows_max": None},
        ).outcomes
    assert 0 < copied and 0 < spoilt_new < new < total and spoilt_old > 0 and total == published + copied
    by_column = {
        (o.expectation, o.kwargs.get("column") or "table", str(o.kwargs.get("min_value"))): o for o in outcomes
    }
    band = by_column[("expect_column_values_to_be_in_set", "quartile_band", "None")]
    assert (band.element_count, band.unexpected_count) == (new, spoilt_new)  # the published 7s are not judged again
    assert {row["quartile_band"] for row in band.failing_rows} == {9}
    keys = by_column[("expect_compound_columns_to_be_unique", "table", "None")]
    assert (keys.success, keys.element_count, keys.unexpected_count) == (False, total, 2 * copied)  # across old and new
    (rows,) = [o for o in outcomes if o.expectation == "expect_table_row_count_to_be_between" and o.severity == "error"]
    assert rows.success and rows.observed_value == total  # the whole table's rows, not the new ones'


def test_every_raw_source_and_exported_mart_has_a_suite():
    raw = {
        "raw_lginform_values",
        "raw_extract_files",
        "raw_inbox_files",
        "raw_survey_responses",
        "raw_complaints",
        "raw_library_targets",
    }
    marts = {
        "fct_indicator_values",
        "benchmarks",
        "indicator_performance",
        "resident_satisfaction",
        "complaints_summary",
        "complaints_by_ward",
    }
    assert raw | marts == set(SUITES)
    for name in marts:
        kinds = {e["type"] for e in SUITES[name].document["expectations"]}
        assert "expect_table_row_count_to_be_between" in kinds, f"{name}: no row-count drift"
        assert {"expect_compound_columns_to_be_unique"} <= kinds, f"{name}: no uniqueness on the grain"


def test_no_free_text_reaches_the_auditors_failing_rows(warehouse):
    """Failing rows are written to EXPORT_DIR/quality/failing/: the unredacted complaint summary
    and the unmapped (free-text) columns of surveys and complaints stay out of every frame."""
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as connection:
        for name in ("raw_complaints", "raw_survey_responses"):
            suite = SUITES[name]
            frame = read_frame(connection, suite, {"published_through": EPOCH})
            assert len(frame) > 0 and not {"summary", "extra"} & set(frame.columns), name
