-- Complaints per financial year (April-March, by received_date), service and theme, with
-- subtotal rows (theme = 'all' per service) and the council total (service = 'all',
-- theme = 'all'). Counts of stages, decisions and escalations count complaint-stage rows;
-- received counts distinct complaints. Rate per 10,000 residents uses the council's latest
-- population (LG Inform 3281) whose period starts on or before the financial year's start.
with complaints as (
    select
        *,
        {{ period_fin_id_from_year(financial_year_of('received_date')) }} as period_id,
        coalesce(theme, 'not recorded') as theme_or_unknown
    from {{ ref('stg_inbox__complaints') }}
),

counted as (
    select
        period_id,
        case when grouping(service) = 1 then 'all' else service end          as service,
        case when grouping(theme_or_unknown) = 1 then 'all' else theme_or_unknown end as theme,
        count(distinct complaint_id)                                                   as received,
        count(case when stage = '1' and responded_date is not null then 1 end)         as stage_1_answered,
        count(case when stage = '1' and responded_date <= due_date then 1 end)         as stage_1_within_target,
        count(case when stage = '2' and responded_date is not null then 1 end)         as stage_2_answered,
        count(case when stage = '2' and responded_date <= due_date then 1 end)         as stage_2_within_target,
        count(case when outcome in ('upheld', 'partly_upheld', 'not_upheld') then 1 end) as decided,
        count(case when outcome in ('upheld', 'partly_upheld') then 1 end)             as upheld,
        count(case when stage = 'ombudsman' then 1 end)                                as ombudsman_escalations
    from complaints
    group by grouping sets ((period_id, service, theme_or_unknown), (period_id, service), (period_id))
),

population as (
    select
        period_id,
        value,
        {{ period_start_from_id('period_id') }} as period_start
    from {{ ref('fct_indicator_values') }}
    where indicator_id = '3281'
      and area_code = '{{ var("council") }}'
),

years as (
    select distinct
        period_id,
        {{ period_start_from_id('period_id') }} as year_start
    from counted
),

populations_before_year as (
    select years.period_id, population.period_start, population.value as population
    from years
    inner join population on population.period_start <= years.year_start
),

population_for_year as (
    {{ first_per('populations_before_year', 'period_id', 'period_start desc') }}
)

select
    counted.period_id,
    counted.service,
    counted.theme,
    counted.received,
    {{ round_to("10000.0 * counted.received / nullif(population_for_year.population, 0)", 2) }} as received_per_10000_residents,
    counted.stage_1_answered,
    counted.stage_1_within_target,
    {{ round_to("100.0 * counted.stage_1_within_target / nullif(counted.stage_1_answered, 0)", 1) }} as stage_1_percent_within_target,
    counted.stage_2_answered,
    counted.stage_2_within_target,
    {{ round_to("100.0 * counted.stage_2_within_target / nullif(counted.stage_2_answered, 0)", 1) }} as stage_2_percent_within_target,
    counted.decided,
    counted.upheld,
    {{ round_to("100.0 * counted.upheld / nullif(counted.decided, 0)", 1) }} as percent_upheld,
    counted.ombudsman_escalations
from counted
left join population_for_year on population_for_year.period_id = counted.period_id
