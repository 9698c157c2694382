"""The open-data package: valid Frictionless, disclosure-controlled, formula-safe, byte-stable,
the large resources one CSV per financial year, an unchanged year's file kept as it was."""

import csv
import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import frictionless
import pytest

from exports import open_data
from exports.controlled_counts import COMPLAINTS
from exports.disclosure import SUPPRESSED
from exports.open_data import RESOURCES, InvalidPackage, write_open_data
from exports.partitions import MANIFEST

THRESHOLD = 5


# -- the package written from a real warehouse ----------------------------------------------------


@pytest.fixture
def warehouse(demo_baseline, tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_baseline / "warehouse.duckdb", path)
    return path


def write(warehouse: Path, destination: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return write_open_data(connection, destination, disclosure_min_count=THRESHOLD)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_resource(folder: Path, name: str) -> list[dict[str, str]]:
    """Every row of a resource written one CSV per financial year, year by year."""
    files = sorted((folder / name).glob("*.csv"))
    assert files, name
    return [row for path in files for row in read(path)]


def test_the_package_is_valid_frictionless_with_the_open_government_licence(warehouse, tmp_path):
    rows = write(warehouse, tmp_path / "open-data")
    report = frictionless.validate(str(tmp_path / "open-data" / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "message"])[:5]
    package = json.loads((tmp_path / "open-data" / "datapackage.json").read_text(encoding="utf-8"))
    assert (
        package["licenses"][0]["name"] == "OGL-UK-3.0"
        and package["sources"]
        and package["version"]
        and package["created"]
    )
    # the large resources one per financial year (the first publication revises nothing: no revisions file)
    by_year = [r.name for r in RESOURCES if r.by_financial_year]
    assert by_year == ["indicator_values", "revisions", "benchmarks"]
    wholes = list(dict.fromkeys(r.get("partition_of", r["name"]) for r in package["resources"]))
    assert wholes == [r.name for r in RESOURCES if r.name != "revisions"]
    schemas = {}
    for resource in package["resources"]:
        assert resource["schema"]["primaryKey"] and resource["schema"]["missingValues"] == ["", SUPPRESSED]
        written = len(read(tmp_path / "open-data" / resource["path"]))
        assert rows[resource["path"]] == written > 0
        if "partition_of" in resource:
            whole, year = resource["partition_of"], resource["financial_year"]
            assert resource["name"] == f"{whole}-{year}" and resource["path"] == f"{whole}/{year}.csv"
            assert schemas.setdefault(whole, resource["schema"]) == resource["schema"]  # the whole resource's schema
    assert sorted(schemas) == ["benchmarks", "indicator_values"] and not (tmp_path / "open-data" / "revisions").exists()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        years = connection.execute(
            "SELECT DISTINCT (year(period_start) - (month(period_start) < 4)::INT)::VARCHAR "
            "FROM marts.fct_indicator_values JOIN marts.dim_periods USING (period_id) ORDER BY 1"
        ).fetchall()
        written_years = sorted((tmp_path / "open-data" / "indicator_values").glob("*.csv"))
        assert [p.stem[:4] for p in written_years] == [y for (y,) in years]
        assert (
            sum(n for path, n in rows.items() if path.startswith("indicator_values/"))
            == connection.execute("SELECT count(*) FROM marts.fct_indicator_values").fetchall()[0][0]
        )


def test_an_unchanged_warehouse_gives_the_same_bytes(warehouse, tmp_path):
    def digest(folder: Path) -> dict[str, str]:
        return {
            p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    write(warehouse, tmp_path / "first")
    write(warehouse, tmp_path / "second")
    assert digest(tmp_path / "first") == digest(tmp_path / "second")


def test_a_new_period_rewrites_its_year_alone_and_an_unchanged_year_keeps_its_file(warehouse, tmp_path):
    """Two publications: the second revises the latest year, adds a period of 2030-31 and one
    dim_periods does not know, and withdraws the oldest year. Every other year's file is the same
    file (inode, modification time, bytes)."""
    folder = tmp_path / "open-data"
    with duckdb.connect(str(warehouse)) as connection:
        write_open_data(connection, folder, disclosure_min_count=THRESHOLD, publication_id="first")
        before = {p.relative_to(folder).as_posix(): (p.stat(), p.read_bytes()) for p in folder.rglob("*.csv")}
        metadata_before = {p.relative_to(folder).as_posix(): p.stat() for p in folder.rglob("*.csv-metadata.json")}
        years = sorted(p.stem for p in (folder / "indicator_values").glob("*.csv"))
        assert len(years) >= 3 and {f"benchmarks/{y}.csv" for y in years} <= set(before)
        oldest, revised = years[0], years[-1]
        connection.execute(f"""
            UPDATE marts.fct_indicator_values SET value = value + 1 WHERE period_id IN
                (SELECT period_id FROM temp.export_financial_years WHERE financial_year = '{revised}');
            INSERT INTO marts.dim_periods (period_id, period_label, period_start, period_end, frequency, period_source)
                VALUES ('fin_2030_31', '2030/31', DATE '2030-04-01', DATE '2031-03-31', 'annual', 'lginform');
            INSERT INTO marts.fct_indicator_values (indicator_id, area_code, period_id, value)
                SELECT indicator_id, area_code, 'fin_2030_31', value FROM marts.fct_indicator_values
                WHERE period_id = (SELECT min(period_id) FROM marts.fct_indicator_values)
                UNION ALL SELECT '90005', 'E08000009', 'mystery_period', 1.5;
            DELETE FROM marts.fct_indicator_values WHERE period_id IN
                (SELECT period_id FROM temp.export_financial_years WHERE financial_year = '{oldest}');
            """).fetchall()
        copied = connection.execute(
            "SELECT count(*) FROM marts.fct_indicator_values WHERE period_id = 'fin_2030_31'"
        ).fetchall()
        rows = write_open_data(connection, folder, disclosure_min_count=THRESHOLD, publication_id="second")
    after = {p.relative_to(folder).as_posix(): (p.stat(), p.read_bytes()) for p in folder.rglob("*.csv")}
    new = {"indicator_values/2030-31.csv", "indicator_values/unknown.csv"}
    changed = {f"indicator_values/{revised}.csv"} | new
    assert set(after) == set(before) - {f"indicator_values/{oldest}.csv"} | new  # a withdrawn year is not carried over
    for path, (stat, content) in after.items():
        if path in changed or path.endswith(("scorecard.csv", "satisfaction.csv", "summary.csv", "by_ward.csv")):
            continue  # the small resources are written every time
        old_stat, old_content = before[path]
        assert (stat.st_ino, stat.st_mtime_ns, content) == (old_stat.st_ino, old_stat.st_mtime_ns, old_content), path
    # a CSV's CSVW metadata says nothing that changed here: every one is the same file, the new years' are new
    metadata_after = {p.relative_to(folder).as_posix(): p.stat() for p in folder.rglob("*.csv-metadata.json")}
    assert set(metadata_after) == {f"{path}-metadata.json" for path in after}
    for path, stat in metadata_after.items():
        if path.removesuffix("-metadata.json") not in new:
            old_stat = metadata_before[path]
            assert (stat.st_ino, stat.st_mtime_ns) == (old_stat.st_ino, old_stat.st_mtime_ns), path
    path = f"indicator_values/{revised}.csv"
    assert after[path][0].st_ino != before[path][0].st_ino and after[path][1] != before[path][1]
    assert read(folder / "indicator_values" / "unknown.csv") == [
        {"indicator_id": "90005", "area_code": "E08000009", "period_id": "mystery_period", "value": "1.5"}
    ]
    assert rows["indicator_values/2030-31.csv"] == copied[0][0] > 0
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert {path for path, entry in manifest.items() if entry["publication"] == "second"} == changed
    assert all(manifest[path]["rows"] == n for path, n in rows.items() if "/" in path)
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["path"] for r in package["resources"]} == set(after) and package["publication"] == "second"
    assert {r["name"] for r in package["resources"]} >= {"indicator_values-2030-31", "indicator_values-unknown"}
    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "message"])[:5]


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_package_that_fails_validation_is_not_published_and_the_error_names_the_resource_and_field(
    warehouse, tmp_path, monkeypatch
):
    """A negative count in complaints_summary.csv (its field 'received' has minimum 0): the export stops
    before the swap, the previous publication stays byte for byte, no staging folder is left."""
    folder = tmp_path / "open-data"
    write(warehouse, folder)
    published = files(folder)
    real_write_csv = open_data.write_csv

    def negative_received(path, header, rows):
        rows = [list(row) for row in rows]
        if path.name == "complaints_summary.csv":
            rows[1][list(header).index("received")] = -7
        return real_write_csv(path, header, rows)

    monkeypatch.setattr(open_data, "write_csv", negative_received)
    with pytest.raises(InvalidPackage) as failure:
        write(warehouse, folder)
    message = str(failure.value)
    assert "not published" in message and "1 error(s)" in message
    assert "resource 'complaints_summary', row 3, field 'received': constraint-error" in message and "'-7'" in message
    assert files(folder) == published
    assert sorted(p.name for p in tmp_path.iterdir()) == ["open-data", "warehouse.duckdb"]  # no staging folder left


