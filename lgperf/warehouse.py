"""The DuckDB warehouse: its schemas, the raw and audit tables that Python writes, and a
connection helper that opens late and closes early (DuckDB allows one writing process).

dbt owns ``staging``, ``intermediate`` and ``marts``; Python owns ``raw`` and ``audit``. Every
raw table carries the same lineage columns so any row traces back to its request or file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb

SCHEMAS = ("raw", "staging", "intermediate", "candidate", "marts", "audit")

LINEAGE_COLUMNS = """
    source_system     VARCHAR   NOT NULL,
    source_reference  VARCHAR   NOT NULL,
    source_sha256     VARCHAR   NOT NULL,
    ingested_at       TIMESTAMPTZ NOT NULL,
    run_id            VARCHAR   NOT NULL
"""

DDL = f"""
CREATE TABLE IF NOT EXISTS raw.lginform_responses (
    sha256        VARCHAR PRIMARY KEY,
    endpoint      VARCHAR NOT NULL,
    request       VARCHAR NOT NULL,   -- URL without ApplicationKey, Signature or nonce
    status        INTEGER NOT NULL,
    bytes         BIGINT  NOT NULL,
    body_gzip     BLOB    NOT NULL,
    fetched_at    TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS raw.lginform_metric_types (
    metric_type_id      VARCHAR NOT NULL,
    label               VARCHAR NOT NULL,
    short_label         VARCHAR,
    help_text           VARCHAR,
    unit_label          VARCHAR,
    measurement_unit_id VARCHAR,
    output_precision    INTEGER,
    polarity            VARCHAR,
    period_type         VARCHAR,
    frequency           VARCHAR,
    dataset_id          VARCHAR,
    null_as_zero        BOOLEAN,
    discontinued        BOOLEAN,
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS raw.lginform_periods (
    period_id    VARCHAR NOT NULL,
    label        VARCHAR NOT NULL,
    start_date   DATE    NOT NULL,
    end_date     DATE    NOT NULL,
    period_type  VARCHAR,
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS raw.lginform_areas (
    area_code    VARCHAR NOT NULL,
    label        VARCHAR NOT NULL,
    short_label  VARCHAR,
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS raw.lginform_group_members (
    group_id     VARCHAR NOT NULL,
    area_code    VARCHAR NOT NULL,
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS raw.lginform_values (
    metric_type_id     VARCHAR NOT NULL,
    area_code          VARCHAR NOT NULL,
    period_id          VARCHAR NOT NULL,
    value_type         VARCHAR NOT NULL,
    value              DOUBLE,
    formatted          VARCHAR,
    value_source       VARCHAR,
    ci_lower           DOUBLE,
    ci_upper           DOUBLE,
    publication_status VARCHAR,
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS raw.extract_files (
    path              VARCHAR NOT NULL,
    format            VARCHAR NOT NULL,
    rows_received     BIGINT  NOT NULL,
    rows_accepted     BIGINT  NOT NULL,
    rows_quarantined  BIGINT  NOT NULL,
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS raw.inbox_files (
    folder            VARCHAR NOT NULL,   -- surveys | complaints
    file_name         VARCHAR NOT NULL,
    status            VARCHAR NOT NULL,   -- loaded | refused
    layout            VARCHAR,
    rows_received     BIGINT  NOT NULL,
    rows_accepted     BIGINT  NOT NULL,
    rows_quarantined  BIGINT  NOT NULL,   -- accepted + quarantined = received
    reason            VARCHAR,            -- why a file was refused
    bytes             BIGINT,
    content_gzip      BLOB,               -- the file as received (restricted: may hold personal data)
    {LINEAGE_COLUMNS},
    replaces          VARCHAR             -- the earlier file names it replaces whole, '/'-separated (added later)
);
CREATE TABLE IF NOT EXISTS raw.survey_responses (
    file_name           VARCHAR NOT NULL,
    row_number          BIGINT  NOT NULL,
    layout              VARCHAR NOT NULL,
    respondent_id       VARCHAR NOT NULL,
    fieldwork_start     DATE    NOT NULL,
    fieldwork_end       DATE    NOT NULL,
    weight              DOUBLE  NOT NULL,
    age_band            VARCHAR,
    sex                 VARCHAR,
    ethnicity           VARCHAR,
    disability          VARCHAR,
    ward                VARCHAR,
    q_local_area        INTEGER,  -- answer codes: 1 = most positive ... 4 or 5; 9 = don't know
    q_runs_things       INTEGER,
    q_value_for_money   INTEGER,
    q_acts_on_concerns  INTEGER,
    q_kept_informed     INTEGER,
    q_trust             INTEGER,
    extra               VARCHAR,  -- JSON of received columns the layout does not map
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS raw.complaints (
    file_name           VARCHAR NOT NULL,
    row_number          BIGINT  NOT NULL,
    layout              VARCHAR NOT NULL,
    complaint_id        VARCHAR NOT NULL,
    received_date       DATE    NOT NULL,
    stage               VARCHAR NOT NULL,  -- 1 | 2 | ombudsman
    service             VARCHAR NOT NULL,
    channel             VARCHAR,
    theme               VARCHAR,
    summary             VARCHAR,           -- as received: restricted, never read outside raw
    summary_redacted    VARCHAR,
    redaction_counts    VARCHAR,           -- JSON: kind -> number redacted
    due_date            DATE,
    responded_date      DATE,
    outcome             VARCHAR,           -- upheld | partly_upheld | not_upheld | withdrawn
    ward                VARCHAR,
    age_band            VARCHAR,
    sex                 VARCHAR,
    ethnicity           VARCHAR,
    disability          VARCHAR,
    extra               VARCHAR,
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS raw.officer_returns (
    file_name           VARCHAR NOT NULL,
    row_number          BIGINT  NOT NULL,
    draft_id            VARCHAR NOT NULL,  -- the file's first 12 hex digits and the row: what an approval names
    round_id            VARCHAR NOT NULL,  -- the quarter the return was written for (fin_YYYY_YY_qN)
    owner               VARCHAR NOT NULL,
    indicator_id        VARCHAR NOT NULL,
    period_id           VARCHAR NOT NULL,
    value               DOUBLE,            -- local indicators only; a draft until approved
    commentary          VARCHAR,
    action              VARCHAR,
    action_by           VARCHAR,
    action_due          DATE,
    proposed_target     DOUBLE,            -- for the financial year after the round's
    extra               VARCHAR,
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS raw.return_approvals (
    file_name           VARCHAR NOT NULL,
    row_number          BIGINT  NOT NULL,
    draft_id            VARCHAR NOT NULL,
    decision            VARCHAR,           -- approved | rejected; null: left blank, still waiting
    decided_by          VARCHAR,
    decided_on          DATE,
    note                VARCHAR,
    extra               VARCHAR,
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS raw.library_indicators (
    indicator_id      VARCHAR NOT NULL,
    owner             VARCHAR NOT NULL,
    rationale         VARCHAR NOT NULL,
    theme             VARCHAR NOT NULL,
    perspective       VARCHAR NOT NULL,
    priority          VARCHAR NOT NULL,
    definition        VARCHAR,
    rag_off_periods   VARCHAR,  -- comma-separated period spellings
    {LINEAGE_COLUMNS},
    -- added later, so at the end (an existing warehouse gains them)
    spc_freeze_after_points INTEGER,  -- SPC limits from the first N points of each baseline
    spc_rebase_periods VARCHAR,       -- comma-separated period ids starting a new SPC baseline
    spc_rebase_record  VARCHAR,       -- each accepted rebase: period, reason, who, when
    compare_as        VARCHAR,  -- a count's rate of the same measure, compared with other councils in its place
    no_change_within  DOUBLE    -- in the indicator's unit; added after the lineage, so older warehouses gain it
);
CREATE TABLE IF NOT EXISTS raw.library_targets (
    indicator_id      VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    target            DOUBLE  NOT NULL,
    tolerance_percent DOUBLE  NOT NULL,
    set_on            DATE    NOT NULL,
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS raw.library_commentary (
    indicator_id      VARCHAR NOT NULL,
    period_label      VARCHAR NOT NULL,
    author            VARCHAR NOT NULL,
    text              VARCHAR NOT NULL,
    {LINEAGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS audit.api_requests (
    run_id        VARCHAR NOT NULL,
    request       VARCHAR NOT NULL,
    status        INTEGER,
    attempts      INTEGER NOT NULL,
    bytes         BIGINT,
    sha256        VARCHAR,
    error         VARCHAR,           -- why the request failed, or why its answer was refused
    fetched_at    TIMESTAMPTZ NOT NULL,
    metric_types  VARCHAR            -- the metric types a refused answer held back (comma-separated)
);
CREATE TABLE IF NOT EXISTS audit.lginform_sync_state (
    metric_type_id       VARCHAR PRIMARY KEY,
    request_fingerprint  VARCHAR NOT NULL,  -- areas + periods asked for: a change means a full pull
    last_success_at      TIMESTAMPTZ NOT NULL,
    run_id               VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS audit.quarantine (
    run_id            VARCHAR NOT NULL,
    source_system     VARCHAR NOT NULL,
    source_reference  VARCHAR NOT NULL,
    source_sha256     VARCHAR,
    row_number        BIGINT,
    column_name       VARCHAR,
    reason            VARCHAR NOT NULL,
    raw_record        VARCHAR,
    quarantined_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS audit.publications (
    publication_id  VARCHAR PRIMARY KEY,
    run_id          VARCHAR NOT NULL,
    decision        VARCHAR NOT NULL,   -- published, waived (published under a waiver) or blocked
    decided_at      TIMESTAMPTZ NOT NULL,
    decided_by      VARCHAR NOT NULL,   -- JSON: the checks that failed at error severity (none when published)
    fingerprint     VARCHAR,            -- SHA-256 of the published state (null when blocked)
    raw_through     TIMESTAMPTZ,        -- the newest raw load the audit judged
    row_counts      VARCHAR NOT NULL,   -- JSON: rows per candidate table (the next audit's drift baseline)
    waivers         VARCHAR,            -- the waivers this publication used (comma-separated ids)
    state_of        VARCHAR             -- the publication that first published this state (null when blocked)
);
CREATE TABLE IF NOT EXISTS audit.waivers (
    waiver_id       VARCHAR PRIMARY KEY,
    check_name      VARCHAR NOT NULL,   -- the check it lets pass once, e.g. gx_fct_indicator_values
    granted_by      VARCHAR NOT NULL,   -- the named person who took the decision
    reason          VARCHAR NOT NULL,
    granted_at      TIMESTAMPTZ NOT NULL,
    publication_id  VARCHAR             -- the publication that used it (null: not used yet)
);
CREATE TABLE IF NOT EXISTS audit.validation_results (
    run_id            VARCHAR NOT NULL,
    suite             VARCHAR NOT NULL,
    target            VARCHAR NOT NULL,
    expectation       VARCHAR NOT NULL,
    kwargs            VARCHAR,
    severity          VARCHAR NOT NULL,
    success           BOOLEAN NOT NULL,
    observed_value    VARCHAR,
    element_count     BIGINT,
    unexpected_count  BIGINT,
    failing_sample    VARCHAR,
    validated_at      TIMESTAMPTZ NOT NULL,
    why               VARCHAR            -- the check in plain words (the suite's meta.why)
);
CREATE TABLE IF NOT EXISTS audit.failing_rows (   -- the rows as found; EXPORT_DIR/quality shows them masked
    run_id            VARCHAR NOT NULL,
    suite             VARCHAR NOT NULL,
    expectation       VARCHAR NOT NULL,
    kwargs            VARCHAR,
    row_number        BIGINT  NOT NULL,  -- 1, 2, ... up to the gate's limit per expectation
    row_json          VARCHAR NOT NULL,  -- the frame's row, every column, unmasked
    recorded_at       TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS audit.pseudonym_key (   -- one row: the HMAC key of lgperf/pseudonyms.py
    key               VARCHAR NOT NULL,  -- 32 random bytes, hex
    created_at        TIMESTAMPTZ NOT NULL
);
"""


class WarehouseLayoutError(RuntimeError):
    """A Python-owned table has columns other than this version of the code expects."""


def _create(connection: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}").fetchall()
    connection.execute(DDL).fetchall()


def _column_types(connection: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[str, bool]]:
    """(table, column) -> (type, nullable)."""
    rows = connection.execute(
        "SELECT table_schema || '.' || table_name, column_name, data_type, is_nullable = 'YES' "
        "FROM information_schema.columns WHERE table_schema IN ('raw', 'audit')"
    ).fetchall()
    return {(table, column): (data_type, nullable) for table, column, data_type, nullable in rows}


def _add_new_columns(
    connection: duckdb.DuckDBPyConnection,
    expected: dict[str, list[str]],
    actual: dict[str, list[str]],
    types: dict[tuple[str, str], tuple[str, bool]],
) -> None:
    """Additive changes migrate themselves: a table whose columns are the expected ones, with
    only nullable columns missing at the end, gains those columns (existing rows read as
    unknown). Anything else is left for ``initialise`` to refuse."""
    for table, columns in expected.items():
        present = actual.get(table)
        if not present or len(present) >= len(columns) or columns[: len(present)] != present:
            continue
        missing = columns[len(present) :]
        if all(types[(table, column)][1] for column in missing):
            for column in missing:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {types[(table, column)][0]}").fetchall()


def _python_owned_columns(connection: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = connection.execute(
        "SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns "
        "WHERE table_schema IN ('raw', 'audit') ORDER BY 1, ordinal_position"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


def python_owned_tables() -> list[str]:
    """``schema.table`` of every table Python writes (dbt's seeds and ``audit.mart_builds`` are dbt's)."""
    with duckdb.connect() as reference:
        _create(reference)
        return sorted(_python_owned_columns(reference))


def python_owned_layout() -> list[tuple[str, str, str, bool]]:
    """(``schema.table``, column, DuckDB type, nullable) of every table Python writes, in column
    order, as this version lays them out (for the catalogue's column schemas)."""
    with duckdb.connect() as reference:
        _create(reference)
        return reference.execute(
            "SELECT table_schema || '.' || table_name, column_name, data_type, is_nullable = 'YES' "
            "FROM information_schema.columns WHERE table_schema IN ('raw', 'audit') ORDER BY 1, ordinal_position"
        ).fetchall()


def initialise(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the schemas and the Python-owned tables if they are missing (idempotent), add
    columns a newer version appended, and refuse a warehouse whose tables an earlier version
    laid out otherwise: loading into it would fail half-way with a less helpful message."""
    _create(connection)
    with duckdb.connect() as reference:
        _create(reference)
        expected = _python_owned_columns(reference)
        types = _column_types(reference)
    _add_new_columns(connection, expected, _python_owned_columns(connection), types)
    actual = _python_owned_columns(connection)
    stale = {t: sorted(set(c) ^ set(actual.get(t, []))) for t, c in expected.items() if actual.get(t) != c}
    if stale:
        details = "; ".join(f"{t} differs in {', '.join(c) or 'column order'}" for t, c in stale.items())
        raise WarehouseLayoutError(
            f"the warehouse was laid out by another version of lgperf ({details}). For the demo "
            "warehouse run `make clean`; for a council's warehouse, migrate those tables first."
        )


def connection_config() -> dict[str, str]:
    """DuckDB settings for every connection the pipeline opens (dbt's are in profiles.yml):
    a memory limit (``DUCKDB_MEMORY_LIMIT``, default 2GB) so that large sorts and joins spill to
    disk instead of taking most of the machine's memory, which DuckDB's default (80%) allows.
    dbt builds the two heaviest marts one after the other (spc after benchmarks), so they never
    share it at the same time: see benchmarks/README.md."""
    return {"memory_limit": os.environ.get("DUCKDB_MEMORY_LIMIT", "2GB")}


@contextlib.contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse for the shortest useful time; initialise it when writing."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(path), read_only=read_only, config=connection_config())
    try:
        if not read_only:
            initialise(connection)
        yield connection
    finally:
        connection.close()
