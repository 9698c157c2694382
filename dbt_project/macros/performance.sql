{#- RAG from value against target with a tolerance band, by polarity (docs/domain.md, "Status: RAG").
    Green: on or past the target; amber: short of it by no more than tolerance % of the target;
    red: further short. Without a target: no_target; neutral (or unknown) polarity: not_rated. -#}
{% macro rag_status(value, target, tolerance_percent, polarity) -%}
case
    when {{ target }} is null then 'no_target'
    when {{ polarity }} = 'high_is_good' and {{ value }} >= {{ target }} then 'green'
    when {{ polarity }} = 'high_is_good' and {{ value }} >= {{ target }} - abs({{ target }}) * {{ tolerance_percent }} / 100.0 then 'amber'
    when {{ polarity }} = 'high_is_good' then 'red'
    when {{ polarity }} = 'low_is_good' and {{ value }} <= {{ target }} then 'green'
    when {{ polarity }} = 'low_is_good' and {{ value }} <= {{ target }} + abs({{ target }}) * {{ tolerance_percent }} / 100.0 then 'amber'
    when {{ polarity }} = 'low_is_good' then 'red'
    else 'not_rated'
end
{%- endmacro %}

{#- Direction of travel against an earlier value, by polarity (docs/domain.md,
    "Direction of travel"). A change smaller than the indicator's band is no change; the band
    is in the indicator's own unit: the library's
    no_change_within when it gives one, else var('no_change_points') percentage points for a
    percentage (unit '%'; 1% of 96% would be 0.96 points, hiding a fall that matters) and
    var('no_change_percent') % of the earlier value for any other unit. The change is compared
    to 10 decimal places, so 85.3 - 84.8 (0.50000000000001 in binary) is 0.5. No earlier value
    is not comparable. Neutral indicators say only whether they rose or fell. -#}
{% macro direction_of_travel(value, earlier, polarity, unit, no_change_within) -%}
case
    when {{ earlier }} is null or {{ value }} is null then 'not_comparable'
    when {{ round_to('abs(' ~ value ~ ' - ' ~ earlier ~ ')', 10) }} < {{ no_change_band(earlier, unit, no_change_within) }} then 'no_change'
    when {{ polarity }} = 'high_is_good' then case when {{ value }} > {{ earlier }} then 'improving' else 'worsening' end
    when {{ polarity }} = 'low_is_good' then case when {{ value }} < {{ earlier }} then 'improving' else 'worsening' end
    else case when {{ value }} > {{ earlier }} then 'increased' else 'decreased' end
end
{%- endmacro %}

{#- The no-change band of direction_of_travel, in the indicator's unit, against `earlier`. -#}
{% macro no_change_band(earlier, unit, no_change_within) -%}
coalesce(
    {{ no_change_within }},
    case when {{ unit }} = '%' then {{ var('no_change_points') }}
         else {{ round_to('abs(' ~ earlier ~ ') * ' ~ var('no_change_percent') ~ ' / 100.0', 10) }} end)
{%- endmacro %}

{#- Assurance (Making Data Count): where the target sits against the process limits
    (docs/domain.md, "Statistical process control (SPC)"). -#}
{% macro assurance_icon(target, lower_limit, upper_limit, polarity) -%}
case
    when {{ target }} is null or {{ lower_limit }} is null or {{ polarity }} not in ('high_is_good', 'low_is_good') then null
    when {{ target }} between {{ lower_limit }} and {{ upper_limit }} then 'hit_and_miss'
    when {{ polarity }} = 'high_is_good' and {{ target }} > {{ upper_limit }} then 'consistently_fails'
    when {{ polarity }} = 'high_is_good' then 'consistently_passes'
    when {{ target }} < {{ lower_limit }} then 'consistently_fails'
    else 'consistently_passes'
end
{%- endmacro %}

{#- A number as the narrative shows it, as the exports' Python (exports/formatting.py) does:
    rounded half away from zero to the indicator's precision and written with exactly that
    many decimals ('597', not '597.0'; 90.05 at 1 is '90.1'); with no precision known, as
    published ('1234.5', a whole number without '.0'). -#}
{% macro narrative_number(value, precision) -%}
(case
    when {{ precision }} is null then regexp_replace({{ double_as_text(value) }}, '\.0$', '')
    {%- for d in range(11) %}
    when {{ precision }} = {{ d }} then cast(cast({{ round_to(value, d) }} as decimal(38, {{ d }})) as varchar)
    {%- endfor %}
end)
{%- endmacro %}
