-- One value per indicator, area and period: the fact every other mart builds on.
select
    v.indicator_id,
    v.area_code,
    v.period_id,
    v.value,
    v.source_system,
    v.source_reference,
    v.source_sha256,
    v.ingested_at,
    v.run_id
from {{ ref('stg_lginform__values') }} as v
where v.value_type = 'raw'
  and v.period_id is not null  -- unrecognised spellings: see intermediate.int_values_rejected
