-- Every value not yet published (loaded after the last publication that went out), in its
-- current version: a bad value blocks every publication until a corrected version of it
-- arrives (the API's or an extract's), whatever run loaded it. Only the indicators that
-- received such values are ranked (the ranking of every value was most of this frame's cost).
select * exclude (version_rank)
from (
    select
        *,
        row_number() over (
            partition by metric_type_id, area_code, period_id, value_type, source_system
            order by ingested_at desc, source_sha256 desc
        ) as version_rank
    from raw.lginform_values
    where metric_type_id in (select metric_type_id from raw.lginform_values where ingested_at > $published_through)
) as versions
where version_rank = 1 and ingested_at > $published_through
