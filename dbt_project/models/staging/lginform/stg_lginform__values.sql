with source as (
    select * from {{ source('lginform', 'lginform_values') }}
    {{ latest_version('metric_type_id, area_code, period_id, value_type') }}
)

select
    metric_type_id      as indicator_id,
    area_code,
    period_id,
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
from source
