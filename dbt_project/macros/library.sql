{#- Rows of the latest loaded version of a library file (files are loaded whole). -#}
{% macro latest_library_version(relation) -%}
select * from {{ relation }}
where source_sha256 = (
    select source_sha256 from {{ relation }} order by ingested_at desc, source_sha256 desc limit 1
)
{%- endmacro %}
