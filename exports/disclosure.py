"""Statistical disclosure control for published counts (domain.md, "Open data").

Primary suppression: a count from 1 to ``threshold - 1`` is replaced by the marker ``c``
(never by 0; a true 0 is published, it identifies no one). Secondary suppression: wherever
a total and its parts are all published, one suppressed cell among them could be given back
by subtraction, so the smallest other non-zero published cell of that relation is suppressed
too, until no relation has exactly one suppressed cell. Figures computed from a suppressed
count (a rate, a percentage) are suppressed with it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SUPPRESSED = "c"


@dataclass(frozen=True)
class Relation:
    """A total and the rows whose counts add up to (at most) it, by row key."""

    total: Hashable
    parts: tuple[Hashable, ...]


def suppress(
    rows: Mapping[Hashable, dict[str, Any]],
    *,
    counts: Sequence[str],
    relations: Sequence[Relation],
    derived: Mapping[str, Sequence[str]],
    threshold: int,
) -> dict[Hashable, dict[str, Any]]:
    """Rows (by key) with small counts and what would reveal them replaced by ``SUPPRESSED``."""
    result = {key: dict(row) for key, row in rows.items()}
    for column in counts:
        hidden = {key for key, row in result.items() if _is_small(row.get(column), threshold)}
        changed = True
        while changed:
            changed = False
            for relation in relations:
                members = [k for k in (relation.total, *relation.parts) if k in result]
                if sum(k in hidden for k in members) != 1:
                    continue
                candidates = [k for k in relation.parts if k in result and k not in hidden and (result[k].get(column) or 0) > 0]
                if not candidates and relation.total in result and relation.total not in hidden:
                    candidates = [relation.total]
                if candidates:
                    hidden.add(min(candidates, key=lambda k: (result[k][column], str(k))))
                    changed = True
        for key in hidden:
            result[key][column] = SUPPRESSED
    for row in result.values():
        for column, sources in derived.items():
            if any(row.get(source) == SUPPRESSED for source in sources):
                row[column] = SUPPRESSED
    return result


def _is_small(value: Any, threshold: int) -> bool:
    return value is not None and value != SUPPRESSED and 0 < value < threshold
