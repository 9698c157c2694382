-- The complaint rows this run loaded, without the unredacted summary and the unmapped columns
-- (free text): failing rows are written to the auditor's folder, which must hold no personal data.
select
    * exclude (summary, extra),
    case when responded_date < received_date
        then complaint_id || ': responded ' || responded_date || ' before received ' || received_date end as date_order_problem
from raw.complaints
where run_id = $run_id
