-- Every draft from an officer's return with its status: approved or rejected (the decision in
-- force, who and when), superseded (undecided, and a later return of the same indicator and
-- period came), or waiting for the performance team. Only approved drafts reach the report, the
-- open data, the values (as raw.lginform_values rows written when the approval is received) and
-- the targets; the quality report lists those waiting.
with drafts as (
    select * from {{ ref('stg_inbox__officer_returns') }}
),

decisions as (
    select * from {{ ref('stg_inbox__return_approvals') }}
)

select
    d.draft_id,
    d.round_id,
    d.owner,
    d.indicator_id,
    i.title as indicator_title,
    d.period_id,
    d.value,
    d.commentary,
    d.action,
    d.action_by,
    d.action_due,
    d.proposed_target,
    d.proposed_target_year,
    d.received_at,
    d.source_reference,
    case
        when a.decision is not null then a.decision
        when exists (
            select 1 from drafts as later
            where
                later.indicator_id = d.indicator_id
                and later.period_id = d.period_id
                and later.received_at > d.received_at
        ) then 'superseded'
        else 'waiting'
    end     as status,
    a.decided_by,
    a.decided_on,
    a.note  as decision_note,
    a.decision_reference
from drafts as d
left join decisions as a on a.draft_id = d.draft_id
left join {{ ref('dim_indicators') }} as i on i.indicator_id = d.indicator_id
