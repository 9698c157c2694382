"""The client against every dialect the demo server speaks: each reads to the same rows.

Only how things are written may differ between dialects (unit, polarity and frequency
spellings, the `formatted` text, optional labels left out); what the rows mean may not.
"""

from __future__ import annotations

import pytest

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.dialects import MIXED, SINGLE_DIALECTS
from demo.server import DemoServer
from ingestion.lginform.client import LgInformClient, RetryPolicy
from ingestion.lginform.pull import PullResult, pull_lginform

METRIC_TYPES = ["90005", "90101", "91003", "91023", "3281", "90007"]
AREAS = ["Trafford_CIPFA_Near_Neighbours", "E08000009"]
# what may be spelt differently between dialects without changing the meaning
SPELLING = {
    "unit_label",
    "polarity",
    "frequency",
    "formatted",
    "short_label",
    "label",
    "period_type",
    "source_reference",
    "source_sha256",
}


def pull(dialect: str) -> PullResult:
    with DemoServer(dialect=dialect) as server:
        client = LgInformClient(server.url, DEMO_APPLICATION_KEY, DEMO_SECRET, retry=RetryPolicy(max_attempts=1))
        try:
            return pull_lginform(client, metric_types=METRIC_TYPES, areas=AREAS, periods="latest:6", batch_size=2)
        finally:
            client.close()


def meaning(result: PullResult) -> dict[str, list[tuple]]:
    return {
        table: sorted((tuple(sorted((k, v) for k, v in row.items() if k not in SPELLING)) for row in rows), key=repr)
        for table, rows in result.rows.items()
    }


@pytest.fixture(scope="module")
def plain() -> PullResult:
    result = pull("lginform")
    assert not result.refused and len(result.rows["lginform_values"]) > 100
    return result


@pytest.mark.parametrize("dialect", [d for d in (*SINGLE_DIALECTS, MIXED) if d != "lginform"])
def test_every_dialect_reads_to_the_same_rows(plain, dialect):
    result = pull(dialect)
    assert result.refused == [] and result.behind == {}
    assert result.fetched_metric_types == plain.fetched_metric_types == METRIC_TYPES
    assert meaning(result) == meaning(plain)


def test_the_dialects_do_change_what_is_sent(plain):
    """Each dialect must really write differently, or the test above proves nothing."""
    bodies = {}
    for dialect in SINGLE_DIALECTS:
        result = pull(dialect)
        bodies[dialect] = sorted(r.sha256 for r in result.responses)
    assert len({tuple(b) for b in bodies.values()}) == len(SINGLE_DIALECTS)


def test_the_service_words_dialect_spells_units_as_the_service_does():
    result = pull("service_words")
    units = {r["metric_type_id"]: r["unit_label"] for r in result.rows["lginform_metric_types"]}
    assert units["90005"] == "Percentage" and units["3281"] == "Number" and units["91003"] == "Days"
    polarity = {r["metric_type_id"]: r["polarity"] for r in result.rows["lginform_metric_types"]}
    assert polarity["91003"] == "LOW VALUE IS GOOD"


def test_suppression_markers_are_missing_values_and_kept_as_written():
    result = pull("suppression_markers")
    marked = [r for r in result.rows["lginform_values"] if r["value"] is None]
    assert marked and {r["formatted"] for r in marked} <= {"c", "[c]", "*", "..", "[x]"}
    assert len({r["formatted"] for r in marked}) > 1
