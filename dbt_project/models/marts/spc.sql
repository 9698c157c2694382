-- XmR chart points (NHS England "Making Data Count"): limits and rule flags come from
-- int_spc_rule_flags; here the first rule that applies names the signal, and polarity turns
-- its side into improvement or concern.
--
-- Incremental (macros/incremental.sql): a build recomputes the whole series (limits depend on
-- every point) of each indicator and area that received a value since the last build; a
-- change of rule lengths, screening, baselines (settings or library), polarity or targets
-- rebuilds the table.
--
-- Built after benchmarks: an order, not a data dependency. The two heaviest marts would
-- otherwise run side by side under DuckDB's one memory limit (DUCKDB_MEMORY_LIMIT) and both
-- spill; one after the other each fits (benchmarks/README.md). The cost: a rebuilt benchmarks
-- table rebuilds spc too (a rebuild cascades downstream, macros/incremental.sql).
-- depends_on: {{ ref('benchmarks') }}
{%- set increment = spc_increment() %}
{%- set plan = incremental_plan(increment) %}
{{ incremental_mart_config('spc', increment) }}

with flagged as (
    select
        f.*,
        -- NHSRplotthedots 0.2's order: a point outside the limits first, then a trend, then
        -- two in three, then a run
        case
            when f.is_outside_limits then 'outside_limits'
            when f.is_trend then 'trend'
            when f.is_two_of_three then 'two_of_three'
            when f.is_run then 'run'
        end as special_cause_rule,
        i.polarity
    from {{ ref('int_spc_rule_flags') }} as f
    left join {{ ref('dim_indicators') }} as i on i.indicator_id = f.indicator_id
    {%- if plan.mode == 'incremental' %}
    -- the indicator filter is pushed below the series' window functions, the pair filter is not
    where f.indicator_id in (select indicator_id from {{ increment.input }} where {{ arrived_since(plan) }})
      and (f.indicator_id, f.area_code) in ({{ changed_slices(increment, plan) }})
    {%- endif %}
),

typed as (
    select
        *,
        case
            when special_cause_rule is null then 'common_cause'
            -- a trend point takes the trend's direction, whichever side of the mean it is on
            -- (NHSRplotthedots #167, #171); the other rules take the point's side
            when special_cause_rule = 'trend' and trend_direction > 0 then 'special_cause_high'
            when special_cause_rule = 'trend' then 'special_cause_low'
            when side_of_mean > 0 then 'special_cause_high'
            else 'special_cause_low'
        end                                                               as point_type,
        -- assurance is given only from a stable baseline: no special cause among the points
        -- that set the limits
        bool_and(special_cause_rule is null) filter (where is_baseline_point)
            over (partition by indicator_id, area_code, baseline_segment) as baseline_is_stable
    from flagged
),

targets as (
    -- the home council's targets, by financial year (the same ones indicator_performance rates against)
    select
        indicator_id,
        target_year,
        target
    from {{ ref('stg_library__targets') }}
    where is_current
)

select
    t.indicator_id,
    t.area_code,
    t.period_id,
    t.period_start,
    t.value,
    t.point_index,
    t.baseline_segment,
    t.is_baseline_point,
    t.baseline_point_count,
    t.process_mean,
    t.upper_process_limit,
    t.lower_process_limit,
    t.upper_two_sigma,
    t.lower_two_sigma,
    t.moving_range,
    t.mean_moving_range,
    t.side_of_mean,
    t.special_cause_rule,
    t.point_type,
    case
        when t.point_type = 'common_cause' then 'common_cause'
        when t.polarity = 'high_is_good' and t.point_type = 'special_cause_high' then 'special_cause_improvement'
        when t.polarity = 'high_is_good' and t.point_type = 'special_cause_low' then 'special_cause_concern'
        when t.polarity = 'low_is_good' and t.point_type = 'special_cause_low' then 'special_cause_improvement'
        when t.polarity = 'low_is_good' and t.point_type = 'special_cause_high' then 'special_cause_concern'
        else 'special_cause_neutral'  -- neutral polarity, or none known
    end                 as variation_icon,
    g.target,
    t.baseline_is_stable,
    case
        when
            g.target is null or t.polarity not in ('high_is_good', 'low_is_good') or t.lower_process_limit is null
            then null
        when not t.baseline_is_stable then 'unstable_process'
        else {{ assurance_icon('g.target', 't.lower_process_limit', 't.upper_process_limit', 't.polarity') }}
    end                 as assurance_icon,
    t.trial_limits,
    {{ computed_at() }} as computed_at  -- which build computed the row (macros/scoped_tests.sql)
from typed as t
left join targets as g
    on
        t.area_code = '{{ var("council") }}'
        and g.indicator_id = t.indicator_id
        and g.target_year = {{ financial_year_of('t.period_start') }}
