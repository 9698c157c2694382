"""The benchmark data generator (the smoke case of `make bench` that `make test` runs)."""

import re

import duckdb
import pytest

from benchmarks.pipeline import add_a_period
from benchmarks.scales import REPLICA_STRIDE, SCALES, write_raw
from lgperf import warehouse


@pytest.fixture
def small(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        counts = write_raw(connection, SCALES["S"], run_id="bench-S")
    return tmp_path / "w.duckdb", counts


def test_scale_s_is_the_council_and_its_neighbours_40_indicators_8_years(small):
    path, counts = small
    assert counts["indicators"] == 40 and counts["areas"] == 16
    with duckdb.connect(str(path), read_only=True) as connection:
        spans = connection.execute(
            "SELECT max(year(p.start_date)) - min(year(p.start_date)) + 1 FROM raw.lginform_values AS v "
            "JOIN raw.lginform_periods AS p USING (period_id) GROUP BY v.metric_type_id"
        ).fetchall()
        assert {span for (span,) in spans} <= set(range(1, 9)) and max(spans)[0] == 8  # each indicator's latest 8 years
        assert (
            connection.execute("SELECT count(*) FROM raw.lginform_values").fetchall()[0][0] == counts["values"] > 5000
        )


def test_variants_have_ids_of_their_own_and_keep_their_units(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        # M's 200 indicators repeat the demo's metric types as variants
        from benchmarks.scales import indicator_ids
        from demo.catalogue import build_catalogue

        ids = indicator_ids(build_catalogue(), SCALES["M"])
        assert ids["metric_type_id"].is_unique and len(ids) == 200
        assert all(re.fullmatch(r"\d+", i) for i in ids["metric_type_id"])
        assert (ids[ids["replica"] > 0]["metric_type_id"].astype(int) > REPLICA_STRIDE).all()
        connection.execute("SELECT 1").fetchall()


def test_one_new_period_per_indicator_follows_its_latest(small):
    path, counts = small
    with duckdb.connect(str(path)) as connection:
        before = dict(
            connection.execute("SELECT metric_type_id, max(period_id) FROM raw.lginform_values GROUP BY 1").fetchall()
        )
        added = add_a_period(connection)
        after = dict(
            connection.execute("SELECT metric_type_id, max(period_id) FROM raw.lginform_values GROUP BY 1").fetchall()
        )
        per_indicator = connection.execute(
            "SELECT metric_type_id, count(*) FROM raw.lginform_values WHERE run_id = 'bench-next' GROUP BY 1"
        ).fetchall()
    assert added == 40 * 16 == sum(n for _, n in per_indicator)
    for metric, latest in before.items():
        following = after[metric]
        if re.fullmatch(r"fin_\d{4}_\d{2}_q4", latest):
            year = int(latest[4:8])
            assert following == f"fin_{year + 1}_{(year + 2) % 100:02d}_q1"
        elif re.fullmatch(r"fin_\d{4}_\d{2}_q\d", latest):
            assert following == latest[:-1] + str(int(latest[-1]) + 1)
        elif latest.startswith("fin_"):
            year = int(latest[4:8])
            assert following == f"fin_{year + 1}_{(year + 2) % 100:02d}"
        else:
            assert following == f"cal_{int(latest[4:8]) + 1}"
