{#- Statistical process control (XmR charts, NHS England "Making Data Count"; docs/domain.md,
    "Statistical process control (SPC)").
    Constants of the XmR chart, kept in one place so models and docs agree:
      2.66   = 3 / d2 (d2 = 1.128 for moving ranges of two points): mean ± 2.66 × mR̄ are the
               process (3-sigma) limits; 2/3 of it gives the 2-sigma lines.
      3.267  = D4 for n = 2: a moving range at or above 3.267 × mR̄ is screened out of mR̄ when
               var('spc_screen_moving_ranges') is true (default true, as NHSRplotthedots; false follows
               the MDC Excel tool).
-#}
{% macro spc_limit_factor() -%}
2.66
{%- endmacro %}

{% macro spc_two_sigma_factor() -%}
(2.0 / 3.0 * 2.66)
{%- endmacro %}

{% macro spc_moving_range_screen_factor() -%}
3.267
{%- endmacro %}

{#- Gaps and islands, step one: 1 where a point starts a new island (its key differs from the
    previous point's, or it is the first point), else 0. A cumulative sum of this flag in the
    next CTE numbers the islands (window functions cannot be nested in one select). -#}
{% macro spc_starts_island(key, partition_by, order_by) -%}
case when {{ key }} is not distinct from lag({{ key }}) over (partition by {{ partition_by }} order by {{ order_by }})
     then 0 else 1 end
{%- endmacro %}
