-- Satisfaction by wave and question, with the consistency of each estimate and its sources.
select
    r.*,
    case when r.percent_positive < r.ci_lower or r.percent_positive > r.ci_upper
        -- no figures quoted: the sentence reaches the auditor's folder, and a blocked row is not disclosure-controlled
        then 'estimate outside its 95% interval' end as interval_problem,
    case when not exists (
            select 1 from raw.survey_responses as s
            where s.layout = r.survey and s.fieldwork_start <= r.wave_end and s.fieldwork_end >= r.wave_start)
        then 'no loaded survey file for ' || r.survey || ' ' || r.wave_start end as lineage_problem
from candidate.resident_satisfaction as r
