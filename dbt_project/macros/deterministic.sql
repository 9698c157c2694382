{#- Floating-point sums depend on the order of their terms, and DuckDB's parallel aggregation
    combines partial sums in whatever order its threads finish: the last bit of a mean can differ
    between two builds of the same data (or an incremental build and a full one). Feeding the
    terms in sorted order makes the result a function of the values alone, so marts and exports
    are byte-stable. -#}
{% macro deterministic_sum(expression) -%}
    sum({{ expression }} order by {{ expression }})
{%- endmacro %}

{% macro deterministic_avg(expression) -%}
    avg({{ expression }} order by {{ expression }})
{%- endmacro %}
