"""Disclosure control under attack: the published tables of small cases, searched over integers
by an attacker written here from what the tables print (not from the code that suppresses), find
no suppressed cell, and no small hidden count, with only one possible value.

The attacker knows: themes add up to services and services to the council (every count column);
in a row, on time <= due at each stage, upheld <= decided at each stage and for the Ombudsman,
Ombudsman decisions <= escalations; a part year's same months of the previous year <= that
year's received in the same row key (equal for a whole year); every count is a whole number >= 0; for
satisfaction, each breakdown's groups add up to the whole sample per question and column, and
valid + don't know is the same for every question of a group (nobody skipped one).
"""

from __future__ import annotations

import itertools
import random
from datetime import date
from pathlib import Path

import duckdb
import pytest

from exports.controlled_counts import COMPLAINTS, PREVIOUS_WAVE, SATISFACTION, controlled
from exports.disclosure import SUPPRESSED, Table, suppress

THRESHOLD = 5
PAIRS = (
    ("stage_1_due", "stage_1_on_time"),
    ("stage_2_due", "stage_2_on_time"),  # (whole, part): part <= whole, in a row
    ("stage_1_decided", "stage_1_upheld"),
    ("stage_2_decided", "stage_2_upheld"),
    ("ombudsman_decided", "ombudsman_upheld"),
    ("ombudsman_escalations", "ombudsman_decided"),
)
PERIODS = ("fin_2024_25", "fin_2025_26")  # a whole year, then a year to date compared with its same months
SAME = "same_months_previous_year_received"


# -- an integer search over what a table prints ---------------------------------------------------


