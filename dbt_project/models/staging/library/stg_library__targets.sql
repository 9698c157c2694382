-- Targets by indicator and financial year, with every revision (set_on) kept: the target in
-- force is the latest set_on; earlier ones stay for the audit trail.
select
    indicator_id,
    year                                                                         as target_year,
    {{ period_fin_id_from_year('year') }}                                        as financial_year_id,
    target,
    tolerance_percent,
    set_on,
    row_number() over (partition by indicator_id, year order by set_on desc) = 1 as is_current,
    source_reference,
    source_sha256,
    ingested_at
from ({{ latest_library_version(source('library', 'library_targets')) }}) as latest_version
