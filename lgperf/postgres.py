"""PostgreSQL as the warehouse (``WAREHOUSE=postgres``, connection from the standard ``PG*``
variables): the raw and audit tables copied from the embedded DuckDB file, type for type.

The raw layer is where nothing received is lost (archives, quarantine, lineage), so a council
moving to PostgreSQL moves it whole: ``python -m lgperf.postgres`` copies every ``raw.*`` and
``audit.*`` table of ``WAREHOUSE_PATH`` into the server, replacing what is there, and dbt's
``postgres`` target then builds the marts from it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

SCHEMAS = ("raw", "audit")
SEEDS_DIR = Path(__file__).parents[1] / "dbt_project" / "seeds"  # dbt loads these itself
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


@contextlib.contextmanager
def connect() -> Iterator["psycopg2.extensions.connection"]:  # noqa: F821
    """A connection from the PG* environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)."""
    import psycopg2

    connection = psycopg2.connect("")
    try:
        yield connection
    finally:
        connection.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(source: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return source.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()


def copy_tables(warehouse_path: Path, schemas: tuple[str, ...] = SCHEMAS) -> dict[str, int]:
    """Every table of ``schemas`` from the DuckDB file into PostgreSQL (created or replaced, in
    one transaction); rows copied per table."""
    copied: dict[str, int] = {}
    with duckdb.connect(str(warehouse_path), read_only=True) as source, connect() as target, tempfile.TemporaryDirectory() as scratch:
        seeds = [p.stem for p in SEEDS_DIR.glob("*.csv")]
        tables = source.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN (SELECT unnest(?))"
            " AND NOT (schema_name = 'raw' AND table_name IN (SELECT unnest(?))) ORDER BY ALL", [list(schemas), seeds]
        ).fetchall()
        with target.cursor() as cursor:
            for schema in schemas:
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
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
                    " ORDER BY ordinal_position", (schema, table))
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
        target.commit()
    return copied


if __name__ == "__main__":
    from lgperf.settings import Environment

    path = Environment.from_environ().warehouse_path
    counts = copy_tables(path)
    print(f"{path} -> postgresql://{os.environ.get('PGHOST', 'localhost')}:{os.environ.get('PGPORT', '5432')}/"
          f"{os.environ.get('PGDATABASE', '')}: {sum(counts.values()):,} rows in {len(counts)} tables", file=sys.stderr)
