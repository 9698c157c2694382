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

{#- Half-width of the 95% confidence interval of a proportion p (0..1) from an (effective)
    sample of n: 1.96 * sqrt(p(1-p)/n). At p = 0.5, n = 1000 this is 0.031 (3.1 points). -#}
{% macro proportion_ci_half_width(p, n) -%}
({{ survey_z_critical() }} * sqrt(({{ p }}) * (1 - ({{ p }})) / nullif({{ n }}, 0)))
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
