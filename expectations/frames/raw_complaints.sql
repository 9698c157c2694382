-- The complaint rows this run loaded (the redacted summary is the only free text that travels on).
select
    *,
    case when responded_date < received_date
        then complaint_id || ': responded ' || responded_date || ' before received ' || received_date end as date_order_problem
from raw.complaints
where run_id = $run_id
