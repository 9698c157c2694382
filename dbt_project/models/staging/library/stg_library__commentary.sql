-- Officers' commentary by indicator and period (period spellings normalised as values are).
select
    indicator_id,
    {{ period_id_from_label('period_label') }} as period_id,
    period_label                               as period_label_as_written,
    author,
    text                                       as commentary,
    source_reference,
    source_sha256,
    ingested_at
from ({{ latest_library_version(source('library', 'library_commentary')) }}) as latest_version
