"""The publish swap on PostgreSQL: a reader holding marts open sees the old state until it lets
go, then the new one; never a mix (tests/lgperf/test_publication.py holds the same on DuckDB)."""

from __future__ import annotations

import threading

import psycopg2
import pytest

from lgperf import publication as wap
from tests.postgres.conftest import create_database


@pytest.fixture
def server(postgres_server):
    def connect(database: str = "lgperf_swap"):
        return psycopg2.connect(
            host=postgres_server["PGHOST"], port=postgres_server["PGPORT"], user="postgres", dbname=database
        )

    create_database(postgres_server, "lgperf_swap")
    setup = connect()
    with setup, setup.cursor() as cursor:
        cursor.execute(
            "CREATE SCHEMA candidate; CREATE TABLE candidate.values_ AS SELECT g AS id, g * 1.5 AS v "
            "FROM generate_series(0, 999) AS g"
        )
    setup.close()
    return connect


def publish(connection, publication_id: str) -> None:
    store = wap.PostgresMartsStore(connection)
    wap.swap_in(store, publication_id, wap.tables(store, wap.CANDIDATE), wap.EPOCH)


def read(cursor) -> tuple:
    cursor.execute("SELECT sum(v), (SELECT publication_id FROM marts.publication) FROM marts.values_")
    return cursor.fetchone()


def test_a_reader_holding_marts_during_a_publish_sees_the_old_state_or_the_new_one(server):
    publisher, reader = server(), server()
    publish(publisher, "p1")
    with publisher.cursor() as cursor:
        cursor.execute("UPDATE candidate.values_ SET v = v + 1")
    publisher.commit()

    reader.set_session(isolation_level="REPEATABLE READ")
    cursor = reader.cursor()
    before = read(cursor)  # the reader's transaction now holds marts open
    swap = threading.Thread(target=publish, args=(publisher, "p2"))
    swap.start()
    swap.join(timeout=3)
    assert swap.is_alive()  # the swap waits for the reader to let go of marts ...
    during = read(cursor)  # ... and the reader still sees one whole state, the old one
    reader.commit()
    swap.join(timeout=30)
    assert not swap.is_alive()
    after = read(cursor)
    assert before == during == (749250, "p1")
    assert after == (750250, "p2")
    reader.close()
    publisher.close()
