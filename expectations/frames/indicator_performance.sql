-- The council's scorecard, with the unit kind of each indicator and the lineage of its value.
select
    s.*,
    i.unit_kind,
    case when i.indicator_id is null then 'indicator ' || s.indicator_id || ' is not in dim_indicators' end as indicator_problem,
    case when f.source_sha256 is null then 'no fact with lineage for ' || s.indicator_id || ' ' || s.period_id end as lineage_problem
from candidate.indicator_performance as s
left join candidate.dim_indicators as i on i.indicator_id = s.indicator_id
left join candidate.fct_indicator_values as f
    on f.indicator_id = s.indicator_id and f.period_id = s.period_id and f.area_code = $council
