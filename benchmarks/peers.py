"""Two peers of the dbt pipeline for the benchmarks: the same three large marts
(``fct_indicator_values``, ``benchmarks``, ``spc``) from the same raw table.

* the floor (:func:`run_floor`): one hand-written DuckDB script, ``benchmarks/floor.sql``,
  writing schema ``floor``;
* the analyst's peer (:func:`run_pandas`): plain SELECTs of the inputs, everything else in pandas
  (groupby / transform / shift / rolling).

Both must agree with the marts (:func:`compare`) before anything is timed.

Simplifications (the benchmark brief allows them):

* the small tables are read as dbt built them: ``marts.dim_areas`` (tier, country_code,
  is_council), ``marts.dim_indicators`` (polarity, unit_kind, and the library's SPC baselines:
  spc_rebase_periods, spc_freeze_after_points), ``marts.dim_periods`` (period_start),
  ``staging.stg_lginform__group_members`` and ``staging.stg_library__targets`` (the home
  council's current targets, for assurance);
* full rebuilds only: no incremental logic, no build bookkeeping;
* period spellings are normalised as ``macros/periods.sql`` does (both peers implement the
  same rules; a spelling listed in ``raw.lginform_periods`` is kept as is; anything else is
  left out, as the mart leaves it out).

Exactness (values must agree within 1e-9, and SPC flags compare values with means and limits,
so the last bit matters): the marts sum exact decimals (``macros/deterministic.sql``) and
decide which side of the mean a point is on exactly (value x n against the exact sum). The
pandas peer does the same with each value split into two int64s, whole part and
ten-thousand-millionths (:func:`_exact_mean`, :func:`_side_of_mean`). DuckDB's ``quantile_cont`` interpolates as
``fma(1 - d, lo, hi * d)`` (measured on this build: the first product is fused), which
neither pandas nor numpy's ``quantile`` reproduce bit for bit; :func:`_quantile_cont` does,
with exact rational arithmetic for the few interpolations that need it. The benchmarks' quantiles
and MAD are then rounded to 10 places as ``round_to`` does (:func:`_round10`), and the quartile
band compares values with the rounded quartiles.
"""

from __future__ import annotations

import decimal
import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

FLOOR_SQL = Path(__file__).with_name("floor.sql")

KEYS = {
    "fct_indicator_values": ["indicator_id", "area_code", "period_id"],
    "benchmarks": ["comparison_group_id", "indicator_id", "period_id", "area_code"],
    "spc": ["indicator_id", "area_code", "period_id"],
}

SOURCE_PRIORITY = {"lginform": 1, "extract:lginform_csv": 2, "extract:oflog_csv": 3, "extract:tidy": 4}

# The pipeline's defaults (lgperf/settings.py SpcSettings, dbt_project.yml vars).
SPC_DEFAULTS = {
    "run_length": 7,
    "trend_length": 7,
    "min_points_for_limits": 12,
    "screen_moving_ranges": True,
    "freeze_after_points": None,
    "rebase_periods": {},
}
LIMIT_FACTOR = 2.66
TWO_SIGMA_FACTOR = 2.0 / 3.0 * 2.66
SCREEN_FACTOR = 3.267


def _spc(spc: dict | None) -> dict:
    settings = {**SPC_DEFAULTS, **(spc or {})}
    settings["rebase_periods"] = settings.get("rebase_periods") or {}
    return settings


# ------------------------------------------------------------------------------------ floor


