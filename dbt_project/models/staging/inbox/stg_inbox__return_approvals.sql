-- The decision in force on each draft: the latest received (an approvals file sent again with
-- a changed mind overrides the earlier decision; both stay in raw for the audit trail).
with decisions as (
    select a.*
    from {{ source('inbox', 'return_approvals') }} as a
    inner join {{ source('inbox', 'inbox_files') }} as received
        on received.folder = 'returns'
        and received.status = 'loaded'
        and received.file_name = a.file_name
        and received.source_sha256 = a.source_sha256
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
    ingested_at as decision_received_at
from latest
