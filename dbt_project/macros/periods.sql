{#- Periods, normalised once.

    period_id_from_label(column) turns any spelling a source sends into a canonical LG Inform
    style id; the other macros compute label, dates and frequency from a canonical id.

    Canonical ids:
      fin_2016_17      financial year        2016-04-01 .. 2017-03-31
      fin_2018_19_q1   financial quarter     Q1 Apr-Jun, Q2 Jul-Sep, Q3 Oct-Dec, Q4 Jan-Mar (next calendar year)
      cal_2019         calendar year         2019-01-01 .. 2019-12-31
      cal_2021_m04     calendar month        2021-04-01 .. 2021-04-30
      cen_2011         census                dated as calendar year 2011, frequency 'annual'
                                             (what stg_lginform__periods derives from the same dates)

    Portability: the only dialect-specific call is the pattern match, kept in period_matches();
    everything else (substr, right, lpad, make_date, cast, interval arithmetic, CASE) is also
    valid PostgreSQL. Ids are fixed-width, so their parts are read with substr, and every
    branch that casts a part is guarded by an anchored pattern (nested CASE, so the cast never
    sees text that is not digits). Anything unrecognised gives null: never guess.
-#}

{#- The one dialect-specific call (a partial match, as both engines' defaults). -#}
{% macro period_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('period_matches')(expr, pattern)) }}
{%- endmacro %}

{% macro duckdb__period_matches(expr, pattern) -%}
regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro default__period_matches(expr, pattern) -%}
({{ expr }} ~ '{{ pattern }}')
{%- endmacro %}

