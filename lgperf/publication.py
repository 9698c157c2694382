"""Write, audit, publish: the candidate marts replace the published ones only when the audit passed.

dbt builds every mart into schema ``candidate`` (write). The gate judges the whole candidate
state (audit). Only then, and only if nothing blocks, one transaction replaces every table of
schema ``marts`` with its candidate and writes ``marts.publication``, the one-row table that
says which publication ``marts`` holds (publish): a reader sees the old state or the new one,
never a mix. Every attempt is a row of ``audit.publications``; an export refuses to run unless
``marts`` holds the state of the latest attempt and that attempt was published (or waived).

The marts live in the DuckDB file, or on PostgreSQL (``WAREHOUSE=postgres``); the audit
tables always in the DuckDB file. ``MartsStore`` hides the difference.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from lgperf import postgres_roles

CANDIDATE = "candidate"
PUBLISHED = "marts"
MARKER = "publication"  # marts.publication: the publication marts holds
REVISIONS = "revisions"  # marts.revisions: every value added, revised or withdrawn, by publication
FACT = "fct_indicator_values"
NOT_CANDIDATES = (MARKER, REVISIONS)  # the tables of marts the publish step writes itself
DECISIONS = ("published", "waived", "blocked")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class NotPublished(RuntimeError):
    """``marts`` does not hold a published state an export may read; the message says why."""


@dataclass(frozen=True)
class Publication:
    publication_id: str
    run_id: str
    decision: str
    decided_at: datetime
    fingerprint: str | None
    raw_through: datetime | None
    state_of: str | None  # the publication that first published this state (itself, unless nothing changed)


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name[0].isalpha():
        raise ValueError(f"{name!r} is not a plain table name")
    return name


class MartsStore:
    """Where the marts are: ``execute(sql, params)`` returning rows, and one transaction."""

    engine = "duckdb"

    def __init__(self, connection: Any):
        self._connection = connection

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple]:
        return self._connection.execute(sql, list(parameters)).fetchall()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._begin()
        try:
            yield
            self._connection.commit()
        except BaseException:
            self._connection.rollback()
            raise

    def _begin(self) -> None:
        self._connection.begin()

    def run(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        self._connection.execute(sql, list(parameters)).fetchall()

    def replace_table(self, target: str, source: str) -> None:
        self.run(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source}")

    def row_hash(self, alias: str) -> str:
        return f"hash({alias})"  # of the row as a struct: about 50 times faster than hashing its text

    def grant_readers(self) -> None:
        """After the swap, in its transaction: the read-only roles' grants on marts (DuckDB has no roles)."""


class PostgresMartsStore(MartsStore):
    """The same on PostgreSQL, through psycopg2 (``%s`` parameters, transactional DDL)."""

    engine = "postgres"

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple]:
        with self._connection.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), list(parameters))
            return cursor.fetchall() if cursor.description else []

    def _begin(self) -> None:
        """psycopg2 opens a transaction with the first statement."""

    def run(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        self.rows(sql, parameters)

    def replace_table(self, target: str, source: str) -> None:
        self.run(f"DROP TABLE IF EXISTS {target}")
        self.run(f"CREATE TABLE {target} AS SELECT * FROM {source}")

    def row_hash(self, alias: str) -> str:
        return f"hashtext({alias}::text)::numeric"

    def grant_readers(self) -> None:
        """The swap dropped and re-created marts' tables, and their grants with them: given again."""
        postgres_roles.ensure_reader_roles(self._connection, schemas=(PUBLISHED,))


def tables(store: MartsStore, schema: str) -> list[str]:
    """The tables of ``schema`` that hold published figures (in marts: all but the marker)."""
    return [
        _identifier(name)
        for (name,) in store.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' "
            "ORDER BY table_name",
            [schema],
        )
        if name != MARKER or schema != PUBLISHED
    ]


def same_state(store: MartsStore, names: Sequence[str]) -> bool:
    """Whether the candidate holds exactly what marts already publishes."""
    published = set(tables(store, PUBLISHED)) - set(NOT_CANDIDATES)
    return published == set(names) and fingerprint(store, CANDIDATE, names) == fingerprint(store, PUBLISHED, names)


