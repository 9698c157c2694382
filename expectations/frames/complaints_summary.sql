-- Complaints by period, service and theme, with the consistency of each count.
select
    c.*,
    case
        when c.coverage_end < c.coverage_start then 'coverage ends before it starts'
        when c.stage_1_on_time > c.stage_1_due then 'stage 1: more on time than due'
        when c.stage_2_on_time > c.stage_2_due then 'stage 2: more on time than due'
        when c.stage_1_upheld > c.stage_1_decided then 'stage 1: more upheld than decided'
        when c.stage_2_upheld > c.stage_2_decided then 'stage 2: more upheld than decided'
        when c.ombudsman_upheld > c.ombudsman_decided then 'Ombudsman: more upheld than decided'
        when c.ombudsman_decided > c.ombudsman_escalations then 'Ombudsman: more decided than escalated'
    end as count_problem
from candidate.complaints_summary as c
