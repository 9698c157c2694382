with source as (
    select * from {{ source('lginform', 'lginform_periods') }}
    {{ preferred_version('period_id') }}
)

select
    period_id,
    label               as period_label,
    start_date          as period_start,
    end_date            as period_end,
    -- the dates are the truth, not the id's spelling
    case
        when date_diff('month', start_date, end_date + 1) = 12 then 'annual'
        when date_diff('month', start_date, end_date + 1) = 3 then 'quarterly'
        when date_diff('month', start_date, end_date + 1) = 1 then 'monthly'
        else 'other'
    end                 as frequency,
    period_type
from source
