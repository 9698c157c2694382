-- The home council's scorecard, one row per indicator and period: value, target, RAG, direction
-- of travel, SPC icons, benchmark position and commentary, and a narrative built only from the
-- row's own facts (every number in it is a column of the row, rounded to the indicator's precision).
--
-- Benchmark positions name the group by what it holds: when fewer members have a value than
-- the group has members (an extract covering 16 of England's 317 councils, or an API group with
-- missing values), the position says "among the 16 of the 317 councils in England with a value
-- in trafford_claimant_count.csv", naming the extract file the values came from. A raw count
-- (unit_kind 'count') is not ranked (benchmarks); where the library links it to the same
-- measure as a rate (dim_indicators.compare_as), the rate's positions are shown in its place
-- and say so.
with values_of_council as (
    select
        f.indicator_id,
        f.period_id,
        f.value,
        p.period_label,
        p.period_start,
        p.frequency
    from {{ ref('fct_indicator_values') }} as f
    inner join {{ ref('dim_periods') }} as p on p.period_id = f.period_id
    where f.area_code = '{{ var("council") }}' and f.value is not null
),

with_history as (
    select
        v.*,
        lag(v.value) over (partition by v.indicator_id, v.frequency order by v.period_start) as previous_value,
        lag(v.period_id)
            over (partition by v.indicator_id, v.frequency order by v.period_start)
            as previous_period_id,
        lag(v.period_label)
            over (partition by v.indicator_id, v.frequency order by v.period_start)
            as previous_period_label,
        a_year_ago.value                                                                     as year_ago_value,
        a_year_ago.period_id
            as year_ago_period_id,
        -- the financial year containing the period's start: targets are set per financial year
        {{ financial_year_of('v.period_start') }}                                            as target_year
    from values_of_council as v
    left join values_of_council as a_year_ago
        on
            a_year_ago.indicator_id = v.indicator_id
            and a_year_ago.frequency = v.frequency
            and a_year_ago.period_start = v.period_start - interval '1 year'
),