def run_floor(connection, *, council: str, comparison_groups: list[str], spc: dict | None = None) -> None:
    """Build ``floor.fct_indicator_values``, ``floor.benchmarks`` and ``floor.spc`` with
    benchmarks/floor.sql. ``spc``: run_length, trend_length, min_points_for_limits,
    screen_moving_ranges, freeze_after_points, rebase_periods ({indicator_id: [period_id, ...]})."""
    settings = _spc(spc)
    rebase = [
        {"indicator_id": str(i), "period_id": str(p)}
        for i, periods in settings["rebase_periods"].items()
        for p in periods
    ]
    variables = {
        "council": str(council),
        "comparison_groups": [str(g) for g in comparison_groups],
        "spc_run_length": int(settings["run_length"]),
        "spc_trend_length": int(settings["trend_length"]),
        "spc_min_points_for_limits": int(settings["min_points_for_limits"]),
        "spc_screen_moving_ranges": bool(settings["screen_moving_ranges"]),
        "spc_rebase_configured": bool(settings["rebase_periods"]),
    }
    for name, value in variables.items():
        if isinstance(value, list):
            connection.execute(f"SET VARIABLE {name} = $1::VARCHAR[]", [value])
        else:
            connection.execute(f"SET VARIABLE {name} = $1", [value])
    freeze = settings["freeze_after_points"]
    connection.execute("SET VARIABLE spc_freeze_after_points = $1::INTEGER", [None if freeze is None else int(freeze)])
    connection.execute(
        "SET VARIABLE spc_rebase_periods = $1::STRUCT(indicator_id VARCHAR, period_id VARCHAR)[]", [rebase]
    )
    connection.execute(FLOOR_SQL.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------ pandas

_MONTHS = {
    m: f"{i:02d}"
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}
_MONTH_RE = re.compile(
    r"^(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?"
    r"|sep(t|tember)?|oct(ober)?|nov(ember)?|dec(ember)?) +[0-9]{4}$"
)


def _follows(first: str, second: str) -> bool:
    return int(second) == (int(first) + 1) % 100


def canonical_period_id(label: str | None) -> str | None:
    """macros/periods.sql period_id_from_label, in Python."""
    if label is None:
        return None
    s = label.strip().lower()
    if re.match(r"^fin_[0-9]{4}_[0-9]{2}(_q[1-4])?$", s):
        return s if _follows(s[4:8], s[9:11]) else None
    if re.match(r"^(cal_[0-9]{4}(_m(0[1-9]|1[0-2]))?|cen_[0-9]{4})$", s):
        return s
    if re.match(r"^[0-9]{4}[/-][0-9]{2}$", s):
        return f"fin_{s[:4]}_{s[5:7]}" if _follows(s[:4], s[5:7]) else None
    if re.match(r"^[0-9]{4}[/-][0-9]{2}[; ]+q[1-4]$", s):
        return f"fin_{s[:4]}_{s[5:7]}_q{s[-1]}" if _follows(s[:4], s[5:7]) else None
    if re.match(r"^[0-9]{4}$", s):
        return f"cal_{s}"
    if _MONTH_RE.match(s):
        return f"cal_{s[-4:]}_m{_MONTHS[s[:3]]}"
    if re.match(r"^[0-9]{4}-(06-30|09-30|12-31)$", s):
        year = int(s[:4])
        return f"fin_{year}_{(year + 1) % 100:02d}_" + {"06-30": "q1", "09-30": "q2"}.get(s[5:10], "q3")
    if re.match(r"^[0-9]{4}-03-31$", s):
        year = int(s[:4]) - 1
        return f"fin_{year}_{(year + 1) % 100:02d}_q4"
    return None


def _decimal_parts(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each value as DECIMAL(38, 10), exactly: whole part and ten-thousand-millionths, two int64s."""
    numbers = values.to_numpy(dtype="float64")
    whole = np.trunc(numbers)
    return whole.astype("int64"), np.rint((numbers - whole) * 1e10).astype("int64")


def _exact_mean(frame: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """Mean of ``column`` per ``keys`` as the marts take it (``macros/deterministic.sql``): the
    exact sum of the values as decimals with 10 places, divided by their count; null where
    there are none."""
    terms = frame.loc[frame[column].notna(), keys]
    whole, tenths = _decimal_parts(frame.loc[frame[column].notna(), column])
    sums = (
        terms.assign(whole=whole, tenths=tenths)
        .groupby(keys, sort=False)
        .agg(whole=("whole", "sum"), tenths=("tenths", "sum"), count=("whole", "size"))
    )
    # the exact sum over the count, rounded once (as the marts' decimal average is); float
    # arithmetic on the parts put the mean of 34 x 98.1 one unit in the last place above 98.1
    scale = np.longdouble(10**10)
    numerator = sums["whole"].to_numpy(dtype=np.longdouble) * scale + sums["tenths"].to_numpy(dtype=np.longdouble)
    means = pd.Series(
        (numerator / (sums["count"].to_numpy(dtype=np.longdouble) * scale)).astype(np.float64), index=sums.index
    )
    all_keys = frame[keys].drop_duplicates().set_index(keys).index
    return means.rename(column).reindex(all_keys)


def _side_of_mean(frame: pd.DataFrame, keys: list[str], baseline: pd.Series) -> pd.Series:
    """sign(value x n - sum), exactly (as the mart decides it), n and sum over the series'
    baseline points: a point on the mean is on it."""
    whole, tenths = _decimal_parts(frame["value"])
    parts = frame[keys].assign(whole=whole, tenths=tenths)
    sums = (
        parts[baseline.to_numpy()]
        .groupby(keys, sort=False)
        .agg(whole=("whole", "sum"), tenths=("tenths", "sum"), count=("whole", "size"))
    )
    index = pd.MultiIndex.from_frame(frame[keys])
    count = sums["count"].reindex(index).to_numpy(dtype="int64")
    whole_gap = whole * count - sums["whole"].reindex(index).to_numpy(dtype="int64")
    tenths_gap = tenths * count - sums["tenths"].reindex(index).to_numpy(dtype="int64")
    exact = whole_gap.astype(object) * 10**10 + tenths_gap.astype(object)  # Python ints: no overflow
    return pd.Series(np.sign(exact.astype("float64")), index=frame.index).astype("int32")


def _interpolate(lo: float, hi: float, d: float) -> float:
    """DuckDB: lo * (1 - d) + hi * d, the first product fused (one rounding)."""
    if d == 0.0:
        return lo
    low_weight = 1.0 - d
    high_part = hi * d
    if low_weight * lo == Fraction(low_weight) * Fraction(lo):  # exact product: no fusing needed
        return low_weight * lo + high_part
    return float(Fraction(low_weight) * Fraction(lo) + Fraction(high_part))


def _quantile_cont(values: pd.Series, q: float) -> float:
    ordered = np.sort(values.to_numpy(dtype="float64"))
    if len(ordered) == 0:
        return math.nan
    rn = (len(ordered) - 1) * q
    lo, hi = math.floor(rn), math.ceil(rn)
    if lo == hi:
        return float(ordered[lo])
    return _interpolate(float(ordered[lo]), float(ordered[hi]), rn - lo)


_TEN_PLACES = decimal.Decimal("1e-10")
_WIDE = decimal.Context(prec=60)


def _round10(x: float) -> float:
    """round_to(x, 10) as the marts take it (macros/portable.sql): the double's shortest spelling
    as an exact decimal, rounded half away from zero to 10 places, back to the nearest double."""
    if x is None or math.isnan(x):
        return math.nan
    return float(decimal.Decimal(repr(float(x))).quantize(_TEN_PLACES, rounding=decimal.ROUND_HALF_UP, context=_WIDE))


def _read(connection, sql: str) -> pd.DataFrame:
    return connection.execute(sql).df()


def pandas_fct_indicator_values(raw: pd.DataFrame, api_period_ids: set[str]) -> pd.DataFrame:
    labels = pd.Series(raw["period_id"].dropna().unique())
    mapping = {label: canonical_period_id(label) or (label if label in api_period_ids else None) for label in labels}
    values = raw[raw["value_type"] == "raw"].copy()
    values["period_id"] = values["period_id"].map(mapping)
    values = values[values["period_id"].notna()]
    values["priority"] = values["source_system"].map(SOURCE_PRIORITY).fillna(9)
    values = values.sort_values(
        ["priority", "ingested_at", "source_sha256"], ascending=[True, False, False], kind="mergesort"
    )
    values = values.drop_duplicates(["metric_type_id", "area_code", "period_id"], keep="first")
    return values.rename(columns={"metric_type_id": "indicator_id"})[
        [
            "indicator_id",
            "area_code",
            "period_id",
            "value",
            "source_system",
            "source_reference",
            "source_sha256",
            "ingested_at",
            "run_id",
        ]
    ].reset_index(drop=True)


def pandas_benchmarks(
    fct: pd.DataFrame,
    *,
    council: str,
    comparison_groups: list[str],
    members: pd.DataFrame,
    areas: pd.DataFrame,
    indicators: pd.DataFrame,
) -> pd.DataFrame:
    learnt = members.loc[members["comparison_group_id"].isin(comparison_groups), ["comparison_group_id", "area_code"]]
    cipfa = learnt["comparison_group_id"].drop_duplicates()
    cipfa = cipfa[cipfa.str.endswith("_CIPFA_Near_Neighbours")]
    owners = pd.DataFrame({"comparison_group_id": cipfa, "area_code": council})
    councils = areas[
        areas["is_council"].fillna(False).astype(bool) & areas["tier"].notna() & areas["country_code"].notna()
    ]
    derived = pd.DataFrame(
        {
            "comparison_group_id": "Tier_" + councils["tier"] + "_" + councils["country_code"],
            "area_code": councils["area_code"],
        }
    )
    group_members = pd.concat([learnt, owners, derived]).drop_duplicates()
    membership = group_members.groupby("comparison_group_id").size().rename("group_members")  # value or not

    reported = fct.loc[fct["value"].notna(), ["indicator_id", "area_code", "period_id", "value"]]
    frame = group_members.merge(reported, on="area_code")
    keys = ["comparison_group_id", "indicator_id", "period_id"]
    grouped = frame.groupby(keys, sort=False)["value"]
    frame["group_size"] = grouped.transform("size").astype("int64")
    frame["group_members"] = frame["comparison_group_id"].map(membership).astype("int64")
    frame["group_mean"] = frame.set_index(keys).index.map(_exact_mean(frame, keys, "value")).to_numpy(dtype="float64")
    # quantiles rounded to 10 places, as the mart publishes them
    for column, q in (("group_median", 0.5), ("group_q1", 0.25), ("group_q3", 0.75)):
        frame[column] = grouped.transform(lambda v, q=q: _round10(_quantile_cont(v, q)))
    frame["abs_deviation"] = (frame["value"] - frame["group_median"]).abs()
    frame["group_mad"] = frame.groupby(keys, sort=False)["abs_deviation"].transform(
        lambda v: _round10(_quantile_cont(v, 0.5))
    )
    mad = frame["group_mad"]
    frame["mads_from_median"] = ((frame["value"] - frame["group_median"]) / mad).where(mad != 0)

    by_indicator = indicators.set_index("indicator_id")
    polarity = frame["indicator_id"].map(by_indicator["polarity"])
    is_count = frame["indicator_id"].map(by_indicator["unit_kind"]) == "count"  # raw counts are not ranked
    high = grouped.rank(method="min", ascending=False)
    low = grouped.rank(method="min", ascending=True)
    rank = high.where(polarity == "high_is_good", low.where(polarity == "low_is_good")).where(~is_count)
    frame["rank"] = rank.astype("Int64")
    size = frame["group_size"]
    percentile = 100 * (size - rank).astype("float64") / (size - 1)
    frame["percentile"] = percentile.where(size != 1, 100.0).where(rank.notna())
    # from the value against the quartiles shown (a boundary takes the better band), by polarity;
    # none without a rank (neutral, or a raw count), as the mart does
    value, q1, median, q3 = frame["value"], frame["group_q1"], frame["group_median"], frame["group_q3"]
    high_band = np.select([value >= q3, value >= median, value >= q1], [1, 2, 3], default=4)
    low_band = np.select([value <= q1, value <= median, value <= q3], [1, 2, 3], default=4)
    band = pd.Series(high_band, index=frame.index).where(
        polarity == "high_is_good", pd.Series(low_band, index=frame.index).where(polarity == "low_is_good")
    )
    frame["quartile_band"] = band.where(rank.notna()).astype("Int32")
    return frame[
        [
            "comparison_group_id",
            "indicator_id",
            "period_id",
            "area_code",
            "value",
            "group_size",
            "group_members",
            "group_mean",
            "group_median",
            "group_q1",
            "group_q3",
            "group_mad",
            "mads_from_median",
            "rank",
            "percentile",
            "quartile_band",
        ]
    ].reset_index(drop=True)


def _starts_island(key: pd.Series, series: pd.api.typing.SeriesGroupBy) -> pd.Series:
    """1 where the key differs from the previous point's (null equals null; a series' first
    point compares with null), else 0."""
    previous = series.shift()
    same = (key == previous) | (key.isna() & previous.isna())
    return (~same).astype("int64")


def _rebase_starts(periods: pd.DataFrame, indicators: pd.DataFrame, rebase_periods: dict) -> pd.DataFrame:
    """(indicator_id, period_start) of each rebase: the library's (dim_indicators.spc_rebase_periods,
    comma-separated) and the setting's. As in the mart, the two are a distinct union when the
    setting names any; the library's alone are taken as they are."""
    rows = []
    for indicator_id, listed in indicators[["indicator_id", "spc_rebase_periods"]].itertuples(index=False):
        items = "," + (listed if isinstance(listed, str) else "") + ","
        rows += [
            (indicator_id, start)
            for period_id, start in periods[["period_id", "period_start"]].itertuples(index=False)
            if f",{period_id}," in items
        ]
    starts = pd.DataFrame(rows, columns=["indicator_id", "period_start"])
    if rebase_periods:
        known = periods.set_index("period_id")["period_start"]
        configured = pd.DataFrame(
            [(str(i), known[str(p)]) for i, ids in rebase_periods.items() for p in ids if str(p) in known.index],
            columns=["indicator_id", "period_start"],
        )
        starts = pd.concat([starts, configured]).drop_duplicates()
    return starts


