-- One row per respondent and wave, from the latest version of each file: a file dropped again
-- under the same name is a corrected re-issue and replaces its earlier version; a respondent
-- found in two files for the same fieldwork is taken from the file loaded last.
with responses as (
    {{ rows_of_latest_file_versions('surveys', source('inbox', 'survey_responses')) }}
    qualify row_number() over (
        partition by respondent_id, fieldwork_start, fieldwork_end
        order by file_rows.ingested_at desc, file_rows.file_name desc, file_rows.row_number
    ) = 1
)

select
    respondent_id,
    fieldwork_start,
    fieldwork_end,
    weight,
    age_band,
    sex,
    ethnicity,
    disability,
    ward,
    q_local_area,
    q_runs_things,
    q_value_for_money,
    q_acts_on_concerns,
    q_kept_informed,
    q_trust,
    layout,
    file_name,
    row_number,
    source_system,
    source_reference,
    source_sha256,
    ingested_at,
    run_id
from responses
