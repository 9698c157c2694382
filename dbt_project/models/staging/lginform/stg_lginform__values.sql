-- Every value cell once. Period spellings are normalised here, once (macros/periods.sql); an id
-- the API itself lists is kept as it is. Then the preferred version of each cell: the most
-- trusted source, its latest load (macros/versions.sql). A spelling nobody recognises keeps
-- period_id null; the mart leaves such rows out and int_values_rejected lists them.
--
-- Incremental (macros/incremental.sql), like the fact built from it: parsing spellings and
-- ranking versions over every raw value is the costliest step of a build, and as a view every
-- reader (the fact, the periods, the rejected values, the tests) paid it again. A build ranks
-- the versions of only the cells that received one, and keeps those whose preferred version
-- arrived since the last build; a later, less trusted version changes nothing, as before.
{%- set increment = stg_lginform__values_increment() %}
{%- set plan = incremental_plan(increment) %}
{{ incremental_mart_config('stg_lginform__values', increment) }}

with source as (
    select * from {{ source('lginform', 'lginform_values') }}
),

api_period_ids as (
    select distinct period_id from {{ source('lginform', 'lginform_periods') }}
),

-- each spelling parsed once, not once per value
spellings as (
    select distinct period_id as spelling from source
),

canonical as (
    select
        spellings.spelling,
        coalesce({{ period_id_from_label('spellings.spelling') }}, api_period_ids.period_id) as canonical_period_id
    from spellings
    left join api_period_ids on api_period_ids.period_id = spellings.spelling
),

normalised as (
    select
        source.*,
        canonical.canonical_period_id,
        coalesce(canonical.canonical_period_id, source.period_id) as cell_period
    from source
    left join canonical on canonical.spelling = source.period_id
),

{%- if plan.mode == 'incremental' %}

-- every version of each cell that received one since the last build (and no other cell; raw keys are never null)
touched as (
    select *
    from normalised
    where (metric_type_id, area_code, cell_period, value_type) in (
        select metric_type_id, area_code, cell_period, value_type from normalised where {{ arrived_since(plan) }}
    )
),
{%- endif %}

preferred as (
    {{ preferred_versions(
        'touched' if plan.mode == 'incremental' else 'normalised',
        'metric_type_id, area_code, cell_period, value_type'
    ) }}
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
    run_id,
    cell_period         as period_key,  -- the cell's period, recognised or not (its key)
    {{ computed_at() }} as computed_at  -- which build computed the row (macros/scoped_tests.sql)
from preferred
where {{ arrived_since(plan, 'ingested_at') }}
