-- One row per respondent and wave, from the file received last that holds it; a file replaces
-- earlier ones whole only when told to (its manifest, or inbox.reissue_names: macros/inbox.sql).
with rows_in_force as (
    {{ inbox_rows_in_force('surveys', source('inbox', 'survey_responses')) }}
),

responses as (
    {{ first_per(
        'rows_in_force',
        'respondent_id, fieldwork_start, fieldwork_end',
        'ingested_at desc, file_name desc, row_number'
    ) }}
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
