with source as (
    {{ preferred_versions(source('lginform', 'lginform_metric_types'), 'metric_type_id') }}
)

select
    metric_type_id                  as indicator_id,
    label                           as title,
    short_label,
    help_text                       as definition,
    unit_label                      as unit,
    output_precision,
    {{ polarity_of('polarity') }}   as polarity,
    {{ frequency_of('frequency') }} as frequency,
    period_type,
    dataset_id,
    null_as_zero,
    discontinued,
    source_system,
    source_reference,
    source_sha256,
    ingested_at,
    run_id
from source
