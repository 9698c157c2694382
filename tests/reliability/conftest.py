"""Reliability and security cases: each says what it tried and what must hold.

A case calls the ``tried`` fixture once (or once per parameter) with the fault or input it
tried, the outcome it expects and its family. When the session ends, every recorded case and
whether it held go to ``test-artifacts/reliability.json``, the long cases (marked ``soak``, run
only by ``make soak``) to ``test-artifacts/reliability-soak.json``: each run rewrites the file of the
cases it ran. ``python -m tests.reliability.table`` turns the two files into the table in
docs/reliability.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

RESULTS = Path(os.environ.get("RELIABILITY_RESULTS", Path(__file__).parents[2] / "test-artifacts" / "reliability.json"))
SOAK_RESULTS = RESULTS.with_name(f"{RESULTS.stem}-soak.json")  # the cases only `make soak` runs
FAMILIES = ("API faults", "process faults", "concurrency", "idempotency", "bad input", "security")
_cases: dict[str, dict] = {}


@pytest.fixture
def tried(request):
    """``tried(what, expected, family)``: record this case for docs/reliability.md's table."""

    def record(what: str, expected: str, family: str) -> None:
        if family not in FAMILIES:
            raise ValueError(f"family {family!r} is not one of {FAMILIES}")
        request.node.user_properties.append(("tried", {"what": what, "expected": expected, "family": family}))

    return record


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    cases = [value for name, value in report.user_properties if name == "tried"]
    if not cases:
        return
    held = report.passed if report.when == "call" else (None if report.passed else False)
    if held is None:  # setup or teardown passed: the call's report decides
        return
    for index, case in enumerate(cases):
        key = f"{report.nodeid}#{index}"
        if held or key not in _cases or _cases[key]["held"]:  # a failure in teardown overrides a passed call
            _cases[key] = {**case, "test": report.nodeid, "held": bool(held), "soak": "soak" in report.keywords}


def pytest_sessionfinish(session: pytest.Session) -> None:
    ordered = sorted(_cases.values(), key=lambda c: (FAMILIES.index(c["family"]), c["test"], c["what"]))
    for path, soak in ((RESULTS, False), (SOAK_RESULTS, True)):
        cases = [case for case in ordered if case["soak"] == soak]
        if cases:  # a run that ran none of this kind leaves the last run's file as it was
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(cases, indent=2) + "\n", encoding="utf-8")
