-- One row per respondent and wave, from the latest version of each file: a file dropped again
-- under the same name is a corrected re-issue and replaces its earlier version; a respondent
-- found in two files for the same fieldwork is taken from the file loaded last.
with rows_of_latest_files as (
    {{ rows_of_latest_file_versions('surveys', source('inbox', 'survey_responses')) }}
),

responses as (
    {{ first_per('rows_of_latest_files', 'respondent_id, fieldwork_start, fieldwork_end', 'ingested_at desc, file_name desc, row_number') }}
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
