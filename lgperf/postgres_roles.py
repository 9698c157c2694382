"""Read-only roles on PostgreSQL: what a BI tool and the auditor may read, and nothing more.

Why: the warehouse holds more than the published figures. ``raw`` keeps what was received as it
came (residents' complaints and survey answers, the archived files); ``candidate``, ``staging``
and ``intermediate`` hold figures the audit has not passed. A BI tool must see only what was
published (schema ``marts``); the auditor also reads ``audit`` (checks, publications, waivers,
lineage) to see why it was published. Both are group roles without login (no superuser, no
createdb): a council grants membership to real login users (``GRANT lgperf_bi TO alice``).
Their names: ``LGPERF_BI_ROLE`` (default ``lgperf_bi``), ``LGPERF_AUDITOR_ROLE`` (``lgperf_auditor``).

A dropped table takes its grants with it, and the pipeline drops tables: the publish step
replaces every table of ``marts``, ``copy_tables`` re-creates an ``audit`` table whose layout
changed. So both call ``ensure_reader_roles`` in their own transaction, after the tables are
made: the grants commit with the tables they cover. ``ALTER DEFAULT PRIVILEGES`` also covers
tables the schema's owner makes later (dbt's ``audit.mart_builds``). PUBLIC gets nothing:
PostgreSQL gives it no access to a new schema, and the two read schemas revoke it explicitly.

By hand (as the warehouse's owner, or an administrator who can create roles; a pipeline user
without CREATEROLE then only grants): ``python -m lgperf.postgres_roles`` applies it to the
database of the ``PG*`` variables and prints what it granted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from psycopg2 import sql

# environment variable -> (default role name, the schemas it reads)
READERS = {"LGPERF_BI_ROLE": ("lgperf_bi", ("marts",)), "LGPERF_AUDITOR_ROLE": ("lgperf_auditor", ("audit", "marts"))}


def reader_roles() -> dict[str, tuple[str, ...]]:
    """Role name -> the schemas it reads."""
    return {os.environ.get(variable) or default: schemas for variable, (default, schemas) in READERS.items()}


def ensure_reader_roles(connection: Any, schemas: Iterable[str] | None = None) -> list[str]:
    """Create the reader roles if missing and grant them read access to their schemas (all of
    them, or only ``schemas``), in the caller's transaction, which commits it. Idempotent. A schema
    that does not exist yet is skipped: the step that creates it calls this again. Returns what
    was done, one line each."""
    done: list[str] = []
    with connection.cursor() as cursor:
        for role, reads in reader_roles().items():
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL("CREATE ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(sql.Identifier(role))
                )
                done.append(f"created role {role} (no login: grant it to login users)")
            for schema in reads:
                if schemas is not None and schema not in schemas:
                    continue
                cursor.execute(
                    "SELECT pg_get_userbyid(nspowner), (SELECT count(*) FROM pg_tables WHERE schemaname = nspname) "
                    "FROM pg_namespace WHERE nspname = %s",
                    (schema,),
                )
                found = cursor.fetchone()
                if found is None:
                    continue
                names = {"s": sql.Identifier(schema), "r": sql.Identifier(role), "o": sql.Identifier(found[0])}
                for statement in (
                    "REVOKE ALL ON SCHEMA {s} FROM PUBLIC",
                    "GRANT USAGE ON SCHEMA {s} TO {r}",
                    "GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r}",
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT SELECT ON TABLES TO {r}",
                ):
                    cursor.execute(sql.SQL(statement).format(**names))
                done.append(
                    f"{role}: USAGE on schema {schema}, SELECT on its {found[1]} tables and on those {found[0]} makes "
                    "later"
                )
    return done


if __name__ == "__main__":
    from lgperf import postgres

    with postgres.connect() as connection:
        lines = ensure_reader_roles(connection)
        connection.commit()
    print("\n".join(lines) or "no schema to grant yet: run the pipeline on WAREHOUSE=postgres first")
