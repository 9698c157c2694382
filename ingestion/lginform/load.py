"""Load one pull into ``raw``: the response bodies (gzip, by SHA-256), the parsed rows and the
request log, all in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import duckdb
import pandas as pd

from ingestion.lginform.pull import PullResult
from ingestion.raw_load import insert_new_versions

KEYS: dict[str, tuple[str, ...]] = {
    "lginform_metric_types": ("metric_type_id",),
    "lginform_periods": ("period_id",),
    "lginform_areas": ("area_code",),
    "lginform_group_members": ("group_id", "area_code"),
    "lginform_values": ("metric_type_id", "area_code", "period_id", "value_type"),
}


def load_pull(
    connection: duckdb.DuckDBPyConnection,
    result: PullResult,
    *,
    run_id: str,
    request_log: Sequence[dict[str, Any]] = (),
) -> dict[str, int]:
    """Write the pull; return rows inserted per raw table (0 everywhere when nothing changed)."""
    ingested_at = datetime.now(timezone.utc)
    inserted: dict[str, int] = {}
    connection.begin()
    try:
        inserted["lginform_responses"] = _insert_responses(connection, result, run_id)
        for table, keys in KEYS.items():
            inserted[table] = insert_new_versions(
                connection, f"raw.{table}", result.rows[table], keys=keys, run_id=run_id, ingested_at=ingested_at
            )
        if request_log:
            log = pd.DataFrame.from_records(list(request_log)).assign(run_id=run_id)
            connection.register("_requests", log)
            connection.execute(
                "INSERT INTO audit.api_requests (run_id, request, status, attempts, bytes, sha256, error, fetched_at) "
                "SELECT run_id, request, status, attempts, bytes, sha256, error, fetched_at FROM _requests"
            ).fetchall()
            connection.unregister("_requests")
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return inserted


def _insert_responses(connection: duckdb.DuckDBPyConnection, result: PullResult, run_id: str) -> int:
    seen: set[str] = set()
    records = []
    for r in result.responses:
        if r.sha256 in seen:
            continue
        seen.add(r.sha256)
        records.append((r.sha256, r.endpoint, r.request, r.status, len(r.body), r.body_gzip(), r.fetched_at, run_id))
    if not records:
        return 0
    frame = pd.DataFrame.from_records(
        records, columns=["sha256", "endpoint", "request", "status", "bytes", "body_gzip", "fetched_at", "run_id"]
    )
    connection.register("_responses", frame)
    try:
        before = connection.execute("SELECT count(*) FROM raw.lginform_responses").fetchall()[0][0]
        connection.execute(
            "INSERT INTO raw.lginform_responses SELECT * FROM _responses n "
            "WHERE NOT EXISTS (SELECT 1 FROM raw.lginform_responses r WHERE r.sha256 = n.sha256)"
        ).fetchall()
        return connection.execute("SELECT count(*) FROM raw.lginform_responses").fetchall()[0][0] - before
    finally:
        connection.unregister("_responses")
