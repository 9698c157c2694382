"""Complaints by ward under attack: published beside complaints_summary, the wards (which add up
to the council's total there) give back no withheld count, and print no count of 1-4.

The attacker knows: a year's wards add up to its council row; the council row is the summary's
council total (printed there, or withheld there); on time <= due <= received in a row; every
count is a whole number >= 0."""

from __future__ import annotations

import random

import duckdb
import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from exports.controlled_counts import COMPLAINTS, WARDS, controlled
from exports.disclosure import SUPPRESSED
from tests.exports.test_disclosure import PERIODS, THRESHOLD, complaints_table

WARD_NAMES = ("Altrincham", "Bowdon", "Hale Barns", "Village", "Not known")


def _insert(connection: duckdb.DuckDBPyConnection, name: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    types = {
        c: "VARCHAR"
        if any(isinstance(r[c], str) for r in rows)
        else "BOOLEAN"
        if isinstance(rows[0][c], bool)
        else "DATE"
        if hasattr(rows[0][c], "isoformat")
        else "DOUBLE"
        if any(isinstance(r[c], float) for r in rows)
        else "BIGINT"
        for c in columns
    }
    connection.execute(f"CREATE TABLE marts.{name} ({', '.join(f'{c} {types[c]}' for c in columns)})")
    connection.executemany(
        f"INSERT INTO marts.{name} VALUES ({', '.join('?' * len(columns))})", [[r[c] for c in columns] for r in rows]
    )


def _split(generator: random.Random, total: int, parts: int) -> list[int]:
    cuts = sorted(generator.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total])]


def _ward_table(summary: list[dict], seed: int) -> list[dict]:
    """The council totals of ``summary`` shared among the wards, on time <= due <= received in each."""
    generator = random.Random(seed)
    rows = []
    for council in (r for r in summary if r["service"] == "all" and r["theme"] == "all"):
        while True:
            received = _split(generator, council["received"], len(WARD_NAMES))
            due = _split(generator, council["stage_1_due"], len(WARD_NAMES))
            on_time = _split(generator, council["stage_1_on_time"], len(WARD_NAMES))
            if all(o <= d <= r for o, d, r in zip(on_time, due, received)):
                break
        common = {k: council[k] for k in ("period_id", "coverage_start", "coverage_end", "period_complete")}
        for ward, r, d, o in [
            *zip(WARD_NAMES, received, due, on_time),
            ("all", council["received"], council["stage_1_due"], council["stage_1_on_time"]),
        ]:
            rows.append(
                {
                    **common,
                    "ward": ward,
                    "received": r,
                    "received_per_10000_residents": r / 2.0,
                    "stage_1_due": d,
                    "stage_1_on_time": o,
                    "stage_1_percent_on_time": 100.0 * o / d if d else None,
                }
            )
    return rows


def _published(tmp_path, summary: list[dict], wards: list[dict]) -> tuple[dict, dict]:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("CREATE SCHEMA marts")
        _insert(connection, "complaints_summary", summary)
        _insert(connection, "complaints_by_ward", wards)
        by_ward = controlled(connection, "complaints_by_ward", THRESHOLD)
        councils = controlled(connection, "complaints_summary", THRESHOLD)
    return (
        {(r["period_id"], r["ward"]): r for r in by_ward.rows},
        {r["period_id"]: r for r in councils.rows if r["service"] == "all" and r["theme"] == "all"},
    )


