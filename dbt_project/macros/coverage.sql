{#- What a part period covers (complaints_summary): month ends and the "April to December 2025
    (year to date)" label. Portable: make_date, extract, interval arithmetic cast back to date. -#}

{#- The first day of the month of a date. -#}
{% macro month_start(date_expr) -%}
make_date(cast(extract(year from {{ date_expr }}) as integer), cast(extract(month from {{ date_expr }}) as integer), 1)
{%- endmacro %}

{#- The last day of the month of a date (28 February 2026, 29 February 2028). -#}
{% macro month_end(date_expr) -%}
cast({{ month_start(date_expr) }} + interval '1 month' - interval '1 day' as date)
{%- endmacro %}

{#- The English name of the month of a date: April. -#}
{% macro month_name(date_expr) -%}
(case cast(extract(month from {{ date_expr }}) as integer)
    when 1 then 'January' when 2 then 'February' when 3 then 'March' when 4 then 'April'
    when 5 then 'May' when 6 then 'June' when 7 then 'July' when 8 then 'August'
    when 9 then 'September' when 10 then 'October' when 11 then 'November' else 'December' end)
{%- endmacro %}

{#- "April 2024 to March 2025" for a whole period; "April to December 2025 (year to date)" for
    a part one ("November 2025 to February 2026 (year to date)" across a calendar year, "April
    2025 (year to date)" for one month). Whole months: coverage runs from a month's first day to
    a month's last. -#}
{% macro coverage_label(start_expr, end_expr, complete_expr) -%}
(case
    when {{ complete_expr }} or extract(year from {{ start_expr }}) <> extract(year from {{ end_expr }})
        then {{ month_name(start_expr) }} || ' ' || cast(cast(extract(year from {{ start_expr }}) as integer) as varchar) || ' to '
    when extract(month from {{ start_expr }}) <> extract(month from {{ end_expr }})
        then {{ month_name(start_expr) }} || ' to '
    else ''
end
    || {{ month_name(end_expr) }} || ' ' || cast(cast(extract(year from {{ end_expr }}) as integer) as varchar)
    || case when {{ complete_expr }} then '' else ' (year to date)' end)
{%- endmacro %}
