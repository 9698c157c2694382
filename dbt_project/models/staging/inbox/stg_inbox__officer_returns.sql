-- Every row of a loaded officer's return that says something (a value, commentary, an action
-- or a proposed target): a draft each, none of it approved here (int_return_drafts decides).
select
    r.draft_id,
    r.round_id,
    r.owner,
    r.indicator_id,
    r.period_id,
    r.value,
    r.commentary,
    r.action,
    r.action_by,
    r.action_due,
    r.proposed_target,
    -- the round's financial year plus one: the year a proposed target is for
    cast(substr(r.round_id, 5, 4) as integer) + 1 as proposed_target_year,
    r.file_name,
    r.row_number,
    r.source_reference,
    r.source_sha256,
    r.ingested_at                                 as received_at
from ({{ inbox_rows_in_force('returns', source('inbox', 'officer_returns')) }}) as r
where
    r.value is not null
    or r.commentary is not null
    or r.action is not null
    or r.proposed_target is not null
