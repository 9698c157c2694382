{#- Raw tables keep every version of a key; staging reads the latest one. -#}
{% macro latest_version(partition_by) -%}
qualify row_number() over (partition by {{ partition_by }} order by ingested_at desc, source_sha256 desc) = 1
{%- endmacro %}
