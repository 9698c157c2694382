{#- What range an indicator's unit allows, for the quality gate's range checks:
    percent 0-100; count a whole number >= 0; non_negative >= 0 (rates, money, days, weights);
    unbounded (scores, points, units we do not recognise). -#}
{% macro unit_kind(unit) -%}
    case
        when {{ unit }} in ('%', 'percent', 'percentage') then 'percent'
        when {{ unit }} in ('count', 'persons', 'number', 'households', 'people') then 'count'
        when {{ unit }} like 'per %' or {{ unit }} like '£%' or {{ unit }} in ('days', 'years', 'weeks', 'hours')
          or {{ unit }} like 'kg%' or {{ unit }} like 'tonnes%' then 'non_negative'
        else 'unbounded'
    end
{%- endmacro %}
