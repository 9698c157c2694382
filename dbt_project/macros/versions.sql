{#- Raw tables keep every version of a key from every source. Staging reads one: the version
    from the most trusted source (source_priority), and of that source the latest load. -#}
{% macro preferred_versions(relation, partition_by) -%}
{{ first_per(relation, partition_by, source_priority('source_system') ~ ', ingested_at desc, source_sha256 desc') }}
{%- endmacro %}

{#- The API first; then the published extracts, the most LG Inform-like first; then a local indicator's
    value from an approved officer's return. -#}
{% macro source_priority(column) -%}
case {{ column }}
        when 'lginform' then 1
        when 'extract:lginform_csv' then 2
        when 'extract:oflog_csv' then 3
        when 'extract:tidy' then 4
        when 'inbox/returns' then 5
        else 9
    end
{%- endmacro %}
