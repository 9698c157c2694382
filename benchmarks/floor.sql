-- The floor: the three large marts (fct_indicator_values, benchmarks, spc) in ONE hand-written
-- DuckDB script, from raw.lginform_values (+ raw.lginform_periods for ids the API lists) and
-- the small tables dbt builds: marts.dim_areas, marts.dim_indicators, marts.dim_periods,
-- staging.stg_lginform__group_members, staging.stg_library__targets. Creates schema "floor" with tables of the same columns
-- as the marts. Same semantics as the dbt models (read them for the reasons behind each rule);
-- full rebuild, no incremental logic.
--
-- Parameters: DuckDB variables. Set them before running the script (benchmarks/peers.py
-- run_floor does); any left unset takes the default below (the demo's pipeline.yml):
--   SET VARIABLE council = 'E08000009';                                   -- GSS code
--   SET VARIABLE comparison_groups = ['Trafford_CIPFA_Near_Neighbours'];  -- VARCHAR[]
--   SET VARIABLE spc_run_length = 7;
--   SET VARIABLE spc_trend_length = 7;
--   SET VARIABLE spc_min_points_for_limits = 12;
--   SET VARIABLE spc_screen_moving_ranges = true;
--   SET VARIABLE spc_freeze_after_points = NULL;                          -- INTEGER; NULL = every point
--   SET VARIABLE spc_rebase_periods = [{'indicator_id': '91003', 'period_id': 'fin_2023_24_q1'}];
--                                     -- STRUCT(indicator_id VARCHAR, period_id VARCHAR)[]
--   SET VARIABLE spc_rebase_configured = true;  -- the setting names any rebase (as dbt's `if rebase`)
-- Baselines also come from dim_indicators (spc_rebase_periods, spc_freeze_after_points), the
-- home council's targets from staging.stg_library__targets.
--
-- Simplifications (allowed by the benchmark brief): dimension tables and group members are read
-- as dbt built them. Period spellings are normalised here as macros/periods.sql does (canonical
-- ids, "2016/17", "2018/19 Q1", "2019", "April 2021", quarter-end dates), an unrecognised
-- spelling the API lists in raw.lginform_periods is kept as is; anything else is left out.

SET VARIABLE council = coalesce(getvariable('council'), 'E08000009');
SET VARIABLE comparison_groups = coalesce(getvariable('comparison_groups'), ['AllLaInCountry_England', 'Trafford_CIPFA_Near_Neighbours']);
SET VARIABLE spc_run_length = coalesce(getvariable('spc_run_length'), 7);
SET VARIABLE spc_trend_length = coalesce(getvariable('spc_trend_length'), 7);
SET VARIABLE spc_min_points_for_limits = coalesce(getvariable('spc_min_points_for_limits'), 12);
SET VARIABLE spc_screen_moving_ranges = coalesce(getvariable('spc_screen_moving_ranges'), true);
SET VARIABLE spc_freeze_after_points = cast(getvariable('spc_freeze_after_points') AS integer);
SET VARIABLE spc_rebase_periods = coalesce(getvariable('spc_rebase_periods'),
    []::STRUCT(indicator_id VARCHAR, period_id VARCHAR)[]);
SET VARIABLE spc_rebase_configured = coalesce(getvariable('spc_rebase_configured'), len(getvariable('spc_rebase_periods')) > 0);

CREATE SCHEMA IF NOT EXISTS floor;

-- Canonical period id from a received spelling (macros/periods.sql period_id_from_label).
CREATE OR REPLACE TEMP MACRO floor_period_id(label) AS (
    CASE
        WHEN regexp_matches(lower(trim(label)), '^fin_[0-9]{4}_[0-9]{2}(_q[1-4])?$') THEN
            CASE WHEN cast(substr(lower(trim(label)), 10, 2) AS integer) = (cast(substr(lower(trim(label)), 5, 4) AS integer) + 1) % 100
                 THEN lower(trim(label)) END
        WHEN regexp_matches(lower(trim(label)), '^(cal_[0-9]{4}(_m(0[1-9]|1[0-2]))?|cen_[0-9]{4})$') THEN lower(trim(label))
        WHEN regexp_matches(lower(trim(label)), '^[0-9]{4}[/-][0-9]{2}$') THEN
            CASE WHEN cast(substr(lower(trim(label)), 6, 2) AS integer) = (cast(substr(lower(trim(label)), 1, 4) AS integer) + 1) % 100
                 THEN 'fin_' || substr(lower(trim(label)), 1, 4) || '_' || substr(lower(trim(label)), 6, 2) END
        WHEN regexp_matches(lower(trim(label)), '^[0-9]{4}[/-][0-9]{2}[; ]+q[1-4]$') THEN
            CASE WHEN cast(substr(lower(trim(label)), 6, 2) AS integer) = (cast(substr(lower(trim(label)), 1, 4) AS integer) + 1) % 100
                 THEN 'fin_' || substr(lower(trim(label)), 1, 4) || '_' || substr(lower(trim(label)), 6, 2) || '_q' || right(lower(trim(label)), 1) END
        WHEN regexp_matches(lower(trim(label)), '^[0-9]{4}$') THEN 'cal_' || lower(trim(label))
        WHEN regexp_matches(lower(trim(label)), '^(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?|nov(ember)?|dec(ember)?) +[0-9]{4}$') THEN
            'cal_' || right(lower(trim(label)), 4) || '_m' || lpad(cast(1 + (strpos('janfebmaraprmayjunjulaugsepoctnovdec', substr(lower(trim(label)), 1, 3)) - 1) // 3 AS varchar), 2, '0')
        WHEN regexp_matches(lower(trim(label)), '^[0-9]{4}-(06-30|09-30|12-31)$') THEN
            'fin_' || substr(lower(trim(label)), 1, 4) || '_' || lpad(cast((cast(substr(lower(trim(label)), 1, 4) AS integer) + 1) % 100 AS varchar), 2, '0')
            || CASE substr(lower(trim(label)), 6, 5) WHEN '06-30' THEN '_q1' WHEN '09-30' THEN '_q2' ELSE '_q3' END
        WHEN regexp_matches(lower(trim(label)), '^[0-9]{4}-03-31$') THEN
            'fin_' || cast(cast(substr(lower(trim(label)), 1, 4) AS integer) - 1 AS varchar) || '_' || substr(lower(trim(label)), 3, 2) || '_q4'
    END
);

-- ---------------------------------------------------------------- fct_indicator_values
CREATE OR REPLACE TABLE floor.fct_indicator_values AS
WITH labels AS (  -- each spelling once
    SELECT l.period_id AS label, coalesce(floor_period_id(l.period_id), api.period_id) AS period_id
    FROM (SELECT DISTINCT period_id FROM raw.lginform_values) AS l
    LEFT JOIN (SELECT DISTINCT period_id FROM raw.lginform_periods) AS api ON api.period_id = l.period_id
)
SELECT
    v.metric_type_id AS indicator_id, v.area_code, p.period_id, v.value,
    v.source_system, v.source_reference, v.source_sha256, v.ingested_at, v.run_id
FROM raw.lginform_values AS v
INNER JOIN labels AS p ON p.label = v.period_id
WHERE v.value_type = 'raw' AND p.period_id IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY v.metric_type_id, v.area_code, p.period_id
    ORDER BY CASE v.source_system WHEN 'lginform' THEN 1 WHEN 'extract:lginform_csv' THEN 2
                                  WHEN 'extract:oflog_csv' THEN 3 WHEN 'extract:tidy' THEN 4 ELSE 9 END,
             v.ingested_at DESC, v.source_sha256 DESC) = 1;


-- A double rounded to 10 decimal places as the marts round it (macros/portable.sql round_to):
-- its shortest spelling as an exact decimal, half away from zero.
CREATE OR REPLACE TEMP MACRO floor_round10(x) AS (cast(round(cast(cast(x AS varchar) AS DECIMAL(38, 10)), 10) AS double));

-- ---------------------------------------------------------------- benchmarks
CREATE OR REPLACE TABLE floor.benchmarks AS
WITH learnt AS (
    SELECT comparison_group_id, area_code FROM staging.stg_lginform__group_members
    WHERE list_contains(getvariable('comparison_groups'), comparison_group_id)
),
members AS (
    SELECT comparison_group_id, area_code FROM learnt
    UNION  -- the owner council in its own CIPFA nearest-neighbour group
    SELECT DISTINCT comparison_group_id, getvariable('council') FROM learnt
    WHERE comparison_group_id LIKE '%\_CIPFA\_Near\_Neighbours' ESCAPE '\'
    UNION
    SELECT 'Tier_' || tier || '_' || country_code, area_code FROM marts.dim_areas
    WHERE is_council AND tier IS NOT NULL AND country_code IS NOT NULL
),
membership AS (  -- every member, with a value or not
    SELECT comparison_group_id, count(*) AS group_members FROM members GROUP BY ALL
),
in_group AS (
    SELECT m.comparison_group_id, v.indicator_id, v.period_id, v.area_code, v.value
    FROM members AS m INNER JOIN floor.fct_indicator_values AS v ON v.area_code = m.area_code
    WHERE v.value IS NOT NULL
),
stats AS (  -- quantiles to 10 decimal places, as the mart publishes them
    SELECT comparison_group_id, indicator_id, period_id,
        count(*) AS group_size, cast(avg(value::DECIMAL(38, 10)) AS double) AS group_mean,
        floor_round10(quantile_cont(value, 0.5)) AS group_median,
        floor_round10(quantile_cont(value, 0.25)) AS group_q1,
        floor_round10(quantile_cont(value, 0.75)) AS group_q3
    FROM in_group GROUP BY ALL
),
ranked AS (
    SELECT g.*, s.group_size, gm.group_members, s.group_mean, s.group_median, s.group_q1, s.group_q3,
        floor_round10(quantile_cont(abs(g.value - s.group_median), 0.5) OVER w) AS group_mad,
        i.polarity,
        CASE
            WHEN i.unit_kind = 'count' THEN NULL  -- raw counts are not ranked
            WHEN i.polarity = 'high_is_good' THEN rank() OVER (w ORDER BY g.value DESC)
            WHEN i.polarity = 'low_is_good' THEN rank() OVER (w ORDER BY g.value ASC)
        END AS rank
    FROM in_group AS g
    INNER JOIN stats AS s USING (comparison_group_id, indicator_id, period_id)
    INNER JOIN membership AS gm USING (comparison_group_id)
    LEFT JOIN marts.dim_indicators AS i ON i.indicator_id = g.indicator_id
    WINDOW w AS (PARTITION BY g.comparison_group_id, g.indicator_id, g.period_id)
)
SELECT comparison_group_id, indicator_id, period_id, area_code, value,
    group_size, group_members, group_mean, group_median, group_q1, group_q3, group_mad,
    CASE WHEN group_mad <> 0 THEN (value - group_median) / group_mad END AS mads_from_median,
    rank,
    CASE WHEN rank IS NULL THEN NULL WHEN group_size = 1 THEN cast(100 AS double)
         ELSE 100 * cast(group_size - rank AS double) / (group_size - 1) END AS percentile,
    -- from the value against the quartiles shown (a boundary takes the better band), by polarity;
    -- none without a rank (neutral, or a raw count), as the mart does
    CASE WHEN rank IS NULL THEN NULL
        WHEN polarity = 'high_is_good' THEN CASE WHEN value >= group_q3 THEN 1 WHEN value >= group_median THEN 2
                                      WHEN value >= group_q1 THEN 3 ELSE 4 END
        WHEN polarity = 'low_is_good' THEN CASE WHEN value <= group_q1 THEN 1 WHEN value <= group_median THEN 2
                                     WHEN value <= group_q3 THEN 3 ELSE 4 END
    END AS quartile_band
FROM ranked;

-- ---------------------------------------------------------------- spc
-- NHSRplotthedots 0.2 semantics (int_spc_rule_flags, spc): baselines start at rebase periods
-- (the library's dim_indicators.spc_rebase_periods and the setting), limits from each baseline's
-- first N points when a freeze is set, rules in the order outside_limits, trend, two_of_three, run.
CREATE OR REPLACE TABLE floor.spc AS
WITH library_rebases AS (
    SELECT i.indicator_id, p.period_start
    FROM marts.dim_indicators AS i
    INNER JOIN marts.dim_periods AS p
        ON position(',' || p.period_id || ',' IN ',' || coalesce(i.spc_rebase_periods, '') || ',') > 0
),
configured_rebases AS (
    SELECT r.indicator_id, p.period_start
    FROM (SELECT unnest(getvariable('spc_rebase_periods'), recursive := true)) AS r
    INNER JOIN marts.dim_periods AS p ON p.period_id = r.period_id
),
rebase_starts AS (  -- the mart's UNION (distinct) exists only when the setting names rebases
    SELECT * FROM library_rebases WHERE NOT getvariable('spc_rebase_configured')
    UNION ALL
    SELECT * FROM (SELECT * FROM library_rebases UNION SELECT * FROM configured_rebases)
    WHERE getvariable('spc_rebase_configured')
),
segmented AS (
    SELECT v.indicator_id, v.area_code, v.period_id, p.period_start, cast(v.value AS double) AS value,
        (SELECT count(*) FROM rebase_starts AS r WHERE r.indicator_id = v.indicator_id AND r.period_start <= p.period_start) AS seg,
        row_number() OVER (PARTITION BY v.indicator_id, v.area_code ORDER BY p.period_start, v.period_id) AS point_index,
        coalesce(i.spc_freeze_after_points, getvariable('spc_freeze_after_points')) AS freeze_after_points
    FROM floor.fct_indicator_values AS v
    INNER JOIN marts.dim_periods AS p ON p.period_id = v.period_id
    LEFT JOIN marts.dim_indicators AS i ON i.indicator_id = v.indicator_id
    WHERE v.value IS NOT NULL
),
steps AS (
    SELECT *,
        coalesce(row_number() OVER s <= freeze_after_points, true) AS is_baseline_point,
        abs(value - lag(value) OVER s) AS moving_range,
        sign(value - lag(value) OVER s) AS step_direction
    FROM segmented
    WINDOW s AS (PARTITION BY indicator_id, area_code, seg ORDER BY point_index)
),
raw_limits AS (  -- the baseline's points only
    SELECT indicator_id, area_code, seg,
        count(*) FILTER (WHERE is_baseline_point) AS point_count,
        sum(value::DECIMAL(38, 10)) FILTER (WHERE is_baseline_point) AS value_sum,
        cast(avg(value::DECIMAL(38, 10)) FILTER (WHERE is_baseline_point) AS double) AS process_mean,
        cast(avg(moving_range::DECIMAL(38, 10)) FILTER (WHERE is_baseline_point) AS double) AS raw_mean_moving_range
    FROM steps GROUP BY ALL
),
limits AS (
    SELECT l.indicator_id, l.area_code, l.seg, l.point_count, l.value_sum, l.process_mean,
        CASE WHEN getvariable('spc_screen_moving_ranges')
             THEN coalesce(cast(avg(m.moving_range::DECIMAL(38, 10)) FILTER (
                               WHERE m.is_baseline_point AND m.moving_range < 3.267 * l.raw_mean_moving_range) AS double),
                           l.raw_mean_moving_range)
             ELSE l.raw_mean_moving_range END AS mean_moving_range
    FROM raw_limits AS l INNER JOIN steps AS m USING (indicator_id, area_code, seg)
    GROUP BY l.indicator_id, l.area_code, l.seg, l.point_count, l.value_sum, l.process_mean, l.raw_mean_moving_range
),
charted AS (
    SELECT m.*, l.process_mean, l.point_count AS baseline_point_count,
        l.process_mean + 2.66 * l.mean_moving_range AS upper_process_limit,
        l.process_mean - 2.66 * l.mean_moving_range AS lower_process_limit,
        l.process_mean + (2.0 / 3.0 * 2.66) * l.mean_moving_range AS upper_two_sigma,
        l.process_mean - (2.0 / 3.0 * 2.66) * l.mean_moving_range AS lower_two_sigma,
        l.mean_moving_range,
        l.point_count < getvariable('spc_min_points_for_limits') AS trial_limits,
        cast(sign(m.value::DECIMAL(38, 10) * l.point_count - l.value_sum) AS integer) AS side_of_mean
    FROM steps AS m INNER JOIN limits AS l USING (indicator_id, area_code, seg)
),
island_starts AS (  -- gaps and islands: 1 where the key differs from the previous point's
    SELECT *,
        CASE WHEN side_of_mean IS NOT DISTINCT FROM lag(side_of_mean) OVER s THEN 0 ELSE 1 END AS starts_side,
        CASE WHEN step_direction IS NOT DISTINCT FROM lag(step_direction) OVER s THEN 0 ELSE 1 END AS starts_step,
        coalesce(value > upper_two_sigma, false) AS beyond_upper,
        coalesce(value < lower_two_sigma, false) AS beyond_lower
    FROM charted
    WINDOW s AS (PARTITION BY indicator_id, area_code, seg ORDER BY point_index)
),
islands AS (
    SELECT *,
        sum(starts_side) OVER c AS side_island,
        sum(starts_step) OVER c AS step_island,
        -- the window of three points ending here: beyond each line, and all on one side of the mean
        sum(cast(beyond_upper AS integer)) OVER w3 AS upper_in_window,
        sum(cast(beyond_lower AS integer)) OVER w3 AS lower_in_window,
        count(*) OVER w3 = 3 AND abs(sum(side_of_mean) OVER w3) = 3 AS window_on_one_side
    FROM island_starts
    WINDOW c AS (PARTITION BY indicator_id, area_code, seg ORDER BY point_index ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           w3 AS (PARTITION BY indicator_id, area_code, seg ORDER BY point_index ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
),
sized AS (
    SELECT *,
        count(*) OVER (PARTITION BY indicator_id, area_code, seg, side_island) AS side_island_points,
        count(*) OVER (PARTITION BY indicator_id, area_code, seg, step_island) + 1 AS step_island_points,
        max(CASE WHEN window_on_one_side THEN upper_in_window ELSE 0 END) OVER f3 AS max_upper_in_windows,
        max(CASE WHEN window_on_one_side THEN lower_in_window ELSE 0 END) OVER f3 AS max_lower_in_windows
    FROM islands
    WINDOW f3 AS (PARTITION BY indicator_id, area_code, seg ORDER BY point_index ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING)
),
flags AS (
    SELECT *,
        coalesce(value > upper_process_limit OR value < lower_process_limit, false) AS is_outside_limits,
        side_of_mean <> 0 AND side_island_points >= getvariable('spc_run_length') AS is_run,
        coalesce(step_direction <> 0 AND step_island_points >= getvariable('spc_trend_length'), false) AS ends_trend,
        coalesce(lead(step_direction) OVER s <> 0 AND lead(step_island_points) OVER s >= getvariable('spc_trend_length'), false) AS starts_trend,
        lead(step_direction) OVER s AS next_step_direction,
        (beyond_upper AND max_upper_in_windows >= 2) OR (beyond_lower AND max_lower_in_windows >= 2) AS is_two_of_three
    FROM sized
    WINDOW s AS (PARTITION BY indicator_id, area_code, seg ORDER BY point_index)
),
typed AS (
    SELECT f.*, i.polarity,
        CASE WHEN is_outside_limits THEN 'outside_limits' WHEN ends_trend OR starts_trend THEN 'trend'
             WHEN is_two_of_three THEN 'two_of_three' WHEN is_run THEN 'run' END AS special_cause_rule,
        -- the step to the next point when it is in a trend, else the step from the previous one
        CASE WHEN starts_trend THEN next_step_direction WHEN ends_trend THEN step_direction END AS trend_direction
    FROM flags AS f LEFT JOIN marts.dim_indicators AS i ON i.indicator_id = f.indicator_id
),
pointed AS (
    SELECT *,
        CASE WHEN special_cause_rule IS NULL THEN 'common_cause'
             WHEN special_cause_rule = 'trend' AND trend_direction > 0 THEN 'special_cause_high'
             WHEN special_cause_rule = 'trend' THEN 'special_cause_low'
             WHEN side_of_mean > 0 THEN 'special_cause_high'
             ELSE 'special_cause_low' END AS point_type,
        bool_and(special_cause_rule IS NULL) FILTER (WHERE is_baseline_point)
            OVER (PARTITION BY indicator_id, area_code, seg) AS baseline_is_stable
    FROM typed
),
targets AS (
    SELECT indicator_id, target_year, target FROM staging.stg_library__targets WHERE is_current
)
SELECT t.indicator_id, t.area_code, t.period_id, t.period_start, t.value, t.point_index,
    t.seg AS baseline_segment, t.is_baseline_point, t.baseline_point_count, t.process_mean,
    t.upper_process_limit, t.lower_process_limit, t.upper_two_sigma, t.lower_two_sigma,
    t.moving_range, t.mean_moving_range, t.side_of_mean, t.special_cause_rule, t.point_type,
    CASE WHEN t.point_type = 'common_cause' THEN 'common_cause'
         WHEN t.polarity = 'high_is_good' AND t.point_type = 'special_cause_high' THEN 'special_cause_improvement'
         WHEN t.polarity = 'high_is_good' AND t.point_type = 'special_cause_low' THEN 'special_cause_concern'
         WHEN t.polarity = 'low_is_good' AND t.point_type = 'special_cause_low' THEN 'special_cause_improvement'
         WHEN t.polarity = 'low_is_good' AND t.point_type = 'special_cause_high' THEN 'special_cause_concern'
         ELSE 'special_cause_neutral' END AS variation_icon,
    g.target,
    t.baseline_is_stable,
    CASE WHEN g.target IS NULL OR t.polarity NOT IN ('high_is_good', 'low_is_good') OR t.lower_process_limit IS NULL THEN NULL
         WHEN NOT t.baseline_is_stable THEN 'unstable_process'
         WHEN g.target IS NULL OR t.lower_process_limit IS NULL OR t.polarity NOT IN ('high_is_good', 'low_is_good') THEN NULL
         WHEN g.target BETWEEN t.lower_process_limit AND t.upper_process_limit THEN 'hit_and_miss'
         WHEN t.polarity = 'high_is_good' AND g.target > t.upper_process_limit THEN 'consistently_fails'
         WHEN t.polarity = 'high_is_good' THEN 'consistently_passes'
         WHEN g.target < t.lower_process_limit THEN 'consistently_fails'
         ELSE 'consistently_passes' END AS assurance_icon,
    t.trial_limits
FROM pointed AS t
LEFT JOIN targets AS g
    ON t.area_code = getvariable('council')
   AND g.indicator_id = t.indicator_id
   AND g.target_year = CASE WHEN extract(month FROM t.period_start) >= 4 THEN extract(year FROM t.period_start)
                            ELSE extract(year FROM t.period_start) - 1 END;
