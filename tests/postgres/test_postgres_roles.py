"""The read-only roles on PostgreSQL (lgperf/postgres_roles.py), on a real server (see conftest.py):
after a real ``copy_tables`` and publish swap, a login user in ``lgperf_bi`` reads marts and
nothing else, one in ``lgperf_auditor`` reads audit and marts and nothing else, neither writes,
and the grants hold after the tables are dropped and made again by the next copy and swap."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from datetime import UTC, datetime

import psycopg2
import pytest
from psycopg2 import errors

from lgperf import postgres, postgres_roles, warehouse
from lgperf import publication as wap
from tests.postgres.conftest import create_database

DATABASE = "lgperf_roles"
USERS = {"bi_user": "lgperf_bi", "auditor_user": "lgperf_auditor", "nobody_user": None}


@contextlib.contextmanager
def _connect(server: dict[str, str], user: str = "postgres", database: str = DATABASE):
    connection = psycopg2.connect(host=server["PGHOST"], port=server["PGPORT"], user=user, dbname=database)
    connection.autocommit = True
    try:
        yield connection
    finally:
        connection.close()


def _publish(server: dict[str, str], publication_id: str, rows: int) -> None:
    with _connect(server) as connection:
        connection.cursor().execute(
            f"DROP TABLE IF EXISTS candidate.values_; CREATE TABLE candidate.values_ AS "
            f"SELECT g AS id, g * 1.5 AS v FROM generate_series(1, {rows}) AS g"
        )
    connection = psycopg2.connect(host=server["PGHOST"], port=server["PGPORT"], user="postgres", dbname=DATABASE)
    try:
        store = wap.PostgresMartsStore(connection)
        wap.swap_in(store, publication_id, wap.tables(store, wap.CANDIDATE), datetime.now(UTC))
    finally:
        connection.close()


@pytest.fixture(scope="module")
def warehouse_with_roles(postgres_server, tmp_path_factory):
    """A database of its own: the landing's raw and audit tables copied in (one publication
    recorded in audit), one publication swapped into marts (10 rows), and three login users."""
    create_database(postgres_server, DATABASE)
    landing = tmp_path_factory.mktemp("roles") / "warehouse.duckdb"
    with warehouse.connect(landing) as connection:
        wap.record(
            connection,
            publication_id="p1",
            run_id="r1",
            decision="published",
            decided_by=[],
            fingerprint="f",
            raw_through=wap.EPOCH,
            row_counts={},
        )
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in {**postgres_server, "PGDATABASE": DATABASE}.items():
            monkeypatch.setenv(name, value)
        postgres.copy_tables(landing)
        with _connect(postgres_server) as connection:
            connection.cursor().execute("CREATE SCHEMA candidate")
        _publish(postgres_server, "p1", 10)
    with _connect(postgres_server) as connection:
        cursor = connection.cursor()
        for user, role in USERS.items():
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
            if cursor.fetchone() is None:  # roles belong to the cluster: another module's run may have made them
                cursor.execute(f"CREATE ROLE {user} LOGIN" + (f" IN ROLE {role}" if role else ""))
    return {"server": postgres_server, "landing": landing}


def _reads(server, user: str, table: str):
    """The table's row count as ``user``, or the error class PostgreSQL refused it with."""
    with _connect(server, user) as connection:
        cursor = connection.cursor()
        try:
            cursor.execute(f"SELECT count(*) FROM {table}")
        except psycopg2.Error as error:
            return type(error)
        return cursor.fetchone()[0]


def _writes(server, user: str, schema: str) -> list:
    """The error class of each write ``user`` tries in ``schema`` (its first table's name: values_ or publications)."""
    table = f"{schema}.values_" if schema == "marts" else f"{schema}.publications"
    refused = []
    with _connect(server, user) as connection:
        for statement in (
            f"INSERT INTO {table} SELECT * FROM {table}",
            f"UPDATE {table} SET publication_id = NULL" if schema == "audit" else f"UPDATE {table} SET v = 0",
            f"DELETE FROM {table}",
            f"TRUNCATE {table}",
            f"CREATE TABLE {schema}.mine (x int)",
            f"DROP TABLE {table}",
        ):
            try:
                connection.cursor().execute(statement)
                refused.append(None)
            except psycopg2.Error as error:
                refused.append(type(error))
    return refused


REFUSED = errors.InsufficientPrivilege


def _assert_roles_hold(server, marts_rows: int) -> None:
    assert _reads(server, "bi_user", "marts.values_") == marts_rows
    assert _reads(server, "bi_user", "marts.publication") == 1
    for table in ("audit.publications", "raw.lginform_values", "candidate.values_"):
        assert _reads(server, "bi_user", table) is REFUSED, table
    assert _reads(server, "auditor_user", "marts.values_") == marts_rows
    assert _reads(server, "auditor_user", "audit.publications") == 1
    for table in ("raw.lginform_values", "candidate.values_"):
        assert _reads(server, "auditor_user", table) is REFUSED, table
    assert _writes(server, "bi_user", "marts") == [REFUSED] * 6
    assert _writes(server, "auditor_user", "marts") == [REFUSED] * 6
    assert _writes(server, "auditor_user", "audit") == [REFUSED] * 6


