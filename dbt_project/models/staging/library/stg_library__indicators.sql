-- The council's library entry per indicator, from the latest version of library/indicators.yml.
select
    indicator_id,
    owner,
    rationale,
    theme,
    perspective,
    priority,
    definition,
    rag_off_periods,
    spc_freeze_after_points,
    spc_rebase_periods,
    spc_rebase_record,
    compare_as,
    no_change_within,
    source_reference,
    source_sha256,
    ingested_at
from ({{ latest_library_version(source('library', 'library_indicators')) }}) as latest_version
