"""The publish barrier's parts on a small DuckDB warehouse: the atomic swap, what a reader
sees during it, and when an export may read marts."""

from __future__ import annotations

import threading

import pytest

from lgperf import publication as wap
from lgperf import warehouse


@pytest.fixture
def store(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as connection:
        connection.execute(
            "CREATE TABLE candidate.values_ AS SELECT range AS id, range * 1.5 AS v "
            "FROM range(1000); CREATE TABLE candidate.other AS SELECT 1 AS one"
        ).fetchall()
        yield connection, wap.MartsStore(connection)


def publish(connection, store, publication_id: str, decision: str = "published") -> str:
    names = wap.tables(store, wap.CANDIDATE)
    state = wap.swap_in(store, publication_id, names, wap.EPOCH)
    wap.record(
        connection,
        publication_id=publication_id,
        run_id="run-" + publication_id,
        decision=decision,
        decided_by=[],
        fingerprint=state,
        raw_through=None,
        row_counts={n: 1 for n in names},
        state_of=publication_id,
    )
    return state


def test_the_swap_replaces_every_table_and_names_the_publication(store):
    connection, marts = store
    state = publish(connection, marts, "p1")
    assert wap.tables(marts, wap.PUBLISHED) == ["other", "revisions", "values_"]
    assert connection.execute("SELECT count(*), sum(v) FROM marts.values_").fetchall() == [(1000, 749250.0)]
    assert wap.marker(marts) == ("p1", state)
    assert wap.fingerprint(marts, wap.PUBLISHED, ["other", "values_"]) == wap.fingerprint(
        marts, wap.CANDIDATE, ["other", "values_"]
    )
    # a table the candidate no longer has leaves marts with the next publication
    connection.execute("DROP TABLE candidate.other").fetchall()
    publish(connection, marts, "p2")
    assert wap.tables(marts, wap.PUBLISHED) == ["revisions", "values_"]
    assert wap.require_published(connection, marts) == "p2"


def test_a_reader_holding_marts_during_a_publish_sees_the_old_state_or_the_new_one(store, tmp_path):
    connection, marts = store
    publish(connection, marts, "p1")
    connection.execute("UPDATE candidate.values_ SET v = v + 1").fetchall()
    reader = connection.cursor()  # a second connection to the same database, as another reader would hold
    reader.begin()
    before = reader.execute(
        "SELECT sum(v), (SELECT publication_id FROM marts.publication) FROM marts.values_"
    ).fetchall()
    publisher = threading.Thread(target=publish, args=(connection, marts, "p2"))
    publisher.start()
    publisher.join()
    during = reader.execute(
        "SELECT sum(v), (SELECT publication_id FROM marts.publication) FROM marts.values_"
    ).fetchall()
    reader.commit()
    after = reader.execute(
        "SELECT sum(v), (SELECT publication_id FROM marts.publication) FROM marts.values_"
    ).fetchall()
    assert before == during == [(749250.0, "p1")]
    assert after == [(750250.0, "p2")]


def test_a_swap_that_fails_half_way_leaves_marts_as_it_was(store, monkeypatch):
    connection, marts = store
    publish(connection, marts, "p1")
    before = wap.fingerprint(marts, wap.PUBLISHED, wap.tables(marts, wap.PUBLISHED))
    connection.execute("UPDATE candidate.values_ SET v = -1").fetchall()
    replaced = []
    real = marts.replace_table

    def fail_on_the_second(target: str, source: str) -> None:
        real(target, source)
        replaced.append(target)
        if len(replaced) == 2:
            raise OSError("disk full")

    monkeypatch.setattr(marts, "replace_table", fail_on_the_second)
    with pytest.raises(OSError, match="disk full"):
        publish(connection, marts, "p2")
    assert replaced == ["marts.other", "marts.values_"]  # both were replaced inside the transaction, then rolled back
    assert wap.fingerprint(marts, wap.PUBLISHED, wap.tables(marts, wap.PUBLISHED)) == before
    assert wap.marker(marts)[0] == "p1" and wap.require_published(connection, marts) == "p1"


def test_exports_may_read_marts_only_when_the_latest_attempt_went_out_and_marts_holds_its_state(store):
    connection, marts = store
    with pytest.raises(wap.NotPublished, match="nothing has been published yet"):
        wap.require_published(connection, marts)
    publish(connection, marts, "p1")
    assert wap.require_published(connection, marts) == "p1"

    wap.record(
        connection,
        publication_id="p2",
        run_id="run-p2",
        decision="blocked",
        decided_by=[{"check": "gx_x"}],
        fingerprint=None,
        raw_through=None,
        row_counts={},
    )
    with pytest.raises(wap.NotPublished, match=r"latest publication attempt \(p2, run run-p2\) was blocked"):
        wap.require_published(connection, marts)

    publish(connection, marts, "p3")
    connection.execute("UPDATE marts.values_ SET v = 0 WHERE id = 7").fetchall()  # by hand, not by a publication
    with pytest.raises(wap.NotPublished, match="marts has changed since publication p3"):
        wap.require_published(connection, marts)


def test_a_waiver_needs_a_name_and_a_reason_and_is_used_once(store):
    connection, _ = store
    with pytest.raises(ValueError, match="name of the person"):
        wap.grant_waiver(connection, check_name="gx_x", granted_by=" ", reason="because")
    first = wap.grant_waiver(
        connection, check_name="gx_x", granted_by="Jane Smith", reason="confirmed with the service"
    )
    assert wap.open_waivers(connection, ["gx_x", "gx_y"]) == {"gx_x": (first, "Jane Smith")}
    wap.use_waivers(connection, [first], "p9")
    assert wap.open_waivers(connection, ["gx_x"]) == {}
    assert connection.execute("SELECT publication_id FROM audit.waivers").fetchall() == [("p9",)]


def test_the_drift_baseline_and_the_raw_watermark_come_from_the_last_publication_that_went_out(store):
    connection, marts = store
    assert wap.published_through(connection) == wap.EPOCH and wap.published_row_counts(connection) == {}
    publish(connection, marts, "p1")
    connection.execute(
        "UPDATE audit.publications SET raw_through = TIMESTAMPTZ '2025-01-01 00:00:00+00', "
        "row_counts = '{\"values_\": 1000}'"
    ).fetchall()
    wap.record(
        connection,
        publication_id="p2",
        run_id="r2",
        decision="blocked",
        decided_by=[],
        fingerprint=None,
        raw_through=None,
        row_counts={"values_": 3},
    )
    assert wap.published_row_counts(connection) == {"values_": 1000}  # a blocked attempt never becomes the baseline
    assert str(wap.published_through(connection)).startswith("2025-01-01")


def test_each_publication_lists_the_values_it_adds_revises_and_withdraws(store):
    connection, marts = store
    connection.execute(
        "CREATE TABLE candidate.fct_indicator_values AS SELECT * FROM (VALUES "
        "('1', 'E08000009', 'fin_2023_24', 50.0), ('1', 'E08000009', 'fin_2024_25', 52.0), "
        "('2', 'E08000009', 'fin_2024_25', NULL)) AS v(indicator_id, area_code, period_id, value)"
    ).fetchall()
    publish(connection, marts, "p1")
    assert connection.execute("SELECT count(*) FROM marts.revisions").fetchall() == [(0,)]  # the first replaces nothing
    connection.execute(
        "UPDATE candidate.fct_indicator_values SET value = 53.5 "
        "WHERE period_id = 'fin_2024_25' AND indicator_id = '1'; "
        "UPDATE candidate.fct_indicator_values SET value = 7 WHERE indicator_id = '2'; "
        "DELETE FROM candidate.fct_indicator_values WHERE period_id = 'fin_2023_24'; "
        "INSERT INTO candidate.fct_indicator_values VALUES ('1', 'E08000009', 'fin_2025_26', 55.0)"
    ).fetchall()
    publish(connection, marts, "p2")
    revisions = connection.execute(
        "SELECT publication_id, indicator_id, period_id, change, old_value, new_value "
        "FROM marts.revisions ORDER BY indicator_id, period_id"
    ).fetchall()
    assert revisions == [
        ("p2", "1", "fin_2023_24", "withdrawn", 50.0, None),
        ("p2", "1", "fin_2024_25", "revised", 52.0, 53.5),
        ("p2", "1", "fin_2025_26", "added", None, 55.0),
        ("p2", "2", "fin_2024_25", "revised", None, 7.0),  # a value where there was none is a revision of that cell
    ]
    assert wap.same_state(marts, wap.tables(marts, wap.CANDIDATE))
    assert wap.require_published(connection, marts) == "p2"


def test_a_publication_of_the_same_state_writes_nothing_and_names_the_one_that_made_it(store):
    connection, marts = store
    names = wap.tables(marts, wap.CANDIDATE)
    first, state_of = wap.publish(marts, "p1", names, wap.EPOCH)
    assert state_of == "p1" and wap.marker(marts) == ("p1", first)
    assert wap.publish(marts, "p2", names, wap.EPOCH) == (first, "p1") and wap.marker(marts) == ("p1", first)
    assert wap.row_counts(marts, wap.CANDIDATE, names) == {"other": 1, "values_": 1000}
    connection.execute("UPDATE candidate.values_ SET v = 0 WHERE id = 3").fetchall()
    changed, state_of = wap.publish(marts, "p3", names, wap.EPOCH)
    assert state_of == "p3" and changed != first and wap.marker(marts) == ("p3", changed)


def test_a_failed_check_blocks_unless_a_named_person_waived_it():
    assert wap.decide([], {}) == wap.Decision("published", [], [])
    waivers = {"gx_a": ("W1", "Jane Smith")}
    assert wap.decide(["gx_a"], waivers) == wap.Decision(
        "waived", [], [{"check": "gx_a", "waiver": "W1", "waived_by": "Jane Smith"}]
    )
    assert wap.decide(["gx_a", "gx_b"], waivers) == wap.Decision(
        "blocked", ["gx_b"], [{"check": "gx_a", "waiver": "W1", "waived_by": "Jane Smith"}, {"check": "gx_b"}]
    )