@pytest.mark.parametrize(
    "user, reads, refused, schemas",
    [
        (
            "bi_user",
            {"marts.values_": 10, "marts.revisions": 0},
            ("audit.publications", "raw.lginform_values", "candidate.values_"),
            ("marts",),
        ),
        (
            "auditor_user",
            {"audit.publications": 1, "marts.values_": 10},
            ("raw.lginform_values", "raw.inbox_files", "candidate.values_"),
            ("marts", "audit"),
        ),
    ],
    ids=["bi", "auditor"],
)
def test_each_role_reads_its_schemas_and_nothing_else_and_writes_nothing(
    warehouse_with_roles, user, reads, refused, schemas
):
    server = warehouse_with_roles["server"]
    assert {table: _reads(server, user, table) for table in reads} == reads
    for table in refused:
        assert _reads(server, user, table) is REFUSED, table
    for schema in schemas:
        assert _writes(server, user, schema) == [REFUSED] * 6, schema


def test_a_login_user_in_neither_role_reads_nothing(warehouse_with_roles):
    server = warehouse_with_roles["server"]
    for table in ("marts.values_", "audit.publications", "raw.lginform_values", "candidate.values_"):
        assert _reads(server, "nobody_user", table) is REFUSED, table
    with _connect(server) as connection:  # PUBLIC holds nothing on the pipeline's schemas
        cursor = connection.cursor()
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname IN ('raw', 'audit', 'candidate', 'marts') "
            "AND has_schema_privilege('public', oid, 'USAGE')"
        )
        assert cursor.fetchall() == []


def test_the_roles_are_group_roles_without_login_or_power(warehouse_with_roles):
    with _connect(warehouse_with_roles["server"]) as connection:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
            "WHERE rolname IN ('lgperf_bi', 'lgperf_auditor') ORDER BY 1"
        )
        assert cursor.fetchall() == [
            ("lgperf_auditor", False, False, False, False),
            ("lgperf_bi", False, False, False, False),
        ]


def test_the_grants_survive_the_next_copy_and_publication(warehouse_with_roles, monkeypatch):
    """The next copy re-creates an audit table whose layout changed, the next swap re-creates
    every table of marts: dropped tables lose their grants, and the pipeline gives them again."""
    server = warehouse_with_roles["server"]
    with _connect(server) as connection:
        connection.cursor().execute("ALTER TABLE audit.publications ADD COLUMN stale integer")  # so the copy drops it
        cursor = connection.cursor()
        cursor.execute("SELECT 'audit.publications'::regclass::oid")
        before = cursor.fetchone()[0]
    for name, value in {**server, "PGDATABASE": DATABASE}.items():
        monkeypatch.setenv(name, value)
    postgres.copy_tables(warehouse_with_roles["landing"])
    _publish(server, "p2", 25)
    with _connect(server) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT 'audit.publications'::regclass::oid")
        assert cursor.fetchone()[0] != before  # a new table, not the one granted before
    _assert_roles_hold(server, 25)
    postgres.copy_tables(warehouse_with_roles["landing"])  # and a copy that only empties and refills
    _publish(server, "p3", 7)
    _assert_roles_hold(server, 7)


def test_role_names_come_from_the_environment_and_an_administrator_can_apply_them(warehouse_with_roles, monkeypatch):
    server = warehouse_with_roles["server"]
    environment = {**os.environ, **server, "PGDATABASE": DATABASE, "LGPERF_BI_ROLE": "council_bi"}
    for _ in range(2):  # idempotent
        completed = subprocess.run(
            [sys.executable, "-m", "lgperf.postgres_roles"], env=environment, capture_output=True, text=True, check=True
        )
    assert "council_bi: USAGE on schema marts, SELECT on its 3 tables" in completed.stdout
    assert "lgperf_auditor: USAGE on schema audit" in completed.stdout and "created role" not in completed.stdout
    monkeypatch.setenv("LGPERF_BI_ROLE", "council_bi")
    assert postgres_roles.reader_roles() == {"council_bi": ("marts",), "lgperf_auditor": ("audit", "marts")}
    with _connect(server) as connection:
        connection.cursor().execute("CREATE ROLE council_bi_user LOGIN IN ROLE council_bi")
    try:
        assert _reads(server, "council_bi_user", "marts.publication") == 1
        assert _reads(server, "council_bi_user", "audit.publications") is REFUSED
    finally:
        with _connect(server) as connection:
            connection.cursor().execute("DROP ROLE council_bi_user")
