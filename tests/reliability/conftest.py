"""Reliability and security cases: each says what it tried and what must hold.

A case calls the ``tried`` fixture once (or once per parameter) with the fault or input it
tried, the outcome it expects and its family. tests/reliability/results.py collects them into
``test-artifacts/``; ``python -m tests.reliability.table`` turns those files into the table in
docs/reliability.md.
"""

from __future__ import annotations

import pytest

from tests.reliability.results import FAMILIES


@pytest.fixture
def tried(request):
    """``tried(what, expected, family)``: record this case for docs/reliability.md's table."""

    def record(what: str, expected: str, family: str) -> None:
        if family not in FAMILIES:
            raise ValueError(f"family {family!r} is not one of {FAMILIES}")
        request.node.user_properties.append(("tried", {"what": what, "expected": expected, "family": family}))

    return record