def pandas_spc(
    fct: pd.DataFrame,
    *,
    periods: pd.DataFrame,
    indicators: pd.DataFrame,
    targets: pd.DataFrame,
    council: str,
    spc: dict | None = None,
) -> pd.DataFrame:
    settings = _spc(spc)
    points = fct.loc[fct["value"].notna(), ["indicator_id", "area_code", "period_id", "value"]].merge(
        periods[["period_id", "period_start"]], on="period_id"
    )
    points["value"] = points["value"].astype("float64")
    points = points.sort_values(["indicator_id", "area_code", "period_start", "period_id"], kind="mergesort")
    points["point_index"] = points.groupby(["indicator_id", "area_code"]).cumcount().astype("int64") + 1

    # baselines: each rebase period at or before the point starts a new one
    points["baseline_segment"] = 0
    for indicator_id, starts in _rebase_starts(periods, indicators, settings["rebase_periods"]).groupby("indicator_id"):
        mine = points["indicator_id"] == indicator_id
        for start in starts["period_start"]:
            points.loc[mine & (points["period_start"] >= start), "baseline_segment"] += 1
    points["baseline_segment"] = points["baseline_segment"].astype("int64")

    series = ["indicator_id", "area_code", "baseline_segment"]
    by_series = points.groupby(series, sort=False)
    # limits from the baseline's first freeze_after_points points (the library's, else the setting's; all when unset)
    freeze = (
        points["indicator_id"].map(indicators.set_index("indicator_id")["spc_freeze_after_points"]).astype("float64")
    )
    if settings["freeze_after_points"] is not None:
        freeze = freeze.fillna(float(settings["freeze_after_points"]))
    points["is_baseline_point"] = ((by_series.cumcount() + 1) <= freeze) | freeze.isna()
    step = points["value"] - by_series["value"].shift()
    points["moving_range"] = step.abs()
    points["step_direction"] = np.sign(step)

    baseline = points[points["is_baseline_point"]]
    limits = pd.DataFrame({"baseline_point_count": baseline.groupby(series, sort=False).size()})
    limits["process_mean"] = _exact_mean(baseline, series, "value")
    limits["mean_moving_range"] = _exact_mean(baseline, series, "moving_range")
    if settings["screen_moving_ranges"]:
        raw = baseline.set_index(series).index.map(limits["mean_moving_range"]).to_numpy(dtype="float64")
        kept = baseline.assign(
            moving_range=baseline["moving_range"].where(baseline["moving_range"] < SCREEN_FACTOR * raw)
        )
        limits["mean_moving_range"] = _exact_mean(kept, series, "moving_range").fillna(limits["mean_moving_range"])
    frame = points.merge(limits.reset_index(), on=series)
    frame = frame.sort_values(series + ["point_index"], kind="mergesort").reset_index(drop=True)

    mean, mr = frame["process_mean"], frame["mean_moving_range"]
    frame["upper_process_limit"] = mean + LIMIT_FACTOR * mr
    frame["lower_process_limit"] = mean - LIMIT_FACTOR * mr
    frame["upper_two_sigma"] = mean + TWO_SIGMA_FACTOR * mr
    frame["lower_two_sigma"] = mean - TWO_SIGMA_FACTOR * mr
    frame["trial_limits"] = frame["baseline_point_count"] < int(settings["min_points_for_limits"])
    frame["side_of_mean"] = _side_of_mean(frame, series, frame["is_baseline_point"])

    keys = [frame[c] for c in series]
    by_series = frame.groupby(series, sort=False)
    frame["side_island"] = (
        _starts_island(frame["side_of_mean"], by_series["side_of_mean"]).groupby(keys, sort=False).cumsum()
    )
    frame["step_island"] = (
        _starts_island(frame["step_direction"], by_series["step_direction"]).groupby(keys, sort=False).cumsum()
    )
    side_points = frame.groupby(series + ["side_island"], sort=False)["value"].transform("size")
    step_points = frame.groupby(series + ["step_island"], sort=False)["value"].transform("size") + 1

    frame["is_outside_limits"] = (frame["value"] > frame["upper_process_limit"]) | (
        frame["value"] < frame["lower_process_limit"]
    )
    is_run = (frame["side_of_mean"] != 0) & (side_points >= int(settings["run_length"]))
    trend_length = int(settings["trend_length"])
    stepping = frame["step_direction"].notna() & (frame["step_direction"] != 0)
    ends_trend = stepping & (step_points >= trend_length)
    next_direction = by_series["step_direction"].shift(-1)
    next_points = step_points.groupby(keys, sort=False).shift(-1)
    starts_trend = next_direction.notna() & (next_direction != 0) & (next_points >= trend_length)
    # the step to the next point when that step is in a trend, else the step from the previous one
    trend_direction = next_direction.where(starts_trend, frame["step_direction"].where(ends_trend))

    # two in three: windows of three points wholly on one side of the mean, two beyond a 2-sigma line
    side = frame["side_of_mean"].astype("int64")
    by_side = side.groupby(keys, sort=False)
    window_side = side + by_side.shift(1) + by_side.shift(2)  # null unless three points end here
    on_one_side = window_side.abs() == 3
    upper = frame["value"] > frame["upper_two_sigma"]
    lower = frame["value"] < frame["lower_two_sigma"]
    two_of_three = pd.Series(False, index=frame.index)
    for beyond in (upper, lower):
        flag = beyond.astype("int64")
        by_flag = flag.groupby(keys, sort=False)
        in_window = (flag + by_flag.shift(1, fill_value=0) + by_flag.shift(2, fill_value=0)).where(on_one_side, 0)
        # any window of three containing this point: those ending here and at the next two points
        ahead = pd.concat([in_window.groupby(keys, sort=False).shift(-k) for k in range(3)], axis=1).max(axis=1)
        two_of_three |= beyond & (ahead >= 2)

    rule = np.select(
        [frame["is_outside_limits"], ends_trend | starts_trend, two_of_three, is_run],
        ["outside_limits", "trend", "two_of_three", "run"],
        default=None,
    )
    frame["special_cause_rule"] = pd.Series(rule, index=frame.index, dtype="object")
    is_trend = frame["special_cause_rule"] == "trend"
    high = (is_trend & (trend_direction > 0)) | (~is_trend & (frame["side_of_mean"] > 0))
    frame["point_type"] = np.where(
        frame["special_cause_rule"].isna(), "common_cause", np.where(high, "special_cause_high", "special_cause_low")
    )
    polarity = frame["indicator_id"].map(indicators.set_index("indicator_id")["polarity"])
    improvement = ((polarity == "high_is_good") & (frame["point_type"] == "special_cause_high")) | (
        (polarity == "low_is_good") & (frame["point_type"] == "special_cause_low")
    )
    concern = ((polarity == "high_is_good") & (frame["point_type"] == "special_cause_low")) | (
        (polarity == "low_is_good") & (frame["point_type"] == "special_cause_high")
    )
    frame["variation_icon"] = np.select(
        [frame["point_type"] == "common_cause", improvement, concern],
        ["common_cause", "special_cause_improvement", "special_cause_concern"],
        default="special_cause_neutral",
    )

    # stable: no special cause among the baseline's points
    calm = (frame["special_cause_rule"].isna() | ~frame["is_baseline_point"]).astype("int64")
    frame["baseline_is_stable"] = calm.groupby(keys, sort=False).transform("min").astype(bool)

    # the home council's current target for the period's financial year; none for other areas
    start = pd.to_datetime(frame["period_start"])
    year = start.dt.year - (start.dt.month < 4).astype("int64")
    frame["_target_year"] = year.astype("float64").where(frame["area_code"] == council)
    wanted = targets[["indicator_id", "target_year", "target"]].rename(columns={"target_year": "_target_year"})
    wanted = wanted.assign(_target_year=wanted["_target_year"].astype("float64"))
    frame = frame.merge(wanted[wanted["_target_year"].notna()], on=["indicator_id", "_target_year"], how="left")
    polarity = frame["indicator_id"].map(indicators.set_index("indicator_id")["polarity"])

    # assurance (macros/performance.sql assurance_icon), only from a stable baseline; SQL's
    # three-valued logic kept (an unknown polarity is not "not in" the directional ones)
    target, lower_limit, upper_limit = frame["target"], frame["lower_process_limit"], frame["upper_process_limit"]
    undirected = polarity.notna() & ~polarity.isin(["high_is_good", "low_is_good"])
    high_good = polarity == "high_is_good"
    frame["assurance_icon"] = pd.Series(
        np.select(
            [
                target.isna() | lower_limit.isna() | undirected,
                ~frame["baseline_is_stable"],
                (target >= lower_limit) & (target <= upper_limit),
                high_good & (target > upper_limit),
                high_good,
                target < lower_limit,
            ],
            [
                None,
                "unstable_process",
                "hit_and_miss",
                "consistently_fails",
                "consistently_passes",
                "consistently_fails",
            ],
            default="consistently_passes",
        ),
        index=frame.index,
        dtype="object",
    )
    return frame[
        [
            "indicator_id",
            "area_code",
            "period_id",
            "period_start",
            "value",
            "point_index",
            "baseline_segment",
            "is_baseline_point",
            "baseline_point_count",
            "process_mean",
            "upper_process_limit",
            "lower_process_limit",
            "upper_two_sigma",
            "lower_two_sigma",
            "moving_range",
            "mean_moving_range",
            "side_of_mean",
            "special_cause_rule",
            "point_type",
            "variation_icon",
            "target",
            "baseline_is_stable",
            "assurance_icon",
            "trial_limits",
        ]
    ].reset_index(drop=True)


