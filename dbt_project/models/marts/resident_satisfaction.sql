-- Resident satisfaction (LGA question set) per survey programme, wave, question and breakdown: weighted %
-- positive with its 95% Wilson score interval (Kish effective n), the national benchmark with its
-- date and age, the change since the previous wave with a two-sample z-test, and for each group
-- its difference from the rest of the sample, the wave's group comparisons controlled for the
-- false discovery rate (Benjamini-Hochberg; macros/survey_statistics.sql). The changes since
-- the previous wave are controlled the same way, in two families per wave: the whole sample's
-- (one per question: the headline the report leads with) and the groups' (every question and
-- group), so the many group changes do not drown the few headline ones.
-- Valid answers are codes 1-5; 9 (don't know) is counted but excluded from the base; null (not
-- answered) is ignored. Positive = codes 1 or 2.
{%- set questions = ['q_local_area', 'q_runs_things', 'q_value_for_money',
                     'q_acts_on_concerns', 'q_kept_informed', 'q_trust'] %}
{%- set breakdowns = var('satisfaction_breakdowns', ['age_band', 'sex', 'ethnicity', 'disability', 'ward']) %}

with responses as (
    select * from {{ ref('stg_inbox__survey_responses') }}
),

-- one row per respondent, wave and question
answers as (
    {%- for q in questions %}
        select
            coalesce(layout, 'unknown') as survey,  -- a survey programme: its own layout and method
            fieldwork_start,
            fieldwork_end,
            weight,
            age_band,
            sex,
            ethnicity,
            disability,
            ward,
            '{{ q }}'                   as question,
            {{ q }}                     as answer
        from responses
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

-- each answer once for the whole sample and once under each breakdown (the equity view);
-- a missing characteristic is its own group, 'Not known'
broken_down as (
    select
        answers.*,
        'all' as breakdown,
        'all' as breakdown_value
    from answers
    {%- for b in breakdowns %}
        union all
        select
            answers.*,
            '{{ b }}'                                       as breakdown,
            coalesce(cast({{ b }} as varchar), 'Not known') as breakdown_value
        from answers
    {%- endfor %}
),

{%- set valid = 'answer between 1 and 5' %}
{%- set positive = 'answer in (1, 2)' %}

groups as (
    select
        survey,
        fieldwork_start                                                                          as wave_start,
        fieldwork_end                                                                            as wave_end,
        question,
        breakdown,
        breakdown_value,
        count(case when {{ valid }} then 1 end)                                                  as unweighted_n,
        count(case when answer = 9 then 1 end)                                                   as dont_know_n,
        coalesce({{ deterministic_sum('case when ' ~ valid ~ ' then weight end') }}, 0)          as weighted_base,
        coalesce({{ deterministic_sum('case when ' ~ valid ~ ' then weight * weight end') }}, 0) as weight_squares,
        coalesce({{ deterministic_sum('case when ' ~ positive ~ ' then weight end') }}, 0)       as positive_weight,
        {{ kish_effective_n('weight', valid) }}                                                  as n_eff,
        coalesce({{ deterministic_sum('case when ' ~ positive ~ ' then weight end') }}, 0)
        / nullif({{ deterministic_sum('case when ' ~ valid ~ ' then weight end') }}, 0)          as p
    from broken_down
    group by survey, fieldwork_start, fieldwork_end, question, breakdown, breakdown_value
    -- a question nobody in the group answered (not even "don't know") gives no row
    having count(answer) > 0
),

waves as (
    select
        survey,
        wave_start,
        wave_end,
        -- waves are numbered within a programme: a panel wave is not the council survey's next wave
        dense_rank() over (partition by survey order by wave_start, wave_end) as wave_number
    from (select distinct
        survey,
        wave_start,
        wave_end
    from groups) as w
),

numbered as (
    select
        groups.*,
        waves.wave_number
    from groups
    inner join waves using (survey, wave_start, wave_end)
),

-- latest benchmark round whose fieldwork month is not after the wave's fieldwork end
benchmark_rounds_before_wave as (
    select
        numbered.survey,
        numbered.wave_start,
        numbered.wave_end,
        numbered.question,
        b.fieldwork_month,
        b.round_label,
        b.percent_positive / 100.0 as benchmark_p,
        b.sample_size              as benchmark_n
    from (select distinct
        survey,
        wave_start,
        wave_end,
        question
    from numbered) as numbered
    inner join {{ ref('lga_satisfaction_benchmarks') }} as b
        on
            b.question = numbered.question
            and b.fieldwork_month <= numbered.wave_end
),

benchmark_for_wave as (
    {{ first_per('benchmark_rounds_before_wave', 'survey, wave_start, wave_end, question', 'fieldwork_month desc') }}
),

-- each group against the rest of its sample (everyone in the wave who answered the question and
-- is not in the group): independent samples, so a two-sample test applies, where a group against
-- the whole sample (which contains it) would not. The rest's sums are the whole sample's less
-- the group's. The test is pooled (the whole sample's p): see pooled_two_sample_z.
versus_rest as (
    select
        g.survey,
        g.wave_start,
        g.wave_end,
        g.question,
        g.breakdown,
        g.breakdown_value,
        g.p
        - (a.positive_weight - g.positive_weight)
        / nullif(a.weighted_base - g.weighted_base, 0) as difference_from_rest,
        case
            when g.unweighted_n > 0 and a.unweighted_n - g.unweighted_n > 0 then
            {{ pooled_two_sample_z(
                'g.p', 'g.n_eff',
                '(a.positive_weight - g.positive_weight) / nullif(a.weighted_base - g.weighted_base, 0)',
                'power(a.weighted_base - g.weighted_base, 2) / nullif(a.weight_squares - g.weight_squares, 0)',
                'a.p') }}
        end
            as difference_z,
        -- whether the comparison can be made: someone in the group and someone in the rest
        (g.unweighted_n > 0 and a.unweighted_n - g.unweighted_n > 0)
            as difference_tested
    from numbered as g
    inner join numbered as a
        on
            a.breakdown = 'all'
            and a.survey = g.survey
            and a.wave_start = g.wave_start
            and a.wave_end = g.wave_end
            and a.question = g.question
    where g.breakdown <> 'all'
),

