-- Every indicator: the API's (or an extract's) metadata merged with the council's own library
-- (owner, rationale, theme, perspective, priority, periods with RAG off, SPC baselines). The unit is read by
-- meaning through seeds/unit_vocabulary.csv (macros/units.sql): however the source spells it,
-- the marts show one label and the gate knows what range it allows.
select
    m.indicator_id,
    m.title,
    m.short_label
        as short_title,
    coalesce(l.definition, m.definition)
        as definition,
    coalesce(u.unit, case when {{ unit_kind_by_family(unit_key('m.unit')) }} = 'percent' then '%' end, m.unit) as unit,
    coalesce(u.unit_kind, {{ unit_kind_by_family(unit_key('m.unit')) }}, 'unrecognised')
        as unit_kind,
    m.unit
        as source_unit_label,
    m.output_precision,
    m.polarity,
    m.frequency,
    m.period_type,
    m.dataset_id,
    m.discontinued,
    m.indicator_id like 'L%'
        as is_local,
    l.owner,
    l.rationale,
    l.theme,
    l.perspective,
    l.priority,
    l.rag_off_periods,
    l.spc_freeze_after_points,
    l.spc_rebase_periods,
    l.spc_rebase_record,
    l.no_change_within,
    l.indicator_id is not null
        as in_library,
    l.compare_as,
    m.source_system
from {{ ref('stg_lginform__metric_types') }} as m
left join {{ ref('stg_library__indicators') }} as l on l.indicator_id = m.indicator_id
left join {{ ref('unit_vocabulary') }} as u on {{ unit_key('u.unit_label') }} = {{ unit_key('m.unit') }}
