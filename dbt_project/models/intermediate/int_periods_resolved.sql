-- A table, not a view (a few dozen rows read by dim_periods, the fact and five tests): as a view each reader re-parsed every raw value,
-- which took 20 s per test at benchmark scale L.
{{ config(materialized='table') }}
-- One row per canonical period id: the API's own periods first, then every id a value uses
-- that the API did not describe, with label, dates and frequency derived from the id.
with api as (
    select
        period_id,
        period_label,
        period_start,
        period_end,
        frequency
    from {{ ref('stg_lginform__periods') }}
),

seen_in_values as (
    select distinct period_id
    from {{ ref('stg_lginform__values') }}
    where period_id is not null  -- unrecognised spellings are rejected downstream, not resolved here
),

derived as (
    select
        period_id,
        {{ period_label_from_id('period_id') }}     as period_label,
        {{ period_start_from_id('period_id') }}     as period_start,
        {{ period_end_from_id('period_id') }}       as period_end,
        {{ period_frequency_from_id('period_id') }} as frequency
    from seen_in_values as v
    where not exists (
        select 1 from api
        where api.period_id = v.period_id
    )
)

select
    period_id,
    period_label,
    period_start,
    period_end,
    frequency,
    'lginform' as source
from api

union all

select
    period_id,
    period_label,
    period_start,
    period_end,
    frequency,
    'derived' as source
from derived
