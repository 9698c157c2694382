"""What ``lgperf status``, ``lgperf trace`` and ``lgperf run``'s summary read from the warehouse
(plain SQL, no Dagster).

``last_publication``: the latest attempt of audit.publications and the checks that blocked it;
``stale_indicators``: the latest figure of each published indicator older than the freshness
rule allows (lgperf/freshness.py, as the gate and the report judge it); ``waiting_drafts``:
officers' return drafts not yet approved or rejected; ``trace``: one published value's lineage,
the query of docs/lineage.md, with the raw request or file and the publication that published it;
``rows_per_source``, ``quarantined`` and ``publication_of_run``: what one run loaded and decided.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from lgperf.freshness import days_over


def _has_table(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
        ).fetchall()[0][0]
    )


@dataclass(frozen=True)
class LastPublication:
    publication_id: str
    run_id: str
    decision: str
    decided_at: datetime
    blocked_by: list[str]  # the failed error-severity checks that were not waived
    waived: list[str]  # "check (waived by name)"
    held: str | None  # the publication marts holds now (marts.publication)


def last_publication(connection: duckdb.DuckDBPyConnection) -> LastPublication | None:
    if not _has_table(connection, "audit", "publications"):
        return None
    rows = connection.execute(
        "SELECT publication_id, run_id, decision, decided_at, decided_by FROM audit.publications "
        "ORDER BY decided_at DESC, publication_id DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return None
    publication_id, run_id, decision, decided_at, decided_by = rows[0]
    checks = json.loads(decided_by or "[]")
    held = None
    if _has_table(connection, "marts", "publication"):
        marker = connection.execute("SELECT publication_id FROM marts.publication").fetchall()
        held = marker[0][0] if marker else None
    return LastPublication(
        publication_id,
        run_id,
        decision,
        decided_at,
        blocked_by=[c["check"] for c in checks if not c.get("waived_by")] if decision == "blocked" else [],
        waived=[f"{c['check']} (waived by {c['waived_by']})" for c in checks if c.get("waived_by")],
        held=held,
    )


@dataclass(frozen=True)
class RunPublication:
    publication_id: str
    decision: str
    state_of: str | None  # the publication whose state marts holds after it (itself, unless nothing changed)
    blocked_by: list[str]  # the failed error-severity checks that were not waived


def publication_of_run(connection: duckdb.DuckDBPyConnection, run_id: str) -> RunPublication | None:
    """The publication attempt ``run_id`` made, if it made one."""
    rows = connection.execute(
        "SELECT publication_id, decision, state_of, decided_by FROM audit.publications WHERE run_id = ?", [run_id]
    ).fetchall()
    if not rows:
        return None
    publication_id, decision, state_of, decided_by = rows[0]
    checks = json.loads(decided_by or "[]")
    blocked_by = [c["check"] for c in checks if not c.get("waived_by")] if decision == "blocked" else []
    return RunPublication(publication_id, decision, state_of, blocked_by)


# the raw tables whose rows a run's summary counts per source system, in the order it lists them
RAW_SOURCE_TABLES = (
    "lginform_values",
    "lginform_metric_types",
    "lginform_areas",
    "lginform_periods",
    "lginform_group_members",
    "inbox_files",
    "survey_responses",
    "complaints",
    "officer_returns",
    "return_approvals",
)


def rows_per_source(connection: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str, str, int, int]]:
    """(raw table, source system, rows in raw, rows ``run_id`` inserted), table by table."""
    return [
        (table, source, total, new)
        for table in RAW_SOURCE_TABLES
        for source, total, new in connection.execute(
            "SELECT source_system, count(*), count(*) FILTER (WHERE run_id = ?) "
            f"FROM raw.{table} GROUP BY 1 ORDER BY 1",
            [run_id],
        ).fetchall()
    ]


def failed_expectations(connection: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str, str, int | None]]:
    """(suite, the expectation in plain words, rows that failed it) of each expectation ``run_id``'s
    gate found failing, most rows first: what a failed ``gx_<suite>`` check is about."""
    if not _has_table(connection, "audit", "validation_results"):
        return []
    return connection.execute(
        "SELECT suite, coalesce(why, expectation), unexpected_count FROM audit.validation_results "
        "WHERE run_id = ? AND NOT success ORDER BY suite, unexpected_count DESC NULLS LAST, 2",
        [run_id],
    ).fetchall()


def quarantined(connection: duckdb.DuckDBPyConnection, run_id: str) -> tuple[int, int]:
    """(rows in audit.quarantine, rows ``run_id`` quarantined)."""
    total, new = connection.execute(
        "SELECT count(*), count(*) FILTER (WHERE run_id = ?) FROM audit.quarantine", [run_id]
    ).fetchall()[0]
    return total, new


STALE_SQL = """
SELECT p.indicator_id, coalesce(d.short_title, d.title, p.indicator_id) AS title,
    p.period_id, dp.period_label, dp.period_end,
       coalesce(d.frequency, CASE dp.frequency WHEN 'annual' THEN 'annually' ELSE dp.frequency END) AS frequency,
       coalesce(d.discontinued, false) AS discontinued
