{#- RAG from value against target with a tolerance band, by polarity (domain.md "Status: RAG").
    Green: on or past the target; amber: short of it by no more than tolerance % of the target;
    red: further short. Neutral indicators and indicators without a target are not rated. -#}
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

{#- Direction of travel against an earlier value, by polarity: a change smaller than
    var('no_change_percent') % of the earlier value is no change; no earlier value is not
    comparable. Neutral indicators say only whether they rose or fell. -#}
{% macro direction_of_travel(value, earlier, polarity) -%}
case
    when {{ earlier }} is null or {{ value }} is null then 'not_comparable'
    when abs({{ value }} - {{ earlier }}) <= abs({{ earlier }}) * {{ var('no_change_percent') }} / 100.0 then 'no_change'
    when {{ polarity }} = 'high_is_good' then case when {{ value }} > {{ earlier }} then 'improving' else 'worsening' end
    when {{ polarity }} = 'low_is_good' then case when {{ value }} < {{ earlier }} then 'improving' else 'worsening' end
    else case when {{ value }} > {{ earlier }} then 'increased' else 'decreased' end
end
{%- endmacro %}

{#- Assurance (Making Data Count): where the target sits against the process limits. -#}
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

{#- A number as the narrative shows it: rounded to the indicator's precision (2 if unknown). -#}
{% macro narrative_number(value, precision) -%}
{{ double_as_text(round_to(value, 'coalesce(' ~ precision ~ ', 2)')) }}
{%- endmacro %}
