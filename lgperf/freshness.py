"""The freshness rule shared by the quality gate's allowance, the report's tiles and ``lgperf
status``: a latest figure is stale when its period ended longer ago than its frequency allows
(``thresholds.freshness.max_days_after_period_end``), judged on one date."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date


def days_over(
    period_end: date | None, frequency: str | None, as_of: date, max_days_after_period_end: Mapping[str, int]
) -> int | None:
    """How many days past its allowance a figure is (positive: stale), or None when the rule
    does not apply (no period end, or a frequency with no allowance)."""
    allowed = max_days_after_period_end.get(frequency or "")
    if period_end is None or allowed is None:
        return None
    return (as_of - period_end).days - allowed


def is_stale(
    period_end: date | None, frequency: str | None, as_of: date, max_days_after_period_end: Mapping[str, int]
) -> bool:
    over = days_over(period_end, frequency, as_of, max_days_after_period_end)
    return over is not None and over > 0
