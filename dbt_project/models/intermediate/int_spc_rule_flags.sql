-- XmR chart per indicator and area (NHS England "Making Data Count", NHSRplotthedots 0.2): one
-- row per point with its baseline's mean, moving ranges, limits and one boolean per
-- special-cause rule. The mart spc picks the first rule that applies and maps it to icons.
-- Baselines: a rebase period starts a new baseline (new mean, moving ranges and limits; rules
-- look within it). Rebase periods come from the council's library (spc_baseline.rebase, each
-- accepted by an officer) and from var('spc_rebase_periods'). Within a baseline the limits are
-- computed from its first N points when a freeze is set (library freeze_after_points, else
-- var('spc_freeze_after_points')), else from all of its points; later points are judged
-- against the frozen limits.
{%- set series = 'indicator_id, area_code, baseline_segment' %}
{%- set rebase = var('spc_rebase_periods', {}) or {} %}
{%- set freeze = var('spc_freeze_after_points', none) %}
{%- set run_length = var('spc_run_length') | int %}
{%- set trend_length = var('spc_trend_length') | int %}
{%- set min_points = var('spc_min_points_for_limits') | int %}
{%- set screen = var('spc_screen_moving_ranges') in [true, 'true', 'True', 1, '1'] %}

with rebase_starts as (
    select
        i.indicator_id,
        p.period_start
    from {{ ref('dim_indicators') }} as i
    inner join {{ ref('dim_periods') }} as p on {{ in_comma_list('p.period_id', 'i.spc_rebase_periods') }}
    {%- if rebase %}
    union
    select
        r.indicator_id,
        p.period_start
    from (values
        {%- for indicator_id, periods in rebase.items() %}{% for period_id in periods %}
        (
            '{{ indicator_id | string | replace("'", "''") }}',
            '{{ period_id | string | replace("'", "''") }}'
        ){{ "," if not loop.last }}
        {%- endfor %}{{ "," if not loop.last }}{% endfor %}
    ) as r(indicator_id, period_id)
    inner join {{ ref('dim_periods') }} as p on p.period_id = r.period_id
    {%- endif %}
),

values_in_segments as (
    select
        v.indicator_id,
        v.area_code,
        v.period_id,
        p.period_start,
        cast(v.value as double precision) as value,
        (
            select count(*) from rebase_starts as r
            where r.indicator_id = v.indicator_id and r.period_start <= p.period_start
        )                                 as baseline_segment,
        row_number()
            over (partition by v.indicator_id, v.area_code order by p.period_start, v.period_id)
            as point_index,
        coalesce(i.spc_freeze_after_points, {{ freeze if freeze is not none else 'cast(null as integer)' }})
            as freeze_after_points
    from {{ ref('fct_indicator_values') }} as v
    inner join {{ ref('dim_periods') }} as p on p.period_id = v.period_id
    left join {{ ref('dim_indicators') }} as i on i.indicator_id = v.indicator_id
    where v.value is not null
),

points as (
    select
        *,
        -- the limits come from the baseline's first freeze_after_points points (all when unset)
        coalesce(
            row_number() over (partition by {{ series }} order by point_index) <= freeze_after_points,
            true
        ) as is_baseline_point
    from values_in_segments
),

moving_ranges as (
    select
        *,
        abs(value - lag(value) over (partition by {{ series }} order by point_index))  as moving_range,
        -- direction of the step from the previous point: 1 up, -1 down, 0 equal, null for the first point
        sign(value - lag(value) over (partition by {{ series }} order by point_index)) as step_direction
    from points
),

series_stats as (
    -- the baseline's points only; a moving range counts when both its points are baseline points
    select
        indicator_id,
        area_code,
        baseline_segment,
        count(*) filter (where is_baseline_point)                          as point_count,
        -- exact: which side of the mean a point is on
        sum({{ exact_decimal('value') }}) filter (where is_baseline_point) as value_sum,
        {{ deterministic_avg('value', where='is_baseline_point') }}        as process_mean,
        {{ deterministic_avg('moving_range', where='is_baseline_point') }} as raw_mean_moving_range
    from moving_ranges
    group by indicator_id, area_code, baseline_segment
),

screened as (
    -- mR̄ without the moving ranges at or above 3.267 × mR̄ (used only when screening is on)
    select
        m.indicator_id,
        m.area_code,
        m.baseline_segment,
        {{ deterministic_avg(
            'm.moving_range',
            where='m.is_baseline_point and m.moving_range < '
                ~ spc_moving_range_screen_factor() ~ ' * s.raw_mean_moving_range'
        ) }} as screened_mean_moving_range
    from moving_ranges as m
    inner join series_stats as s
        on s.indicator_id = m.indicator_id and s.area_code = m.area_code and s.baseline_segment = m.baseline_segment
    group by m.indicator_id, m.area_code, m.baseline_segment
),

limits as (
    select
        s.indicator_id,
        s.area_code,
        s.baseline_segment,
        s.point_count,
        s.value_sum,
        s.process_mean,
        {% if screen -%}
            -- screening on; a series whose moving ranges are all zero keeps mR̄ = 0
            coalesce(sc.screened_mean_moving_range, s.raw_mean_moving_range)
        {%- else -%}
            s.raw_mean_moving_range
        {%- endif %} as mean_moving_range
    from series_stats as s
    left join screened as sc
        on sc.indicator_id = s.indicator_id and sc.area_code = s.area_code and sc.baseline_segment = s.baseline_segment
),