versus_rest_p as (
    select
        versus_rest.*,
        -- a comparison made with no variation in the whole sample (everyone positive, or no one) has no difference: p = 1
        case
            when difference_tested then coalesce({{ normal_two_sided_p_value('difference_z') }}, 1.0)
        end as difference_p
    from versus_rest
),

-- one family per survey and wave: every group comparison of the wave, all questions and breakdowns
versus_rest_fdr as (
    {{ benjamini_hochberg('versus_rest_p', 'difference_p', 'survey, wave_start, wave_end',
                          'question, breakdown, breakdown_value') }}
),

-- each change since the immediately preceding wave of the same programme, question and group
-- that can be tested (both waves have a % positive); one whose standard error is 0 counts with
-- p = 1, as a group comparison that cannot be made does
change_tests as (
    select
        cur.survey,
        cur.wave_start,
        cur.wave_end,
        cur.question,
        cur.breakdown,
        cur.breakdown_value,
        cur.breakdown = 'all'                                            as whole_sample,
        {{ two_sample_z('cur.p', 'cur.n_eff', 'prev.p', 'prev.n_eff') }} as change_z
    from numbered as cur
    inner join numbered as prev
        on
            prev.survey = cur.survey
            and prev.wave_number = cur.wave_number - 1
            and prev.question = cur.question
            and prev.breakdown = cur.breakdown
            and prev.breakdown_value = cur.breakdown_value
    where cur.p is not null and prev.p is not null
),

change_tests_p as (
    select
        change_tests.*,
        coalesce({{ normal_two_sided_p_value('change_z') }}, 1.0) as change_p
    from change_tests
),

-- two families per survey and wave: the whole sample's changes, and the groups'
change_fdr as (
    {{ benjamini_hochberg('change_tests_p', 'change_p', 'survey, wave_start, wave_end, whole_sample',
                          'question, breakdown, breakdown_value') }}
),

compared as (
    select
        cur.*,
        bm.round_label     as benchmark_round,
        bm.fieldwork_month as benchmark_fieldwork_month,
        bm.benchmark_p,
        bm.benchmark_n,
        prev.p             as previous_p,
        prev.n_eff         as previous_n_eff,
        fdr.difference_from_rest,
        fdr.difference_p,
        fdr.tests_in_family,
        fdr.bh_adjusted_p,
        ch.change_p,
        ch.tests_in_family as change_tests_in_family,
        ch.bh_adjusted_p   as change_bh_adjusted_p
    from numbered as cur
    -- national figures are not broken down: only the whole-sample row gets a benchmark
    left join benchmark_for_wave as bm
        on
            cur.breakdown = 'all'
            and bm.survey = cur.survey
            and bm.wave_start = cur.wave_start
            and bm.wave_end = cur.wave_end
            and bm.question = cur.question
    -- the immediately preceding wave of the same survey programme, same question and group
    left join numbered as prev
        on
            prev.survey = cur.survey
            and prev.wave_number = cur.wave_number - 1
            and prev.question = cur.question
            and prev.breakdown = cur.breakdown
            and prev.breakdown_value = cur.breakdown_value
    left join versus_rest_fdr as fdr
        on
            fdr.survey = cur.survey
            and fdr.wave_start = cur.wave_start
            and fdr.wave_end = cur.wave_end
            and fdr.question = cur.question
            and fdr.breakdown = cur.breakdown
            and fdr.breakdown_value = cur.breakdown_value
    left join change_fdr as ch
        on
            ch.survey = cur.survey
            and ch.wave_start = cur.wave_start
            and ch.wave_end = cur.wave_end
            and ch.question = cur.question
            and ch.breakdown = cur.breakdown
            and ch.breakdown_value = cur.breakdown_value
),