def test_a_kept_year_is_not_read_again_unless_its_descriptor_changed(warehouse, tmp_path, monkeypatch):
    """An unchanged year's file passed validation when it was published (partitions.json keeps the mark):
    republished, only the files written again are read; a new constraint reads the kept files too."""
    folder = tmp_path / "open-data"
    write(warehouse, folder)
    marks = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert marks and all(len(entry["validated"]) == 64 for entry in marks.values())
    checked: list[list[str]] = []
    real_from_descriptor = frictionless.Package.from_descriptor

    def spy(descriptor, **options):
        checked.append(sorted(r["path"] for r in descriptor["resources"]))
        return real_from_descriptor(descriptor, **options)

    monkeypatch.setattr(frictionless.Package, "from_descriptor", spy)
    write(warehouse, folder)
    assert checked[-1] == sorted(f"{r.name}.csv" for r in RESOURCES if not r.by_financial_year)
    # no value may be positive now: the kept years of indicator_values fail, and nothing is published
    published = files(folder)
    stricter = tuple(
        dataclasses.replace(r, constraints={**r.constraints, "value": {"maximum": 0}})
        if r.name == "indicator_values"
        else r
        for r in RESOURCES
    )
    monkeypatch.setattr(open_data, "RESOURCES", stricter)
    kept_year = r"resource 'indicator_values-\d{4}-\d{2}', row \d+, field 'value': constraint"
    with pytest.raises(InvalidPackage, match=kept_year):
        write(warehouse, folder)
    assert set(checked[-1]) >= {p for p in marks if p.startswith("indicator_values/")} and files(folder) == published


