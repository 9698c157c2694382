-- Where the council's own SPC chart suggests a new baseline, for an officer to accept (or not)
-- in the library. A sustained shift is the sign Making Data Count gives for recalculating the
-- limits: the latest point and at least spc_run_length points before it, unbroken, on one side
-- of the baseline's mean, starting after the baseline's first point. The proposal is the period
-- the shift began; once accepted (library spc_baseline.rebase) the baseline starts there and the
-- proposal goes. Nothing is rebased automatically: a shift may be the improvement the council
-- worked for, and only an officer knows whether the process really changed.
{%- set run_length = var('spc_run_length') | int %}
{%- set min_points = var('spc_min_points_for_limits') | int %}

with council_points as (
    select
        s.*,
        max(s.baseline_segment) over (partition by s.indicator_id) as latest_segment
    from {{ ref('spc') }} as s
    where s.area_code = '{{ var("council") }}'
),

latest_baseline as (
    select
        *,
        min(point_index) over (partition by indicator_id) as first_index,
        max(point_index) over (partition by indicator_id) as latest_index
    from council_points
    where baseline_segment = latest_segment
),

latest_points as (
    select * from latest_baseline
    where point_index = latest_index and side_of_mean <> 0
),

shifts as (
    -- the shift: the points after the last one not on the latest point's side (on the mean counts as not)
    select
        l.indicator_id,
        coalesce(max(b.point_index) filter (where b.side_of_mean <> l.side_of_mean), l.first_index - 1)
        + 1 as shift_start_index
    from latest_points as l
    inner join latest_baseline as b on b.indicator_id = l.indicator_id
    group by l.indicator_id, l.first_index
),

proposals as (
    select
        l.indicator_id,
        l.area_code,
        l.baseline_segment,
        first_point.period_id                                      as baseline_start_period_id,
        start_point.period_id                                      as proposed_period_id,
        l.latest_index - h.shift_start_index + 1                   as shift_points,
        case when l.side_of_mean > 0 then 'above' else 'below' end as shift_side,
        l.process_mean                                             as baseline_mean,
        (
            select {{ deterministic_avg('b.value') }} from latest_baseline as b
            where b.indicator_id = l.indicator_id and b.point_index >= h.shift_start_index
        )                                                          as mean_since_shift,
        l.period_id                                                as latest_period_id,
        l.variation_icon                                           as latest_variation_icon
    from latest_points as l
    inner join shifts as h on h.indicator_id = l.indicator_id
    inner join
        latest_baseline as first_point
        on first_point.indicator_id = l.indicator_id and first_point.point_index = l.first_index
    inner join
        latest_baseline as start_point
        on start_point.indicator_id = l.indicator_id and start_point.point_index = h.shift_start_index
    where
        h.shift_start_index > l.first_index
        and l.latest_index - h.shift_start_index + 1 >= {{ run_length }}
)

select
    p.indicator_id,
    i.title,
    p.area_code,
    p.baseline_segment,
    p.baseline_start_period_id,
    p.proposed_period_id,
    d.period_label
        as proposed_period_label,
    p.shift_points,
    p.shift_side,
    p.baseline_mean,
    p.mean_since_shift,
    p.latest_period_id,
    p.latest_variation_icon,
    p.shift_points < {{ min_points }}
        as new_limits_would_be_trial,
    'The last ' || cast(p.shift_points as varchar) || ' points, from ' || d.period_label || ', are all '
    || p.shift_side || ' the mean of the baseline that starts at ' || p.baseline_start_period_id
    || ' (' || {{ narrative_number('p.baseline_mean', 'i.output_precision') }} || '); since then the mean is '
    || {{ narrative_number('p.mean_since_shift', 'i.output_precision') }}
    || '. If the process has changed, a new baseline from ' || p.proposed_period_id
    || ' would judge the latest points against it.'                                          as proposal,
    'library/indicators.yml, entry ' || p.indicator_id || ': spc_baseline: {rebase: [{period: ' || p.proposed_period_id
    || ', reason: <why the process changed>, accepted_by: <officer>, accepted_on: <date>}]}' as how_to_accept
from proposals as p
left join {{ ref('dim_indicators') }} as i on i.indicator_id = p.indicator_id
left join {{ ref('dim_periods') }} as d on d.period_id = p.proposed_period_id
