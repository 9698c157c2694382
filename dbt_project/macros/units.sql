{#- Units by meaning, not by spelling. A unit label is matched against seeds/unit_vocabulary.csv
    on its key: lower case with everything but letters, digits, % £ and µ removed, so that
    'Percentage', 'percentage' and ' PERCENTAGE ' are one unit, and 'Rate per 1,000' is
    'rate per 1000'. What each kind allows, for the quality gate's range checks: percent 0-100;
    count a whole number >= 0; non_negative >= 0 (rates, money, durations, weights);
    unbounded (scores, points, indices); a label not in the vocabulary takes its family's kind
    (unit_kind_by_family) or is unrecognised (so is a missing one): no range check applies,
    and the gate warns naming the indicator and its unit. -#}
{% macro unit_key(label) -%}
    regexp_replace(lower(trim({{ label }})), '[^a-z0-9%£µ]', '', 'g')
{%- endmacro %}

{#- The kind of a unit the vocabulary does not list, by its family where the key says it
    unmistakably: any share of a whole ('Percent (%)', '% of residents') is a percentage; a rate
    per N ('Rate per 1,000 pupils') or money ('£ per tonne') is not negative. Percentage
    points are a difference and can be negative: they are listed in the vocabulary, and any
    other key naming points is left unrecognised rather than guessed. -#}
{% macro unit_kind_by_family(key) -%}
    case
        when strpos({{ key }}, 'point') > 0 then 'unrecognised'
        when strpos({{ key }}, '%') > 0 or strpos({{ key }}, 'percent') > 0 then 'percent'
        when {{ key }} like 'per1%' or {{ key }} like 'rateper1%' then 'non_negative'
        when {{ key }} like '£%' then 'non_negative'
        else 'unrecognised'
    end
{%- endmacro %}

{#- Polarity by meaning: 'High value is good', 'HIGH VALUE IS GOOD', 'higher is better'. -#}
{% macro polarity_of(label) -%}
    case regexp_replace(lower(coalesce({{ label }}, '')), '[^a-z]', '', 'g')
        when 'highvalueisgood' then 'high_is_good'
        when 'highisgood' then 'high_is_good'
        when 'higherisbetter' then 'high_is_good'
        when 'lowvalueisgood' then 'low_is_good'
        when 'lowisgood' then 'low_is_good'
        when 'lowerisbetter' then 'low_is_good'
        else 'neutral'
    end
{%- endmacro %}

{#- Frequency by meaning: 'Annually', 'annual', 'Yearly' are one frequency. -#}
{% macro frequency_of(label) -%}
    case regexp_replace(lower({{ label }}), '[^a-z]', '', 'g')
        when 'annually' then 'annually'
        when 'annual' then 'annually'
        when 'yearly' then 'annually'
        when 'quarterly' then 'quarterly'
        when 'quarter' then 'quarterly'
        when 'monthly' then 'monthly'
        when 'month' then 'monthly'
        else lower({{ label }})
    end
{%- endmacro %}
