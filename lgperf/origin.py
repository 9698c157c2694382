"""Whether a warehouse holds the demo's synthetic data: set by the first demo load, and never
unset.

Every export asks, so the outputs of a warehouse that has held demo data say they are a
demonstration, whatever process writes them, a later run against a real service included (its
marts may still hold synthetic values: start a fresh warehouse to publish real ones). The demo
refuses a warehouse a real service filled: it would mix synthetic values into the council's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

DEMO, SERVICE = "demo", "service"
_TABLE = "audit.warehouse_origin"


class MixedOrigin(RuntimeError):
    """A run of one kind (demo or real) against a warehouse that holds the other kind."""


def _ensure(connection: Any) -> None:
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {_TABLE} (origin VARCHAR NOT NULL, claimed_at TIMESTAMP WITH TIME ZONE "
        "NOT NULL, run_id VARCHAR NOT NULL)"
    ).fetchall()


def claim(connection: Any, *, demo: bool, run_id: str, where: str) -> str | None:
    """Record what this warehouse holds on its first load (demo once, demo for good); refuse the
    demo on a real warehouse. Returns a warning when a real run loads into a demo warehouse."""
    _ensure(connection)
    wanted = DEMO if demo else SERVICE
    held = connection.execute(f"SELECT origin, claimed_at, run_id FROM {_TABLE}").fetchall()
    if not held:
        connection.execute(f"INSERT INTO {_TABLE} VALUES (?, ?, ?)", [wanted, datetime.now(UTC), run_id]).fetchall()
        return None
    origin, claimed_at, first_run = held[0]
    since = f"since run {first_run} at {claimed_at:%Y-%m-%d %H:%M}"
    if origin == SERVICE and demo:
        raise MixedOrigin(
            f"{where} holds data from a real LG Inform service ({since}): the demo would mix synthetic values "
            "into it, so nothing was loaded. Run the demo with its own WAREHOUSE_PATH and EXPORT_DIR."
        )
    if origin == DEMO and not demo:
        return (
            f"{where} has held the demo's synthetic data {since}: every export of it stays marked as demonstration "
            "data. Point WAREHOUSE_PATH (and EXPORT_DIR) at a fresh warehouse to publish the service's data."
        )
    return None


def is_demo(connection: Any) -> bool:
    """True when the warehouse holds the demo's data (its outputs must say so)."""
    present = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'audit' "
        "AND table_name = 'warehouse_origin'"
    ).fetchall()[0][0]
    return bool(present) and bool(
        connection.execute(f"SELECT count(*) FROM {_TABLE} WHERE origin = ?", [DEMO]).fetchall()[0][0]
    )
