-- XmR chart per indicator and area (NHS England "Making Data Count"): one row per point with
-- the series' mean, moving ranges, limits and one boolean per special-cause rule. The mart
-- spc picks the first rule that applies and maps it to point types and icons.
-- Baseline: every point of the series, or, where var('spc_rebase_periods') names periods for
-- an indicator, every point of its segment: a rebase period starts a new baseline (new mean,
-- moving ranges and limits; rules are evaluated within the segment).
{%- set series = 'indicator_id, area_code, baseline_segment' %}
{%- set rebase = var('spc_rebase_periods', {}) or {} %}
{%- set run_length = var('spc_run_length') | int %}
{%- set trend_length = var('spc_trend_length') | int %}
{%- set min_points = var('spc_min_points_for_limits') | int %}
{%- set screen = var('spc_screen_moving_ranges') in [true, 'true', 'True', 1, '1'] %}

with rebase_starts as (
    {%- if rebase %}
    select r.indicator_id, p.period_start
    from (values
        {%- for indicator_id, periods in rebase.items() %}{% for period_id in periods %}
        ('{{ indicator_id | string | replace("'", "''") }}', '{{ period_id | string | replace("'", "''") }}'){{ "," if not loop.last }}
        {%- endfor %}{{ "," if not loop.last }}{% endfor %}
    ) as r(indicator_id, period_id)
    inner join {{ ref('dim_periods') }} as p on p.period_id = r.period_id
    {%- else %}
    select cast(null as varchar) as indicator_id, cast(null as date) as period_start where false
    {%- endif %}
),

points as (
    select
        v.indicator_id,
        v.area_code,
        v.period_id,
        p.period_start,
        cast(v.value as double precision) as value,
        (select count(*) from rebase_starts as r where r.indicator_id = v.indicator_id and r.period_start <= p.period_start) as baseline_segment,
        row_number() over (partition by v.indicator_id, v.area_code order by p.period_start, v.period_id) as point_index
    from {{ ref('fct_indicator_values') }} as v
    inner join {{ ref('dim_periods') }} as p on p.period_id = v.period_id
    where v.value is not null
),

moving_ranges as (
    select
        *,
        abs(value - lag(value) over (partition by {{ series }} order by point_index)) as moving_range,
        -- direction of the step from the previous point: 1 up, -1 down, 0 equal, null for the first point
        sign(value - lag(value) over (partition by {{ series }} order by point_index)) as step_direction
    from points
),

series_stats as (
    select
        indicator_id,
        area_code,
        baseline_segment,
        count(*) as point_count,
        sum({{ exact_decimal('value') }}) as value_sum,  -- exact: which side of the mean a point is on
        {{ deterministic_avg('value') }} as process_mean,
        {{ deterministic_avg('moving_range') }} as raw_mean_moving_range
    from moving_ranges
    group by indicator_id, area_code, baseline_segment
),

screened as (
    -- mR̄ without the moving ranges at or above 3.267 × mR̄ (used only when screening is on)
    select
        m.indicator_id,
        m.area_code,
        m.baseline_segment,
        {{ deterministic_avg('m.moving_range',
            where='m.moving_range < ' ~ spc_moving_range_screen_factor() ~ ' * s.raw_mean_moving_range') }} as screened_mean_moving_range
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

charted as (
    select
        m.indicator_id,
        m.area_code,
        m.baseline_segment,
        m.period_id,
        m.period_start,
        m.value,
        m.point_index,
        l.process_mean,
        l.process_mean + {{ spc_limit_factor() }} * l.mean_moving_range as upper_process_limit,
        l.process_mean - {{ spc_limit_factor() }} * l.mean_moving_range as lower_process_limit,
        l.process_mean + {{ spc_two_sigma_factor() }} * l.mean_moving_range as upper_two_sigma,
        l.process_mean - {{ spc_two_sigma_factor() }} * l.mean_moving_range as lower_two_sigma,
        m.moving_range,
        l.mean_moving_range,
        l.point_count < {{ min_points }} as trial_limits,
        -- decided exactly (value x n against the exact sum), not against the rounded mean: a point
        -- on the mean (0.2 among 0.1, 0.2, 0.3) is on it, and breaks a run, in every engine
        sign({{ exact_decimal('m.value') }} * l.point_count - l.value_sum) as side_of_mean,
        m.step_direction
    from moving_ranges as m
    inner join limits as l
        on l.indicator_id = m.indicator_id and l.area_code = m.area_code and l.baseline_segment = m.baseline_segment
),

islands_started as (
    select
        *,
        -- runs: consecutive points on the same side of the mean (a point on the mean is side 0)
        {{ spc_starts_island('side_of_mean', series, 'point_index') }} as starts_side_island,
        -- trends: consecutive steps in the same direction (an equal value is step 0)
        {{ spc_starts_island('step_direction', series, 'point_index') }} as starts_step_island,
        coalesce(value > upper_two_sigma, false) as beyond_upper_two_sigma,
        coalesce(value < lower_two_sigma, false) as beyond_lower_two_sigma
    from charted
),

islands as (
    select
        *,
        sum(starts_side_island) over (partition by {{ series }} order by point_index rows between unbounded preceding and current row) as side_island,
        sum(starts_step_island) over (partition by {{ series }} order by point_index rows between unbounded preceding and current row) as step_island,
        -- points beyond each 2-sigma line in the window of three points ending here
        sum(cast(beyond_upper_two_sigma as integer)) over (partition by {{ series }} order by point_index rows between 2 preceding and current row) as upper_in_window,
        sum(cast(beyond_lower_two_sigma as integer)) over (partition by {{ series }} order by point_index rows between 2 preceding and current row) as lower_in_window
    from islands_started
),

island_sizes as (
    select
        *,
        count(*) over (partition by {{ series }}, side_island) as side_island_points,
        -- a trend of k equal-direction steps spans k + 1 points (the one before the first step too)
        count(*) over (partition by {{ series }}, step_island) + 1 as step_island_points,
        -- any window of three points containing this one (the windows ending here and at the next two points)
        max(upper_in_window) over (partition by {{ series }} order by point_index rows between current row and 2 following) as max_upper_in_windows,
        max(lower_in_window) over (partition by {{ series }} order by point_index rows between current row and 2 following) as max_lower_in_windows
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
        ) as starts_trend_step,
        lead(step_direction) over (partition by {{ series }} order by point_index) as next_step_direction
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
    side_of_mean <> 0 and side_island_points >= {{ run_length }} as is_run,
    ends_trend_step or starts_trend_step as is_trend,
    -- direction of the trend the point is in (the trend ending at it first): 1 rising, -1 falling
    case
        when ends_trend_step then step_direction
        when starts_trend_step then next_step_direction
    end as trend_direction,
    (beyond_upper_two_sigma and max_upper_in_windows >= 2)
        or (beyond_lower_two_sigma and max_lower_in_windows >= 2) as is_two_of_three
from trend_membership
