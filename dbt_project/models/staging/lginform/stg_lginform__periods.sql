with source as (
    {{ preferred_versions(source('lginform', 'lginform_periods'), 'period_id') }}
)

select
    period_id,
    label      as period_label,
    start_date as period_start,
    end_date   as period_end,
    -- the dates are the truth, not the id's spelling
    case
        when {{ months_between('start_date', 'end_date + 1') }} = 12 then 'annual'
        when {{ months_between('start_date', 'end_date + 1') }} = 3 then 'quarterly'
        when {{ months_between('start_date', 'end_date + 1') }} = 1 then 'monthly'
        else 'other'
    end        as frequency,
    period_type
from source