FROM marts.indicator_performance AS p
LEFT JOIN marts.dim_indicators AS d USING (indicator_id)
LEFT JOIN marts.dim_periods AS dp USING (period_id)
QUALIFY row_number() OVER (PARTITION BY p.indicator_id ORDER BY p.period_start DESC, p.period_id DESC) = 1
ORDER BY p.indicator_id
"""


@dataclass(frozen=True)
class StaleIndicator:
    indicator_id: str
    title: str
    period_label: str
    period_end: date
    frequency: str
    days_over: int
    discontinued: bool


def stale_indicators(
    connection: duckdb.DuckDBPyConnection, as_of: date, max_days_after_period_end: dict[str, int]
) -> list[StaleIndicator] | None:
    """None when nothing is published yet (no marts.indicator_performance)."""
    if not all(_has_table(connection, "marts", t) for t in ("indicator_performance", "dim_indicators", "dim_periods")):
        return None
    stale = []
    for indicator_id, title, period_id, label, period_end, frequency, discontinued in connection.execute(
        STALE_SQL
    ).fetchall():
        over = days_over(period_end, frequency, as_of, max_days_after_period_end)
        if over is not None and over > 0:
            stale.append(
                StaleIndicator(indicator_id, title, label or period_id, period_end, frequency, over, bool(discontinued))
            )
    return stale


def waiting_drafts(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]] | None:
    """(owner, indicator_id, period_id) of each officer's return draft waiting for a decision;
    None when marts.return_drafts does not exist."""
    if not _has_table(connection, "marts", "return_drafts"):
        return None
    return connection.execute(
        "SELECT owner, indicator_id, period_id FROM marts.return_drafts WHERE status = 'waiting' "
        "ORDER BY owner, indicator_id, period_id"
    ).fetchall()


TRACE_SQL = """
SELECT f.indicator_id, f.area_code, f.period_id, f.value, f.source_system, f.source_reference, f.source_sha256,
       f.ingested_at, f.run_id,
       r.request, r.fetched_at, r.status, r.bytes,
       e.path, e.format, e.ingested_at,
       i.folder, i.file_name, i.ingested_at
FROM marts.fct_indicator_values AS f
LEFT JOIN raw.lginform_responses AS r ON f.source_system = 'lginform' AND r.sha256 = f.source_sha256
LEFT JOIN (SELECT * FROM raw.extract_files
    QUALIFY row_number() OVER (PARTITION BY source_sha256 ORDER BY ingested_at) = 1) AS e
       ON f.source_system LIKE 'extract:%' AND e.source_sha256 = f.source_sha256
