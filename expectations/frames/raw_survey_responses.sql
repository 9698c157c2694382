-- Every survey row not yet published (loaded after the last publication that went out), from the
-- latest version of its file, without the unmapped columns (free-text comments): failing rows
-- are written to the auditor's folder, which must hold no personal data.
with latest_files as (
    select file_name, source_sha256
    from (
        select file_name, source_sha256,
               row_number() over (partition by file_name order by ingested_at desc, source_sha256 desc) as version_rank
        from raw.inbox_files
        where folder = 'surveys' and status = 'loaded'
    ) as files
    where version_rank = 1
)

select s.* exclude (extra)
from raw.survey_responses as s
inner join latest_files as f on f.file_name = s.file_name and f.source_sha256 = s.source_sha256
where s.ingested_at > $published_through
