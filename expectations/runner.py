"""Run one suite file against a DataFrame and return flat, storable results."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

SUITES_DIR = Path(__file__).parent / "suites"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    schema: str
    table: str
    document: dict[str, Any]

    @property
    def target(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    kwargs: dict[str, Any]
    severity: str  # "error" blocks exports; "warning" is reported only
    success: bool
    observed_value: Any
    element_count: int | None
    unexpected_count: int | None
    failing_sample: list[Any]


def load_suites(directory: Path = SUITES_DIR) -> list[Suite]:
    """Every suite file, with its target table validated as a plain identifier."""
    suites = []
    for path in sorted(directory.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        target = document.get("meta", {}).get("target", "")
        schema, _, table = target.partition(".")
        if not (_IDENTIFIER.match(schema) and _IDENTIFIER.match(table)):
            raise ValueError(f"{path}: meta.target {target!r} must be <schema>.<table> in lower-case identifiers")
        suites.append(Suite(document["name"], path, schema, table, document))
    return suites


def validate(frame: pd.DataFrame, suite: Suite) -> list[ExpectationOutcome]:
    """Validate ``frame`` with GX (imported here: it costs seconds)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(suite.target)
        .add_batch_definition_whole_dataframe("whole table")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    expectations = [
        ExpectationConfiguration(
            type=e["type"], kwargs=e["kwargs"], meta=e.get("meta", {}), severity=e.get("severity", "critical")
        ).to_domain_obj()
        for e in suite.document["expectations"]
    ]
    gx_suite = context.suites.add(ExpectationSuite(name=suite.name, expectations=expectations))
    result = batch.validate(gx_suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 10})
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        details = item.result or {}
        outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                kwargs={k: v for k, v in config.kwargs.items() if k != "batch_id"},
                severity="warning" if str(getattr(config, "severity", "critical")).lower().endswith("warning") else "error",
                success=bool(item.success),
                observed_value=details.get("observed_value"),
                element_count=details.get("element_count"),
                unexpected_count=details.get("unexpected_count"),
                failing_sample=list(details.get("partial_unexpected_list") or [])[:10],
            )
        )
    return outcomes
