-- Complaints by period and ward, with the consistency of each count: a year's wards add up to
-- its council row, and the council row to complaints_summary's council total.
select
    w.*,
    case
        when w.coverage_end < w.coverage_start then 'coverage ends before it starts'
        when w.stage_1_on_time > w.stage_1_due then 'stage 1: more on time than due'
        when w.ward = 'all' and w.received <> (
            select sum(p.received) from candidate.complaints_by_ward as p
            where p.period_id = w.period_id and p.ward <> 'all') then 'the wards do not add up to the council'
        when w.ward = 'all' and w.received <> (
            select s.received from candidate.complaints_summary as s
            where s.period_id = w.period_id and s.service = 'all' and s.theme = 'all') then 'the council differs from complaints_summary'
    end as count_problem
from candidate.complaints_by_ward as w