charted as (  -- noqa: ST03
    select
        m.indicator_id,
        m.area_code,
        m.baseline_segment,
        m.period_id,
        m.period_start,
        m.value,
        m.point_index,
        m.is_baseline_point,
        l.point_count                                                                       as baseline_point_count,
        l.process_mean,
        l.process_mean + {{ spc_limit_factor() }} * l.mean_moving_range                     as upper_process_limit,
        l.process_mean - {{ spc_limit_factor() }} * l.mean_moving_range                     as lower_process_limit,
        l.process_mean + {{ spc_two_sigma_factor() }} * l.mean_moving_range                 as upper_two_sigma,
        l.process_mean - {{ spc_two_sigma_factor() }} * l.mean_moving_range                 as lower_two_sigma,
        m.moving_range,
        l.mean_moving_range,
        l.point_count < {{ min_points }}                                                    as trial_limits,
        -- decided exactly (value x n against the exact sum), not against the rounded mean: a point
        -- on the mean (0.2 among 0.1, 0.2, 0.3) is on it, and breaks a run, in every engine
        cast(sign({{ exact_decimal('m.value') }} * l.point_count - l.value_sum) as integer) as side_of_mean,
        m.step_direction
    from moving_ranges as m
    inner join limits as l
        on l.indicator_id = m.indicator_id and l.area_code = m.area_code and l.baseline_segment = m.baseline_segment
),

islands_started as (
    select
        *,
        -- runs: consecutive points on the same side of the mean (a point on the mean is side 0)
        {{ spc_starts_island('side_of_mean', series, 'point_index') }} as starts_side_island,  -- noqa: PRS, LT02
        -- trends: consecutive steps in the same direction (an equal value is step 0)
        {{ spc_starts_island('step_direction', series, 'point_index') }} as starts_step_island,
        coalesce(value > upper_two_sigma, false)                          as beyond_upper_two_sigma,
        coalesce(value < lower_two_sigma, false)                          as beyond_lower_two_sigma
    from charted
),

islands as (
    select
        *,
        sum(starts_side_island)
            over (partition by {{ series }} order by point_index rows between unbounded preceding and current row)
            as side_island,
        sum(starts_step_island)
            over (partition by {{ series }} order by point_index rows between unbounded preceding and current row)
            as step_island,
        -- the window of three points ending here: how many are beyond each 2-sigma line, and
        -- whether all three are on one side of the mean (NHSRplotthedots #143: points on
        -- opposite sides never make a two-in-three)
        sum(cast(beyond_upper_two_sigma as integer)) over three_ending_here                       as upper_in_window,
        sum(cast(beyond_lower_two_sigma as integer)) over three_ending_here                       as lower_in_window,
        count(*) over three_ending_here = 3 and abs(sum(side_of_mean) over three_ending_here) = 3 as window_on_one_side
    from islands_started
    window
        three_ending_here as (partition by {{ series }} order by point_index rows between 2 preceding and current row)
),

island_sizes as (
    select
        *,
        count(*) over (partition by {{ series }}, side_island)     as side_island_points,
        -- a trend of k equal-direction steps spans k + 1 points (the one before the first step too)
        count(*) over (partition by {{ series }}, step_island) + 1 as step_island_points,
        -- any window of three points containing this one (the windows ending here and at the next two points)
        max(case when window_on_one_side then upper_in_window else 0 end)
            over (partition by {{ series }} order by point_index rows between current row and 2 following)
            as max_upper_in_windows,
        max(case when window_on_one_side then lower_in_window else 0 end)
            over (partition by {{ series }} order by point_index rows between current row and 2 following)
            as max_lower_in_windows
    from islands
),

trend_membership as (
    select
        *,
        -- a point is in a trend as the end of a qualifying step island ...
        coalesce(step_direction <> 0 and step_island_points >= {{ trend_length }}, false) as ends_trend_step,
        -- ... or as the point just before the first step of one
        coalesce(
            lead(step_direction) over (partition by {{ series }} order by point_index) <> 0
            and lead(step_island_points) over (partition by {{ series }} order by point_index) >= {{ trend_length }},
            false
        )                                                                                 as starts_trend_step,
        lead(step_direction) over (partition by {{ series }} order by point_index)        as next_step_direction
    from island_sizes
)

select
    indicator_id,
    area_code,
    baseline_segment,
    period_id,
    period_start,
    value,
    point_index,
    is_baseline_point,
    baseline_point_count,
    process_mean,
    upper_process_limit,
    lower_process_limit,
    upper_two_sigma,
    lower_two_sigma,
    moving_range,
    mean_moving_range,
    trial_limits,
    side_of_mean,
    coalesce(value > upper_process_limit or value < lower_process_limit, false) as is_outside_limits,
    side_of_mean <> 0 and side_island_points >= {{ run_length }}                as is_run,
    ends_trend_step or starts_trend_step                                        as is_trend,
    -- direction of the trend the point is in, 1 rising, -1 falling: the step to the next point
    -- when that step belongs to a trend, else the step from the previous point (NHSRplotthedots
    -- 0.2: a point where a rising trend turns into a falling one belongs to the falling one)
    case
        when starts_trend_step then next_step_direction
        when ends_trend_step then step_direction
    end                                                                         as trend_direction,
    (beyond_upper_two_sigma and max_upper_in_windows >= 2)
    or (beyond_lower_two_sigma and max_lower_in_windows >= 2)                   as is_two_of_three
from trend_membership
