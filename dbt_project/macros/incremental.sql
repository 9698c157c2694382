{#-
  Incremental marts: a new period costs a new period's work, and nothing else changes silently.

  Each large table (stg_lginform__values, fct_indicator_values, benchmarks, spc) is built in one of three modes, and
  every build leaves a row in audit.mart_builds saying which and why:

    full         the table is new, `--full-refresh` was asked for, or no earlier build is
                 recorded: everything is computed.
    rebuild      the code or the rules changed since the last build: everything is deleted and
                 computed again. Code: dbt's own state comparison against the manifest of the
                 last complete build (orchestration/dbt.py passes the marts `state:modified+`
                 selects as var code_changed_marts; it sees macros, seeds and configs too).
                 Rules: a fingerprint of the SQL of the model and of every model
                 upstream of it, the dbt vars it names, the result of the "rules" queries it
                 names (group memberships, polarities, ...), and the last full build or rebuild
                 of every incremental model upstream (so a rebuild cascades).
    incremental  only the slices whose input arrived after the last build's watermark are
                 deleted and computed again (a cell, an indicator-period, an area's series).

  The watermark is the newest `ingested_at` of the model's input. Raw rows get `ingested_at`
  when their load commits, and loads and dbt builds take turns on the warehouse pool, so
  every row a later build has not seen is newer than the watermark recorded by the earlier one.
-#}

{% macro mart_builds_table() -%}
    {{ return(api.Relation.create(database=target.database, schema='audit', identifier='mart_builds')) }}
{%- endmacro %}

{#- on-run-start: the audit table this file writes (dbt owns it; the Python layout check does not). -#}
{% macro create_mart_builds_table() -%}
    create schema if not exists audit;
    create table if not exists {{ mart_builds_table() }} (
        model              varchar not null,
        invocation_id      varchar not null,
        built_at           timestamptz not null,
        mode               varchar not null,
        reason             varchar not null,
        rules_fingerprint  varchar not null,
        watermark          timestamptz,
        rows_recomputed    bigint,
        rows_after         bigint
    )
{%- endmacro %}

{#- The SQL of this model and of every model upstream of it, as one string of checksums. -#}
{% macro upstream_checksums(node_id, seen) -%}
    {%- set node = graph.nodes.get(node_id) -%}
    {%- if node is none or node_id in seen -%}{{ return('') }}{%- endif -%}
    {%- do seen.append(node_id) -%}
    {%- set parts = [node_id ~ '=' ~ node.checksum.checksum] -%}
    {%- for parent in node.depends_on.nodes | sort -%}
        {%- do parts.append(upstream_checksums(parent, seen)) -%}
    {%- endfor -%}
    {{ return(parts | join(';')) }}
{%- endmacro %}

{#- The incremental models upstream of this one (their rebuilds cascade here). -#}
{% macro upstream_incremental_models(node_id, found) -%}
    {%- set node = graph.nodes.get(node_id) -%}
    {%- if node is none -%}{{ return(found) }}{%- endif -%}
    {%- for parent in node.depends_on.nodes | sort -%}
        {%- set parent_node = graph.nodes.get(parent) -%}
        {%- if parent_node is not none and parent_node.resource_type == 'model' -%}
            {%- if parent_node.config.materialized == 'incremental' and parent_node.name not in found -%}
                {%- do found.append(parent_node.name) -%}
            {%- endif -%}
            {%- do upstream_incremental_models(parent, found) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#-
  What a mart's increments depend on, per model (macros/incremental_marts.sql):
    input          relation whose ingested_at says what arrived (its newest is the watermark)
    rules_sql      named queries whose results the computation depends on
    rules_vars     names of the dbt vars the computation depends on
    slice_columns  the slice an increment recomputes (delete+insert key)
    recomputed_where  'arrived_since' where this table's own ingested_at marks the recomputed
                   rows (default: the rows of the changed slices)
    clear_changed_slices  (default true) clear the changed slices before inserting them,
                   for marts where a slice can shrink or vanish
    rebuild_when_share_changed  (optional) rebuild whole when at least this share of the
                   table's slices received input (recorded with the counts as the reason)
-#}

{#- The config of an incremental mart whose spec is the macro `<name>_increment`
    (macros/incremental_marts.sql): delete+insert on its slices, cleared and recorded by hooks. -#}
{% macro incremental_mart_config(name, increment) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=increment.slice_columns,
        on_schema_change='sync_all_columns',
        pre_hook="{{ clear_for_build(" ~ name ~ "_increment()) }}",
        post_hook="{{ record_mart_build(" ~ name ~ "_increment()) }}",
    ) }}
{%- endmacro %}

{#- The fingerprint of everything but the data that the model's numbers depend on. -#}
{% macro rules_fingerprint(spec) -%}
    {%- set parts = ['sql:' ~ upstream_checksums(model.unique_id, [])] -%}
    {%- for name in spec.rules_vars | sort -%}
        {%- do parts.append('var:' ~ name ~ '=' ~ tojson(var(name, none), sort_keys=true)) -%}
    {%- endfor -%}
    {%- for name, sql in spec.rules_sql | dictsort -%}
        {%- set result = run_query(
            'select md5(coalesce(string_agg(cast(t as varchar), chr(31) order by cast(t as varchar)), \'\')) from (' ~ sql ~ ') as t') -%}
        {%- do parts.append('rules:' ~ name ~ '=' ~ result.rows[0][0]) -%}
    {%- endfor -%}
    {%- set upstream = upstream_incremental_models(model.unique_id, []) | sort -%}
    {%- if upstream -%}
        {%- set result = run_query(
            'select model, cast(max(built_at) as varchar) from ' ~ mart_builds_table() ~
            ' where mode <> \'incremental\' and model in (\'' ~ upstream | join('\', \'') ~ '\') group by model order by model') -%}
        {%- for row in result.rows -%}
            {%- do parts.append('rebuilt:' ~ row[0] ~ '=' ~ row[1]) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}

{#-
  The plan of this build: {mode, reason, since, and the rules fingerprint when it was needed}. Outside a real incremental build (parsing,
  unit tests, the first build, --full-refresh) it asks nothing of the warehouse.
-#}
{% macro incremental_plan(spec) -%}
    {%- if not execute or this is none or model.resource_type == 'unit_test' or not is_incremental() -%}
        {{ return({'mode': 'full', 'reason': 'full refresh requested' if flags.FULL_REFRESH else 'first build', 'since': none}) }}
    {%- endif -%}
    {%- set last = run_query(
        'select rules_fingerprint, cast(watermark as varchar) from ' ~ mart_builds_table() ~
        ' where model = \'' ~ model.name ~ '\' order by built_at desc limit 1') -%}
    {%- if last.rows | length == 0 -%}
        {{ return({'mode': 'full', 'reason': 'no earlier build recorded', 'since': none}) }}
    {%- endif -%}
    {%- set fingerprint = rules_fingerprint(spec) -%}
    {%- if model.name in (var('code_changed_marts', []) or []) -%}
        {{ return({'mode': 'rebuild', 'since': none, 'fingerprint': fingerprint,
                   'reason': 'code changed since the last complete build (dbt state:modified: its SQL, or a macro, seed, config or model upstream)'}) }}
    {%- endif -%}
    {%- if last.rows[0][0] != fingerprint -%}
        {{ return({'mode': 'rebuild', 'reason': 'rules changed since the last build', 'since': none, 'fingerprint': fingerprint}) }}
    {%- endif -%}
    {%- if spec.get('rebuild_when_share_changed') is not none -%}
        {#- slice by slice costs more than all at once when most slices changed (spc: every series
            of every indicator, when each receives a new period) -#}
        {%- set shares = run_query(
            'select (select count(*) from (' ~ changed_slices(spec, {'mode': 'incremental', 'since': last.rows[0][1]}) ~ ') as c), '
            ~ '(select count(*) from (select distinct ' ~ spec.slice_columns | join(', ') ~ ' from ' ~ this ~ ') as s)') -%}
        {%- set changed, held = shares.rows[0][0], shares.rows[0][1] -%}
        {%- if held > 0 and changed >= spec.rebuild_when_share_changed * held -%}
            {{ return({'mode': 'rebuild', 'since': none, 'fingerprint': fingerprint,
                       'reason': changed ~ ' of ' ~ held ~ ' slices received input since ' ~ (last.rows[0][1] or 'nothing')
                                 ~ ': rebuilt whole, cheaper than slice by slice'}) }}
        {%- endif -%}
    {%- endif -%}
    {{ return({'mode': 'incremental', 'reason': 'input newer than ' ~ (last.rows[0][1] or 'nothing'), 'since': last.rows[0][1],
               'fingerprint': fingerprint}) }}
{%- endmacro %}

{#- A SQL predicate: the input row arrived after the last build (always true outside incremental mode). -#}
{% macro arrived_since(plan, column='ingested_at') -%}
    {%- if plan.mode != 'incremental' -%}
        true
    {%- elif plan.since is none -%}
        {{ column }} is not null
    {%- else -%}
        {{ column }} > cast('{{ plan.since }}' as timestamptz)
    {%- endif -%}
{%- endmacro %}

{#- The slices whose input arrived since the last build (the spec's input, in its slice columns). -#}
{% macro changed_slices(spec, plan) -%}
    select distinct {{ spec.slice_columns | join(', ') }} from {{ spec.input }} where {{ arrived_since(plan) }}
{%- endmacro %}

{#- A predicate on this table's rows: the rows an incremental build recomputed. -#}
{% macro recomputed_rows(spec, plan) -%}
    {%- if spec.get('recomputed_where') == 'arrived_since' -%}
        {{ arrived_since(plan) }}
    {%- else -%}
        ({{ spec.slice_columns | join(', ') }}) in ({{ changed_slices(spec, plan) }})
    {%- endif -%}
{%- endmacro %}

{#-
  pre_hook: clear what this build recomputes. A full build or rebuild clears the table; an
  incremental one clears the changed slices (so a slice whose input vanished, e.g. every value
  turned null, keeps no stale rows).
-#}
{% macro clear_for_build(spec) -%}
    {%- set plan = incremental_plan(spec) -%}
    {%- if not execute or not is_incremental() -%}
        select 1
    {%- elif plan.mode in ('full', 'rebuild') -%}
        delete from {{ this }}
    {%- elif spec.get('clear_changed_slices', true) -%}
        delete from {{ this }} where ({{ spec.slice_columns | join(', ') }}) in ({{ changed_slices(spec, plan) }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- post_hook: record the build (mode, reason, fingerprint, watermark, rows) in audit.mart_builds. -#}
{% macro record_mart_build(spec) -%}
    {%- if not execute -%}{{ return('select 1') }}{%- endif -%}
    {%- set plan = incremental_plan(spec) -%}
    insert into {{ mart_builds_table() }}
    select
        '{{ model.name }}',
        '{{ invocation_id }}',
        now(),
        '{{ plan.mode }}',
        '{{ plan.reason | replace("'", "''") }}',
        '{{ plan.get('fingerprint') or rules_fingerprint(spec) }}',
        (select max(ingested_at) from {{ spec.input }}),
        {%- if plan.mode == 'incremental' %}
        (select count(*) from {{ this }} where {{ recomputed_rows(spec, plan) }}),
        {%- else %}
        (select count(*) from {{ this }}),
        {%- endif %}
        (select count(*) from {{ this }})
{%- endmacro %}
