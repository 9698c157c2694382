"""PostgreSQL as the warehouse (``WAREHOUSE=postgres``, connection from the standard ``PG*``
variables).

In: the tables Python writes (raw and audit) land in the embedded DuckDB file first, where
nothing received is lost (archives, quarantine, lineage); ``copy_tables`` copies them into the
server, type for type, before each dbt build there (``python -m lgperf.postgres`` does it by hand
when a council moves), and gives the read-only roles (``postgres_roles``) their grants on audit.
Out: ``Reader`` runs the quality gate's frame queries on the server, and ``mirrored_marts`` hands
the exports a DuckDB copy of the server's marts, so the Parquet, CSV and HTML writers are the
same code on either warehouse. Both bring rows across as PostgreSQL's CSV, read by DuckDB with
each column's type mapped (``DUCKDB_TYPES``): a value arrives exactly (floats in their shortest
exact form), and a pandas frame has the same types as from DuckDB.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from lgperf import postgres_roles, warehouse

# DuckDB's types in the raw and audit tables, and PostgreSQL's equivalents
TYPES = {
    "VARCHAR": "text",
    "DOUBLE": "double precision",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "BLOB": "bytea",
}
# PostgreSQL's types (as format_type names them) in the marts and the gate's frames, and DuckDB's
DUCKDB_TYPES = {
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp with time zone": "TIMESTAMPTZ",
    "timestamp without time zone": "TIMESTAMP",
}
_NAMED_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


@contextlib.contextmanager
def connect() -> Iterator[psycopg2.extensions.connection]:  # noqa: F821
    """A connection from the PG* environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)."""
    import psycopg2

    connection = psycopg2.connect("", options="-c TimeZone=UTC")  # timestamps cross as UTC, whatever the server's zone
    try:
        yield connection
    finally:
        connection.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(source: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return source.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()


def copy_tables(warehouse_path: Path) -> dict[str, int]:
    """Every table Python writes (raw and audit) from the DuckDB file into PostgreSQL (created
    or replaced, in one transaction); rows copied per table. dbt's own tables (its seeds,
    ``audit.mart_builds``) are left to dbt on each side."""
    copied: dict[str, int] = {}
    with (
        duckdb.connect(str(warehouse_path), read_only=True) as source,
        connect() as target,
        tempfile.TemporaryDirectory() as scratch,
    ):
        present = {
            f"{s}.{t}" for s, t in source.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        }
        tables = [name.split(".") for name in warehouse.python_owned_tables() if name in present]
        with target.cursor() as cursor:
            for schema in sorted({schema for schema, _ in tables}):
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {_quoted(schema)}")
            for schema, table in tables:
                columns = _columns(source, schema, table)
                unknown = [f"{c} {t}" for c, t in columns if t not in TYPES]
                if unknown:
                    raise ValueError(f"{schema}.{table}: no PostgreSQL type for column(s) {', '.join(unknown)}")
                name = f"{_quoted(schema)}.{_quoted(table)}"
                # lower-case names: PostgreSQL folds unquoted names to lower case, DuckDB ignores case
                wanted = [(c.lower(), TYPES[t]) for c, t in columns]
                cursor.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
                    "AND table_name = %s ORDER BY ordinal_position",
                    (schema, table),
                )
                if cursor.fetchall() == wanted:  # the same table: emptied, so the views dbt built on it stay
                    cursor.execute(f"TRUNCATE {name}")
                else:  # new or changed: (re)created; dbt's next build recreates the views that depended on it
                    cursor.execute(f"DROP TABLE IF EXISTS {name} CASCADE")
                    cursor.execute(f"CREATE TABLE {name} ({', '.join(f'{_quoted(c)} {t}' for c, t in wanted)})")
                # bytea in PostgreSQL's hex input form; everything else as DuckDB writes it
                select = ", ".join(f"'\\x' || hex({_quoted(c)})" if t == "BLOB" else _quoted(c) for c, t in columns)
                csv_path = Path(scratch) / f"{schema}.{table}.csv"
                source.execute(f"COPY (SELECT {select} FROM {name}) TO '{csv_path}' (FORMAT csv, HEADER false)")
                with csv_path.open("r", encoding="utf-8") as rows:
                    cursor.copy_expert(f"COPY {name} FROM STDIN WITH (FORMAT csv)", rows)
                copied[f"{schema}.{table}"] = cursor.rowcount
        postgres_roles.ensure_reader_roles(target, schemas=("audit",))  # a re-created table has lost its grants
        target.commit()
    return copied


def _bind(cursor: Any, sql: str, parameters: Sequence[Any] | Mapping[str, Any] | None) -> str:
    """The query with its parameters bound by the driver (quoted as literals, never pasted as
    text), written DuckDB's way: ``?`` in order or ``$name`` by name. A ``?`` or ``$name``
    inside a string literal would be taken for a parameter too: queries here have none."""
    if parameters is None:
        return sql
    sql = sql.replace("%", "%%")
    if isinstance(parameters, Mapping):
        sql = _NAMED_PARAMETER.sub(r"%(\1)s", sql)
    else:
        sql = sql.replace("?", "%s")
    return cursor.mogrify(sql, parameters).decode("utf-8")


def transfer(source: Any, query: str, target: duckdb.DuckDBPyConnection, table: str) -> None:
    """The result of ``query`` on PostgreSQL into a new DuckDB table ``table``, each column's
    type mapped (an unmapped one is refused by name)."""
    with source.cursor() as cursor, tempfile.TemporaryDirectory() as scratch:
        cursor.execute(f"SELECT * FROM ({query}) AS result LIMIT 0")
        described = [(d.name, d.type_code) for d in cursor.description]
        cursor.execute(
            "SELECT oid, format_type(oid, NULL) FROM pg_type WHERE oid = ANY(%s)", ([code for _, code in described],)
        )
        type_names = dict(cursor.fetchall())
        unknown = [
            f"{name} ({type_names.get(code, code)})"
            for name, code in described
            if type_names.get(code) not in DUCKDB_TYPES
        ]
        if unknown:
            raise ValueError(f"{table}: no DuckDB type for PostgreSQL column(s) {', '.join(unknown)}")
        columns = [(name, DUCKDB_TYPES[type_names[code]]) for name, code in described]
        target.execute(f"CREATE OR REPLACE TABLE {table} ({', '.join(f'{_quoted(n)} {t}' for n, t in columns)})")
        path = Path(scratch) / "rows.csv"
        with path.open("w", encoding="utf-8", newline="") as rows:
            cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", rows)
        if path.stat().st_size == 0:
            return
        # PostgreSQL writes NULL as an empty field and an empty string as "": kept apart here
        spec = "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': '{t}'" for n, t in columns) + "}"
        target.execute(
            f"INSERT INTO {table} SELECT * FROM read_csv(?, columns = {spec}, header = false, auto_detect = false, "
            "delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = false)",
            [str(path)],
        )


class Reader:
    """PostgreSQL behind DuckDB's calling convention, for the quality gate's frame queries:
    ``execute(sql, parameters)`` runs the query on the server and returns its rows as a DuckDB
    result (``df``, ``fetchall``, ``description``), so a frame runs unchanged on either
    warehouse and gives the same pandas types."""

    dialect = "postgres"  # whose SQL it reads: the gate's warehouse scan writes its regular expressions so

    def __init__(self, connection: Any) -> None:
        self._server = connection
        self._local = duckdb.connect(config=warehouse.connection_config())

    def execute(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> duckdb.DuckDBPyConnection:
        with self._server.cursor() as cursor:
            bound = _bind(cursor, sql, parameters)
        transfer(self._server, bound, self._local, "result")
        return self._local.execute("SELECT * FROM result")

    def close(self) -> None:
        self._local.close()


@contextlib.contextmanager
def reader() -> Iterator[Reader]:
    with connect() as connection:
        connection.set_session(readonly=True)
        reading = Reader(connection)
        try:
            yield reading
        finally:
            reading.close()


@contextlib.contextmanager
def mirrored_marts(tables: Sequence[str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB copy of the server's marts ``tables`` in a temporary file,
    for the exports: the same writers then run on either warehouse. The copy is read in one
    read-only transaction, so every mart is from the same moment."""
    with connect() as server, tempfile.TemporaryDirectory() as scratch:
        server.set_session(readonly=True, isolation_level="REPEATABLE READ")
        with server.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
                "AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
            present = [name for (name,) in cursor.fetchall()]
        missing = sorted(set(tables) - set(present))
        if missing:
            raise ValueError(
                f"PostgreSQL has no marts table(s) {', '.join(missing)}: run the dbt build on WAREHOUSE=postgres first"
            )
        mirror = duckdb.connect(str(Path(scratch) / "mirror.duckdb"), config=warehouse.connection_config())
        try:
            mirror.execute("CREATE SCHEMA marts")
            for table in tables:
                transfer(server, f"SELECT * FROM marts.{_quoted(table)}", mirror, f"marts.{_quoted(table)}")
            server.rollback()
            yield mirror
        finally:
            mirror.close()


if __name__ == "__main__":
    from lgperf.settings import Environment

    path = Environment.from_environ().warehouse_path
    counts = copy_tables(path)
    print(
        f"{path} -> postgresql://{os.environ.get('PGHOST', 'localhost')}:{os.environ.get('PGPORT', '5432')}/"
        f"{os.environ.get('PGDATABASE', '')}: {sum(counts.values()):,} rows in {len(counts)} tables",
        file=sys.stderr,
    )
