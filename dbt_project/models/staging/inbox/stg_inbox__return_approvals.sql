-- The decision in force on each draft: the latest received (an approvals file sent again with
-- a changed mind overrides the earlier decision; both stay in raw for the audit trail).
with decisions as (
    select a.*
    from ({{ inbox_rows_in_force('returns', source('inbox', 'return_approvals')) }}) as a
    where a.decision is not null
),

latest as (
    {{ first_per('decisions', 'draft_id', 'ingested_at desc, row_number desc') }}
)

select
    draft_id,
    decision,
    decided_by,
    decided_on,
    note,
    source_reference as decision_reference,
    ingested_at      as decision_received_at
from latest
