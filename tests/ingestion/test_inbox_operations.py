"""The inbox as a council's data team runs it: records (not file names) decide what replaces
what, one read per file, files taken only once settled or marked, processed and refused files
filed away with a note. Real files, a real warehouse, and dbt's real staging models."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import point_environment, small_config

import ingestion.files
from ingestion.drop_folder import Readiness
from ingestion.inbox_folder import ingest_folder
from ingestion.layouts import load_layouts, load_vocabulary
from lgperf import warehouse
from lgperf.settings import DBT_PROJECT_DIR, load_pipeline_config
from orchestration.dbt import build_args, dbt_executable
from tests.reliability.bad_files import complaint, csv_bytes, survey, surveys

LAYOUTS, VOCABULARY = load_layouts(), load_vocabulary()
MAX_BYTES = 50 * 1024 * 1024


def ingest(connection, inbox: Path, folder: str, run_id: str = "run", **options):
    return ingest_folder(
        connection,
        inbox,
        folder,
        layouts=LAYOUTS,
        vocabulary=VOCABULARY,
        max_file_bytes=MAX_BYTES,
        run_id=run_id,
        **options,
    )


def month_of_complaints(month: int, count: int = 12) -> bytes:
    """``count`` complaints received in month ``month`` of 2025 (ids M<month>-<n>)."""
    day = date(2025, month, 3)
    rows = [
        complaint(
            f"M{month:02d}-{n}",
            **{
                "Date Received": f"{day:%d/%m/%Y} 09:00",
                "Target Date": f"{day + timedelta(days=20):%d/%m/%Y}",
                "Date Responded": f"{day + timedelta(days=10):%d/%m/%Y}",
            },
        )
        for n in range(1, count + 1)
    ]
    return csv_bytes(rows)


@pytest.fixture
def env(tmp_path, monkeypatch):
    config = small_config()
    config["inbox"] = {"reissue_names": ["surveys/wave_*.csv"]}
    return point_environment(monkeypatch, tmp_path, config=config)


def staged(env, model: str, columns: str) -> list[tuple]:
    """Build dbt's staging model on the warehouse (its unit and data tests too), then read it."""
    arguments = build_args(load_pipeline_config(env.config_path), [model], unit_tests=True)
    subprocess.run(
        [
            dbt_executable(),
            *arguments,
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(env.warehouse_path.parent / "dbt-target"),
        ],
        check=True,
        cwd=DBT_PROJECT_DIR,
    )
    with duckdb.connect(str(env.warehouse_path), read_only=True) as connection:
        return connection.execute(f"SELECT {columns} FROM staging.{model} ORDER BY ALL").fetchall()


def test_twelve_monthly_complaints_csv_keep_all_twelve_months_and_a_reissue_is_explicit(env):
    inbox = env.inbox_dir
    (inbox / "complaints").mkdir(parents=True)
    for month in range(1, 13):  # a CRM that always exports complaints.csv, one month at a time
        (inbox / "complaints" / "complaints.csv").write_bytes(month_of_complaints(month))
        with warehouse.connect(env.warehouse_path) as connection:
            [outcome] = ingest(connection, inbox, "complaints", run_id=f"month-{month}")
        assert (outcome.status, outcome.rows_accepted, outcome.replaces) == ("loaded", 12, ())
    rows = staged(env, "stg_inbox__complaints", "complaint_id, month(received_date)")
    assert len(rows) == 144 and {m for _, m in rows} == set(range(1, 13))

    # a re-issue is an explicit act: the manifest says this file replaces every complaints.csv so far
    (inbox / "complaints" / "complaints_corrected.csv").write_bytes(month_of_complaints(5, count=3))
    (inbox / "complaints" / "complaints_corrected.csv.manifest").write_text(
        "replaces: complaints.csv\n", encoding="utf-8"
    )
    with warehouse.connect(env.warehouse_path) as connection:
        [outcome] = ingest(connection, inbox, "complaints", run_id="reissue")
        assert connection.execute("SELECT replaces FROM raw.inbox_files WHERE run_id = 'reissue'").fetchall() == [
            ("complaints.csv",)
        ]
    assert outcome.replaces == ("complaints.csv",)
    assert (
        outcome.filed_as.with_name(outcome.filed_as.name + ".manifest").read_text(encoding="utf-8")
        == "replaces: complaints.csv\n"
    )
    assert staged(env, "stg_inbox__complaints", "complaint_id") == [("M05-1",), ("M05-2",), ("M05-3",)]


def test_a_file_name_rule_makes_a_same_name_file_a_reissue_and_other_names_accumulate(env):
    inbox = env.inbox_dir
    (inbox / "surveys").mkdir(parents=True)
    drops = [
        ("wave_2025.csv", surveys(3)),
        ("extra.csv", [survey("X1")]),
        ("wave_2025.csv", surveys(2)),
        ("extra.csv", [survey("X2")]),
    ]
    for index, (name, rows) in enumerate(drops):
        (inbox / "surveys" / name).write_bytes(csv_bytes(rows))
        with warehouse.connect(env.warehouse_path) as connection:
            [outcome] = ingest(
                connection,
                inbox,
                "surveys",
                run_id=f"drop-{index}",
                reissue_names=load_pipeline_config(env.config_path).inbox.reissue_names,
            )
        assert outcome.replaces == (("wave_2025.csv",) if name.startswith("wave_") else ())
    # R3, only in the first wave_2025.csv, went with it; both extra.csv files stand
    assert staged(env, "stg_inbox__survey_responses", "respondent_id") == [("R1",), ("R2",), ("X1",), ("X2",)]


