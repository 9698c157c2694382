-- Area names as the sources give them (the API first).
with source as (
    {{ preferred_versions(source('lginform', 'lginform_areas'), 'area_code') }}
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
