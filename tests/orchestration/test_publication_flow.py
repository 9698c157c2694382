"""Write, audit, publish, through real Dagster runs of refresh_all against the demo API:
a revision that breaks a range check is blocked (marts and every export byte-identical, the run
failed naming the check), stays blocked with no new data and two of its three failed checks
waived, keeps an export materialised alone from running, goes out once a named person has
waived all three, and a corrected revision publishes."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.server import DemoServer
from lgperf import publication as wap
from tests.conftest import point_environment
from tests.reliability.snapshots import table_fingerprints

# A scenario of several whole-pipeline refreshes (a minute or more): `make soak` runs it, `make test` leaves it out.
pytestmark = pytest.mark.soak

FULL_REFRESH = {"ops": {"indicators_raw": {"config": {"full_refresh": True}}}}
OPEN_DATA = dg.AssetKey(["exports", "open_data"])
# a percentage of 250 breaks the range check of every suite that carries the council's value
BLOCKING = ["gx_benchmarks", "gx_fct_indicator_values", "gx_indicator_performance"]


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def published(folder: Path) -> tuple[dict, dict]:
    """The published marts (row hashes) and every export file but the auditor's quality folder."""
    exports = {k: v for k, v in digest(folder / "exports").items() if not k.startswith("quality/")}
    return table_fingerprints(folder / "warehouse.duckdb", "table_schema = 'marts'"), exports


def attempts(folder: Path) -> list[tuple]:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(
            "SELECT publication_id, decision, decided_by, state_of FROM audit.publications ORDER BY decided_at"
        ).fetchall()


def council_tax(folder: Path, period: str) -> float:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(
            "SELECT value FROM marts.fct_indicator_values WHERE indicator_id = '91023' "
            "AND area_code = 'E08000009' AND period_id = ?",
            [period],
        ).fetchall()[0][0]


