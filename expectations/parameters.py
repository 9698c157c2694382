"""What the gate gives a suite besides its frame: the frame query's ``$name`` parameters
(``frames/_README.md``) and the row-count drift bounds its ``$PARAMETER`` expectations read.
Plain values from the settings and the last publication; the caller reads those."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from lgperf.settings import PipelineConfig


def frame_parameters(config: PipelineConfig, run_id: str, published_through: datetime) -> dict[str, Any]:
    """What the frame queries may ask for (see expectations/frames/_README.md)."""
    freshness = config.thresholds.freshness
    days = freshness.max_days_after_period_end
    return {
        "run_id": run_id,
        "published_through": published_through,
        "council": config.council,
        "as_of": freshness.judged_on(),
        "max_days_annually": days["annually"],
        "max_days_quarterly": days["quarterly"],
        "max_days_monthly": days["monthly"],
    }


def drift_bounds(published_rows: int | None, max_share: float) -> dict[str, int | None]:
    """The rows a table may have, given its count at the last publication that went out:
    losing more than ``max_share`` of them fails (error), growing by more than it warns. A
    blocked attempt never becomes the baseline. Nothing published yet: no bound."""
    if published_rows is None:
        return {"previous_rows_min": 0, "previous_rows_max": None}
    return {
        "previous_rows_min": math.floor(published_rows * (1 - max_share)),
        "previous_rows_max": math.ceil(published_rows * (1 + max_share)),
    }