LEFT JOIN (SELECT * FROM raw.inbox_files
    QUALIFY row_number() OVER (PARTITION BY source_sha256 ORDER BY ingested_at) = 1) AS i
       ON f.source_system NOT IN ('lginform') AND f.source_system NOT LIKE 'extract:%'
           AND i.source_sha256 = f.source_sha256
WHERE f.indicator_id = ? AND f.area_code = ? AND f.period_id = ?
"""


@dataclass(frozen=True)
class Trace:
    indicator_id: str
    area_code: str
    period_id: str
    value: float | None
    source_system: str
    source_reference: str
    source_sha256: str
    ingested_at: datetime
    run_id: str
    origin: str  # the request (URL without credentials), or the file
    received_at: datetime | None
    published_by: str | None  # the publication that added or last revised the value
    published_at: datetime | None
    held: str | None  # the publication marts holds now

    def lines(self) -> list[tuple[str, Any]]:
        value = "no value (null)" if self.value is None else f"{self.value:g}"
        return [
            ("value", f"{self.indicator_id} {self.area_code} {self.period_id} = {value}"),
            ("source_system", self.source_system),
            ("source_reference", self.source_reference),
            ("source_sha256", self.source_sha256),
            ("from", self.origin),
            ("received_at", self.received_at),
            ("ingested_at", self.ingested_at),
            ("run_id", self.run_id),
            ("published_by", f"{self.published_by} at {self.published_at}" if self.published_by else "(not recorded)"),
            ("marts hold", self.held),
        ]


def trace(connection: duckdb.DuckDBPyConnection, indicator_id: str, area_code: str, period_id: str) -> Trace | None:
    """The published value's lineage; None when marts.fct_indicator_values has no such row."""
    if not _has_table(connection, "marts", "fct_indicator_values"):
        return None
    rows = connection.execute(TRACE_SQL, [indicator_id, area_code, period_id]).fetchall()
    if not rows:
        return None
    (
        indicator_id,
        area_code,
        period_id,
        value,
        system,
        reference,
        sha,
        ingested_at,
        run_id,
        request,
        fetched_at,
        status,
        size,
        extract_path,
        extract_format,
        extract_at,
        folder,
        file_name,
        inbox_at,
    ) = rows[0]
    if request is not None:
        origin, received = f"request {request} (HTTP {status}, {size:,} bytes, raw.lginform_responses)", fetched_at
    elif extract_path is not None:
        origin, received = f"file {extract_path} ({extract_format}, raw.extract_files)", extract_at
    elif file_name is not None:
        origin, received = f"file {folder}/{file_name} (raw.inbox_files)", inbox_at
    else:
        origin, received = "(no stored request or file has this hash)", None
    published_by = published_at = held = None
    if _has_table(connection, "marts", "publication"):
        marker = connection.execute("SELECT publication_id, published_at FROM marts.publication").fetchall()
        if marker:
            held, held_at = marker[0]
            published_by, published_at = held, held_at
    if _has_table(connection, "marts", "revisions"):
        revised = connection.execute(
            "SELECT publication_id, published_at FROM marts.revisions WHERE indicator_id = ? AND area_code = ? "
            "AND period_id = ? AND change <> 'withdrawn' ORDER BY published_at DESC LIMIT 1",
            [indicator_id, area_code, period_id],
        ).fetchall()
        if revised:
            published_by, published_at = revised[0]
        elif _has_table(connection, "audit", "publications"):  # never revised: the first publication published it
            first = connection.execute(
                "SELECT publication_id, decided_at FROM audit.publications WHERE decision IN ('published', 'waived') "
                "ORDER BY decided_at LIMIT 1"
            ).fetchall()
            if first:
                published_by, published_at = first[0]
    return Trace(
        indicator_id,
        area_code,
        period_id,
        value,
        system,
        reference,
        sha,
        ingested_at,
        run_id,
        origin,
        received,
        published_by,
        published_at,
        held,
    )
