-- The council's targets as last loaded, with whether each names an indicator the library knows.
select
    t.*,
    case when not exists (select 1 from raw.library_indicators as i where i.indicator_id = t.indicator_id)
        then 'target for ' || t.indicator_id || ', which the library (indicators.yml) does not describe' end as library_problem
from raw.library_targets as t