{#- 'fin_2016_17' from the first year (an integer expression), two-digit second year. -#}
{% macro period_fin_id_from_year(year) -%}
('fin_' || cast({{ year }} as varchar) || '_' || lpad(cast(({{ year }} + 1) % 100 as varchar), 2, '0'))
{%- endmacro %}

{#- True when yy (two digits, text) is the year after yyyy (four digits, text): 2016/17, 1999/00. -#}
{% macro period_years_follow_on(yyyy, yy) -%}
(cast({{ yy }} as integer) = (cast({{ yyyy }} as integer) + 1) % 100)
{%- endmacro %}

{#- Month number as two-digit text from the first three letters of an English month name. -#}
{% macro period_month_number(abbr) -%}
case {{ abbr }}
        when 'jan' then '01' when 'feb' then '02' when 'mar' then '03'
        when 'apr' then '04' when 'may' then '05' when 'jun' then '06'
        when 'jul' then '07' when 'aug' then '08' when 'sep' then '09'
        when 'oct' then '10' when 'nov' then '11' when 'dec' then '12'
    end
{%- endmacro %}


{#- Canonical id from any received spelling; null when unrecognised. Matching ignores case and
    surrounding spaces. -#}
{% macro period_id_from_label(column) -%}
{%- set s = "lower(trim(" ~ column ~ "))" -%}
case
    -- already canonical financial year or quarter: fin_2016_17, fin_2018_19_q1 (years must follow on)
    when {{ period_matches(s, '^fin_[0-9]{4}_[0-9]{2}(_q[1-4])?$') }}
        then case when {{ period_years_follow_on('substr(' ~ s ~ ', 5, 4)', 'substr(' ~ s ~ ', 10, 2)') }} then {{ s }} end
    -- already canonical calendar year, calendar month (m01-m12) or census: cal_2019, cal_2021_m04, cen_2011
    when {{ period_matches(s, '^(cal_[0-9]{4}(_m(0[1-9]|1[0-2]))?|cen_[0-9]{4})$') }}
        then {{ s }}
    -- financial year: 2016/17, 2016-17, 1999/00
    when {{ period_matches(s, '^[0-9]{4}[/-][0-9]{2}$') }}
        then case when {{ period_years_follow_on('substr(' ~ s ~ ', 1, 4)', 'substr(' ~ s ~ ', 6, 2)') }}
            then 'fin_' || substr({{ s }}, 1, 4) || '_' || substr({{ s }}, 6, 2) end
    -- financial quarter: 2018-19;Q1, 2018/19 Q1, 2018/19 q1
    when {{ period_matches(s, '^[0-9]{4}[/-][0-9]{2}[; ]+q[1-4]$') }}
        then case when {{ period_years_follow_on('substr(' ~ s ~ ', 1, 4)', 'substr(' ~ s ~ ', 6, 2)') }}
            then 'fin_' || substr({{ s }}, 1, 4) || '_' || substr({{ s }}, 6, 2) || '_q' || right({{ s }}, 1) end
    -- calendar year: four digits alone, 2019
    when {{ period_matches(s, '^[0-9]{4}$') }}
        then 'cal_' || {{ s }}
    -- calendar month: month name or three-letter abbreviation and year, April 2021, Apr 2021, SEPT 2021
    when {{ period_matches(s, '^(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?|nov(ember)?|dec(ember)?) +[0-9]{4}$') }}
        then 'cal_' || right({{ s }}, 4) || '_m' || {{ period_month_number('substr(' ~ s ~ ', 1, 3)') }}
    -- quarter-end date of Q1-Q3 (quarterly published series): 2021-06-30 is fin_2021_22_q1
    when {{ period_matches(s, '^[0-9]{4}-(06-30|09-30|12-31)$') }}
        then {{ period_fin_id_from_year('cast(substr(' ~ s ~ ', 1, 4) as integer)') }}
            || case substr({{ s }}, 6, 5) when '06-30' then '_q1' when '09-30' then '_q2' else '_q3' end
    -- quarter-end date of Q4 closes the financial year that began the year before: 2022-03-31 is fin_2021_22_q4
    when {{ period_matches(s, '^[0-9]{4}-03-31$') }}
        then {{ period_fin_id_from_year('cast(substr(' ~ s ~ ', 1, 4) as integer) - 1') }} || '_q4'
    -- anything else (other ISO dates included) is unrecognised: rejected downstream
    else null
end
{%- endmacro %}


{#- First day of the period a canonical id names; null for anything else. -#}
{% macro period_start_from_id(id) -%}
{%- set year = "cast(substr(" ~ id ~ ", 5, 4) as integer)" -%}
case
    -- financial year: 1 April of its first year
    when {{ period_matches(id, '^fin_[0-9]{4}_[0-9]{2}$') }}
        then make_date({{ year }}, 4, 1)
    -- financial quarter: Q1 April, Q2 July, Q3 October, Q4 January of the next calendar year
    when {{ period_matches(id, '^fin_[0-9]{4}_[0-9]{2}_q[1-4]$') }}
        then case right({{ id }}, 1)
            when '1' then make_date({{ year }}, 4, 1)
            when '2' then make_date({{ year }}, 7, 1)
            when '3' then make_date({{ year }}, 10, 1)
            else make_date({{ year }} + 1, 1, 1)
        end
    -- calendar year and census: 1 January
    when {{ period_matches(id, '^(cal|cen)_[0-9]{4}$') }}
        then make_date({{ year }}, 1, 1)
    -- calendar month: the first of the month
    when {{ period_matches(id, '^cal_[0-9]{4}_m(0[1-9]|1[0-2])$') }}
        then make_date({{ year }}, cast(right({{ id }}, 2) as integer), 1)
end
{%- endmacro %}


{#- Last day of the period a canonical id names; null for anything else. -#}
{% macro period_end_from_id(id) -%}
{%- set year = "cast(substr(" ~ id ~ ", 5, 4) as integer)" -%}
case
    -- financial year: 31 March of its second year
    when {{ period_matches(id, '^fin_[0-9]{4}_[0-9]{2}$') }}
        then make_date({{ year }} + 1, 3, 31)
    -- financial quarter: 30 June, 30 September, 31 December, 31 March of the next calendar year
    when {{ period_matches(id, '^fin_[0-9]{4}_[0-9]{2}_q[1-4]$') }}
        then case right({{ id }}, 1)
            when '1' then make_date({{ year }}, 6, 30)
            when '2' then make_date({{ year }}, 9, 30)
            when '3' then make_date({{ year }}, 12, 31)
            else make_date({{ year }} + 1, 3, 31)
        end
    -- calendar year and census: 31 December
    when {{ period_matches(id, '^(cal|cen)_[0-9]{4}$') }}
        then make_date({{ year }}, 12, 31)
    -- calendar month: the day before the first of the next month (29 February in a leap year)
    when {{ period_matches(id, '^cal_[0-9]{4}_m(0[1-9]|1[0-2])$') }}
        then cast(make_date({{ year }}, cast(right({{ id }}, 2) as integer), 1) + interval '1 month' - interval '1 day' as date)
end
{%- endmacro %}


{#- annual, quarterly or monthly from a canonical id; null for anything else. -#}
{% macro period_frequency_from_id(id) -%}
case
    -- financial year, calendar year, census (dated as a calendar year)
    when {{ period_matches(id, '^(fin_[0-9]{4}_[0-9]{2}|cal_[0-9]{4}|cen_[0-9]{4})$') }} then 'annual'
    -- financial quarter
    when {{ period_matches(id, '^fin_[0-9]{4}_[0-9]{2}_q[1-4]$') }} then 'quarterly'
    -- calendar month
    when {{ period_matches(id, '^cal_[0-9]{4}_m(0[1-9]|1[0-2])$') }} then 'monthly'
end
{%- endmacro %}


{#- A label in the spelling LG Inform uses: 2016/17, 2018/19 Q1, 2019, Apr 2021, 2011 Census. -#}
{% macro period_label_from_id(id) -%}
case
    -- financial year: 2016/17
    when {{ period_matches(id, '^fin_[0-9]{4}_[0-9]{2}$') }}
        then substr({{ id }}, 5, 4) || '/' || substr({{ id }}, 10, 2)
    -- financial quarter: 2018/19 Q1
    when {{ period_matches(id, '^fin_[0-9]{4}_[0-9]{2}_q[1-4]$') }}
        then substr({{ id }}, 5, 4) || '/' || substr({{ id }}, 10, 2) || ' Q' || right({{ id }}, 1)
    -- calendar year: 2019
    when {{ period_matches(id, '^cal_[0-9]{4}$') }}
        then substr({{ id }}, 5, 4)
    -- calendar month: Apr 2021
    when {{ period_matches(id, '^cal_[0-9]{4}_m(0[1-9]|1[0-2])$') }}
        then substr('JanFebMarAprMayJunJulAugSepOctNovDec', 3 * cast(right({{ id }}, 2) as integer) - 2, 3)
            || ' ' || substr({{ id }}, 5, 4)
    -- census: 2011 Census
    when {{ period_matches(id, '^cen_[0-9]{4}$') }}
        then substr({{ id }}, 5, 4) || ' Census'
end
{%- endmacro %}

{#- The first calendar year of the financial year (April-March) that contains a date. -#}
{% macro financial_year_of(date_expr) -%}
(case when extract(month from {{ date_expr }}) >= 4 then extract(year from {{ date_expr }}) else extract(year from {{ date_expr }}) - 1 end)
{%- endmacro %}
