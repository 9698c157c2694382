"""The council's indicator library files: validated, with errors that name file, entry and key."""

from pathlib import Path

import pytest

from ingestion.library import LibraryError, read_library_file

LIBRARY = Path(__file__).parents[2] / "library"


@pytest.mark.parametrize("kind, entries", [("indicators", 11), ("targets", 14), ("commentary", 3)])
def test_the_project_library_files_are_valid(kind, entries):
    digest, rows = read_library_file(kind, LIBRARY / f"{kind}.yml")
    assert len(digest) == 64 and len(rows) == entries
    assert all(r["source_reference"].startswith(f"{kind}.yml#{kind}[") and r["source_sha256"] == digest for r in rows)


def test_target_history_is_kept_as_entries():
    _, rows = read_library_file("targets", LIBRARY / "targets.yml")
    recycling = sorted((r["set_on"].isoformat(), r["target"]) for r in rows if r["indicator_id"] == "90101" and r["year"] == 2021)
    assert recycling == [("2021-03-01", 55.0), ("2021-09-01", 60.0)]


@pytest.mark.parametrize(
    "text, named",
    [
        ("indicators:\n  - {id: '1', owner: a, rationale: b, theme: happiness, perspective: citizen, priority: p}\n", "indicators.0.theme"),
        ("indicators:\n  - {id: '1', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p, colour: red}\n", "indicators.0.colour: unknown key"),
        ("indicators:\n  - {id: 'X1', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p}\n", "indicators.0.id"),
        ("indicators: [unclosed\n", "not valid YAML"),
        ("indicators:\n  - {id: '1', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p, no_change_within: -1}\n",
         "indicators.0.no_change_within"),
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
    path.write_text("indicators:\n"
                    "  - {id: '1', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p, no_change_within: 10}\n"
                    "  - {id: '2', owner: a, rationale: b, theme: impact, perspective: citizen, priority: p}\n", encoding="utf-8")
    _, rows = read_library_file("indicators", path)
    assert [r["no_change_within"] for r in rows] == [10.0, None]


def test_a_missing_file_is_named_with_its_setting(tmp_path):
    with pytest.raises(LibraryError, match=r"absent.yml: library file not found \(pipeline.yml library.targets\)"):
        read_library_file("targets", tmp_path / "absent.yml")
