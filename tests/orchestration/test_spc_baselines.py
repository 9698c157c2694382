"""SPC baselines through real Dagster runs: the pipeline proposes a rebase after a sustained
shift (the claimant count's limits still hold the 2021 peak, so a rising count reads as an
improvement), an officer accepts it in the library, and the next run charts a new baseline from
that period, keeps who accepted it and why, and retires the proposal."""

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from lgperf.settings import PROJECT_ROOT
from tests.conftest import point_environment, refresh_marts, small_config

# A scenario of several whole-pipeline refreshes (a minute or more): `make soak` runs it, `make test` leaves it out.
pytestmark = pytest.mark.soak

CLAIMANT_COUNT = {
    "path": str(PROJECT_ROOT / "demo" / "data" / "trafford_claimant_count.csv"),
    "format": "tidy",
    "indicators": [
        {
            "indicator": "Claimant count",
            "measure": "Count",
            "metric_type": "L0001",
            "label": "Claimant count",
            "unit": "persons",
            "polarity": "low_is_good",
        }
    ],
}
COUNCIL = "E08000009"


def run(folder: Path, monkeypatch, library: Path) -> None:
    """refresh_all up to the publication (the exports are not the subject)."""
    config = small_config()
    config["extracts"] = [CLAIMANT_COUNT]
    config["library"] = {"indicators": str(library)}
    assert refresh_marts(point_environment(monkeypatch, folder, config=config)).success


def rows(folder: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_a_proposed_rebase_accepted_in_the_library_starts_a_new_baseline_and_retires_the_proposal(
    demo_baseline, tmp_path, monkeypatch
):
    folder = tmp_path / "pipeline"
    shutil.copytree(demo_baseline, folder)
    library = tmp_path / "indicators.yml"
    shutil.copyfile(PROJECT_ROOT / "library" / "indicators.yml", library)
    run(folder, monkeypatch, library)

    # 37 monthly points from April 2021; from April 2022 on, 25 are all below the mean the 2021 peak set
    [(period, points, side, latest_icon)] = rows(
        folder,
        "SELECT proposed_period_id, shift_points, shift_side, latest_variation_icon "
        "FROM marts.spc_rebase_proposals WHERE indicator_id = 'L0001'",
    )
    assert (period, points, side, latest_icon) == ("cal_2022_m04", 25, "below", "special_cause_improvement")
    [(old_mean,)] = rows(
        folder, f"SELECT DISTINCT process_mean FROM marts.spc WHERE indicator_id = 'L0001' AND area_code = '{COUNCIL}'"
    )

    document = yaml.safe_load(library.read_text(encoding="utf-8"))
    [entry] = [e for e in document["indicators"] if e["id"] == "L0001"]
    entry["spc_baseline"] = {
        "rebase": [
            {
                "period": "cal_2022_m04",
                "reason": "Post-pandemic level settled",
                "accepted_by": "J Smith",
                "accepted_on": "2026-11-20",
            }
        ]
    }
    library.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    run(folder, monkeypatch, library)

    assert rows(folder, "SELECT count(*) FROM marts.spc_rebase_proposals WHERE indicator_id = 'L0001'") == [(0,)]
    segments = rows(
        folder,
        f"""SELECT baseline_segment, min(period_id), max(period_id), count(*), min(process_mean), max(process_mean)
                                FROM marts.spc WHERE indicator_id = 'L0001' AND area_code = '{COUNCIL}'
                                    GROUP BY 1 ORDER BY 1""",
    )
    assert [s[:4] for s in segments] == [
        (0, "cal_2021_m04", "cal_2022_m03", 12),
        (1, "cal_2022_m04", "cal_2024_m04", 25),
    ]
    assert segments[1][4] == segments[1][5] == 4414.0 and old_mean != 4414.0  # the new level, not the peak's
    # every area's chart of the indicator is rebased, not the council's alone
    assert rows(
        folder, "SELECT count(DISTINCT area_code) FROM marts.spc WHERE indicator_id = 'L0001' AND baseline_segment = 1"
    ) == rows(folder, "SELECT count(DISTINCT area_code) FROM marts.spc WHERE indicator_id = 'L0001'")
    [(record,)] = rows(folder, "SELECT spc_rebase_record FROM marts.dim_indicators WHERE indicator_id = 'L0001'")
    assert record == "cal_2022_m04: Post-pandemic level settled (accepted by J Smith on 2026-11-20)"
    # against its own level the latest month is no longer an improvement
    [(icon,)] = rows(
        folder,
        f"SELECT variation_icon FROM marts.spc WHERE indicator_id = 'L0001' AND area_code = '{COUNCIL}' "
        "AND period_id = 'cal_2024_m04'",
    )
    assert icon != "special_cause_improvement"
