-- One row per complaint and stage, from the latest version of each file; a complaint found in
-- two files (a case re-exported after its response was corrected) is taken from the file
-- loaded last. Only the redacted summary leaves raw.
with rows_of_latest_files as (
    {{ rows_of_latest_file_versions('complaints', source('inbox', 'complaints')) }}
),

complaints as (
    {{ first_per('rows_of_latest_files', 'complaint_id, stage', 'ingested_at desc, file_name desc, row_number') }}
)

select
    complaint_id,
    received_date,
    stage,
    service,
    channel,
    theme,
    summary_redacted    as summary,
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
