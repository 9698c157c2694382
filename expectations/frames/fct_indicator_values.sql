-- The indicator fact, with its indicator's unit kind and what the gate judges per row.
with latest as (
    select f.indicator_id, max(p.period_end) as latest_period_end, arg_max(f.period_id, p.period_end) as latest_period_id
    from marts.fct_indicator_values as f
    inner join marts.dim_periods as p on p.period_id = f.period_id
    group by f.indicator_id
),

allowance(frequency, max_days) as (
    values ('annually', $max_days_annually), ('quarterly', $max_days_quarterly), ('monthly', $max_days_monthly)
)

select
    f.*,
    unit_kind(i.unit) as unit_kind,
    case when a.area_code is null then 'area ' || f.area_code || ' is not in dim_areas' end as area_problem,
    case when i.indicator_id is null then 'indicator ' || f.indicator_id || ' is not in dim_indicators' end as indicator_problem,
    whole_number_problem(unit_kind(i.unit), f.value) as whole_number_problem,
    case when not coalesce(i.discontinued, false)
          and date_diff('day', l.latest_period_end, cast($as_of as date)) > w.max_days
        then 'indicator ' || f.indicator_id || ' (' || i.frequency || '): latest period ' || l.latest_period_id
             || ' ended ' || l.latest_period_end || ', ' || date_diff('day', l.latest_period_end, cast($as_of as date))
             || ' days before ' || cast($as_of as date) || '; ' || w.max_days || ' allowed'
    end as freshness_problem
from marts.fct_indicator_values as f
left join marts.dim_areas as a on a.area_code = f.area_code
left join marts.dim_indicators as i on i.indicator_id = f.indicator_id
left join latest as l on l.indicator_id = f.indicator_id
left join allowance as w on w.frequency = i.frequency
