-- Complaints per financial year (April-March, by received_date), service and theme, with
-- subtotal rows (theme = 'all' per service) and the council total (service = 'all',
-- theme = 'all'). Counts of stages, decisions and escalations count complaint-stage rows;
-- received counts distinct complaints. Rate per 10,000 residents uses the council's latest
-- population (LG Inform 3281) whose period starts on or before the financial year's start.
--
-- Coverage: the data runs to the end of its last complete month (the staging model has no
-- extract date, so the latest received date decides: its month counts when a complaint was
-- received on the month's last day, otherwise the data runs to the end of the month before).
-- A period covers its start to the earlier of its end and that day; complaints received after
-- it wait until their month is complete. A part year is compared with the same months of the
-- previous year. A stage is due when it was answered or its due date is on or before the
-- coverage end; on time = answered on or before the due date (overdue and unanswered is late).
with complaints as (
    select
        *,
        {{ period_fin_id_from_year(financial_year_of('received_date')) }} as period_id,
        coalesce(theme, 'not recorded')                                   as theme_or_unknown
    from {{ ref('stg_inbox__complaints') }}
),

data_end as (
    select
        case
            when latest = {{ month_end('latest') }} then latest
            else cast({{ month_start('latest') }} - interval '1 day' as date)
        end as covered_to
    from (select max(received_date) as latest from complaints) as latest_received
),

periods as (
    select
        period_id,
        period_start,
        period_end,
        least(period_end, covered_to) as coverage_end,
        period_end <= covered_to      as period_complete
    from (
        select distinct
            period_id,
            {{ period_start_from_id('period_id') }} as period_start,
            {{ period_end_from_id('period_id') }}   as period_end
        from complaints
    ) as years
    cross join data_end
    where period_start <= covered_to
),

covered as (
    select
        complaints.*,
        periods.coverage_end
    from complaints
    inner join periods
        on
            periods.period_id = complaints.period_id
            and complaints.received_date <= periods.coverage_end
),

counted as (
    select
        period_id,
        case when grouping(service) = 1 then 'all' else service end                   as service,
        case when grouping(theme_or_unknown) = 1 then 'all' else theme_or_unknown end as theme,
        count(distinct complaint_id)                                                  as received,
        {%- for stage in ['1', '2'] %}
            count(
                case when stage = '{{ stage }}' and (responded_date is not null or due_date <= coverage_end) then 1 end
            )
                as stage_{{ stage }}_due,
            count(case when stage = '{{ stage }}' and responded_date <= due_date then 1 end)
                as stage_{{ stage }}_on_time,
        {%- endfor %}
        {%- for stage, prefix in [('1', 'stage_1'), ('2', 'stage_2'), ('ombudsman', 'ombudsman')] %}
            count(case when stage = '{{ stage }}' and outcome in ('upheld', 'partly_upheld', 'not_upheld') then 1 end)
                as {{ prefix }}_decided,
            count(case when stage = '{{ stage }}' and outcome in ('upheld', 'partly_upheld') then 1 end)
                as {{ prefix }}_upheld,
        {%- endfor %}
        count(case when stage = 'ombudsman' then 1 end)                               as ombudsman_escalations
    from covered
    group by grouping sets ((period_id, service, theme_or_unknown), (period_id, service), (period_id))  -- noqa: PRS
),

-- the previous financial year's complaints received in the months a period covers
same_months_previous_year as (
    select
        periods.period_id,
        case when grouping(complaints.service) = 1 then 'all' else complaints.service end                   as service,
        case when grouping(complaints.theme_or_unknown) = 1 then 'all' else complaints.theme_or_unknown end as theme,
        count(distinct complaints.complaint_id)                                                             as received
    from periods
    inner join complaints
        on
            complaints.received_date >= cast(periods.period_start - interval '1 year' as date)
            and complaints.received_date <= {{ month_end("cast(periods.coverage_end - interval '1 year' as date)") }}
    group by grouping sets ((periods.period_id, complaints.service, complaints.theme_or_unknown),  -- noqa: PRS
                            (periods.period_id, complaints.service), (periods.period_id))
),

-- a period whose previous financial year has data (otherwise there is nothing to compare with)
previous_year_present as (
    select distinct periods.period_id
    from periods
    inner join complaints
        on
            complaints.received_date >= cast(periods.period_start - interval '1 year' as date)
            and complaints.received_date < periods.period_start
),

population as (
    select
        period_id,
        value,
        {{ period_start_from_id('period_id') }} as period_start
    from {{ ref('fct_indicator_values') }}
    where
        indicator_id = '3281'
        and area_code = '{{ var("council") }}'
),

populations_before_year as (
    select
        periods.period_id,
        population.period_start,
        population.value as population
    from periods
    inner join population on population.period_start <= periods.period_start
),

population_for_year as (
    {{ first_per('populations_before_year', 'period_id', 'period_start desc') }}
)

select
    counted.period_id,
    counted.service,
    counted.theme,
    periods.period_start as coverage_start,
    periods.coverage_end,
    periods.period_complete,
    {{ coverage_label('periods.period_start', 'periods.coverage_end', 'periods.period_complete') }}
        as coverage_label,
    counted.received,
    {{ round_to("10000.0 * counted.received / nullif(population_for_year.population, 0)", 2) }}
        as received_per_10000_residents,
    case
        when previous_year_present.period_id is not null then coalesce(same_months_previous_year.received, 0)
    end                  as same_months_previous_year_received,
    {%- for stage in ['1', '2'] %}
        counted.stage_{{ stage }}_due,
        counted.stage_{{ stage }}_on_time,
        {{ round_to("100.0 * counted.stage_" ~ stage ~ "_on_time / nullif(counted.stage_" ~ stage ~ "_due, 0)", 1) }}
            as stage_{{ stage }}_percent_on_time,
    {%- endfor %}
    {%- for prefix in ['stage_1', 'stage_2', 'ombudsman'] %}
        counted.{{ prefix }}_decided,
        counted.{{ prefix }}_upheld,
        {{ round_to("100.0 * counted." ~ prefix ~ "_upheld / nullif(counted." ~ prefix ~ "_decided, 0)", 1) }}
            as {{ prefix }}_percent_upheld,
    {%- endfor %}
    counted.ombudsman_escalations
from counted
inner join periods on periods.period_id = counted.period_id
left join population_for_year on population_for_year.period_id = counted.period_id
left join previous_year_present on previous_year_present.period_id = counted.period_id
left join same_months_previous_year
    on
        same_months_previous_year.period_id = counted.period_id
        and same_months_previous_year.service = counted.service
        and same_months_previous_year.theme = counted.theme
