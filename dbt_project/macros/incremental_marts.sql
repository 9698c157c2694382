{#- What each incremental mart depends on (see macros/incremental.sql for the fields). -#}

{#- The API's period ids that decide a cell's period: those the spelling rules do not read (a
    spelling equal to one of them is recognised as it). A new period the rules read anyway, as
    every new financial year or quarter is, changes no cell's period, so it rebuilds nothing (it
    rebuilt every incremental model until December 2026). -#}
{% macro api_period_ids_that_rename() -%}
    {{ return('select distinct period_id from ' ~ source('lginform', 'lginform_periods')
              ~ ' where ' ~ period_id_from_label('period_id') ~ ' is null') }}
{%- endmacro %}

{#- Staging, not a mart, but as large as the fact: each value cell once, in its preferred version. -#}
{% macro stg_lginform__values_increment() -%}
    {{ return({
        'input': source('lginform', 'lginform_values'),
        'rules_sql': {
            'api_period_ids': api_period_ids_that_rename(),
        },
        'rules_vars': [],
        'slice_columns': ['indicator_id', 'area_code', 'period_key', 'value_type'],
        'clear_changed_slices': false,
        'recomputed_where': 'arrived_since',
    }) }}
{%- endmacro %}

{% macro fct_indicator_values_increment() -%}
    {{ return({
        'input': source('lginform', 'lginform_values'),
        'rules_sql': {
            'api_period_ids': api_period_ids_that_rename(),
        },
        'rules_vars': [],
        'slice_columns': ['indicator_id', 'area_code', 'period_id'],
        'clear_changed_slices': false,
        'recomputed_where': 'arrived_since',
    }) }}
{%- endmacro %}

{% macro benchmarks_increment() -%}
    {{ return({
        'input': ref('fct_indicator_values'),
        'rules_sql': {
            'group_members': 'select comparison_group_id, area_code from ' ~ ref('stg_lginform__group_members'),
            'areas': 'select area_code, tier, country_code, is_council from ' ~ ref('dim_areas'),
            'polarity': 'select indicator_id, polarity, unit_kind from ' ~ ref('dim_indicators'),
        },
        'rules_vars': ['council', 'comparison_groups'],
        'slice_columns': ['indicator_id', 'period_id'],
    }) }}
{%- endmacro %}

{% macro spc_increment() -%}
    {{ return({
        'input': ref('fct_indicator_values'),
        'rules_sql': {
            'indicators': 'select indicator_id, polarity, spc_freeze_after_points, spc_rebase_periods from ' ~ ref('dim_indicators'),
            'targets': 'select indicator_id, target_year, target from ' ~ ref('stg_library__targets') ~ ' where is_current',
        },
        'rules_vars': ['spc_run_length', 'spc_trend_length', 'spc_min_points_for_limits', 'spc_screen_moving_ranges', 'spc_rebase_periods', 'spc_freeze_after_points', 'council'],
        'slice_columns': ['indicator_id', 'area_code'],
        'rebuild_when_share_changed': 0.5,
    }) }}
{%- endmacro %}
