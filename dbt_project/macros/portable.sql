{#- The few places where DuckDB and PostgreSQL differ, each behind one macro (adapter.dispatch:
    duckdb__* for DuckDB, default__* for PostgreSQL). Everything else in the project is SQL both
    accept: no QUALIFY (the newest version is a row_number() subquery), percentile_cont ...
    within group, interval '1 year', double precision. -#}

{#- round(x, digits) on a double, the same in both engines: the number as it is written
    (its shortest decimal spelling, 48.605) rounded half away from zero (48.61), not the binary
    double underneath (48.60499999...), which DuckDB's round would give as 48.6. A weighted base
    that sums to 48.605 is 48.61 to the councillor reading it. `digits` may be a column
    (0 to 10): DuckDB rounds decimals only to a constant, hence the CASE. -#}
{% macro round_to(expression, digits) -%}
    {{ return(adapter.dispatch('round_to')(expression, digits)) }}
{%- endmacro %}

{% macro duckdb__round_to(expression, digits) -%}
{%- set exact = 'cast(cast(' ~ expression ~ ' as varchar) as decimal(38, 10))' -%}
{%- if digits is number -%}
cast(round({{ exact }}, {{ digits }}) as double)
{%- else -%}
(case {{ digits }}
    {%- for d in range(11) %} when {{ d }} then cast(round({{ exact }}, {{ d }}) as double){% endfor %}
end)
{%- endif -%}
{%- endmacro %}

{% macro default__round_to(expression, digits) -%}
cast(round(cast({{ expression }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}

{#- A double as text, spelt as DuckDB spells it: shortest round-trip digits, and a whole
    number keeps its ".0" (PostgreSQL would write 96 for 96.0). -#}
{% macro double_as_text(expression) -%}
    {{ return(adapter.dispatch('double_as_text')(expression)) }}
{%- endmacro %}

{% macro duckdb__double_as_text(expression) -%}
cast({{ expression }} as varchar)
{%- endmacro %}

{% macro default__double_as_text(expression) -%}
(case
    when {{ expression }} = trunc({{ expression }}) and abs({{ expression }}) < 1e15
        then cast(cast({{ expression }} as bigint) as varchar) || '.0'
    else cast({{ expression }} as varchar)
end)
{%- endmacro %}

{#- Whole months from one date to another, counting month boundaries as DuckDB's date_diff does. -#}
{% macro months_between(start_date, end_date) -%}
((extract(year from {{ end_date }}) - extract(year from {{ start_date }})) * 12
    + extract(month from {{ end_date }}) - extract(month from {{ start_date }}))
{%- endmacro %}

{#- Whether `item` is one of the comma-separated items of `list_text` (exactly, not as a pattern). -#}
{% macro in_comma_list(item, list_text) -%}
(position(',' || {{ item }} || ',' in ',' || coalesce({{ list_text }}, '') || ',') > 0)
{%- endmacro %}

{#- The rows of `relation` that rank first within `partition_by` by `order_by`: QUALIFY, which
    PostgreSQL lacks, as a subquery. The result has one more column, `row_rank`. -#}
{% macro first_per(relation, partition_by, order_by) -%}
select * from (
    select
        ranked_rows.*,
        row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as row_rank
    from {{ relation }} as ranked_rows
) as first_rows
where row_rank = 1
{%- endmacro %}