def run_pandas(
    connection, *, council: str, comparison_groups: list[str], spc: dict | None = None
) -> dict[str, pd.DataFrame]:
    """The three marts computed in pandas from plain SELECTs of the inputs."""
    raw = _read(
        connection,
        "select metric_type_id, area_code, period_id, value_type, value, source_system, "
        "source_reference, source_sha256, ingested_at, run_id from raw.lginform_values",
    )
    api_period_ids = set(_read(connection, "select distinct period_id from raw.lginform_periods")["period_id"])
    members = _read(connection, "select comparison_group_id, area_code from staging.stg_lginform__group_members")
    areas = _read(connection, "select area_code, tier, country_code, is_council from marts.dim_areas")
    indicators = _read(
        connection,
        "select indicator_id, polarity, unit_kind, spc_rebase_periods, spc_freeze_after_points "
        "from marts.dim_indicators",
    )
    periods = _read(connection, "select period_id, period_start from marts.dim_periods")
    targets = _read(
        connection, "select indicator_id, target_year, target from staging.stg_library__targets where is_current"
    )

    fct = pandas_fct_indicator_values(raw, api_period_ids)
    return {
        "fct_indicator_values": fct,
        "benchmarks": pandas_benchmarks(
            fct,
            council=council,
            comparison_groups=list(comparison_groups),
            members=members,
            areas=areas,
            indicators=indicators,
        ),
        "spc": pandas_spc(fct, periods=periods, indicators=indicators, targets=targets, council=str(council), spc=spc),
    }


