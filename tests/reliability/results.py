"""The reliability cases' results: what each case tried and whether it held.

A plugin of the whole suite (``pytest_plugins`` in tests/conftest.py), not of this folder's
conftest: under pytest-xdist only the controller sees every worker's reports, and it loads the
conftest of a subfolder only when that folder is named on the command line. Each worker writes
nothing; the controller (or a run without workers) writes, when the session ends,
``test-artifacts/reliability.json`` (the cases ``make test`` runs) and
``test-artifacts/reliability-soak.json`` (the long cases, marked ``soak``, that ``make soak``
runs): each run rewrites the file of the kind of cases it ran.
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
    if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: the controller writes
        return
    ordered = sorted(_cases.values(), key=lambda c: (FAMILIES.index(c["family"]), c["test"], c["what"]))
    for path, soak in ((RESULTS, False), (SOAK_RESULTS, True)):
        cases = [case for case in ordered if case["soak"] == soak]
        if cases:  # a run that ran none of this kind leaves the last run's file as it was
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(cases, indent=2) + "\n", encoding="utf-8")
