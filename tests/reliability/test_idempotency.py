"""The pipeline twice on the same inputs (the small demo and the demo inbox) writes byte-identical
exports and leaves equal marts.

The first run is the session's ``demo_baseline``, the second its ``demo_second_run`` (conftest):
`make run` again on a copy of the first, with the same warehouse, the same demo inbox dropped
again and the same demo API.

What legitimately differs, and is excluded:
- ``quality/``: the auditor's report lists every validation run and keeps each run's failing rows
  under ``failing/<run_id>/``; a second run adds its own, by design.
- ``bi/lgperf_marts.duckdb``: a DuckDB database file holds block-allocation state that changes
  with every write; it is compared by content (every table, ORDER BY ALL) instead of bytes.
Nothing else is excluded.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from tests.conftest import RUN_OUTPUT

BYTE_COMPARED = ("open-data", "bi", "report")
NOT_BYTE_COMPARED = {"bi/lgperf_marts.duckdb"}


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def tables(path: Path, schema: str) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        names = [
            t
            for (t,) in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [schema]
            ).fetchall()
        ]
        return {t: connection.execute(f'SELECT * FROM "{schema}"."{t}" ORDER BY ALL').fetchall() for t in names}


def test_a_second_run_on_the_same_inputs_rewrites_identical_exports_and_marts(demo_baseline, demo_second_run, tried):
    tried(
        "refresh_all twice on the same inputs (small demo, demo inbox, same warehouse)",
        "open-data/, bi/*.parquet, report/*.html and report/report.pdf byte-identical; every marts.* table equal "
        "(ORDER BY ALL), the BI .duckdb equal by content; only the quality folder (it lists runs) differs",
        "idempotency",
    )
    exports, warehouse = demo_second_run / "exports", demo_second_run / "warehouse.duckdb"
    before = {name: files(demo_baseline / "exports" / name) for name in BYTE_COMPARED}
    marts_before = tables(demo_baseline / "warehouse.duckdb", "marts")
    second_run_id = re.search(
        r"\n  run (\S+): succeeded in ", (demo_second_run / RUN_OUTPUT).read_text(encoding="utf-8")
    ).group(1)

    for name in BYTE_COMPARED:
        after = files(exports / name)
        assert sorted(after) == sorted(before[name])
        assert after, name
        if name == "report":  # Chromium is here: the report has its PDF, kept as it was for the unchanged page
            assert "report.pdf" in after
        changed = [
            path for path in after if after[path] != before[name][path] and f"{name}/{path}" not in NOT_BYTE_COMPARED
        ]
        assert changed == [], f"{name}: {changed} differ after a second run on the same inputs"
        # the run really rewrote them (not merely left the old files): the folder is new
    assert (
        exports.joinpath("open-data", "datapackage.json").stat().st_mtime
        > demo_baseline.joinpath("exports", "open-data", "datapackage.json").stat().st_mtime
    )

    marts_after = tables(warehouse, "marts")
    # the twelve marts (return_drafts and complaints_by_ward the last two), the marker of the publication they come
    # from, and the revisions log: a second run on the same inputs publishes the same state, so even the marker stays
    # as it was
    assert sorted(marts_after) == sorted(marts_before) and len(marts_after) == 14
    assert {"publication", "revisions"} <= set(marts_after)
    for mart, rows in marts_before.items():
        # one publication so far: nothing revised yet; the small demo has no sustained SPC shift to propose a rebase for
        assert rows or mart in ("revisions", "spc_rebase_proposals", "return_drafts"), mart  # no return came back
        assert marts_after[mart] == rows, f"marts.{mart} changed on a second run on the same inputs"
    # the BI copy is the marts as BI holds them (counts controlled, the demo's column): the same on both runs
    bi_before = tables(demo_baseline / "exports" / "bi" / "lgperf_marts.duckdb", "marts")
    assert tables(exports / "bi" / "lgperf_marts.duckdb", "marts") == bi_before
    assert sorted(bi_before) == sorted(marts_after)
    # the second run inserted nothing new into raw: same counts as the first
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        inserted = connection.execute(
            "SELECT (SELECT count(*) FROM raw.lginform_values WHERE run_id = $1) "
            "+ (SELECT count(*) FROM raw.complaints WHERE run_id = $1) "
            "+ (SELECT count(*) FROM raw.survey_responses WHERE run_id = $1)",
            [second_run_id],
        ).fetchone()[0]
    assert inserted == 0