# ------------------------------------------------------------------------------------ compare


def _is_float(series: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(series.dtype)


def _normalise(column: pd.Series) -> pd.Series:
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column.astype("datetime64[us]")
    return column


def compare(
    expected: pd.DataFrame, actual: pd.DataFrame, *, keys: list[str], tolerance: float = 1e-9, max_examples: int = 5
) -> list[str]:
    """Differences between two tables matched on ``keys``, as sentences; [] when they agree.

    Rows: missing (in expected only), extra (in actual only), duplicate keys. Columns: missing or
    extra columns; values of a float column differ when ``|a - b| > tolerance * max(1, |a|)``
    (absolute within 1e-9, relative for magnitudes above 1); every other column (integers,
    booleans, strings, dates, timestamps) must be equal. Null equals null and nothing else.
    """
    problems: list[str] = []
    missing_columns = [c for c in expected.columns if c not in actual.columns]
    extra_columns = [c for c in actual.columns if c not in expected.columns]
    if missing_columns:
        problems.append(f"columns missing: {missing_columns}")
    if extra_columns:
        problems.append(f"columns extra: {extra_columns}")
    for name, frame in (("expected", expected), ("actual", actual)):
        duplicated = frame[frame.duplicated(keys, keep=False)]
        if len(duplicated):
            problems.append(
                f"{name}: {len(duplicated)} rows share a key, e.g. "
                f"{duplicated[keys].head(max_examples).to_dict('records')}"
            )

    merged = expected.merge(actual, on=keys, how="outer", suffixes=("__expected", "__actual"), indicator=True)
    for side, label in (("left_only", "missing"), ("right_only", "extra")):
        rows = merged.loc[merged["_merge"] == side, keys]
        if len(rows):
            problems.append(f"{len(rows)} rows {label} (by {keys}), e.g. {rows.head(max_examples).to_dict('records')}")
    both = merged[merged["_merge"] == "both"]
    for column in [c for c in expected.columns if c in actual.columns and c not in keys]:
        left = _normalise(both[f"{column}__expected"])
        right = _normalise(both[f"{column}__actual"])
        left_null, right_null = left.isna().to_numpy(), right.isna().to_numpy()
        if _is_float(expected[column]) or _is_float(actual[column]):
            a = pd.to_numeric(left, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            b = pd.to_numeric(right, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            with np.errstate(invalid="ignore"):
                close = np.abs(a - b) <= tolerance * np.maximum(1.0, np.abs(a))
            differ = (left_null != right_null) | (~left_null & ~right_null & ~close)
        else:
            equal = np.array(
                [
                    bool(ln or rn or x == y)
                    for x, y, ln, rn in zip(left.tolist(), right.tolist(), left_null, right_null)
                ],
                dtype=bool,
            )
            differ = (left_null != right_null) | (~left_null & ~right_null & ~equal)
        if differ.any():
            rows = both.loc[differ, keys].head(max_examples).to_dict("records")
            pairs = list(zip(left[differ].head(max_examples).tolist(), right[differ].head(max_examples).tolist()))
            problems.append(
                f"{column}: {int(differ.sum())} rows differ (tolerance {tolerance:g}), e.g. "
                f"{[dict(row, expected=p[0], actual=p[1]) for row, p in zip(rows, pairs)]}"
            )
    return problems


def read_table(connection, table: str) -> pd.DataFrame:
    return connection.execute(f"select * from {table}").df()