def test_no_count_of_one_to_four_people_is_published_and_no_total_gives_one_back(warehouse, tmp_path):
    write(warehouse, tmp_path / "open-data")
    complaints = read(tmp_path / "open-data" / "complaints_summary.csv")
    counts = COMPLAINTS.counts
    published = [int(r[c]) for r in complaints for c in counts if r[c] not in ("", SUPPRESSED)]
    assert published and not [n for n in published if 0 < n < THRESHOLD]
    suppressed = sum(r[c] == SUPPRESSED for r in complaints for c in counts)
    assert suppressed > 0  # the demo has small cells
    # every (period, service) total with its themes: never exactly one hidden cell per count
    by_key = {(r["period_id"], r["service"], r["theme"]): r for r in complaints}
    for (period, service, theme), total in by_key.items():
        if theme != "all" or service == "all":
            continue
        parts = [r for (p, s, t), r in by_key.items() if p == period and s == service and t != "all"]
        for column in counts:
            assert sum(r[column] == SUPPRESSED for r in [total, *parts]) != 1, (period, service, column)
    satisfaction = read(tmp_path / "open-data" / "resident_satisfaction.csv")
    small = [
        r for r in satisfaction if r["unweighted_n"] not in ("", SUPPRESSED) and 0 < int(r["unweighted_n"]) < THRESHOLD
    ]
    assert small == []
    assert all(r["percent_positive"] == SUPPRESSED for r in satisfaction if r["unweighted_n"] == SUPPRESSED)


