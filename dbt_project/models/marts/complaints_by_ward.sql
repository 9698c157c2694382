-- Complaints per financial year and ward, so councillors can compare wards ("compare between
-- wards allows you to target areas for resources", LGA). The periods, what they cover and the
-- part-year rules are complaints_summary's own (read from it, not worked out again), so a
-- year's wards add up to its council total there. A complaint belongs to the ward of its first
-- stage, so it is counted in one ward only; no ward is 'Not known'. ward = 'all' is the council.
-- The rate per 10,000 residents uses the ward's latest population (LG Inform 3281 for the ward's
-- area, loaded with area=<council>:AdministrativeWard) whose period starts on or before the
-- year's start; the council row uses the council's.
with periods as (
    select distinct
        period_id,
        coverage_start,
        coverage_end,
        period_complete,
        coverage_label
    from {{ ref('complaints_summary') }}
),

stages as (
    select
        *,
        {{ period_fin_id_from_year(financial_year_of('received_date')) }} as period_id
    from {{ ref('stg_inbox__complaints') }}
),

first_stages as (
    {{ first_per('stages', 'complaint_id', 'stage, received_date') }}
),

covered as (
    select
        stages.*,
        periods.coverage_end,
        coalesce(first_stages.ward, 'Not known') as complaint_ward
    from stages
    inner join first_stages on first_stages.complaint_id = stages.complaint_id
    inner join periods
        on
            periods.period_id = stages.period_id
            and stages.received_date <= periods.coverage_end
),

counted as (
    select
        period_id,
        case when grouping(complaint_ward) = 1 then 'all' else complaint_ward end as ward,
        count(distinct complaint_id)                                              as received,
        count(case when stage = '1' and (responded_date is not null or due_date <= coverage_end) then 1 end)
            as stage_1_due,
        count(case when stage = '1' and responded_date <= due_date then 1 end)    as stage_1_on_time
    from covered
    group by grouping sets ((period_id, complaint_ward), (period_id))  -- noqa: PRS
),

ward_areas as (
    select
        area_code,
        area_name as ward
    from {{ ref('dim_areas') }}
    where tier = 'ward' and parent_code = '{{ var("council") }}'
    union all
    select
        '{{ var("council") }}' as area_code,
        'all'                  as ward
),

populations_before_year as (
    select
        periods.period_id,
        ward_areas.ward,
        {{ period_start_from_id('f.period_id') }} as population_start,
        f.value                                   as population
    from periods
    inner join {{ ref('fct_indicator_values') }} as f
        on
            f.indicator_id = '3281'
            and f.value is not null
            and {{ period_start_from_id('f.period_id') }} <= periods.coverage_start
    inner join ward_areas on ward_areas.area_code = f.area_code
),

population_for_year as (
    {{ first_per('populations_before_year', 'period_id, ward', 'population_start desc') }}
)

select
    counted.period_id,
    counted.ward,
    periods.coverage_start,
    periods.coverage_end,
    periods.period_complete,
    periods.coverage_label,
    counted.received,
    population_for_year.population,
    {{ round_to("10000.0 * counted.received / nullif(population_for_year.population, 0)", 2) }}
        as received_per_10000_residents,
    counted.stage_1_due,
    counted.stage_1_on_time,
    {{ round_to("100.0 * counted.stage_1_on_time / nullif(counted.stage_1_due, 0)", 1) }}
        as stage_1_percent_on_time
from counted
inner join periods on periods.period_id = counted.period_id
left join population_for_year
    on
        population_for_year.period_id = counted.period_id
        and population_for_year.ward = counted.ward
