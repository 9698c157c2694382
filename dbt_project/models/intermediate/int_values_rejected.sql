-- A table, not a view (read by its tests and the gate): as a view each reader re-parsed every raw value,
-- which took 20 s per test at benchmark scale L.
{{ config(materialized='table') }}
-- Value rows that cannot reach the marts, with the reason: nothing received is lost silently.
select
    indicator_id,
    area_code,
    period_label_as_received,
    value,
    'unrecognised period spelling: ' || coalesce(period_label_as_received, '(empty)') as reason,
    source_system,
    source_reference,
    source_sha256,
    ingested_at,
    run_id
from {{ ref('stg_lginform__values') }}
where period_id is null