def test_satisfaction_says_how_old_its_benchmark_is_and_how_many_group_comparisons_were_made(warehouse, tmp_path):
    write(warehouse, tmp_path / "open-data")
    satisfaction = read(tmp_path / "open-data" / "resident_satisfaction.csv")
    whole = [r for r in satisfaction if r["breakdown"] == "all" and r["benchmark_percent"]]
    # LGA round 28 (February 2021), the only round loaded, against
    # waves of 2024 and 2025: dated, stale, worded with caution
    assert whole and {r["benchmark_fieldwork_month"] for r in whole} == {"2021-02-01"}
    assert all(int(r["benchmark_age_months"]) > 24 and r["benchmark_stale"] == "true" for r in whole)
    assert all(
        "(a different method, and " in r["benchmark_statement"] and "significant" not in r["benchmark_statement"]
        for r in whole
    )
    groups = [r for r in satisfaction if r["breakdown"] != "all"]
    for wave in {(r["survey"], r["wave_start"]) for r in groups}:
        family = [r for r in groups if (r["survey"], r["wave_start"]) == wave]
        assert {r["tests_in_family"] for r in family} == {str(len(family))} and {r["fdr_level"] for r in family} == {
            "0.05"
        }
    assert all(
        r[c] == SUPPRESSED
        for r in groups
        if r["unweighted_n"] == SUPPRESSED
        for c in ("difference_from_rest", "difference_p_value", "difference_significant_fdr")
    )
    # Benjamini-Hochberg keeps fewer differences than testing each at 5% would
    shown = [r for r in groups if r["difference_p_value"] not in ("", SUPPRESSED)]
    significant = sum(r["difference_significant_fdr"] == "true" for r in shown)
    assert 0 < significant < sum(float(r["difference_p_value"]) < 0.05 for r in shown)


def test_published_numbers_equal_the_marts(warehouse, tmp_path):
    write(warehouse, tmp_path / "open-data")
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        received = connection.execute(
            "SELECT received FROM marts.complaints_summary WHERE service = 'all' AND theme = 'all' ORDER BY period_id"
        ).fetchall()
        asc5 = connection.execute(
            "SELECT value FROM marts.fct_indicator_values WHERE indicator_id = '90005' AND area_code = 'E08000009' "
            "ORDER BY period_id DESC LIMIT 1"
        ).fetchall()[0][0]
    totals = [r for r in read(tmp_path / "open-data" / "complaints_summary.csv") if r["service"] == r["theme"] == "all"]
    assert [int(r["received"]) for r in totals] == [n for (n,) in received]
    values = [
        r
        for r in read_resource(tmp_path / "open-data", "indicator_values")
        if r["indicator_id"] == "90005" and r["area_code"] == "E08000009"
    ]
    assert float(values[-1]["value"]) == asc5


