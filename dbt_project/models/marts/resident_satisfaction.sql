-- Resident satisfaction (LGA question set) per survey programme, wave, question and breakdown: weighted %
-- positive with its 95% confidence interval (Kish effective n), the national benchmark and the
-- change since the previous wave, each with a two-sample z-test (macros/survey_statistics.sql).
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
        fieldwork_start, fieldwork_end, weight,
        age_band, sex, ethnicity, disability, ward,
        '{{ q }}'   as question,
        {{ q }}     as answer
    from responses
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- each answer once for the whole sample and once under each breakdown (the equity view);
-- a missing characteristic is its own group, 'Not known'
broken_down as (
    select answers.*, 'all' as breakdown, 'all' as breakdown_value from answers
    {%- for b in breakdowns %}
    union all
    select answers.*, '{{ b }}' as breakdown, coalesce(cast({{ b }} as varchar), 'Not known') as breakdown_value
    from answers
    {%- endfor %}
),

{%- set valid = 'answer between 1 and 5' %}
{%- set positive = 'answer in (1, 2)' %}

groups as (
    select
        survey,
        fieldwork_start                                                         as wave_start,
        fieldwork_end                                                           as wave_end,
        question,
        breakdown,
        breakdown_value,
        count(case when {{ valid }} then 1 end)                                 as unweighted_n,
        count(case when answer = 9 then 1 end)                                  as dont_know_n,
        coalesce({{ deterministic_sum('case when ' ~ valid ~ ' then weight end') }}, 0) as weighted_base,
        {{ kish_effective_n('weight', valid) }}                                 as n_eff,
        coalesce({{ deterministic_sum('case when ' ~ positive ~ ' then weight end') }}, 0)
            / nullif({{ deterministic_sum('case when ' ~ valid ~ ' then weight end') }}, 0) as p
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
    from (select distinct survey, wave_start, wave_end from groups) as w
),

numbered as (
    select groups.*, waves.wave_number
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
    from (select distinct survey, wave_start, wave_end, question from numbered) as numbered
    inner join {{ ref('lga_satisfaction_benchmarks') }} as b
        on b.question = numbered.question
       and b.fieldwork_month <= numbered.wave_end
),

benchmark_for_wave as (
    {{ first_per('benchmark_rounds_before_wave', 'survey, wave_start, wave_end, question', 'fieldwork_month desc') }}
),

compared as (
    select
        cur.*,
        bm.round_label   as benchmark_round,
        bm.benchmark_p,
        bm.benchmark_n,
        prev.p           as previous_p,
        prev.n_eff       as previous_n_eff
    from numbered as cur
    -- national figures are not broken down: only the whole-sample row gets a benchmark
    left join benchmark_for_wave as bm
        on  cur.breakdown = 'all'
        and bm.survey = cur.survey
        and bm.wave_start = cur.wave_start
        and bm.wave_end = cur.wave_end
        and bm.question = cur.question
    -- the immediately preceding wave of the same survey programme, same question and group
    left join numbered as prev
        on  prev.survey = cur.survey
        and prev.wave_number = cur.wave_number - 1
        and prev.question = cur.question
        and prev.breakdown = cur.breakdown
        and prev.breakdown_value = cur.breakdown_value
),

tested as (
    select
        *,
        {{ proportion_ci_half_width('p', 'n_eff') }}                             as half_width,
        {{ two_sample_significant('p', 'n_eff', 'benchmark_p', 'benchmark_n') }} as benchmark_significant,
        {{ two_sample_significant('p', 'n_eff', 'previous_p', 'previous_n_eff') }} as change_significant
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
    {{ round_to("100 * greatest(p - half_width, 0)", 2) }}                   as ci_lower,
    {{ round_to("100 * least(p + half_width, 1)", 2) }}                      as ci_upper,
    {{ round_to("100 * benchmark_p", 2) }}                                   as benchmark_percent,
    benchmark_round,
    {{ round_to("100 * (p - benchmark_p)", 2) }}                             as benchmark_difference,
    benchmark_significant,
    {{ round_to("100 * previous_p", 2) }}                                    as previous_wave_percent,
    {{ round_to("100 * (p - previous_p)", 2) }}                              as change_vs_previous_wave,
    change_significant,
    case
        when p is null or previous_p is null then 'no previous wave'
        when change_significant and p > previous_p then 'significant improvement'
        when change_significant and p < previous_p then 'significant decline'
        else 'no significant change'
    end                                                           as change_statement
from tested
