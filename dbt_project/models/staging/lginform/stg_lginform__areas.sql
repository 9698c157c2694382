-- Area names as the sources give them (the API first).
with source as (
    select * from {{ source('lginform', 'lginform_areas') }}
    {{ preferred_version('area_code') }}
)

select
    area_code,
    label as area_name,
    source_system,
    source_reference,
    source_sha256,
    ingested_at,
    run_id
from source
