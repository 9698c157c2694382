-- XmR chart points (NHS England "Making Data Count"): limits and rule flags come from
-- int_spc_rule_flags; here the first rule that applies names the signal, and polarity turns
-- its side into improvement or concern.
--
-- Incremental (macros/incremental.sql): a build recomputes the whole series (limits depend on
-- every point) of each indicator and area that received a value since the last build; a
-- change of rule lengths, screening, rebase periods or polarity rebuilds the table.
{%- set increment = spc_increment() %}
{%- set plan = incremental_plan(increment) %}
{{ incremental_mart_config('spc', increment) }}

with flagged as (
    select
        f.*,
        case
            when f.is_outside_limits then 'outside_limits'
            when f.is_run then 'run'
            when f.is_trend then 'trend'
            when f.is_two_of_three then 'two_of_three'
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
            -- side of the mean; a trend point exactly on the mean takes the trend's direction
            when coalesce(nullif(side_of_mean, 0), trend_direction) > 0 then 'special_cause_high'
            else 'special_cause_low'
        end as point_type
    from flagged
)

select
    indicator_id,
    area_code,
    period_id,
    period_start,
    value,
    point_index,
    process_mean,
    upper_process_limit,
    lower_process_limit,
    upper_two_sigma,
    lower_two_sigma,
    moving_range,
    mean_moving_range,
    special_cause_rule,
    point_type,
    case
        when point_type = 'common_cause' then 'common_cause'
        when polarity = 'high_is_good' and point_type = 'special_cause_high' then 'special_cause_improvement'
        when polarity = 'high_is_good' and point_type = 'special_cause_low' then 'special_cause_concern'
        when polarity = 'low_is_good' and point_type = 'special_cause_low' then 'special_cause_improvement'
        when polarity = 'low_is_good' and point_type = 'special_cause_high' then 'special_cause_concern'
        else 'special_cause_neutral'  -- neutral polarity, or none known
    end as variation_icon,
    -- no targets in the warehouse yet: a later change joins them and fills this
    cast(null as varchar) as assurance_icon,
    trial_limits
from typed
