-- Every period a value refers to: canonical id, label, first and last day, frequency.
select
    period_id,
    period_label,
    period_start,
    period_end,
    frequency,
    source as period_source
from {{ ref('int_periods_resolved') }}
