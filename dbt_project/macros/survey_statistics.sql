{#- Survey statistics for weighted proportions (docs/domain.md, "Resident satisfaction surveys").

    Proportions are fractions 0..1 in these macros; models multiply by 100 for display.
    Every macro returns null rather than dividing by zero (nullif), so a group with no valid
    answers, or a comparison whose standard error is 0, gives null, never an error.
    Plain SQL (sqrt, nullif, sum with a CASE): also valid in PostgreSQL.
-#}

{#- Two-sided 95% critical value of the standard normal distribution. -#}
{% macro survey_z_critical() -%}
1.96
{%- endmacro %}

{#- Kish effective sample size (sum w)^2 / sum w^2 over the rows where `condition` holds.
    Equal weights give the row count; unequal weights give fewer. -#}
{% macro kish_effective_n(weight, condition) -%}
(
    power({{ deterministic_sum('case when ' ~ condition ~ ' then ' ~ weight ~ ' end') }}, 2)
    / nullif({{ deterministic_sum('case when ' ~ condition ~ ' then ' ~ weight ~ ' * ' ~ weight ~ ' end') }}, 0)
)
{%- endmacro %}

{#- Two-sample z statistic for the difference of two proportions (0..1), unpooled:
    (p1 - p2) / sqrt(p1(1-p1)/n1 + p2(1-p2)/n2). With two samples of 1000 around p = 0.5 the
    difference must exceed about 0.044 (4.4 points) for |z| > 1.96. Null when the standard
    error is 0 (both proportions 0 or 1) or an n is 0/null. -#}
{% macro two_sample_z(p1, n1, p2, n2) -%}
(
    (({{ p1 }}) - ({{ p2 }}))
    / nullif(sqrt(
        ({{ p1 }}) * (1 - ({{ p1 }})) / nullif({{ n1 }}, 0)
        + ({{ p2 }}) * (1 - ({{ p2 }})) / nullif({{ n2 }}, 0)
    ), 0)
)
{%- endmacro %}

{#- True when the two-sample z-test is significant at 95% (|z| > 1.96); null when z is null. -#}
{% macro two_sample_significant(p1, n1, p2, n2) -%}
(abs({{ two_sample_z(p1, n1, p2, n2) }}) > {{ survey_z_critical() }})
{%- endmacro %}

{#- The 95% Wilson score interval of a proportion p (0..1) from an (effective) sample of n:
        (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    `side` is 'lower' or 'upper'. Unlike p ± z·SE it does not collapse to a point at p = 0 or 1
    (3 respondents, all positive: 43.85% to 100%, not 100% to 100%), never leaves 0..1 and
    always contains p. With weights, n is the Kish effective sample size: the interval of a
    simple random sample carrying as much information as the weighted one (the weighted p is
    kept). At p = 0.5, n = 1000 it is 0.5 ± 0.03093 (46.91% to 53.09%). -#}
{% macro wilson_bound(p, n, side) -%}
{%- set z = survey_z_critical() | trim -%}
{%- set z2 = '(' ~ z ~ ' * ' ~ z ~ ')' -%}
(
    (
        ({{ p }}) + {{ z2 }} / (2 * nullif({{ n }}, 0))
        {{ '-' if side == 'lower' else '+' }} {{ z }} * sqrt(
            greatest(({{ p }}) * (1 - ({{ p }})), 0) / nullif({{ n }}, 0)
            + {{ z2 }} / (4 * nullif({{ n }}, 0) * nullif({{ n }}, 0)))
    )
    / (1 + {{ z2 }} / nullif({{ n }}, 0))
)
{%- endmacro %}

{#- Two-sample z statistic for the difference of two independent proportions under the null
    hypothesis that they are equal, with the pooled proportion `p_pooled` (for a group against
    the rest of its sample, the whole sample's weighted p):
        (p1 - p2) / sqrt(p_pooled (1 - p_pooled) (1/n1 + 1/n2)).
    Pooled rather than unpooled: a small group answering 100% (or 0%) positive has no variance
    of its own, and the unpooled test would call a group of 3 "significant" on nothing. Null
    when p_pooled is 0 or 1 (then both proportions equal it: no difference) or an n is 0/null. -#}
{% macro pooled_two_sample_z(p1, n1, p2, n2, p_pooled) -%}
(
    (({{ p1 }}) - ({{ p2 }}))
    / nullif(sqrt(
        ({{ p_pooled }}) * (1 - ({{ p_pooled }}))
        * (1.0 / nullif({{ n1 }}, 0) + 1.0 / nullif({{ n2 }}, 0))
    ), 0)
)
{%- endmacro %}

{#- Two-sided p-value of a standard normal statistic z: erfc(|z| / sqrt 2), with the Chebyshev
    approximation of erfc in Numerical Recipes (erfcc; relative error under 1.2e-7 for every z,
    so small p-values keep their digits). Neither engine has erf/erfc in every version, so it is
    plain SQL; |z| is capped at 36 (p about 1e-283) because PostgreSQL raises an error on an
    exp that underflows. z = 1.96 gives 0.0500, z = 2.5758 gives 0.0100. `z` should be a
    column (it is repeated). Null when z is null. -#}
{% macro normal_two_sided_p_value(z) -%}
{%- set x = '(least(abs(' ~ z ~ '), 36) / sqrt(2.0))' -%}
{%- set t = '(1.0 / (1.0 + 0.5 * ' ~ x ~ '))' -%}
least(1.0, {{ t }} * exp(
    - {{ x }} * {{ x }} - 1.26551223 + {{ t }} * (1.00002368 + {{ t }} * (0.37409196 + {{ t }} * (0.09678418
    + {{ t }} * (-0.18628806 + {{ t }} * (0.27886807 + {{ t }} * (-1.13520398 + {{ t }} * (1.48851587
    + {{ t }} * (-0.82215223 + {{ t }} * 0.17087277))))))))))
{%- endmacro %}

{#- Benjamini-Hochberg over the rows of `relation`: each `family` is one family of tests, each
    row one test with p-value `p_value` (a null p-value, a comparison that could not be made,
    counts as a test with p = 1: conservative, and the count then equals the rows shown). Adds
    tests_in_family (m), bh_rank (k, by p-value; `tie_break` orders equal p-values, which get
    the same adjusted value anyway) and bh_adjusted_p = min over j >= k of min(1, m p_(j) / j):
    a test is significant at false discovery rate q when bh_adjusted_p <= q. With p-values
    0.001, 0.012, 0.03, 0.2 (m = 4) the adjusted values are 0.004, 0.024, 0.04, 0.2: at q = 0.05
    the first three are significant, where Bonferroni (p <= 0.0125) would keep two. -#}
{% macro benjamini_hochberg(relation, p_value, family, tie_break) -%}
select
    bh_ranked.*,
    least(1.0, min(bh_p * tests_in_family / bh_rank) over (
        partition by {{ family }} order by bh_rank desc rows between unbounded preceding and current row
    )) as bh_adjusted_p
from (
    select
        bh_rows.*,
        coalesce({{ p_value }}, 1.0) as bh_p,
        count(*) over (partition by {{ family }}) as tests_in_family,
        row_number() over (partition by {{ family }} order by coalesce({{ p_value }}, 1.0), {{ tie_break }}) as bh_rank
    from {{ relation }} as bh_rows
) as bh_ranked
{%- endmacro %}

{#- A first-of-month date as its month and year, "February 2021" (the same in both engines). -#}
{% macro survey_month_label(month_date) -%}
(case cast(extract(month from {{ month_date }}) as integer)
    {%- for name in ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] %}
    when {{ loop.index }} then '{{ name }} '
    {%- endfor %}
end || cast(cast(extract(year from {{ month_date }}) as integer) as varchar))
{%- endmacro %}