tested as (
    select
        *,
        {{ wilson_bound('p', 'n_eff', 'lower') }}                                  as wilson_lower,
        {{ wilson_bound('p', 'n_eff', 'upper') }}                                  as wilson_upper,
        {{ two_sample_significant('p', 'n_eff', 'benchmark_p', 'benchmark_n') }}   as benchmark_significant,
        {{ two_sample_significant('p', 'n_eff', 'previous_p', 'previous_n_eff') }} as change_significant,
        -- whole months from the poll's fieldwork month to the month the wave's fieldwork ended
        {{ months_between('benchmark_fieldwork_month', 'wave_end') }}              as benchmark_age,
        {{ survey_month_label('benchmark_fieldwork_month') }}                      as benchmark_month_label
    from compared
)

select
    survey,
    wave_start,
    wave_end,
    question,
    breakdown,
    breakdown_value,
    unweighted_n,
    dont_know_n,
    {{ round_to("weighted_base", 2) }}                                       as weighted_base,
    {{ round_to("n_eff", 2) }}                                               as effective_n,
    {{ round_to("100 * p", 2) }}                                             as percent_positive,
    {{ round_to("100 * greatest(wilson_lower, 0)", 2) }}                     as ci_lower,
    {{ round_to("100 * least(wilson_upper, 1)", 2) }}                        as ci_upper,
    {{ round_to("100 * benchmark_p", 2) }}                                   as benchmark_percent,
    benchmark_round,
    benchmark_fieldwork_month,
    cast(benchmark_age as integer)                                           as benchmark_age_months,
    (benchmark_age > {{ var('satisfaction_benchmark_max_age_months', 24) }}) as benchmark_stale,
    {{ round_to("100 * (p - benchmark_p)", 2) }}                             as benchmark_difference,
    benchmark_significant,
    -- the LGA's figure is a national telephone poll; a local survey asked another way (and the
    -- pipeline does not know how each was asked) is not strictly comparable, so a difference is
    -- never called significant: the sentence names the poll's date, and its age when stale
    case
        when benchmark_p is null or p is null then null
        else
            case
                when benchmark_significant and p < benchmark_p then 'lower than'
                when benchmark_significant and p > benchmark_p then 'higher than'
                else 'no clear difference from'
            end
            || ' the national poll of ' || benchmark_month_label || ' (a different method'
            || case
                when benchmark_age > {{ var('satisfaction_benchmark_max_age_months', 24) }}
                    then ', and ' || cast(cast(benchmark_age as integer) as varchar) || ' months before this survey'
                else ''
            end
            || '; compare with caution)'
    end                                                                      as benchmark_statement,
    {{ round_to("100 * previous_p", 2) }}                                    as previous_wave_percent,
    {{ round_to("100 * (p - previous_p)", 2) }}                              as change_vs_previous_wave,
    change_significant,
    {{ round_to("change_p", 4) }}                                            as change_p_value,
    change_bh_adjusted_p <= {{ var('satisfaction_fdr_level', 0.05) }}        as change_significant_fdr,
    cast(change_tests_in_family as integer)                                  as change_tests_in_family,
    -- significant only after the false discovery rate control of the wave's family of changes
    case
        when p is null or previous_p is null then 'no previous wave'
        when
            change_bh_adjusted_p <= {{ var('satisfaction_fdr_level', 0.05) }} and p > previous_p
            then 'significant improvement'
        when
            change_bh_adjusted_p <= {{ var('satisfaction_fdr_level', 0.05) }} and p < previous_p
            then 'significant decline'
        else 'no significant change'
    end                                                                      as change_statement,
    {{ round_to("100 * difference_from_rest", 2) }}                          as difference_from_rest,
    {{ round_to("difference_p", 4) }}                                        as difference_p_value,
    case when breakdown <> 'all' then bh_adjusted_p <= {{ var('satisfaction_fdr_level', 0.05) }} end
        as difference_significant_fdr,
    cast(tests_in_family as integer)                                         as tests_in_family,
    -- the level of every false discovery rate control the row is under (group against the rest, change)
    case
        when breakdown <> 'all' or change_tests_in_family is not null
            then cast({{ var('satisfaction_fdr_level', 0.05) }} as double precision)
    end
        as fdr_level
from tested
