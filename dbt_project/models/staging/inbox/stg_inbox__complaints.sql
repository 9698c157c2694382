-- One row per complaint and stage, from the latest version of each file; a complaint found in
-- two files (a case re-exported after its response was corrected) is taken from the file
-- loaded last. Only the redacted summary leaves raw.
with complaints as (
    {{ rows_of_latest_file_versions('complaints', source('inbox', 'complaints')) }}
    qualify row_number() over (
        partition by complaint_id, stage
        order by file_rows.ingested_at desc, file_rows.file_name desc, file_rows.row_number
    ) = 1
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
