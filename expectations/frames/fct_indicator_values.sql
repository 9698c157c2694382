-- The indicator fact, with its indicator's unit kind and what the gate judges per row.
with periods as (
    select distinct f.indicator_id, f.period_id, p.period_end, p.frequency
    from candidate.fct_indicator_values as f
    inner join candidate.dim_periods as p on p.period_id = f.period_id
),

latest as (  -- each indicator's newest period (by end date, then id), and its frequency
    select indicator_id, period_end as latest_period_end, period_id as latest_period_id,
           case frequency when 'annual' then 'annually' else frequency end as latest_period_frequency
    from (
        select periods.*, row_number() over (partition by indicator_id order by period_end desc, period_id desc) as position
        from periods
    ) as ranked
    where position = 1
),

allowance(frequency, max_days) as (
    values ('annually', $max_days_annually), ('quarterly', $max_days_quarterly), ('monthly', $max_days_monthly)
)

select
    f.*,
    i.unit_kind,
    case when a.area_code is null then 'area ' || f.area_code || ' is not in dim_areas' end as area_problem,
    case when i.indicator_id is null then 'indicator ' || f.indicator_id || ' is not in dim_indicators' end as indicator_problem,
    case when i.unit_kind = 'count' and f.value is not null and f.value <> round(f.value)
        then 'a count of ' || f.value || ' is not a whole number' end as whole_number_problem,
    case when i.unit_kind = 'unrecognised'
        then 'indicator ' || f.indicator_id || ' (' || i.title || ') has unit '
             || coalesce('''' || i.source_unit_label || '''', 'none stated')
             || ', which the unit vocabulary does not know: no range check applies to its values'
    end as unit_problem,
    case when not coalesce(i.discontinued, false)
          and (cast($as_of as date) - l.latest_period_end) > w.max_days
        then 'indicator ' || f.indicator_id || ' (' || w.frequency || '): latest period ' || l.latest_period_id
             || ' ended ' || l.latest_period_end || ', ' || (cast($as_of as date) - l.latest_period_end)
             || ' days before ' || cast($as_of as date) || '; ' || w.max_days || ' allowed'
    end as freshness_problem
from candidate.fct_indicator_values as f
left join candidate.dim_areas as a on a.area_code = f.area_code
left join candidate.dim_indicators as i on i.indicator_id = f.indicator_id
left join latest as l on l.indicator_id = f.indicator_id
-- an extract's indicator may have no frequency of its own: its periods' then (as the report's tiles)
left join allowance as w on w.frequency = coalesce(i.frequency, l.latest_period_frequency)