def test_a_manifest_naming_no_earlier_file_or_an_unknown_key_refuses_the_file_in_plain_words(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "complaints").mkdir(parents=True)
    (inbox / "complaints" / "first.csv").write_bytes(month_of_complaints(1, 2))
    (inbox / "complaints" / "second.csv").write_bytes(month_of_complaints(2, 2))
    (inbox / "complaints" / "second.csv.manifest").write_text("replaces: frist.csv\n", encoding="utf-8")
    (inbox / "complaints" / "third.csv").write_bytes(month_of_complaints(3, 2))
    (inbox / "complaints" / "third.csv.manifest").write_text("replace: first.csv\n", encoding="utf-8")
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        outcomes = {o.file_name: o for o in ingest(connection, inbox, "complaints")}
        stored = dict(connection.execute("SELECT file_name, status FROM raw.inbox_files").fetchall())
    assert stored == {"first.csv": "loaded", "second.csv": "refused", "third.csv": "refused"}
    assert (
        "its manifest says it replaces 'frist.csv', but no file of that name was loaded in complaints/ "
        "(loaded: first.csv)" in outcomes["second.csv"].reason
    )
    assert (
        "its manifest third.csv.manifest is not valid (replace: Extra inputs are not permitted)"
        in outcomes["third.csv"].reason
    )
    note = (
        outcomes["third.csv"]
        .filed_as.with_name(outcomes["third.csv"].filed_as.name + ".txt")
        .read_text(encoding="utf-8")
    )
    assert note.startswith("third.csv, received ") and "was refused: nothing in it was loaded" in note
    assert outcomes["third.csv"].filed_as.with_name(outcomes["third.csv"].filed_as.name + ".manifest").exists()


def test_processed_and_refused_files_land_where_they_should_and_the_archive_is_unchanged(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "complaints").mkdir(parents=True)
    good = csv_bytes([complaint("C1"), complaint("C2", Stage="Stage 9"), complaint("C3")])
    (inbox / "complaints" / "a_good.csv").write_bytes(good)
    (inbox / "complaints" / "b_notes.csv").write_bytes(b"Just a note\r\nno layout here\r\n")
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        outcomes = {o.file_name: o for o in ingest(connection, inbox, "complaints")}
        archive = dict(connection.execute("SELECT file_name, content_gzip FROM raw.inbox_files").fetchall())
    assert sorted(p.name for p in (inbox / "complaints").iterdir()) == ["processed", "refused"]
    processed, refused = outcomes["a_good.csv"].filed_as, outcomes["b_notes.csv"].filed_as
    assert processed.parent == inbox / "complaints" / "processed" and refused.parent == inbox / "complaints" / "refused"
    stamp = outcomes["a_good.csv"].received_at.strftime("%Y-%m-%dT%H%M%SZ")
    assert processed.name == f"{stamp}_a_good.csv" and processed.read_bytes() == good
    assert gzip.decompress(archive["a_good.csv"]) == good == processed.read_bytes()
    assert gzip.decompress(archive["b_notes.csv"]) == refused.read_bytes()
    note = processed.with_name(processed.name + ".txt").read_text(encoding="utf-8")
    assert "3 rows received, 2 accepted, 1 quarantined" in note
    assert "row 3, column 'Stage': 'Stage 9' is not an allowed stage" in note
    why = refused.with_name(refused.name + ".txt").read_text(encoding="utf-8")
    assert "was refused" in why and f"Why: {outcomes['b_notes.csv'].reason}" in why and "missing column(s)" in why


