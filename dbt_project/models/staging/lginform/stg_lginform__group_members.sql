-- Comparison-group memberships as learnt from group ids expanded in data answers.
with source as (
    {{ preferred_versions(source('lginform', 'lginform_group_members'), 'group_id, area_code') }}
)

select
    group_id as comparison_group_id,
    area_code,
    source_system,
    source_reference,
    source_sha256,
    ingested_at,
    run_id
from source
