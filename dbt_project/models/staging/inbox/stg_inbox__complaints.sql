-- One row per complaint and stage, from the file received last that holds it: a CRM that always
-- exports complaints.csv adds a month at a time, and a case re-exported after its response was
-- corrected updates its record. A file replaces earlier ones whole only when told to (macros/inbox.sql).
-- Only the redacted summary leaves raw.
with rows_in_force as (
    {{ inbox_rows_in_force('complaints', source('inbox', 'complaints')) }}
),

complaints as (
    {{ first_per('rows_in_force', 'complaint_id, stage', 'ingested_at desc, file_name desc, row_number') }}
)

select
    complaint_id,
    received_date,
    stage,
    service,
    channel,
    theme,
    summary_redacted as summary,
    redaction_counts,
    due_date,
    responded_date,
    outcome,
    ward,
    age_band,
    sex,
    ethnicity,
    disability,
    layout,
    file_name,
    row_number,
    source_system,
    source_reference,
    source_sha256,
    ingested_at,
    run_id
from complaints
