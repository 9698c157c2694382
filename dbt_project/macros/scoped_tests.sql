{#-
  Data tests on an incremental mart check the rows this build computed, not the whole table.

  Each incremental mart (macros/incremental.sql) stamps its rows with `computed_at`: when the
  dbt invocation that computed them started. A full build or rebuild stamps every row, so its
  tests see the whole table; an incremental build stamps only the slices it recomputed, so a
  new period's tests cost a new period's work. Rows an earlier build computed were tested by
  that build and have not changed since.

  Scoping applies only where it is sound: in a `dbt build` that selected the mart itself (a
  `dbt test` alone, or a build of the tests without their model, checks the whole table), and
  not to a test marked `meta: {whole_table: true}` (the cheap global invariants, such as a
  key's uniqueness across old and new rows). Only the tested model is scoped: the other side
  of a relationships test is always read whole. A test's own `where` still applies.
-#}

{#- The value every row an incremental mart computes in this invocation carries. -#}
{% macro computed_at() -%}
cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00' as timestamp with time zone)
{%- endmacro %}

{#- The incremental model selected in this build whose relation is `relation`, or none. -#}
{% macro built_incremental_model(relation) -%}
    {%- if not execute or flags.WHICH != 'build' or relation is none or relation.identifier is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.materialized == 'incremental'
              and (node.alias or node.name) | lower == relation.identifier | lower
              and node.schema | lower == (relation.schema or '') | lower
              and node.unique_id in selected_resources -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- dbt's hook for the relation a data test reads (its `model` argument). -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set meta = config.get('meta') or {} -%}
    {%- if not meta.get('whole_table') and built_incremental_model(relation) is not none -%}
        {%- do conditions.append('computed_at = ' ~ computed_at()) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