REVISIONS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {PUBLISHED}.{REVISIONS} (publication_id VARCHAR NOT NULL, "
    "published_at TIMESTAMP WITH TIME ZONE NOT NULL, indicator_id VARCHAR NOT NULL, area_code VARCHAR NOT NULL, "
    "period_id VARCHAR NOT NULL, change VARCHAR NOT NULL, old_value DOUBLE PRECISION, new_value DOUBLE PRECISION)"
)


def _record_revisions(store: MartsStore, publication_id: str, published_at: datetime) -> None:
    """What this publication changes in the indicator fact, against the one it replaces: each
    value added, revised (old and new) or withdrawn. The first publication replaces nothing."""
    store.run(REVISIONS_DDL)
    if FACT not in tables(store, PUBLISHED) or FACT not in tables(store, CANDIDATE):
        return
    store.run(
        f"""
        INSERT INTO {PUBLISHED}.{REVISIONS}
        SELECT ?, ?, coalesce(n.indicator_id, o.indicator_id), coalesce(n.area_code, o.area_code),
               coalesce(n.period_id, o.period_id),
               CASE WHEN o.indicator_id IS NULL THEN 'added' WHEN n.indicator_id IS NULL THEN 'withdrawn'
                   ELSE 'revised' END,
               o.value, n.value
        FROM {CANDIDATE}.{FACT} AS n
        FULL OUTER JOIN {PUBLISHED}.{FACT} AS o
            ON o.indicator_id = n.indicator_id AND o.area_code = n.area_code AND o.period_id = n.period_id
        WHERE o.indicator_id IS NULL OR n.indicator_id IS NULL OR o.value IS DISTINCT FROM n.value
        """,
        [publication_id, published_at],
    )


def fingerprint(store: MartsStore, schema: str, names: Sequence[str]) -> str:
    """SHA-256 over each table's name, row count and order-independent sum of row hashes."""
    parts = []
    for name in sorted(names):
        count, total = store.rows(
            f"SELECT count(*), coalesce(sum({store.row_hash('t')}), 0) FROM {schema}.{_identifier(name)} AS t"
        )[0]
        parts.append(f"{name}:{count}:{total}")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def swap_in(store: MartsStore, publication_id: str, names: Sequence[str], published_at: datetime) -> str:
    """In one transaction: what changes is added to ``marts.revisions``, every candidate table
    replaces its published one, published tables the candidate no longer has are dropped, and
    ``marts.publication`` names the publication. Returns the fingerprint of the published state."""
    with store.transaction():
        store.run(f"CREATE SCHEMA IF NOT EXISTS {PUBLISHED}")
        _record_revisions(store, publication_id, published_at)
        for name in sorted(set(tables(store, PUBLISHED)) - set(names) - set(NOT_CANDIDATES)):
            store.run(f"DROP TABLE {PUBLISHED}.{name}")
        for name in names:
            store.replace_table(f"{PUBLISHED}.{_identifier(name)}", f"{CANDIDATE}.{name}")
        published = fingerprint(store, PUBLISHED, tables(store, PUBLISHED))
        store.run(
            f"CREATE TABLE IF NOT EXISTS {PUBLISHED}.{MARKER} (publication_id VARCHAR NOT NULL, "
            "published_at TIMESTAMP WITH TIME ZONE NOT NULL, fingerprint VARCHAR NOT NULL)"
        )
        store.run(f"DELETE FROM {PUBLISHED}.{MARKER}")
        store.run(f"INSERT INTO {PUBLISHED}.{MARKER} VALUES (?, ?, ?)", [publication_id, published_at, published])
        store.grant_readers()
    return published


def publish(store: MartsStore, publication_id: str, names: Sequence[str], published_at: datetime) -> tuple[str, str]:
    """The candidate ``names`` into marts (``swap_in``), unless marts already holds exactly that
    state: then nothing is written, so the exports keep their bytes. Returns the published state's
    fingerprint and the publication that first published it (``publication_id`` when swapped in)."""
    held = marker(store)
    if held is not None and same_state(store, names):
        # the fingerprint is taken afresh, so that an engine upgrade that hashes rows differently
        # does not lock the exports out
        return fingerprint(store, PUBLISHED, tables(store, PUBLISHED)), held[0]
    return swap_in(store, publication_id, names, published_at), publication_id


