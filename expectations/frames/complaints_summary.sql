-- Complaints by period, service and theme, with the consistency of each count.
select
    c.*,
    case
        when c.stage_1_within_target > c.stage_1_answered then 'stage 1: more within target than answered'
        when c.stage_2_within_target > c.stage_2_answered then 'stage 2: more within target than answered'
        when c.upheld > c.decided then 'more upheld than decided'
    end as count_problem
from candidate.complaints_summary as c
