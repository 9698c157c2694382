{#- Rows (aliased file_rows) of the files of an inbox folder that are in force: every loaded file, except a file
    version that a later file replaces whole (raw.inbox_files.replaces: the names it replaces, '/'-separated, set by
    the file's manifest or by inbox.reissue_names). Records, not file names, decide the rest: the caller keeps one row
    per record, from the file received last. -#}
{% macro inbox_rows_in_force(folder, rows_relation) -%}
select file_rows.*
from {{ rows_relation }} as file_rows
inner join {{ source('inbox', 'inbox_files') }} as received
    on received.folder = '{{ folder }}'
    and received.status = 'loaded'
    and received.file_name = file_rows.file_name
    and received.source_sha256 = file_rows.source_sha256
where not exists (
    select 1
    from {{ source('inbox', 'inbox_files') }} as later
    where later.folder = received.folder
        and later.status = 'loaded'
        and later.ingested_at > received.ingested_at
        and position('/' || received.file_name || '/' in '/' || later.replaces || '/') > 0
)
{%- endmacro %}
