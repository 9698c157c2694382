-- Benchmarks not yet published (computed after the newest row of marts.benchmarks: an incremental
-- build recomputes only the indicator-periods that changed, and a change of groups, areas or
-- polarities rebuilds them all), with the unit kind of their indicator and the lineage of each
-- member's value. Keys and the row count are checked over the whole table (suite meta.new_rows).
select
    b.*,
    i.unit_kind,
    case when a.area_code is null then 'area ' || b.area_code || ' is not in dim_areas' end as area_problem,
    case when i.indicator_id is null then 'indicator ' || b.indicator_id || ' is not in dim_indicators' end as indicator_problem,
    case when f.source_sha256 is null
        then 'no fact with lineage for ' || b.indicator_id || ' ' || b.area_code || ' ' || b.period_id end as lineage_problem,
    case
        when b.rank is not null and (b.rank < 1 or b.rank > b.group_size) then 'rank ' || b.rank || ' outside 1..' || b.group_size
        when b.group_q1 > b.group_median or b.group_median > b.group_q3 then 'quartiles out of order'
        -- the band must agree with the quartiles published beside it (a boundary is the better band)
        when b.quartile_band <> case i.polarity
                when 'high_is_good' then case when b.value >= b.group_q3 then 1 when b.value >= b.group_median then 2
                                              when b.value >= b.group_q1 then 3 else 4 end
                when 'low_is_good' then case when b.value <= b.group_q1 then 1 when b.value <= b.group_median then 2
                                             when b.value <= b.group_q3 then 3 else 4 end
            end
            then 'quartile band ' || b.quartile_band || ' contradicts the quartiles ' || b.group_q1 || ', '
                 || b.group_median || ', ' || b.group_q3 || ' of value ' || b.value
    end as order_problem
from candidate.benchmarks as b
left join candidate.dim_areas as a on a.area_code = b.area_code
left join candidate.dim_indicators as i on i.indicator_id = b.indicator_id
left join candidate.fct_indicator_values as f
    on f.indicator_id = b.indicator_id and f.area_code = b.area_code and f.period_id = b.period_id
where b.computed_at > $new_rows_since