class _Attacker:
    """Integer bounds of unknowns under equalities and '<=' pairs, by mixed-integer programming
    (the engine's audit is not reused: this is formulated from what the tables print)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.printed: dict[str, int] = {}
        self.rows: list[dict[str, int]] = []  # sum(k * x) == 0
        self.orders: list[tuple[str, str]] = []  # x <= y

    def unknown(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)

    def range_of(self, terms: dict[str, int], ceiling: int) -> tuple[int, int]:
        index = {n: i for i, n in enumerate(self.names)}
        constraints = []
        for row in self.rows:
            a = np.zeros(len(self.names))
            for n, k in row.items():
                a[index[n]] = k
            constraints.append(LinearConstraint(a, 0, 0))
        for small, large in self.orders:
            a = np.zeros(len(self.names))
            a[index[small]], a[index[large]] = 1, -1
            constraints.append(LinearConstraint(a, -np.inf, 0))
        low = np.array([self.printed.get(n, 0) for n in self.names], dtype=float)
        high = np.array([self.printed.get(n, ceiling) for n in self.names], dtype=float)
        objective = np.zeros(len(self.names))
        for n, k in terms.items():
            objective[index[n]] = k
        ends = []
        for sign in (1, -1):
            result = milp(
                sign * objective,
                constraints=constraints,
                integrality=np.ones(len(self.names)),
                bounds=Bounds(low, high),
            )
            assert result.status == 0
            ends.append(round(sign * result.fun))
        return ends[0], ends[1]


def _pinned(wards: dict, councils: dict, truth: list[dict]) -> list[str]:
    """Withheld ward or council counts, and small late counts, that the attacker pins to one value."""
    attack, withheld, true_values = _Attacker(), [], {}
    for period in PERIODS:
        for column in WARDS.counts:
            council = f"{period}:council:{column}"
            attack.unknown(council)
            true_values[council] = next(r[column] for r in truth if r["period_id"] == period and r["ward"] == "all")
            if councils[period][column] == SUPPRESSED:
                withheld.append(council)
            else:
                attack.printed[council] = councils[period][column]
            members = {}
            for ward in (*WARD_NAMES, "all"):
                name = f"{period}:{ward}:{column}"
                attack.unknown(name)
                true_values[name] = next(r[column] for r in truth if r["period_id"] == period and r["ward"] == ward)
                if wards[(period, ward)][column] == SUPPRESSED:
                    withheld.append(name)
                else:
                    attack.printed[name] = wards[(period, ward)][column]
                members[name] = -1 if ward != "all" else 1
            attack.rows.append(members)
            attack.rows.append({f"{period}:all:{column}": 1, council: -1})
        for ward in (*WARD_NAMES, "all"):
            attack.orders.append((f"{period}:{ward}:stage_1_on_time", f"{period}:{ward}:stage_1_due"))
            attack.orders.append((f"{period}:{ward}:stage_1_due", f"{period}:{ward}:received"))
    ceiling = 3 * max(true_values.values())
    pinned = [n for n in withheld if len(set(attack.range_of({n: 1}, ceiling))) < 2]
    for period in PERIODS:
        for ward in WARD_NAMES:
            due, on_time = f"{period}:{ward}:stage_1_due", f"{period}:{ward}:stage_1_on_time"
            if 0 < true_values[due] - true_values[on_time] < THRESHOLD:
                if len(set(attack.range_of({due: 1, on_time: -1}, ceiling))) < 2:
                    pinned.append(f"{due} - {on_time}")
    return pinned


@pytest.mark.parametrize("seed", range(8))
def test_no_withheld_ward_count_can_be_worked_back_from_the_council_total(tmp_path, seed):
    summary = complaints_table(seed)
    truth = _ward_table(summary, seed)
    wards, councils = _published(tmp_path, summary, truth)
    printed = [r[c] for r in wards.values() for c in WARDS.counts if r[c] != SUPPRESSED]
    assert not [n for n in printed if 0 < n < THRESHOLD]
    assert _pinned(wards, councils, truth) == []
    for period, council in councils.items():  # the council row prints what the summary prints
        assert all(wards[(period, "all")][c] == council[c] for c in WARDS.counts)


def test_one_small_ward_takes_another_with_it_and_figures_from_withheld_counts_go_too(tmp_path):
    """Council 30 printed; Bowdon's 2 is withheld, so the smallest other ward (Village, 6) is
    withheld too: 30 - 12 - 10 = 8 could be 2 + 6 or 3 + 5 or ..."""
    summary = [r for r in complaints_table(0) if r["period_id"] == PERIODS[0]]
    council = next(r for r in summary if r["service"] == "all" and r["theme"] == "all")
    council.update(received=30, stage_1_due=20, stage_1_on_time=10)
    for row in summary:  # keep the summary's own relations true: one service, one theme, all of it
        if row is not council:
            row.update({c: council[c] for c in COMPLAINTS.counts})
    summary = [r for r in summary if r["service"] in ("all", "Housing") and r["theme"] in ("all", "Repairs")]
    common = {k: council[k] for k in ("period_id", "coverage_start", "coverage_end", "period_complete")}
    truth = [
        {
            **common,
            "ward": w,
            "received": r,
            "received_per_10000_residents": r / 2.0,
            "stage_1_due": d,
            "stage_1_on_time": o,
            "stage_1_percent_on_time": 100.0 * o / d if d else None,
        }
        for w, r, d, o in (
            ("Altrincham", 12, 8, 4),
            ("Bowdon", 2, 0, 0),
            ("Hale Barns", 10, 6, 3),
            ("Village", 6, 6, 3),
            ("all", 30, 20, 10),
        )
    ]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("CREATE SCHEMA marts")
        _insert(connection, "complaints_summary", summary)
        _insert(connection, "complaints_by_ward", truth)
        rows = {r["ward"]: r for r in controlled(connection, "complaints_by_ward", THRESHOLD).rows}
    assert rows["Bowdon"]["received"] == rows["Bowdon"]["received_per_10000_residents"] == SUPPRESSED
    assert rows["Village"]["received"] == SUPPRESSED
    assert (rows["Altrincham"]["received"], rows["Hale Barns"]["received"], rows["all"]["received"]) == (12, 10, 30)
    assert rows["Altrincham"]["received_per_10000_residents"] == 6.0