def test_a_bad_revision_is_blocked_stays_blocked_and_goes_out_only_corrected_or_waived(
    demo_baseline, tmp_path, monkeypatch, capsys
):
    from orchestration.definitions import build_definitions

    folder = tmp_path / "pipeline"
    shutil.copytree(demo_baseline, folder)
    [(first_id, decision, _, _)] = attempts(folder)
    assert decision == "published"
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as connection:
        period = connection.execute(
            "SELECT max(period_id) FROM marts.fct_indicator_values WHERE indicator_id = '91023'"
        ).fetchall()[0][0]
    good = council_tax(folder, period)
    before = published(folder)
    assert json.loads((folder / "exports" / "open-data" / "datapackage.json").read_text())["publication"] == first_id

    with DemoServer() as server:
        config = yaml.safe_load((folder / "pipeline.yml").read_text(encoding="utf-8"))
        env = point_environment(
            monkeypatch,
            folder,
            config=config,
            LGINFORM_BASE_URL=server.url,
            LGINFORM_APPLICATION_KEY=DEMO_APPLICATION_KEY,
            LGINFORM_SECRET=DEMO_SECRET,
        )
        defs = build_definitions(env)
        instance = dg.DagsterInstance.ephemeral()

        def refresh(run_config=None) -> dg.ExecuteInProcessResult:
            return defs.resolve_job_def("refresh_all").execute_in_process(
                instance=instance, run_config=run_config, raise_on_error=False
            )

        # 1. a revision to 250% for the home council: blocked, nothing published, the run fails naming the check
        server.revise("91023", "E08000009", period, 250.0)
        capsys.readouterr()
        blocked = refresh(FULL_REFRESH)
        # this copy's warehouse path is not the baseline's, so the parse it kept is refused (step 2's control)
        assert "Unable to do partial parsing because profile has changed" in capsys.readouterr().out
        assert not blocked.success
        failure = next(e for e in blocked.all_events if e.event_type_value == "STEP_FAILURE")
        assert failure.step_key == "marts__publication"
        assert (
            f"blocked by {', '.join(BLOCKING)}: marts and every export are left as they were"
            in failure.event_specific_data.error.message
        )
        assert published(folder) == before
        assert [(d, json.loads(b)) for _, d, b, _ in attempts(folder)[1:]] == [
            ("blocked", [{"check": c} for c in BLOCKING])
        ]

        # 2. a named person waives two of the three checks, and the same runs again with no new data:
        # still blocked (the candidate still holds the bad value, one failed check is not waived),
        # and no waiver is used up
        with duckdb.connect(str(folder / "warehouse.duckdb")) as connection:
            waivers = [
                wap.grant_waiver(
                    connection,
                    check_name=c,
                    granted_by="Jane Smith, Head of Performance",
                    reason="confirmed with the revenues service",
                )
                for c in BLOCKING[:2]
            ]
        again = refresh()
        assert not again.success and [d for _, d, _, _ in attempts(folder)] == ["published", "blocked", "blocked"]
        # the record names each failed check, and the waiver of each one waived
        assert json.loads(attempts(folder)[2][2]) == [
            {"check": c, "waiver": w, "waived_by": "Jane Smith, Head of Performance"}
            for c, w in zip(BLOCKING[:2], waivers)
        ] + [{"check": BLOCKING[2]}]
        assert published(folder) == before
        with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as connection:
            assert connection.execute("SELECT count(*) FROM audit.waivers WHERE publication_id IS NULL").fetchall() == [
                (2,)
            ]
        # dbt re-used the parse this warehouse's last build kept (orchestration/dbt.py reuse_parse):
        # no file, var or profile changed since, so it did not parse the project again
        dbt_output = capsys.readouterr().out  # dagster-dbt echoes dbt's own lines to stdout
        assert "Running with dbt=" in dbt_output and "Unable to do partial parsing" not in dbt_output

        # 3. an export materialised alone after a blocked run refuses, naming why
        alone = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, asset_selection=[OPEN_DATA], raise_on_error=False
        )
        assert not alone.success
        message = next(
            e for e in alone.all_events if e.event_type_value == "STEP_FAILURE"
        ).event_specific_data.error.message
        assert "not exported: the latest publication attempt" in message and "was blocked" in message
        assert published(folder) == before

        # 4. the third check waived too: the publication goes out, marked waived
        with duckdb.connect(str(folder / "warehouse.duckdb")) as connection:
            waivers.append(
                wap.grant_waiver(
                    connection,
                    check_name=BLOCKING[2],
                    granted_by="Jane Smith, Head of Performance",
                    reason="confirmed with the revenues service",
                )
            )
        waived = refresh()
        assert waived.success
        waived_id, decision, decided_by, state_of = attempts(folder)[-1]
        assert decision == "waived" and state_of == waived_id
        assert json.loads(decided_by) == [
            {"check": c, "waiver": w, "waived_by": "Jane Smith, Head of Performance"} for c, w in zip(BLOCKING, waivers)
        ]
        assert council_tax(folder, period) == 250.0
        assert (
            json.loads((folder / "exports" / "open-data" / "datapackage.json").read_text())["publication"] == waived_id
        )
        with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as connection:
            assert connection.execute("SELECT DISTINCT publication_id FROM audit.waivers").fetchall() == [(waived_id,)]
        page = (folder / "exports" / "report" / "index.html").read_text(encoding="utf-8")
        assert f"Publication {waived_id}" in page
        tile = page[page.index('id="tile-91023"') :]
        following = tile.find('<li class="tile', 1)
        tile = tile[:following] if following > 0 else tile
        assert "<strong>Revised</strong> in this publication: previously published as" in tile
        files = sorted((folder / "exports" / "open-data" / "revisions").glob("*.csv"))  # one per financial year
        header = "publication_id,published_at,indicator_id,area_code,period_id,change,old_value,new_value"
        assert files and all(f.read_text(encoding="utf-8").splitlines()[0] == header for f in files)
        revisions = [line for f in files for line in f.read_text(encoding="utf-8").splitlines()[1:]]
        mine = [line for line in revisions if line.startswith(waived_id) and ",91023,E08000009," in line]
        assert len(mine) == 1 and mine[0].endswith(f",revised,{good:g},250")

        # 5. the waiver is used up; a corrected revision publishes on its own merits
        server.revise("91023", "E08000009", period, good)
        corrected = refresh()
        assert corrected.success
        corrected_id, decision, decided_by, _ = attempts(folder)[-1]
        assert decision == "published" and json.loads(decided_by) == []
        assert council_tax(folder, period) == good
        with duckdb.connect(str(folder / "exports" / "bi" / "lgperf_marts.duckdb"), read_only=True) as bi:
            assert bi.execute("SELECT publication_id FROM marts.publication").fetchall() == [(corrected_id,)]