def row_counts(store: MartsStore, schema: str, names: Sequence[str]) -> dict[str, int]:
    """Rows per table: what a publication records, the next one's drift baseline."""
    return {name: store.rows(f"SELECT count(*) FROM {schema}.{_identifier(name)}")[0][0] for name in names}


def marker(store: MartsStore) -> tuple[str, str] | None:
    """(publication id, fingerprint) that ``marts.publication`` names, or None."""
    if MARKER not in {
        name
        for (name,) in store.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [PUBLISHED]
        )
    }:
        return None
    rows = store.rows(f"SELECT publication_id, fingerprint FROM {PUBLISHED}.{MARKER}")
    return (rows[0][0], rows[0][1]) if len(rows) == 1 else None


# -- the audit trail (always in the DuckDB file) --------------------------------------------------


def latest(connection: duckdb.DuckDBPyConnection, *, decisions: Sequence[str] = DECISIONS) -> Publication | None:
    placeholders = ", ".join("?" for _ in decisions)
    rows = connection.execute(
        "SELECT publication_id, run_id, decision, decided_at, fingerprint, raw_through, state_of "
        f"FROM audit.publications WHERE decision IN ({placeholders}) "
        "ORDER BY decided_at DESC, publication_id DESC LIMIT 1",
        list(decisions),
    ).fetchall()
    return Publication(*rows[0]) if rows else None


def published_through(connection: duckdb.DuckDBPyConnection) -> datetime:
    """Raw rows loaded after this were never part of a publication: the audit judges them."""
    last = latest(connection, decisions=("published", "waived"))
    return last.raw_through if last and last.raw_through else EPOCH


def raw_through(connection: duckdb.DuckDBPyConnection) -> datetime:
    """The newest load in raw: what a publication made now covers."""
    tables = [
        f"{schema}.{table}"
        for schema, table in connection.execute(
            "SELECT table_schema, table_name FROM information_schema.columns WHERE table_schema = 'raw' "
            "AND column_name = 'ingested_at' ORDER BY 1, 2"
        ).fetchall()
    ]
    union = " UNION ALL ".join(f"SELECT max(ingested_at) AS loaded_at FROM {t}" for t in tables)
    value = connection.execute(f"SELECT max(loaded_at) FROM ({union}) AS loads").fetchall()[0][0] if tables else None
    return value or EPOCH


def record(
    connection: duckdb.DuckDBPyConnection,
    *,
    publication_id: str,
    run_id: str,
    decision: str,
    decided_by: Sequence[dict[str, Any]],
    fingerprint: str | None,
    raw_through: datetime | None,
    row_counts: dict[str, int],
    waivers: Sequence[str] = (),
    state_of: str | None = None,
) -> None:
    """One attempt, whatever its decision."""
    if decision not in DECISIONS:
        raise ValueError(f"decision {decision!r} is not one of {DECISIONS}")
    connection.execute(
        "INSERT INTO audit.publications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            publication_id,
            run_id,
            decision,
            datetime.now(UTC),
            json.dumps(list(decided_by), sort_keys=True),
            fingerprint,
            raw_through,
            json.dumps(row_counts, sort_keys=True),
            ",".join(waivers) or None,
            state_of,
        ],
    ).fetchall()


def grant_waiver(connection: duckdb.DuckDBPyConnection, *, check_name: str, granted_by: str, reason: str) -> str:
    """A named person lets one check pass once: the next publication it blocks goes out,
    marked waived, and the waiver is used up."""
    if not granted_by.strip() or not reason.strip():
        raise ValueError("a waiver needs the name of the person who grants it and a reason")
    now = datetime.now(UTC)
    waiver_id = f"W{now:%Y%m%dT%H%M%S%f}"
    connection.execute(
        "INSERT INTO audit.waivers VALUES (?, ?, ?, ?, ?, NULL)",
        [waiver_id, check_name, granted_by.strip(), reason.strip(), now],
    ).fetchall()
    return waiver_id


