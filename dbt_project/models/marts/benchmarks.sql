-- Benchmarks: every reported value placed in each comparison group its area belongs to, with
-- the group's distribution (size, mean, median, quartiles, unscaled MAD) and the area's
-- robust distance from the median and polarity-aware rank, percentile and quartile band (the
-- band from the value against the quartiles shown, not from the rank).
--
-- Groups:
--   configured  each id in var('comparison_groups'), members as learnt from LG Inform
--               (stg_lginform__group_members). Owner rule: a CIPFA nearest-neighbour group
--               (id ending in '_CIPFA_Near_Neighbours') lists its owner's neighbours but not the
--               owner, so var('council') is added to every such configured group (a no-op when
--               it is already a member). Assumes such groups are var('council')'s own.
--   derived     Tier_<tier>_<country_code>: all councils (dim_areas.is_council) of one tier in
--               one country.
-- A group's statistics are over its members that report a non-null value for that indicator
-- and period (group_size); group_members counts every member, reporting or not, so that a
-- reader can name the group by what it holds (16 of 317 councils in England have a value).
-- Raw counts (dim_indicators.unit_kind 'count': claimants, households, requests) are not
-- ranked: their order is mostly the order of the councils' populations. Their distribution
-- statistics stay; indicator_performance compares the rate the library links to, if any.
--
-- Incremental (macros/incremental.sql): a build recomputes only the indicator-periods that
-- received a value since the last build; a change of groups, members, tiers or polarity
-- rebuilds the table.
{%- set increment = benchmarks_increment() %}
{%- set plan = incremental_plan(increment) %}
{{ incremental_mart_config('benchmarks', increment) }}
{%- set council = var('council') -%}
{%- set configured_groups = var('comparison_groups') -%}
{%- if configured_groups is string -%}{%- set configured_groups = [configured_groups] -%}{%- endif %}

with reported as (
    select
        indicator_id,
        area_code,
        period_id,
        value
    from {{ ref('fct_indicator_values') }}
    where value is not null
    {%- if plan.mode == 'incremental' %}
      and (indicator_id, period_id) in ({{ changed_slices(increment, plan) }})
    {%- endif %}
),

learnt_members as (
    select
        comparison_group_id,
        area_code
    from {{ ref('stg_lginform__group_members') }}
    where
        {% if configured_groups | length > 0 -%}
            comparison_group_id in (
                {%- for group_id in configured_groups %}
                    '{{ group_id | string | replace("'", "''") }}'{{ "," if not loop.last }}
                {% endfor -%}
            )
        {%- else -%}
        false  -- no configured groups
    {%- endif %}
),

-- The owner council in its own CIPFA nearest-neighbour group (see the header).
owners_of_cipfa_groups as (
    select distinct
        comparison_group_id,
        '{{ council | string | replace("'", "''") }}' as area_code
    from learnt_members
    where comparison_group_id like '%\_CIPFA\_Near\_Neighbours' escape '\'
),

derived_members as (
    select
        'Tier_' || tier || '_' || country_code as comparison_group_id,
        area_code
    from {{ ref('dim_areas') }}
    where is_council and tier is not null and country_code is not null
),

members as (
    select
        comparison_group_id,
        area_code
    from learnt_members
    union  -- distinct: an owner already listed is not counted twice
    select
        comparison_group_id,
        area_code
    from owners_of_cipfa_groups
    union
    select
        comparison_group_id,
        area_code
    from derived_members
),

membership as (
    select
        comparison_group_id,
        count(*) as group_members
    from members
    group by comparison_group_id
),

in_group as (
    select
        m.comparison_group_id,
        r.indicator_id,
        r.period_id,
        r.area_code,
        r.value
    from members as m
    inner join reported as r on r.area_code = m.area_code
),

group_stats as (
    select
        comparison_group_id,
        indicator_id,
        period_id,
        count(*)                                                                  as group_size,
        {{ deterministic_avg('value') }}                                          as group_mean,
        -- quantiles to 10 decimal places: DuckDB and PostgreSQL interpolate in a different order
        -- (58.14999999999999 against 58.15), and a published statistic carries no float noise
        {{ round_to('percentile_cont(0.5) within group (order by value)', 10) }}  as group_median,
        {{ round_to('percentile_cont(0.25) within group (order by value)', 10) }} as group_q1,
        {{ round_to('percentile_cont(0.75) within group (order by value)', 10) }} as group_q3
    from in_group
    group by comparison_group_id, indicator_id, period_id
),

deviations as (
    -- the unscaled MAD as a grouped aggregate, not a window: grouped aggregates spill to disk
    select
        g.comparison_group_id,
        g.indicator_id,
        g.period_id,
        {{ round_to('percentile_cont(0.5) within group (order by abs(g.value - s.group_median))', 10) }} as group_mad
    from in_group as g
    inner join group_stats as s
        on
            s.comparison_group_id = g.comparison_group_id
            and s.indicator_id = g.indicator_id
            and s.period_id = g.period_id
    group by g.comparison_group_id, g.indicator_id, g.period_id
),

with_median as (
    select
        g.comparison_group_id,
        g.indicator_id,
        g.period_id,
        g.area_code,
        g.value,
        s.group_size,
        gm.group_members,
        s.group_mean,
        s.group_median,
        s.group_q1,
        s.group_q3,
        d.group_mad,
        i.polarity,
        i.unit_kind
    from in_group as g
    inner join group_stats as s
        on
            s.comparison_group_id = g.comparison_group_id
            and s.indicator_id = g.indicator_id
            and s.period_id = g.period_id
    inner join deviations as d
        on
            d.comparison_group_id = g.comparison_group_id
            and d.indicator_id = g.indicator_id
            and d.period_id = g.period_id
    inner join membership as gm on gm.comparison_group_id = g.comparison_group_id
    left join {{ ref('dim_indicators') }} as i on i.indicator_id = g.indicator_id
),

ranked as (
    select
        *,
        case
            when unit_kind = 'count' then null
            when polarity = 'high_is_good'
                then rank() over (
                    partition by comparison_group_id, indicator_id, period_id order by value desc
                )
            when polarity = 'low_is_good' then rank() over (
                partition by comparison_group_id, indicator_id, period_id order by value asc
            )
        end as rank  -- null for a raw count, and for neutral (or unknown) polarity
    from with_median
)

select
    comparison_group_id,
    indicator_id,
    period_id,
    area_code,
    value,
    group_size,
    group_members,
    group_mean,
    group_median,
    group_q1,
    group_q3,
    group_mad,
    case when group_mad <> 0 then (value - group_median) / group_mad end as mads_from_median,
    rank,
    case
        when rank is null then null
        when group_size = 1 then cast(100 as double precision)
        else 100 * cast(group_size - rank as double precision) / (group_size - 1)
    end                                                                  as percentile,
    -- from the quartile values published beside it, not from the rank, so the two never
    -- disagree; a value on a boundary takes the better band. None where there is no rank: a
    -- raw count's band would order councils by size as surely as its rank
    case
        when rank is null then null
        when polarity = 'high_is_good'
            then case
                when value >= group_q3 then 1 when value >= group_median then 2 when value >= group_q1 then 3 else 4
            end
        when polarity = 'low_is_good' then case
            when value <= group_q1 then 1 when value <= group_median then 2 when value <= group_q3 then 3 else 4
        end
    end                                                                  as quartile_band,
    {{ computed_at() }}                                                  as computed_at  -- which build computed the row (macros/scoped_tests.sql)
from ranked
