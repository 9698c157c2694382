-- Every indicator: the API's (or an extract's) metadata, polarity normalised.
select
    indicator_id,
    title,
    short_label as short_title,
    definition,
    unit,
    output_precision,
    polarity,
    frequency,
    period_type,
    dataset_id,
    discontinued,
    indicator_id like 'L%' as is_local,
    source_system
from {{ ref('stg_lginform__metric_types') }}
