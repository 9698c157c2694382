{#- Floating-point sums depend on the order of their terms, and DuckDB's parallel aggregation
    combines partial sums in whatever order its threads finish: the last bit of a mean could differ
    between two builds of the same data (or an incremental build and a full one). Summing exact
    decimals (10 decimal places, a 128-bit integer underneath) makes the result a function of the
    values alone, so marts and exports are byte-stable. Unlike sorting the terms (the first
    version), it needs no memory per group and so scales to the benchmark's largest size.
    Values are rounded to 1e-10 before summing: far below any published precision. -#}
{% macro exact_decimal(expression) -%}
    cast({{ expression }} as decimal(38, 10))
{%- endmacro %}

{% macro deterministic_sum(expression) -%}
    cast(sum({{ exact_decimal(expression) }}) as double precision)
{%- endmacro %}

{#- A double in both engines (PostgreSQL's avg of a numeric is a numeric); `where` is the
    aggregate's FILTER condition. -#}
{% macro deterministic_avg(expression, where=none) -%}
    cast(avg({{ exact_decimal(expression) }}){% if where %} filter (where {{ where }}){% endif %} as double precision)
{%- endmacro %}
