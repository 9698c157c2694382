"""The council's indicator library files: validated, with errors that name file, entry and key."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestion.library import LibraryError, loaded_digests, read_library_file
from ingestion.raw_load import insert_records
from lgperf import warehouse

LIBRARY = Path(__file__).parents[2] / "library"


@pytest.mark.parametrize("kind, entries", [("indicators", 11), ("targets", 14), ("commentary", 3)])
def test_the_project_library_files_are_valid(kind, entries):
    digest, rows = read_library_file(kind, LIBRARY / f"{kind}.yml")
    assert len(digest) == 64 and len(rows) == entries
    assert all(r["source_reference"].startswith(f"{kind}.yml#{kind}[") and r["source_sha256"] == digest for r in rows)


def test_a_raw_count_links_to_its_rate_and_other_entries_link_to_none():
    """The claimant count (L0001) is compared with other councils as claimants per resident aged 16-64 (L0002)."""
    _, rows = read_library_file("indicators", LIBRARY / "indicators.yml")
    links = {r["indicator_id"]: r["compare_as"] for r in rows}
    assert links["L0001"] == "L0002" and [k for k, v in links.items() if v is not None] == ["L0001"]


def test_target_history_is_kept_as_entries():
    _, rows = read_library_file("targets", LIBRARY / "targets.yml")
    recycling = sorted(
        (r["set_on"].isoformat(), r["target"]) for r in rows if r["indicator_id"] == "90101" and r["year"] == 2021
    )
    assert recycling == [("2021-03-01", 55.0), ("2021-09-01", 60.0)]


@pytest.mark.parametrize(
    "text, named",
    [
        (
            "indicators:\n  - {id: '1', owner: a, rationale: b, theme: happiness, perspective: citizen, priority: p}\n",
            "indicators.0.theme",
        ),
        (
            "indicators:\n  - {id: '1', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p, "
            "colour: red}\n",
            "indicators.0.colour: unknown key",
        ),
        (
            "indicators:\n  - {id: 'X1', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p}\n",
            "indicators.0.id",
        ),
        (
            "indicators:\n  - {id: '1', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p, "
            "compare_as: rate}\n",
            "indicators.0.compare_as",
        ),
        ("indicators: [unclosed\n", "not valid YAML"),
        (
            "indicators:\n  - {id: '1', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p}\n"
            "  - {id: '1', owner: c, rationale: d, theme: impact, perspective: citizen, priority: p}\n",
            "indicators: Value error, entry 1 repeats indicator 1 of entry 0",
        ),
        (
            "indicators:\n  - {id: '1', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p, "
            "no_change_within: -1}\n",
            "indicators.0.no_change_within",
        ),
    ],
)
def test_bad_entries_name_the_file_entry_and_key(tmp_path, text, named):
    path = tmp_path / "indicators.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LibraryError) as error:
        read_library_file("indicators", path)
    assert str(path) in str(error.value) and named in str(error.value)


def test_an_indicators_own_no_change_band_is_read_in_its_unit_and_is_optional(tmp_path):
    path = tmp_path / "indicators.yml"
    path.write_text(
        "indicators:\n"
        "  - {id: '1', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p, "
        "no_change_within: 10}\n"
        "  - {id: '2', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p}\n",
        encoding="utf-8",
    )
    _, rows = read_library_file("indicators", path)
    assert [r["no_change_within"] for r in rows] == [10.0, None]


def test_a_missing_file_is_named_with_its_setting(tmp_path):
    with pytest.raises(LibraryError, match=r"absent.yml: library file not found \(pipeline.yml library.targets\)"):
        read_library_file("targets", tmp_path / "absent.yml")


def test_an_accepted_spc_rebase_is_kept_with_its_reason_officer_and_date(tmp_path):
    path = tmp_path / "indicators.yml"
    path.write_text(
        "indicators:\n  - id: L0001\n    owner: a\n    rationale: b\n    theme: impact\n    perspective: citizen\n"
        "    priority: p\n"
        "    spc_baseline:\n      freeze_after_points: 24\n      rebase:\n"
        "        - {period: cal_2022_m04, reason: Universal Credit migration settled, accepted_by: J Smith, "
        "accepted_on: 2026-11-20}\n"
        "        - {period: cal_2025_m01, reason: New definition, accepted_by: A Khan, accepted_on: 2026-11-21}\n",
        encoding="utf-8",
    )
    [row] = read_library_file("indicators", path)[1]
    assert row["spc_freeze_after_points"] == 24
    assert row["spc_rebase_periods"] == "cal_2022_m04,cal_2025_m01"
    assert row["spc_rebase_record"] == (
        "cal_2022_m04: Universal Credit migration settled (accepted by J Smith on 2026-11-20); "
        "cal_2025_m01: New definition (accepted by A Khan on 2026-11-21)"
    )


def test_an_entry_without_spc_baseline_has_empty_baseline_columns():
    _, rows = read_library_file("indicators", LIBRARY / "indicators.yml")
    assert {(r["spc_freeze_after_points"], r["spc_rebase_periods"], r["spc_rebase_record"]) for r in rows} == {
        (None, None, None)
    }


@pytest.mark.parametrize(
    "baseline, named",
    [
        (
            "{freeze_after_points: 6}",
            "indicators.0.spc_baseline.freeze_after_points",
        ),  # NHSRplotthedots asks for 12 or more
        (
            "{rebase: [{period: April 2022, reason: r, accepted_by: o, accepted_on: 2026-11-20}]}",
            "indicators.0.spc_baseline.rebase.0.period",
        ),
        (
            "{rebase: [{period: cal_2022_m04, reason: r, accepted_on: 2026-11-20}]}",
            "indicators.0.spc_baseline.rebase.0.accepted_by",
        ),
    ],
)
def test_a_bad_spc_baseline_names_the_key(tmp_path, baseline, named):
    path = tmp_path / "indicators.yml"
    path.write_text(
        "indicators:\n  - {id: '1', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p, "
        f"spc_baseline: {baseline}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(LibraryError, match=named.replace(".", r"\.")):
        read_library_file("indicators", path)


def test_the_versions_already_loaded_are_known_by_their_digest(tmp_path):
    digest, rows = read_library_file("targets", LIBRARY / "targets.yml")
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        assert loaded_digests(connection) == set()
        now = datetime.now(UTC)
        insert_records(connection, "raw.library_targets", [{**r, "ingested_at": now, "run_id": "r1"} for r in rows])
        assert loaded_digests(connection) == {digest}
