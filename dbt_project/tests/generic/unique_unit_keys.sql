{#- Two spellings of the vocabulary must not share a key: a label would match both. -#}
{% test unique_unit_keys(model) %}
select {{ unit_key('unit_label') }} as unit_key, count(*) as spellings
from {{ model }}
group by 1
having count(*) > 1
{% endtest %}
