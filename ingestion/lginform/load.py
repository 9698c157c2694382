"""Load one pull (API answers and published extracts) into ``raw`` in one transaction: the
response bodies (gzip, by SHA-256), the parsed rows, the extract files and their quarantined
rows, the request log, and the per-metric-type sync state that incremental pulls read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from ingestion.extracts import ExtractResult
from ingestion.lginform.pull import PullResult
from ingestion.raw_load import insert_new_versions, insert_records

# A source's rows are versioned on their own: the API and an extract can both report a cell
# without each load flipping the other's version; staging picks one by source priority.
KEYS: dict[str, tuple[str, ...]] = {
    "lginform_metric_types": ("metric_type_id", "source_system"),
    "lginform_periods": ("period_id", "source_system"),
    "lginform_areas": ("area_code", "source_system"),
    "lginform_group_members": ("group_id", "area_code", "source_system"),
    "lginform_values": ("metric_type_id", "area_code", "period_id", "value_type", "source_system"),
}


def read_last_pulls(connection: duckdb.DuckDBPyConnection, fingerprint: str) -> dict[str, datetime]:
    """metric type -> its last successful pull for the same areas and periods."""
    rows = connection.execute(
        "SELECT metric_type_id, last_success_at FROM audit.lginform_sync_state WHERE request_fingerprint = ?",
        [fingerprint],
    ).fetchall()
    return dict(rows)


def loaded_extract_hashes(connection: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in connection.execute("SELECT source_sha256 FROM raw.extract_files").fetchall()}


def load_pull(
    connection: duckdb.DuckDBPyConnection,
    result: PullResult,
    *,
    run_id: str,
    request_log: Sequence[dict[str, Any]] = (),
    extracts: Sequence[ExtractResult] = (),
    fingerprint: str | None = None,
) -> dict[str, int]:
    """Write everything or nothing; return rows inserted per raw table (0s when nothing changed)."""
    now = datetime.now(UTC)
    rows = {table: list(result.rows[table]) for table in KEYS}
    for extract in extracts:
        for table, extract_rows in extract.tables.items():
            rows[table].extend(extract_rows)
    inserted: dict[str, int] = {}
    connection.begin()
    try:
        inserted["lginform_responses"] = _insert_responses(connection, result, run_id)
        for table, keys in KEYS.items():
            inserted[table] = insert_new_versions(
                connection, f"raw.{table}", rows[table], keys=keys, run_id=run_id, ingested_at=now
            )
        inserted["extract_files"] = _insert_extract_files(connection, extracts, run_id, now)
        inserted["quarantined"] = insert_records(
            connection,
            "audit.quarantine",
            [{**q, "run_id": run_id, "quarantined_at": now} for e in extracts for q in e.quarantined],
        )
        insert_records(connection, "audit.api_requests", [{**r, "run_id": run_id} for r in request_log])
        if fingerprint:
            insert_records(
                connection,
                "audit.lginform_sync_state",
                [
                    {"metric_type_id": m, "request_fingerprint": fingerprint, "last_success_at": now, "run_id": run_id}
                    for m in result.fetched_metric_types
                ],
                upsert=True,
            )
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return inserted


def _insert_extract_files(
    connection: duckdb.DuckDBPyConnection, extracts: Sequence[ExtractResult], run_id: str, now: datetime
) -> int:
    return insert_records(
        connection,
        "raw.extract_files",
        [
            {
                "path": str(e.path),
                "format": e.format,
                "rows_received": e.rows_received,
                "rows_accepted": e.rows_accepted,
                "rows_quarantined": len(e.quarantined),
                **e.lineage(),
                "ingested_at": now,
                "run_id": run_id,
            }
            for e in extracts
        ],
    )


def _insert_responses(connection: duckdb.DuckDBPyConnection, result: PullResult, run_id: str) -> int:
    seen: set[str] = set()
    records = []
    for r in result.responses:
        if r.sha256 in seen:
            continue
        seen.add(r.sha256)
        records.append(
            {
                "sha256": r.sha256,
                "endpoint": r.endpoint,
                "request": r.request,
                "status": r.status,
                "bytes": len(r.body),
                "body_gzip": r.body_gzip(),
                "fetched_at": r.fetched_at,
                "run_id": run_id,
            }
        )
    if not records:
        return 0
    known = {row[0] for row in connection.execute("SELECT sha256 FROM raw.lginform_responses").fetchall()}
    return insert_records(connection, "raw.lginform_responses", [r for r in records if r["sha256"] not in known])