-- the library's targets, and those approved from officers' returns (a later decision replaces an
-- earlier target of the same year; an approved target keeps the library's latest tolerance)
target_versions as (
    select
        indicator_id,
        target_year,
        target,
        tolerance_percent,
        set_on
    from {{ ref('stg_library__targets') }}
    union all
    select
        r.indicator_id,
        r.proposed_target_year,
        r.proposed_target,
        (
            select l.tolerance_percent from {{ ref('stg_library__targets') }} as l
            where l.indicator_id = r.indicator_id
            order by l.target_year desc, l.set_on desc limit 1
        ),
        r.decided_on
    from {{ ref('return_drafts') }} as r
    where r.status = 'approved' and r.proposed_target is not null
),

targets as (
    select
        indicator_id,
        target_year,
        target,
        coalesce(tolerance_percent, {{ var('rag_tolerance_percent') }}) as tolerance_percent
    from ({{ first_per('target_versions', 'indicator_id, target_year', 'set_on desc') }}) as in_force
),

-- per indicator and period, the approved return's commentary and action received last
approved_commentary as (
    select *
    from
        (
            {{ first_per(
                "(select * from " ~ ref('return_drafts') ~ " where status = 'approved' and commentary is not null)",
                'indicator_id, period_id',
                'received_at desc'
            ) }}
        )
            as latest
),

approved_action as (
    select *
    from ({{ first_per("(select * from " ~ ref('return_drafts') ~ " where status = 'approved' and action is not null)",
                                'indicator_id, period_id', 'received_at desc') }}) as latest
),

positions as (
    select
        indicator_id,
        period_id,
        max(case when comparison_group_id like '%\_CIPFA\_Near\_Neighbours' escape '\' then rank end)
            as neighbours_rank,
        max(case when comparison_group_id like '%\_CIPFA\_Near\_Neighbours' escape '\' then group_size end)
            as neighbours_size,
        max(case when comparison_group_id like '%\_CIPFA\_Near\_Neighbours' escape '\' then quartile_band end)
            as neighbours_quartile_band,
        max(case when comparison_group_id like 'AllLaInCountry\_%' escape '\' then rank end)
            as country_rank,
        max(case when comparison_group_id like 'AllLaInCountry\_%' escape '\' then group_size end)
            as country_size,
        max(case when comparison_group_id like 'AllLaInCountry\_%' escape '\' then quartile_band end)
            as country_quartile_band,
        max(case when comparison_group_id like 'Tier\_%' escape '\' then rank end)
            as tier_rank,
        max(case when comparison_group_id like 'Tier\_%' escape '\' then group_size end)
            as tier_size,
        max(case when comparison_group_id like 'Tier\_%' escape '\' then quartile_band end)
            as tier_quartile_band,
        max(case when comparison_group_id like '%\_CIPFA\_Near\_Neighbours' escape '\' then group_members end)
            as neighbours_members,
        max(case when comparison_group_id like 'AllLaInCountry\_%' escape '\' then group_members end)
            as country_members,
        max(case when comparison_group_id like 'AllLaInCountry\_%' escape '\' then comparison_group_id end)
            as country_group_id,
        max(case when comparison_group_id like 'Tier\_%' escape '\' then group_members end)
            as tier_members
    from {{ ref('benchmarks') }}
    where area_code = '{{ var("council") }}'
    group by indicator_id, period_id
),

scored as (
    select
        h.indicator_id,
        i.title,
        i.unit,
        i.polarity,
        i.output_precision,
        i.theme,
        i.priority,
        i.owner,
        h.period_id,
        h.period_label,
        h.period_start,
        h.value,
        t.target,
        t.tolerance_percent,
        case
            when {{ in_comma_list('h.period_id', 'i.rag_off_periods') }} then 'not_rated'
            else {{ rag_status('h.value', 't.target', 't.tolerance_percent', 'i.polarity') }}
        end as rag,
        h.previous_period_id,
        h.previous_period_label,
        h.previous_value,
        {{ direction_of_travel('h.value', 'h.previous_value', 'i.polarity', 'i.unit', 'i.no_change_within') }}
            as direction_vs_previous,
        h.year_ago_period_id,
        h.year_ago_value,
        {{ direction_of_travel('h.value', 'h.year_ago_value', 'i.polarity', 'i.unit', 'i.no_change_within') }}
            as direction_vs_year_ago,
        s.variation_icon,
        s.special_cause_rule,
        s.assurance_icon,  -- the spc mart's, against the same target (given only from a stable baseline)
        s.trial_limits,
        p.neighbours_rank,
        p.neighbours_size,
        p.neighbours_quartile_band,
        p.country_rank,
        p.country_size,
        p.country_quartile_band,
        p.tier_rank,
        p.tier_size,
        p.tier_quartile_band,
        p.neighbours_members,
        p.country_members,
        p.tier_members,
        -- a group whose members with a value are fewer than its members is named as such
        case
            when p.neighbours_rank is not null then
                case
                    when p.neighbours_size < p.neighbours_members
                        then
                            'ranks '
                            || cast(p.neighbours_rank as varchar)
                            || ' among the '
                            || cast(p.neighbours_size as varchar)
                            || ' of the '
                            || cast(p.neighbours_members as varchar)
                            || ' councils in its nearest-neighbour group with a value'
                            || coalesce(' in ' || compared.extract_file, '')
                    else
                        'ranks ' || cast(p.neighbours_rank as varchar) || ' of ' || cast(p.neighbours_size as varchar)
                        || ' among its nearest neighbours'
                end
        end
            as neighbours_position,
        case
            when p.country_rank is not null then
                case
                    when p.country_size < p.country_members
                        then
                            'ranks '
                            || cast(p.country_rank as varchar)
                            || ' among the '
                            || cast(p.country_size as varchar)
                            || ' of the '
                            || cast(p.country_members as varchar)
                            || ' councils in '
                            || replace(substr(p.country_group_id, 16), '_', ' ')
                            || ' with a value' || coalesce(' in ' || compared.extract_file, '')
                    else
                        'ranks ' || cast(p.country_rank as varchar) || ' of ' || cast(p.country_size as varchar)
                        || ' among councils in ' || replace(substr(p.country_group_id, 16), '_', ' ')
                end
        end
            as country_position,
        compared.indicator_id
            as compared_as_indicator_id,
        case
            when compared.indicator_id <> h.indicator_id and i.unit_kind = 'count'
                then
                    'A raw count, not adjusted for population: it is compared with other councils as '
                    || compared.title || coalesce(' (' || compared.unit || ')', '') || '.'
            when compared.indicator_id <> h.indicator_id
                then
                    'It is compared with other councils as '
                    || compared.title
                    || coalesce(' (' || compared.unit || ')', '')
                    || '.'
            when i.unit_kind = 'count'
                then 'A raw count, not adjusted for population: it is not ranked against other councils.'
        end
            as comparison_note,
        coalesce(rc.commentary, c.commentary)
            as commentary,
        case when rc.commentary is not null then rc.owner else c.author end
            as commentary_author,
        ra.action,
        ra.action_by,
        ra.action_due
    from with_history as h
    inner join {{ ref('dim_indicators') }} as i on i.indicator_id = h.indicator_id
    left join targets as t on t.indicator_id = h.indicator_id and t.target_year = h.target_year
    left join {{ ref('spc') }} as s
        on s.indicator_id = h.indicator_id and s.period_id = h.period_id and s.area_code = '{{ var("council") }}'
    -- the indicator whose positions are shown: the library's rate in place of a raw count
    left join (
        select
            indicator_id,
            title,
            unit,
            case when source_system like 'extract:%' then dataset_id end as extract_file
        from {{ ref('dim_indicators') }}
    ) as compared on compared.indicator_id = coalesce(i.compare_as, h.indicator_id)
    left join positions as p on p.indicator_id = compared.indicator_id and p.period_id = h.period_id
    left join {{ ref('stg_library__commentary') }} as c on c.indicator_id = h.indicator_id and c.period_id = h.period_id
    left join approved_commentary as rc on rc.indicator_id = h.indicator_id and rc.period_id = h.period_id
    left join approved_action as ra on ra.indicator_id = h.indicator_id and ra.period_id = h.period_id
)

select
    *,
    rag = 'green'
    and 4 in (neighbours_quartile_band, country_quartile_band, tier_quartile_band) as green_but_bottom_quartile,
    trim(
        title
        || ': '
        || {{ narrative_number('value', 'output_precision') }}
        || case when unit = '%' then '%' else coalesce(' ' || unit, '') end
        || ' in '
        || period_label
        || case
            when target is not null
                then
                    ', against a target of '
                    || {{ narrative_number('target', 'output_precision') }}
                    || ' ('
                    || replace(rag, '_', ' ')
                    || ')'
            else ''
        end
        || '. '
        || case
            when previous_value is not null
                then
                    'Compared with '
                    || previous_period_label
                    || ' ('
                    || {{ narrative_number('previous_value', 'output_precision') }}
                    || ') it is '
                    || case direction_vs_previous
                        when 'no_change' then 'about the same'
                        when 'increased' then 'higher'
                        when 'decreased' then 'lower'
                        else direction_vs_previous
                    end || '. '
            else ''
        end
        || coalesce(comparison_note || ' ', '')
        || case
            when neighbours_rank is not null
                then
                    'It ' || neighbours_position || ' ('
                    || case neighbours_quartile_band
                        when 1 then 'top' when 2 then 'second' when 3 then 'third' else 'bottom'
                    end
                    || ' quartile). '
            else ''
        end
        || case
            when variation_icon is not null and variation_icon <> 'common_cause'
                then
                    'Statistical process control marks this point as a special cause of '
                    || case
                        when variation_icon like '%improvement' then 'improvement' when
                            variation_icon like '%concern'
                            then 'concern'
                        else 'note'
                    end
                    || '.'
            else ''
        end
    )
        as narrative
from scored