def test_a_year_to_date_says_what_it_covers_is_compared_with_the_same_months_and_counts_the_overdue(
    warehouse, tmp_path
):
    """The demo's complaints run to 31 December 2025: 2025/26 is April to December (year to
    date), compared with April to December 2024; the stage 1 rate is over the responses due,
    the overdue never answered included (recomputed here from staging, not from the mart)."""
    write(warehouse, tmp_path / "open-data")
    package = json.loads((tmp_path / "open-data" / "datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in package["resources"] if r["name"] == "complaints_summary")
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    assert fields["period_complete"]["type"] == "boolean" and fields["coverage_end"]["type"] == "date"
    for column in (
        "coverage_start",
        "coverage_end",
        "period_complete",
        "coverage_label",
        "same_months_previous_year_received",
        "stage_1_due",
        "stage_1_on_time",
        "stage_1_percent_on_time",
        "stage_1_percent_upheld",
        "ombudsman_percent_upheld",
    ):
        assert fields[column]["description"], column  # from the dbt documentation of the mart
    assert (
        "overdue" in fields["stage_1_due"]["description"]
        and "same months" in fields["same_months_previous_year_received"]["description"]
    )
    totals = {
        r["period_id"]: r
        for r in read(tmp_path / "open-data" / "complaints_summary.csv")
        if r["service"] == r["theme"] == "all"
    }
    year_to_date, whole_year = totals["fin_2025_26"], totals["fin_2024_25"]
    assert (year_to_date["coverage_start"], year_to_date["coverage_end"], year_to_date["period_complete"]) == (
        "2025-04-01",
        "2025-12-31",
        "false",
    )
    assert year_to_date["coverage_label"] == "April to December 2025 (year to date)"
    assert (whole_year["coverage_end"], whole_year["period_complete"], whole_year["coverage_label"]) == (
        "2025-03-31",
        "true",
        "April 2024 to March 2025",
    )
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        same_months, due, on_time = connection.execute(
            "SELECT (SELECT count(DISTINCT complaint_id) FROM staging.stg_inbox__complaints "
            "        WHERE received_date BETWEEN DATE '2024-04-01' AND DATE '2024-12-31'), "
            "count(*) FILTER (WHERE responded_date IS NOT NULL OR due_date <= DATE '2025-12-31'), "
            "count(*) FILTER (WHERE responded_date <= due_date) "
            "FROM staging.stg_inbox__complaints WHERE stage = '1' AND received_date BETWEEN DATE '2025-04-01' "
            "AND DATE '2025-12-31'"
        ).fetchall()[0]
        answered = connection.execute(
            "SELECT count(*) FROM staging.stg_inbox__complaints WHERE stage = '1' AND responded_date IS NOT NULL "
            "AND received_date BETWEEN DATE '2025-04-01' AND DATE '2025-12-31'"
        ).fetchall()[0][0]
    assert int(year_to_date["same_months_previous_year_received"]) == same_months
    assert (int(year_to_date["stage_1_due"]), int(year_to_date["stage_1_on_time"])) == (due, on_time) and due > answered
    assert float(year_to_date["stage_1_percent_on_time"]) == round(100 * on_time / due, 1)


def test_text_a_spreadsheet_would_run_is_neutralised(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            'UPDATE marts.indicator_performance SET commentary = \'=HYPERLINK("http://x.example","click")\' '
            "WHERE indicator_id = '90005'"
        ).fetchall()
    write(warehouse, tmp_path / "open-data")
    scorecard = read(tmp_path / "open-data" / "performance_scorecard.csv")
    commentary = {r["commentary"] for r in scorecard if r["indicator_id"] == "90005"}
    assert commentary == {'\'=HYPERLINK("http://x.example","click")'}
    assert not any(v.startswith(("=", "+", "@")) for r in scorecard for v in r.values())


def test_complaints_by_ward_add_up_to_the_council_and_never_give_a_withheld_count_back(warehouse, tmp_path):
    write(warehouse, tmp_path / "open-data")
    wards = read(tmp_path / "open-data" / "complaints_by_ward.csv")
    councils = {
        r["period_id"]: r
        for r in read(tmp_path / "open-data" / "complaints_summary.csv")
        if r["service"] == r["theme"] == "all"
    }
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        truth = {
            (p, w): n
            for p, w, n in connection.execute(
                "SELECT period_id, ward, received FROM marts.complaints_by_ward"
            ).fetchall()
        }
    assert {w for _, w in truth} >= {"Altrincham", "Village", "Not known", "all"}
    counts = ("received", "stage_1_due", "stage_1_on_time")
    published = [int(r[c]) for r in wards for c in counts if r[c] != SUPPRESSED]
    assert published and not [n for n in published if 0 < n < THRESHOLD]
    for period, council in councils.items():
        rows = [r for r in wards if r["period_id"] == period]
        total = next(r for r in rows if r["ward"] == "all")
        assert [total[c] for c in counts] == [council[c] for c in counts]  # the council row is the summary's
        assert sum(truth[(period, r["ward"])] for r in rows if r["ward"] != "all") == truth[(period, "all")]
        for column in counts:  # a withheld ward never stands alone against a printed total
            assert sum(r[column] == SUPPRESSED for r in rows) != 1, (period, column)
        shown = [r for r in rows if r["ward"] != "all" and r["received"] != SUPPRESSED]
        assert all(int(r["received"]) == truth[(period, r["ward"])] for r in shown)
