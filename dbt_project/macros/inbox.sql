{#- Rows (aliased file_rows) of the latest version of each file of an inbox folder: a file dropped again under the
    same name with other bytes is a corrected re-issue and replaces its earlier version. -#}
{% macro rows_of_latest_file_versions(folder, rows_relation) -%}
select file_rows.*
from {{ rows_relation }} as file_rows
inner join (
    {{ first_per(
        "(select file_name, source_sha256, ingested_at from " ~ source('inbox', 'inbox_files') ~ " where folder = '" ~ folder ~ "' and status = 'loaded')",
        'file_name', 'ingested_at desc, source_sha256 desc') }}
) as latest_files
    on latest_files.file_name = file_rows.file_name and latest_files.source_sha256 = file_rows.source_sha256
{%- endmacro %}
