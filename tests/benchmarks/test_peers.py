"""The benchmark peers (benchmarks/peers.py): the hand-written DuckDB floor and the pandas peer
compute the same three marts as the pipeline, on a real small-demo warehouse."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from benchmarks.peers import KEYS, compare, read_table, run_floor, run_pandas
from tests.conftest import small_config


@pytest.fixture(scope="module")
def built(demo_baseline, tmp_path_factory):
    """A copy of the small-demo warehouse with the floor built, the pandas results and the marts."""
    config = small_config()
    path = tmp_path_factory.mktemp("peers") / "warehouse.duckdb"
    shutil.copyfile(demo_baseline / "warehouse.duckdb", path)
    connection = duckdb.connect(str(path))
    settings = dict(council=config["council"], comparison_groups=config["comparison_groups"], spc={})
    run_floor(connection, **settings)
    result = {
        # computed_at says which build computed a row: build metadata, not a figure the peers compute
        "marts": {name: read_table(connection, f"marts.{name}").drop(columns=["computed_at"]) for name in KEYS},
        "floor": {name: read_table(connection, f"floor.{name}") for name in KEYS},
        "pandas": run_pandas(connection, **settings),
    }
    connection.close()
    return result


@pytest.mark.parametrize("peer", ["floor", "pandas"])
@pytest.mark.parametrize("table", list(KEYS))
def test_peer_agrees_with_the_mart(built, peer, table):
    expected, actual = built["marts"][table], built[peer][table]
    assert len(expected) > 0
    assert len(actual) == len(expected)
    assert compare(expected, actual, keys=KEYS[table]) == []  # same rows, values within 1e-9


def test_marts_are_not_trivial(built):
    marts = built["marts"]
    assert marts["benchmarks"]["group_mad"].notna().sum() > 0
    assert marts["benchmarks"]["rank"].notna().sum() > 0
    assert (marts["spc"]["special_cause_rule"].notna()).sum() > 0
    assert set(marts["benchmarks"]["comparison_group_id"]) >= {"Trafford_CIPFA_Near_Neighbours"}


def test_compare_reports_a_value_off_by_1e_minus_6(built):
    expected = built["marts"]["spc"]
    changed = built["pandas"]["spc"].copy()
    row = changed.index[changed["process_mean"].notna()][0]
    changed.loc[row, "process_mean"] += 1e-6 * max(1.0, abs(changed.loc[row, "process_mean"]))
    problems = compare(expected, changed, keys=KEYS["spc"])
    assert len(problems) == 1
    assert problems[0].startswith("process_mean: 1 rows differ")


def test_compare_reports_a_removed_row_and_a_changed_string(built):
    expected = built["marts"]["benchmarks"]
    actual = built["floor"]["benchmarks"].iloc[1:].copy()
    removed = expected.merge(built["floor"]["benchmarks"].iloc[:1][KEYS["benchmarks"]], on=KEYS["benchmarks"])
    assert len(removed) == 1
    problems = compare(expected, actual, keys=KEYS["benchmarks"])
    assert len(problems) == 1
    assert problems[0].startswith("1 rows missing")
    assert str(removed.iloc[0]["area_code"]) in problems[0]

    extra = built["floor"]["fct_indicator_values"].copy()
    extra.loc[extra.index[0], "source_system"] = "somewhere else"
    problems = compare(built["marts"]["fct_indicator_values"], extra, keys=KEYS["fct_indicator_values"])
    assert problems == [problems[0]] and problems[0].startswith("source_system: 1 rows differ")


def test_compare_treats_nulls_as_equal_only_to_nulls(built):
    expected = built["marts"]["benchmarks"]
    actual = built["pandas"]["benchmarks"].copy()
    row = actual.index[actual["mads_from_median"].notna()][0]
    actual.loc[row, "mads_from_median"] = float("nan")
    problems = compare(expected, actual, keys=KEYS["benchmarks"])
    assert len(problems) == 1 and problems[0].startswith("mads_from_median: 1 rows differ")
