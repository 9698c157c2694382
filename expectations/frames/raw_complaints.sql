-- Every complaint row not yet published (loaded after the last publication that went out), from
-- the latest version of its file (a corrected re-issue replaces the file), without the
-- unredacted summary and the unmapped columns (free text): failing rows are written to the
-- auditor's folder, which must hold no personal data. The problem sentence does not quote the
-- complaint id (an identifier, shown there only as its pseudonym: personal_data.yml).
with latest_files as (
    select file_name, source_sha256
    from (
        select file_name, source_sha256,
               row_number() over (partition by file_name order by ingested_at desc, source_sha256 desc) as version_rank
        from raw.inbox_files
        where folder = 'complaints' and status = 'loaded'
    ) as files
    where version_rank = 1
)

select
    c.* exclude (summary, extra),
    case when c.responded_date < c.received_date
        then 'responded ' || c.responded_date || ' before received ' || c.received_date end as date_order_problem
from raw.complaints as c
inner join latest_files as f on f.file_name = c.file_name and f.source_sha256 = c.source_sha256
where c.ingested_at > $published_through
