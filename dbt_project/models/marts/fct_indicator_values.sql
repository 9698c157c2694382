-- One value per indicator, area and period: the fact every other mart builds on.
-- Incremental (macros/incremental.sql): a build recomputes only the cells whose preferred
-- version arrived after the last build; the filter on the indicator lets DuckDB skip the
-- version ranking of every indicator that received nothing (a pair filter on indicator and
-- area is not pushed below the ranking, measured: no faster than no filter at all).
{%- set increment = fct_indicator_values_increment() %}
{%- set plan = incremental_plan(increment) %}
{{ incremental_mart_config('fct_indicator_values', increment) }}

select
    v.indicator_id,
    v.area_code,
    v.period_id,
    v.value,
    v.source_system,
    v.source_reference,
    v.source_sha256,
    v.ingested_at,
    v.run_id,
    {{ computed_at() }} as computed_at  -- which build computed the row (macros/scoped_tests.sql)
from {{ ref('stg_lginform__values') }} as v
where
    v.value_type = 'raw'
    and v.period_id is not null  -- unrecognised spellings: see intermediate.int_values_rejected
    and {{ arrived_since(plan, 'v.ingested_at') }}
{%- if plan.mode == 'incremental' %}
  and v.indicator_id in (select metric_type_id from {{ increment.input }} where {{ arrived_since(plan) }})
{%- endif %}