def test_a_file_rewritten_while_it_is_read_is_left_for_the_next_look_then_taken_whole(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    (inbox / "surveys").mkdir(parents=True)
    path = inbox / "surveys" / "wave.csv"
    first, final = csv_bytes(surveys(40)), csv_bytes(surveys(41))
    path.write_bytes(first)
    real_read = ingestion.files._read_chunks
    rewrites = []

    def read_then_rewrite(handle, limit):  # the council's share rewrites the file under the reader
        content = real_read(handle, limit)
        if not rewrites:
            with open(path, "r+b") as writer:
                writer.write(final)
            rewrites.append(True)
        return content

    monkeypatch.setattr(ingestion.files, "_read_chunks", read_then_rewrite)
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        [outcome] = ingest(connection, inbox, "surveys")
        assert outcome.status == "waiting" and "changed while it was being read" in outcome.reason
        assert connection.execute("SELECT count(*) FROM raw.inbox_files").fetchall() == [(0,)]
        assert path.read_bytes() == final  # left in place
        [outcome] = ingest(connection, inbox, "surveys", run_id="next")
        assert (outcome.status, outcome.rows_received, outcome.sha256) == (
            "loaded",
            41,
            hashlib.sha256(final).hexdigest(),
        )
        stored = connection.execute("SELECT source_sha256, content_gzip FROM raw.inbox_files").fetchall()
    assert [(sha, gzip.decompress(content)) for sha, content in stored] == [(hashlib.sha256(final).hexdigest(), final)]


def test_a_file_rewritten_again_and_again_is_taken_whole_or_not_at_all(tmp_path):
    """A real writer rewrites the file in place, slowly, chunk by chunk, pausing between copies,
    while the inbox (settle time 0.5 s) keeps looking: every version taken is one the writer
    wrote whole, and its hash, rows and archive agree; a look during a copy leaves the file.
    Settling is the contract for a writer that never stalls mid-copy for the settle time (one
    that may uses a marker): the writer here writes a chunk every few milliseconds, and the
    settle time is half a second because a thread on a loaded 2-core machine can stall for a
    tenth of one (at 0.1 s the test once saw a torn copy taken after such a stall)."""
    inbox = tmp_path / "inbox"
    (inbox / "surveys").mkdir(parents=True)
    path = inbox / "surveys" / "wave.csv"
    versions = [csv_bytes(surveys(5_000, Weight=weight)) for weight in ("1.2", "1.4", "1.6")]  # the same length
    assert len({len(v) for v in versions}) == 1
    path.write_bytes(versions[0])
    stop, turn, longest_stall = threading.Event(), [0], [0.0]
    settle = 0.5

    def writer():
        while not stop.is_set():
            turn[0] += 1
            content = versions[turn[0] % len(versions)]
            try:
                with open(path, "r+b") as handle:
                    last = None
                    for start in range(0, len(content), 32 * 1024):
                        now = time.monotonic()  # the gap since the last chunk: how long the copy stood still
                        longest_stall[0] = max(longest_stall[0], now - (last or now))
                        last = now
                        handle.write(content[start : start + 32 * 1024])
                        handle.flush()
                        time.sleep(0.002)
            except FileNotFoundError:  # taken: the reader puts it back
                pass
            time.sleep(1.5 * settle * (turn[0] % 3))  # a pause of 0, 1.5 or 3 settle times between copies

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    statuses = []
    try:
        with warehouse.connect(tmp_path / "w.duckdb") as connection:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not {"waiting", "loaded"} <= set(statuses) or len(statuses) < 30:
                for outcome in ingest(
                    connection,
                    inbox,
                    "surveys",
                    run_id=f"try-{len(statuses)}",
                    readiness=Readiness(settle_seconds=settle),
                ):
                    statuses.append(outcome.status)
                    if outcome.filed_as is not None:
                        os.rename(outcome.filed_as, path)  # dropped again: the writer goes on rewriting it
                time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        stored = connection.execute("SELECT source_sha256, content_gzip, rows_received FROM raw.inbox_files").fetchall()
    whole = {hashlib.sha256(v).hexdigest(): v for v in versions}
    assert stored and {"waiting", "loaded"} <= set(statuses), statuses
    for sha, content, rows in stored:
        assert sha in whole and gzip.decompress(content) == whole[sha] and rows == 5_000, (
            f"a torn copy was taken; the writer's longest stall mid-copy: {longest_stall[0]:.3f} s (settle {settle} s)"
        )


def test_a_slow_copy_is_not_taken_early(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "surveys").mkdir(parents=True)
    path = inbox / "surveys" / "wave.csv"
    content = csv_bytes(surveys(50))
    path.write_bytes(content[: len(content) // 2])  # half copied, just now
    settle = Readiness(settle_seconds=60)
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        [outcome] = ingest(connection, inbox, "surveys", readiness=settle)
        assert outcome.status == "waiting" and "taken once unchanged for 60 s" in outcome.reason
        with open(path, "ab") as handle:
            handle.write(content[len(content) // 2 :])
        old = time.time() - 61
        os.utime(path, (old, old))  # the copy ended a minute ago
        [outcome] = ingest(connection, inbox, "surveys", readiness=settle)
        assert (outcome.status, outcome.rows_received) == ("loaded", 50)

        # a share that writes a marker: nothing is taken before it, however old the file
        (inbox / "surveys" / "late.csv").write_bytes(csv_bytes(surveys(2)))
        os.utime(inbox / "surveys" / "late.csv", (old, old))
        marker = Readiness(marker=True)
        [outcome] = ingest(connection, inbox, "surveys", readiness=marker)
        assert outcome.status == "waiting" and outcome.reason == "waiting for its marker late.csv.done"
        (inbox / "surveys" / "late.csv.done").touch()
        [outcome] = ingest(connection, inbox, "surveys", readiness=marker)
        assert outcome.status == "loaded" and outcome.filed_as.with_name(outcome.filed_as.name + ".done").exists()
    assert not (inbox / "surveys" / "late.csv.done").exists()
