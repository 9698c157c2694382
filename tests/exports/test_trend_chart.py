"""The tile's XmR chart: the values, the process mean and limits of each baseline, the special-
cause points marked by improvement or concern, the target; and all of it in the alt text."""

import re

from exports.report import stale_baseline_caveat
from exports.report_charts import trend_chart


def point(label, value, *, segment=0, mean=None, lower=None, upper=None, icon="common_cause", target=None):
    return {
        "period_label": label,
        "value": value,
        "target": target,
        "baseline_segment": segment,
        "process_mean": mean,
        "lower_process_limit": lower,
        "upper_process_limit": upper,
        "variation_icon": icon,
    }


def test_the_chart_draws_each_baselines_mean_and_limits_and_marks_special_causes():
    points = [
        point("Q1", 10.0, mean=10.5, lower=7.84, upper=13.16),
        point("Q2", 11.0, mean=10.5, lower=7.84, upper=13.16, target=12.0),
        point("Q3", 15.0, mean=10.5, lower=7.84, upper=13.16, icon="special_cause_concern", target=12.0),
        point("Q4", 20.0, segment=1, mean=20.4, lower=17.74, upper=23.06, icon="special_cause_improvement"),
        point("Q5", 21.0, segment=1, mean=20.4, lower=17.74, upper=23.06),
    ]
    svg = str(trend_chart("Example", points, "%", 1))
    # a rebase breaks the lines: one mean line and two limit lines per baseline
    assert svg.count('class="mean-line"') == 2 and svg.count('class="limit-line"') == 4
    assert len(re.findall(r'<polyline class="value-line"', svg)) == 1
    assert svg.count('class="dot special concern"') == 1 and svg.count('class="dot special improvement"') == 1
    assert svg.count('class="dot"') == 3  # the common-cause points
    label = re.search(r'aria-label="([^"]*)"', svg).group(1)
    assert "Q3: 15.0% (unusual: concern) (target 12.0%)" in label
    assert "Q4: 20.0% (unusual: improvement)" in label
    assert label.endswith("The latest baseline has a mean of 20.4% and process limits from 17.7% to 23.1%.")


def test_the_limits_widen_the_scale_so_they_are_drawn_inside_the_chart():
    svg = str(
        trend_chart(
            "Example",
            [point("Q1", 10.0, mean=10, lower=0, upper=100), point("Q2", 10, mean=10, lower=0, upper=100)],
            None,
            0,
        )
    )
    ys = [float(y) for y in re.findall(r"\d+\.\d,(\d+\.\d)", svg)]
    assert min(ys) == 8.0 and max(ys) == 82.0  # the limits at the chart's top and bottom edges (pad 8, height 90)


def test_a_series_without_spc_has_no_mean_or_limits():
    svg = str(trend_chart("Example", [point("Q1", 10), point("Q2", 12)], None, 0))
    assert "mean-line" not in svg and "limit-line" not in svg and "special" not in svg
    assert "baseline" not in svg


def test_the_variation_badge_says_when_its_baseline_is_under_review():
    badge = ("I", "Unusual change: an improvement")
    assert stale_baseline_caveat(badge, None) == badge
    assert stale_baseline_caveat(badge, {"proposed_period_label": "Apr 2022"}) == (
        "I",
        "Unusual change: an improvement (judged against a baseline before a shift in Apr 2022: "
        "a new baseline is proposed)",
    )


def test_a_mean_of_values_without_a_precision_is_shown_to_one_decimal():
    points = [point("M1", 4495.0, mean=4868.918918918919, lower=4589.618918918919, upper=5148.218918918919)]
    label = re.search(r'aria-label="([^"]*)"', str(trend_chart("Claimant count", points, "persons", None))).group(1)
    assert label.endswith("a mean of 4,868.9 persons and process limits from 4,589.6 persons to 5,148.2 persons.")
