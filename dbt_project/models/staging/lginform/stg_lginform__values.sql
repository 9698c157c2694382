-- Every value cell once. Period spellings are normalised here, once (macros/periods.sql); an id
-- the API itself lists is kept as it is. Then the preferred version of each cell: the most
-- trusted source, its latest load (macros/versions.sql). A spelling nobody recognises keeps
-- period_id null; the mart leaves such rows out and int_values_rejected lists them.
with source as (
    select * from {{ source('lginform', 'lginform_values') }}
),

api_period_ids as (
    select distinct period_id from {{ source('lginform', 'lginform_periods') }}
),

normalised as (
    select
        source.*,
        coalesce({{ period_id_from_label('source.period_id') }}, api_period_ids.period_id) as canonical_period_id
    from source
    left join api_period_ids on api_period_ids.period_id = source.period_id
),

preferred as (
    {{ preferred_versions('normalised', 'metric_type_id, area_code, coalesce(canonical_period_id, period_id), value_type') }}
)

select
    metric_type_id      as indicator_id,
    area_code,
    canonical_period_id as period_id,
    period_id           as period_label_as_received,
    value_type,
    value,
    formatted           as value_formatted,
    value_source,
    publication_status,
    source_system,
    source_reference,
    source_sha256,
    ingested_at,
    run_id
from preferred