class Attack:
    """Unknowns with bounds, linear equalities and '<=' pairs; which values can each unknown take?"""

    def __init__(self) -> None:
        self.unknowns: list[str] = []
        self.printed: dict[str, int] = {}  # unknowns the table prints: fixed to their value
        self.equalities: list[tuple[dict[str, int], int]] = []  # sum(k * x) = constant
        self.orders: list[tuple[str, str]] = []  # x <= y (names), with printed values as fixed unknowns

    def unknown(self, name: str) -> None:
        if name not in self.unknowns:
            self.unknowns.append(name)

    def possible(self, names: list[str], ceiling: int, enough: int = 2) -> dict[str, set[int]]:
        """For each name, its possible values (the search stops at ``enough`` per name)."""
        found: dict[str, set[int]] = {n: set() for n in names}
        for name in names:
            for value in range(ceiling + 1):
                if len(found[name]) >= enough:
                    break
                if value in found[name]:
                    continue
                solution = self._solve({name: value}, ceiling)
                if solution is not None:
                    for other in names:
                        found[other].add(solution[other])
        return found

    def differences(self, a: str, b: str, ceiling: int, enough: int = 2) -> set[int]:
        """The possible values of a - b (the search stops at ``enough``)."""
        found: set[int] = set()
        for gap in sorted(range(-ceiling, ceiling + 1), key=abs):
            if len(found) >= enough:
                break
            if self._solve({}, ceiling, [({a: 1, b: -1}, gap)]) is not None:
                found.add(gap)
        return found

    def _solve(
        self, fixed: dict[str, int], ceiling: int, extra: list[tuple[dict[str, int], int]] = ()
    ) -> dict[str, int] | None:
        if any(u in self.printed and fixed[u] != self.printed[u] for u in fixed):
            return None
        # the printed values substituted: the search runs over what is not printed
        free = [u for u in self.unknowns if u not in self.printed]
        bounds = {u: (fixed[u], fixed[u]) if u in fixed else (0, ceiling) for u in free}
        equalities = []
        for terms, constant in [*self.equalities, *extra]:
            rest = {n: k for n, k in terms.items() if n not in self.printed}
            constant -= sum(k * self.printed[n] for n, k in terms.items() if n in self.printed)
            if rest:
                equalities.append((rest, constant))
            elif constant:
                return None
        orders = []
        for small, large in self.orders:
            if small in self.printed and large in self.printed:
                if self.printed[small] > self.printed[large]:
                    return None
            elif small in self.printed:
                bounds[large] = (max(bounds[large][0], self.printed[small]), bounds[large][1])
            elif large in self.printed:
                bounds[small] = (bounds[small][0], min(bounds[small][1], self.printed[large]))
            else:
                orders.append((small, large))
        if any(low > high for low, high in bounds.values()):
            return None
        solution = self._search(bounds, self._system(equalities, orders))
        return None if solution is None else {**self.printed, **solution}

    @staticmethod
    def _system(equalities, orders) -> tuple[list, dict[str, list[int]]]:
        constraints = [("=", terms, constant) for terms, constant in equalities]
        constraints += [("<=", {small: 1, large: 1}, (small, large)) for small, large in orders]
        watching: dict[str, list[int]] = {}
        for index, (_, terms, _) in enumerate(constraints):
            for name in terms:
                watching.setdefault(name, []).append(index)
        return constraints, watching

    @staticmethod
    def _tighten(
        bounds: dict[str, tuple[int, int]], system, changed: str | None = None
    ) -> dict[str, tuple[int, int]] | None:
        """Bounds propagation: each constraint is revisited only when a bound it reads moved."""
        constraints, watching = system
        queue = list(range(len(constraints))) if changed is None else list(watching.get(changed, ()))
        queued = set(queue)
        while queue:
            index = queue.pop()
            queued.discard(index)
            kind, terms, constant = constraints[index]
            moved = []
            if kind == "<=":
                small, large = constant
                if bounds[small][1] > bounds[large][1]:
                    bounds[small] = (bounds[small][0], bounds[large][1])
                    moved.append(small)
                if bounds[large][0] < bounds[small][0]:
                    bounds[large] = (bounds[small][0], bounds[large][1])
                    moved.append(large)
                if bounds[small][0] > bounds[small][1] or bounds[large][0] > bounds[large][1]:
                    return None
            else:
                lows = {o: min(c * bounds[o][0], c * bounds[o][1]) for o, c in terms.items()}
                highs = {o: max(c * bounds[o][0], c * bounds[o][1]) for o, c in terms.items()}
                total_low, total_high = sum(lows.values()), sum(highs.values())
                for name, k in terms.items():
                    rest_low, rest_high = total_low - lows[name], total_high - highs[name]
                    low, high = sorted(((constant - rest_high) / k, (constant - rest_low) / k))
                    new = (max(bounds[name][0], int(-(-low // 1))), min(bounds[name][1], int(high // 1)))
                    if new[0] > new[1]:
                        return None
                    if new != bounds[name]:
                        bounds[name] = new
                        moved.append(name)
                        lows[name], highs[name] = min(k * new[0], k * new[1]), max(k * new[0], k * new[1])
                        total_low, total_high = sum(lows.values()), sum(highs.values())
            for name in moved:
                for other in watching[name]:
                    if other not in queued:
                        queued.add(other)
                        queue.append(other)
        return bounds

    def _search(self, bounds: dict[str, tuple[int, int]], system, changed: str | None = None) -> dict[str, int] | None:
        bounds = self._tighten(dict(bounds), system, changed)
        if bounds is None:
            return None
        open_ = [u for u in bounds if bounds[u][0] < bounds[u][1]]
        if not open_:
            solution = {u: b[0] for u, b in bounds.items()}
            constraints, _ = system
            ok = all(sum(k * solution[n] for n, k in t.items()) == c for kind, t, c in constraints if kind == "=")
            return (
                solution
                if ok
                and all(solution[a] <= solution[b] for kind, _, (a, b) in (c for c in constraints if c[0] == "<="))
                else None
            )
        name = min(open_, key=lambda u: bounds[u][1] - bounds[u][0])
        for value in range(bounds[name][0], bounds[name][1] + 1):
            result = self._search({**bounds, name: (value, value)}, system, name)
            if result is not None:
                return result
        return None


def _attack_complaints(published: list[dict], truth: list[dict]) -> list[str]:
    """Every suppressed count, and every small complement, that the search pins to one value."""
    attack, names, true_values = Attack(), {}, {}
    for row, real in zip(published, truth):
        key = (row["period_id"], row["service"], row["theme"])
        for column in COMPLAINTS.counts:
            if real[column] is None:  # no previous year: nothing printed
                continue
            name = f"{key}:{column}"
            attack.unknown(name)
            names[name] = row[column] == SUPPRESSED
            true_values[name] = real[column]
            if row[column] != SUPPRESSED:
                attack.printed[name] = row[column]
        for whole, part in PAIRS:
            attack.orders.append((f"{key}:{part}", f"{key}:{whole}"))
    same_months = []  # (the same months, the previous year's received, whether that is all of it)
    for row in published:
        key = (row["period_id"], row["service"], row["theme"])
        earlier = f"{(PERIODS[0], row['service'], row['theme'])}:received"
        if row["period_id"] == PERIODS[1] and earlier in names:
            same_months.append((f"{key}:{SAME}", earlier))
            if row["period_complete"]:
                attack.equalities.append(({f"{key}:{SAME}": 1, earlier: -1}, 0))
            else:
                attack.orders.append((f"{key}:{SAME}", earlier))
    for period in PERIODS:
        for column in COMPLAINTS.counts:
            rows = [r for r in published if r["period_id"] == period]
            services = sorted({r["service"] for r in rows} - {"all"})
            for service in services:
                themes = [
                    f"{(period, service, r['theme'])}:{column}"
                    for r in rows
                    if r["service"] == service and r["theme"] != "all"
                ]
                equation = {f"{(period, service, 'all')}:{column}": 1, **{t: -1 for t in themes}}
                if all(n in names for n in equation):
                    attack.equalities.append((equation, 0))
            equation = {
                f"{(period, 'all', 'all')}:{column}": 1,
                **{f"{(period, s, 'all')}:{column}": -1 for s in services},
            }
            if all(n in names for n in equation):
                attack.equalities.append((equation, 0))
    hidden = [n for n, suppressed in names.items() if suppressed]
    ceiling = max(r["received"] for r in truth) * 3
    found = attack.possible(hidden, ceiling)
    pinned = [n for n in hidden if len(found[n]) < 2]
    # complements: late answers, complaints not upheld, Ombudsman cases not decided and the
    # previous year's other months, where small, must not be pinned either
    gaps = []
    for row in published:
        key = (row["period_id"], row["service"], row["theme"])
        gaps += [(f"{key}:{whole}", f"{key}:{part}") for whole, part in PAIRS]
    gaps += [(earlier, same) for same, earlier in same_months]
    for a, b in gaps:
        gap = true_values[a] - true_values[b]
        if 0 < gap < THRESHOLD:
            if not (names[a] or names[b]):
                pinned.append(f"{a}-{b} printed as {gap}")
                continue
            differences = attack.differences(a, b, ceiling)
            if len(differences) < 2:
                pinned.append(f"{a}-{b} pinned to {differences}")
    return pinned


# -- small complaints tables, built the way the mart builds them ------------------------------------


def _leaf(generator: random.Random, period: str, service: str, theme: str) -> dict:
    received = generator.choice([0, 1, 2, 3, 5, 6, 8, 12])
    due_1 = generator.randint(0, received)
    due_2 = generator.randint(0, due_1)
    decided_1, decided_2 = generator.randint(0, due_1), generator.randint(0, due_2)
    escalations = generator.randint(0, due_2)
    ombudsman_decided = generator.choice([escalations, max(escalations - 1, 0), generator.randint(0, escalations)])

    def upheld(decided: int) -> int:
        return generator.choice([decided, max(decided - 1, 0), generator.randint(0, decided)])

    return {
        "period_id": period,
        "service": service,
        "theme": theme,
        "received": received,
        SAME: None,
        "stage_1_due": due_1,
        "stage_1_on_time": generator.randint(0, due_1),
        "stage_2_due": due_2,
        "stage_2_on_time": generator.randint(0, due_2),
        "stage_1_decided": decided_1,
        "stage_1_upheld": upheld(decided_1),
        "stage_2_decided": decided_2,
        "stage_2_upheld": upheld(decided_2),
        "ombudsman_decided": ombudsman_decided,
        "ombudsman_upheld": upheld(ombudsman_decided),
        "ombudsman_escalations": escalations,
    }


def complaints_table(seed: int) -> list[dict]:
    """Two periods of the mart's columns: a whole year, then a year to date whose same months of
    the previous year are part of that year's received (every third seed: a second whole year,
    whose "same months" are the whole previous year, reprinted)."""
    generator = random.Random(seed)
    whole_years = seed % 3 == 0
    leaves = []
    for period in PERIODS:
        for service, theme in itertools.product(("Housing", "Waste"), ("Repairs", "Staff")):
            leaf = _leaf(generator, period, service, theme)
            if period == PERIODS[1]:
                earlier = next(
                    r for r in leaves if (r["period_id"], r["service"], r["theme"]) == (PERIODS[0], service, theme)
                )
                leaf[SAME] = (
                    earlier["received"]
                    if whole_years
                    else generator.choice(
                        [
                            earlier["received"],
                            max(earlier["received"] - 1, 0),
                            generator.randint(0, earlier["received"]),
                        ]
                    )
                )
            leaves.append(leaf)
    rows = leaves + [
        {**leaves[0], "period_id": period, "service": service, "theme": "all"}
        for period in PERIODS
        for service in ("Housing", "Waste", "all")
    ]
    for row in rows:
        complete = whole_years or row["period_id"] == PERIODS[0]
        year = int(row["period_id"][4:8])
        row.update(
            coverage_start=date(year, 4, 1),
            coverage_end=date(year + 1, 3, 31) if complete else date(year, 12, 31),
            period_complete=complete,
        )
    _retotal(rows)
    return sorted(rows, key=lambda r: (r["period_id"], r["service"], r["theme"]))


def _retotal(rows: list[dict]) -> None:
    """Service and council rows summed again from the themes, and every percentage recomputed."""
    for total in (r for r in rows if r["theme"] == "all"):
        members = [
            r
            for r in rows
            if r["period_id"] == total["period_id"]
            and r["theme"] != "all"
            and total["service"] in ("all", r["service"])
        ]
        total.update({c: None if members[0][c] is None else sum(r[c] for r in members) for c in COMPLAINTS.counts})
    for row in rows:
        row["received_per_10000_residents"] = row["received"] / 2.0
        for column, sources in COMPLAINTS.derived.items():
            if len(sources) == 2:
                whole, part = sources
                row[column] = 100.0 * row[part] / row[whole] if row[whole] else None


def _mart(tmp_path: Path, name: str, rows: list[dict]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
    connection.execute("CREATE SCHEMA marts")
    columns = list(rows[0])

    def sql_type(column: str) -> str:
        values = [r[column] for r in rows if r[column] is not None]
        return (
            "BOOLEAN"
            if values and isinstance(values[0], bool)
            else "DATE"
            if values and isinstance(values[0], date)
            else "DOUBLE"
            if any(isinstance(v, float) for v in values)
            else "BIGINT"
            if values and isinstance(values[0], int)
            else "VARCHAR"
        )

    connection.execute(f"CREATE TABLE marts.{name} ({', '.join(f'{c} {sql_type(c)}' for c in columns)})")
    connection.executemany(
        f"INSERT INTO marts.{name} VALUES ({', '.join('?' * len(columns))})", [[r[c] for c in columns] for r in rows]
    )
    return connection


KEY = ("period_id", "service", "theme")


def _in_truth_order(published: list[dict], truth: list[dict]) -> list[dict]:
    by_key = {tuple(r[k] for k in KEY): r for r in published}
    return [by_key[tuple(r[k] for k in KEY)] for r in truth]


@pytest.mark.parametrize("seed", range(12))
def test_no_suppressed_complaint_count_can_be_worked_back(tmp_path, seed):
    truth = complaints_table(seed)
    with _mart(tmp_path, "complaints_summary", truth) as connection:
        published = _in_truth_order(controlled(connection, "complaints_summary", THRESHOLD).rows, truth)
    printed = [r[c] for r in published for c in COMPLAINTS.counts if r[c] not in (SUPPRESSED, None)]
    assert not [n for n in printed if 0 < n < THRESHOLD]
    assert _attack_complaints(published, truth) == []
    for row, real in zip(published, truth):
        if 0 < real["received"] < THRESHOLD:  # a small group: nothing about it, not even a 0 or a 100%
            assert all(
                row[c] == SUPPRESSED
                for c in (*COMPLAINTS.counts, *COMPLAINTS.derived)
                if c != SAME and real[c] is not None
            ), row
        for column, sources in COMPLAINTS.derived.items():
            if any(row[s] == SUPPRESSED for s in sources):
                assert row[column] == SUPPRESSED
    earlier = {(r["service"], r["theme"]): r for r in published if r["period_id"] == PERIODS[0]}
    for row, _real in zip(published, truth):  # a small year hides its same months, printed a year later
        before = next(
            (
                t
                for t in truth
                if (t["period_id"], t["service"], t["theme"]) == (PERIODS[0], row["service"], row["theme"])
            ),
            None,
        )
        if row["period_id"] == PERIODS[1] and before is not None and 0 < before["received"] < THRESHOLD:
            assert earlier[(row["service"], row["theme"])]["received"] == SUPPRESSED
            assert row[SAME] == SUPPRESSED, row  # a 0 too: none of those few in these months


def test_six_decided_and_five_upheld_does_not_print_the_one_not_upheld(tmp_path):
    truth = complaints_table(3)
    key = (PERIODS[1], "Housing", "Repairs")
    for row in truth:  # one theme: 6 decided at stage 1, 5 upheld; the totals follow
        if tuple(row[k] for k in KEY) == key:
            row.update(received=8, stage_1_due=7, stage_1_on_time=4, stage_1_decided=6, stage_1_upheld=5)
    _retotal(truth)
    with _mart(tmp_path, "complaints_summary", truth) as connection:
        published = _in_truth_order(controlled(connection, "complaints_summary", THRESHOLD).rows, truth)
    row = next(r for r in published if tuple(r[k] for k in KEY) == key)
    assert SUPPRESSED in (row["stage_1_decided"], row["stage_1_upheld"]) and row["stage_1_percent_upheld"] == SUPPRESSED
    assert _attack_complaints(published, truth) == []


def test_an_overdue_complaint_never_answered_is_a_late_one_disclosure_protects(tmp_path):
    """due = on time + late, the late including the overdue not yet answered: 9 due and 8 on time
    would say 1 is late, so one of them is withheld, and the percentage with it."""
    truth = complaints_table(5)
    key = (PERIODS[1], "Waste", "Staff")
    for row in truth:
        if tuple(row[k] for k in KEY) == key:
            row.update(received=12, stage_1_due=9, stage_1_on_time=8, stage_1_decided=6, stage_1_upheld=0)
    _retotal(truth)
    with _mart(tmp_path, "complaints_summary", truth) as connection:
        published = _in_truth_order(controlled(connection, "complaints_summary", THRESHOLD).rows, truth)
    row = next(r for r in published if tuple(r[k] for k in KEY) == key)
    assert SUPPRESSED in (row["stage_1_due"], row["stage_1_on_time"]) and row["stage_1_percent_on_time"] == SUPPRESSED
    assert _attack_complaints(published, truth) == []


def test_a_whole_year_reprinted_as_the_same_months_gives_no_withheld_count_back(tmp_path):
    """Housing's 3 repairs complaints of 2024/25 are withheld, and with them its 20 about staff
    (23 - 20 would give the 3 back); 2025/26 is a whole year too, so its same months of the
    previous year reprint 2024/25's received: neither the 3 nor the 20 may be read there."""
    truth = complaints_table(0)
    assert all(r["period_complete"] for r in truth)
    counts = {("Housing", "Repairs"): 3, ("Housing", "Staff"): 20}
    for row in truth:
        key = (row["service"], row["theme"])
        if key in counts and row["period_id"] == PERIODS[0]:
            row.update({c: 0 for c in COMPLAINTS.counts if c != SAME}, received=counts[key])
        elif key in counts:
            row[SAME] = counts[key]
    _retotal(truth)
    with _mart(tmp_path, "complaints_summary", truth) as connection:
        published = _in_truth_order(controlled(connection, "complaints_summary", THRESHOLD).rows, truth)
    shown = {tuple(r[k] for k in KEY): r for r in published}
    assert shown[(PERIODS[0], "Housing", "Repairs")]["received"] == SUPPRESSED
    assert shown[(PERIODS[1], "Housing", "Repairs")][SAME] == SUPPRESSED
    assert SUPPRESSED in (
        shown[(PERIODS[0], "Housing", "Staff")]["received"],
        shown[(PERIODS[0], "Housing", "all")]["received"],
    )
    assert (
        shown[(PERIODS[1], "Housing", "Staff")][SAME] == SUPPRESSED
        or shown[(PERIODS[1], "Housing", "all")][SAME] == SUPPRESSED
    )
    assert _attack_complaints(published, truth) == []


# -- satisfaction: groups, questions and the previous wave ----------------------------------------

QUESTIONS = ("q_local_area", "q_runs_things", "q_trust")


def _satisfaction_table(seed: int) -> list[dict]:
    generator = random.Random(seed)
    rows = []
    for wave in (date(2024, 10, 1), date(2025, 10, 1)):
        people = {g: generator.choice([2, 4, 7, 12, 30]) for g in ("Female", "Male", "Prefer not to say")}
        for question in QUESTIONS:
            groups = {}
            for group, size in people.items():
                dont_know = generator.choice([0, 0, 1, 2, 3, 6]) if size > 6 else generator.randint(0, size)
                groups[group] = (size - dont_know, dont_know)
            groups["all"] = tuple(map(sum, zip(*groups.values())))
            for group, (valid, dont_know) in groups.items():
                percent = round(100.0 * generator.randint(0, valid) / valid, 2) if valid else None
                whole = group == "all"
                p_value = round(generator.random(), 4) if valid and not whole else None
                rows.append(
                    {
                        "survey": "s",
                        "wave_start": wave,
                        "wave_end": wave,
                        "question": question,
                        "breakdown": "all" if whole else "sex",
                        "breakdown_value": "all" if whole else group,
                        "unweighted_n": valid,
                        "dont_know_n": dont_know,
                        "weighted_base": float(valid),
                        "effective_n": float(valid),
                        "percent_positive": percent,
                        "ci_lower": percent,
                        "ci_upper": percent,
                        "benchmark_percent": 60.0 if whole else None,
                        "benchmark_round": "R28" if whole else None,
                        "benchmark_fieldwork_month": date(2021, 2, 1) if whole else None,
                        "benchmark_age_months": 44 + 12 * (wave.year - 2024) if whole else None,
                        "benchmark_stale": True if whole else None,
                        "benchmark_difference": percent - 60.0 if whole and percent is not None else None,
                        "benchmark_significant": False if whole and percent is not None else None,
                        "benchmark_statement": "no clear difference from the national poll of February 2021 (a "
                        "different method, and 44 months before this survey; compare with caution)"
                        if whole and percent is not None
                        else None,
                        "previous_wave_percent": None,
                        "change_vs_previous_wave": None,
                        "change_significant": None,
                        "change_p_value": None,
                        "change_significant_fdr": None,
                        "change_tests_in_family": None,
                        "change_statement": "no previous wave",
                        "difference_from_rest": float(generator.randint(-30, 30)) if p_value is not None else None,
                        "difference_p_value": p_value,
                        "difference_significant_fdr": None if whole else p_value is not None and p_value < 0.01,
                        "tests_in_family": None if whole else 3 * len(QUESTIONS),
                        "fdr_level": None if whole else 0.05,
                    }
                )
    earlier = {(r["question"], r["breakdown_value"]): r for r in rows if r["wave_start"].year == 2024}
    for row in rows:
        before = earlier.get((row["question"], row["breakdown_value"])) if row["wave_start"].year == 2025 else None
        if before and before["percent_positive"] is not None and row["percent_positive"] is not None:
            row.update(
                previous_wave_percent=before["percent_positive"],
                change_vs_previous_wave=row["percent_positive"] - before["percent_positive"],
                change_significant=False,
                change_p_value=0.5,
                change_significant_fdr=False,
                change_statement="no significant change",
            )
    return rows


def _attack_satisfaction(published: list[dict], truth: list[dict]) -> list[str]:
    attack, hidden, small = Attack(), [], []
    for row, real in zip(published, truth):
        key = (row["wave_start"].year, row["question"], row["breakdown_value"])
        for column in ("unweighted_n", "dont_know_n"):
            name = f"{key}:{column}"
            attack.unknown(name)
            if row[column] == SUPPRESSED:
                hidden.append(name)
            else:
                attack.equalities.append(({name: 1}, row[column]))
        if 0 < real["unweighted_n"] + real["dont_know_n"] < THRESHOLD:
            small.append(key)
    for year, question in {(r["wave_start"].year, r["question"]) for r in published}:
        groups = [
            r["breakdown_value"]
            for r in published
            if (r["wave_start"].year, r["question"]) == (year, question) and r["breakdown"] == "sex"
        ]
        for column in ("unweighted_n", "dont_know_n"):
            attack.equalities.append(
                (
                    {
                        f"{(year, question, 'all')}:{column}": 1,
                        **{f"{(year, question, g)}:{column}": -1 for g in groups},
                    },
                    0,
                )
            )
    for year, group in {(r["wave_start"].year, r["breakdown_value"]) for r in published}:
        for a, b in itertools.pairwise(QUESTIONS):  # the same respondents answer every question
            attack.equalities.append(
                (
                    {
                        f"{(year, a, group)}:unweighted_n": 1,
                        f"{(year, a, group)}:dont_know_n": 1,
                        f"{(year, b, group)}:unweighted_n": -1,
                        f"{(year, b, group)}:dont_know_n": -1,
                    },
                    0,
                )
            )
    ceiling = max(r["unweighted_n"] + r["dont_know_n"] for r in truth) * 2
    found = attack.possible(hidden, ceiling)
    return [n for n in hidden if len(found[n]) < 2] + [
        f"{k} has fewer than {THRESHOLD} respondents but is printed" for k in small if f"{k}:unweighted_n" not in hidden
    ]


@pytest.mark.parametrize("seed", range(8))
def test_no_suppressed_respondent_count_can_be_worked_back_across_groups_questions_or_waves(tmp_path, seed):
    truth = _satisfaction_table(seed)
    with _mart(tmp_path, "resident_satisfaction", truth) as connection:
        published = controlled(connection, "resident_satisfaction", THRESHOLD).rows
    by_key = {(r["wave_start"], r["question"], r["breakdown_value"]): r for r in published}
    published = [by_key[(r["wave_start"], r["question"], r["breakdown_value"])] for r in truth]
    printed = [r[c] for r in published for c in SATISFACTION.counts if r[c] != SUPPRESSED]
    assert not [n for n in printed if 0 < n < THRESHOLD]
    assert _attack_satisfaction(published, truth) == []
    previous = {(r["question"], r["breakdown_value"]): r for r in published if r["wave_start"].year == 2024}
    for row in published:
        if row["unweighted_n"] == SUPPRESSED:  # a percentage over a withheld base is withheld (a 0% or 100% included)
            assert row["percent_positive"] == row["ci_lower"] == row["weighted_base"] == SUPPRESSED
            # and so is the group's comparison with the rest of the sample, significant or not
            assert (
                row["difference_from_rest"]
                == row["difference_p_value"]
                == row["difference_significant_fdr"]
                == SUPPRESSED
            )
        # the number of comparisons counts every group row, so it is printed and gives nothing away
        assert row["tests_in_family"] == (None if row["breakdown"] == "all" else 3 * len(QUESTIONS))
        before = previous.get((row["question"], row["breakdown_value"])) if row["wave_start"].year == 2025 else None
        if before and before["unweighted_n"] == SUPPRESSED and row["previous_wave_percent"] is not None:
            assert all(row[c] == SUPPRESSED for c in PREVIOUS_WAVE), (
                row
            )  # the earlier wave's figure, reprinted, gives it back


# -- the engine's rules on their own -----------------------------------------------------------------


def test_small_counts_are_suppressed_and_a_true_zero_is_not():
    table = Table()
    for key, value in {"a": 3, "b": 0, "c": 5}.items():
        table.count((key, "n"), value)
    assert suppress(table, THRESHOLD) == {("a", "n")}


def test_a_total_cannot_give_back_its_only_suppressed_part():
    table = Table()
    for key, value in {"total": 30, "x": 3, "y": 12, "z": 15}.items():
        table.count((key, "n"), value)
    table.relate({("total", "n"): 1, ("x", "n"): -1, ("y", "n"): -1, ("z", "n"): -1})
    assert suppress(table, THRESHOLD) == {("x", "n"), ("y", "n")}  # the next smallest goes with it


def test_a_small_complement_that_is_never_printed_is_protected():
    table = Table()
    table.count(("r", "decided"), 6)
    table.count(("r", "upheld"), 5)
    table.count(("r", "not_upheld"), 1, printed=False)
    table.relate({("r", "decided"): 1, ("r", "upheld"): -1, ("r", "not_upheld"): -1})
    hidden = suppress(table, THRESHOLD)
    assert len(hidden) == 1 and hidden <= {("r", "decided"), ("r", "upheld")}