@dataclass(frozen=True)
class Decision:
    decision: str  # one of DECISIONS
    blocked_by: list[str]  # the failed checks no waiver lets through
    decided_by: list[dict[str, str]]  # every failed check, with the waiver (and who granted it) that let it through


def decide(failed_checks: Sequence[str], waivers: Mapping[str, tuple[str, str]]) -> Decision:
    """Blocked while a check that failed at error severity has no open waiver (``open_waivers``:
    check -> (waiver id, granted by)); waived when each has one; published when none failed."""
    blocked_by = [name for name in failed_checks if name not in waivers]
    decision = "blocked" if blocked_by else ("waived" if failed_checks else "published")
    decided_by = [
        {"check": name, **({"waiver": waivers[name][0], "waived_by": waivers[name][1]} if name in waivers else {})}
        for name in failed_checks
    ]
    return Decision(decision, blocked_by, decided_by)


def open_waivers(connection: duckdb.DuckDBPyConnection, check_names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """check name -> (waiver id, granted by) of the oldest unused waiver for each of ``check_names``."""
    found: dict[str, tuple[str, str]] = {}
    for check_name, waiver_id, granted_by in connection.execute(
        "SELECT check_name, waiver_id, granted_by FROM audit.waivers WHERE publication_id IS NULL "
        "ORDER BY granted_at, waiver_id"
    ).fetchall():
        if check_name in check_names:
            found.setdefault(check_name, (waiver_id, granted_by))
    return found


def use_waivers(connection: duckdb.DuckDBPyConnection, waiver_ids: Sequence[str], publication_id: str) -> None:
    for waiver_id in waiver_ids:
        connection.execute(
            "UPDATE audit.waivers SET publication_id = ? WHERE waiver_id = ?", [publication_id, waiver_id]
        ).fetchall()


def new_rows_since(connection: Any, table: str, column: str) -> datetime:
    """For a suite that checks new rows only: the newest ``column`` (its ``computed_at``) that
    ``marts.<table>`` has (the rows published so far); every row computed later is new. With
    nothing published (or a table published before it had the column), every row is new.
    ``connection``: where the marts are read (DuckDB, or ``lgperf.postgres.Reader``)."""
    present = connection.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = $table "
        "AND column_name = $column",
        {"table": table, "column": column},
    ).fetchall()[0][0]
    if not present:
        return EPOCH
    newest = connection.execute(f'SELECT max("{column}") FROM {PUBLISHED}.{table}').fetchall()[0][0]
    return newest or EPOCH


def published_row_counts(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per table at the last publication that went out: the drift baseline."""
    rows = connection.execute(
        "SELECT row_counts FROM audit.publications WHERE decision IN ('published', 'waived') "
        "ORDER BY decided_at DESC, publication_id DESC LIMIT 1"
    ).fetchall()
    return json.loads(rows[0][0]) if rows and rows[0][0] else {}


def require_published(connection: duckdb.DuckDBPyConnection, store: MartsStore) -> str:
    """The id of the publication whose state ``marts`` holds, which an export may read and
    must carry; NotPublished saying why not: the latest attempt must have gone out, and
    ``marts`` must hold exactly the state it published."""
    last = latest(connection)
    if last is None:
        raise NotPublished("nothing has been published yet: run the pipeline (ingestion, dbt, the audit) first")
    if last.decision == "blocked":
        raise NotPublished(
            f"the latest publication attempt ({last.publication_id}, run {last.run_id}) was blocked by the "
            "audit; the exports keep the last published files until a publication goes out"
        )
    held = marker(store)
    if held is None or held[0] != last.state_of:
        raise NotPublished(
            f"marts does not hold the state of publication {last.state_of} "
            f"(it holds {held[0] if held else 'no publication'})"
        )
    if fingerprint(store, PUBLISHED, tables(store, PUBLISHED)) != last.fingerprint:
        raise NotPublished(
            f"marts has changed since publication {last.state_of} was made: it was not written by "
            "the pipeline's publish step, so nothing is exported from it"
        )
    return held[0]
