"""Disclosure control under attack: the published tables of small cases, searched over integers
by an attacker written here from what the tables print (not from the code that suppresses), find
no suppressed cell, and no small hidden count, with only one possible value.

The attacker knows: themes add up to services and services to the council (every count column);
upheld <= decided and within target <= answered in a row; every count is a whole number >= 0; for
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
PAIRS = (("stage_1_answered", "stage_1_within_target"), ("stage_2_answered", "stage_2_within_target"), ("decided", "upheld"))


# -- an integer search over what a table prints ---------------------------------------------------

class Attack:
    """Unknowns with bounds, linear equalities and '<=' pairs; which values can each unknown take?"""

    def __init__(self) -> None:
        self.unknowns: list[str] = []
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

    def _solve(self, fixed: dict[str, int], ceiling: int) -> dict[str, int] | None:
        bounds = {u: (fixed[u], fixed[u]) if u in fixed else (0, ceiling) for u in self.unknowns}
        return self._search(bounds)

    def _tighten(self, bounds: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]] | None:
        changed = True
        while changed:
            changed = False
            for terms, constant in self.equalities:
                for name, k in terms.items():
                    rest_low = sum(min(c * bounds[o][0], c * bounds[o][1]) for o, c in terms.items() if o != name)
                    rest_high = sum(max(c * bounds[o][0], c * bounds[o][1]) for o, c in terms.items() if o != name)
                    low, high = sorted(((constant - rest_high) / k, (constant - rest_low) / k))
                    new = (max(bounds[name][0], -(-low // 1)), min(bounds[name][1], high // 1))
                    if new[0] > new[1]:
                        return None
                    if new != bounds[name]:
                        bounds[name], changed = (int(new[0]), int(new[1])), True
            for small, large in self.orders:
                if bounds[small][1] > bounds[large][1]:
                    bounds[small], changed = (bounds[small][0], bounds[large][1]), True
                if bounds[large][0] < bounds[small][0]:
                    bounds[large], changed = (bounds[small][0], bounds[large][1]), True
                if bounds[small][0] > bounds[small][1] or bounds[large][0] > bounds[large][1]:
                    return None
        return bounds

    def _search(self, bounds: dict[str, tuple[int, int]]) -> dict[str, int] | None:
        bounds = self._tighten(dict(bounds))
        if bounds is None:
            return None
        open_ = [u for u in self.unknowns if bounds[u][0] < bounds[u][1]]
        if not open_:
            solution = {u: b[0] for u, b in bounds.items()}
            ok = all(sum(k * solution[n] for n, k in t.items()) == c for t, c in self.equalities)
            return solution if ok and all(solution[a] <= solution[b] for a, b in self.orders) else None
        name = min(open_, key=lambda u: bounds[u][1] - bounds[u][0])
        for value in range(bounds[name][0], bounds[name][1] + 1):
            result = self._search({**bounds, name: (value, value)})
            if result is not None:
                return result
        return None


def _attack_complaints(published: list[dict], truth: list[dict]) -> list[str]:
    """Every suppressed count, and every small complement, that the search pins to one value."""
    attack, names, true_values = Attack(), {}, {}
    for row, real in zip(published, truth):
        key = (row["service"], row["theme"])
        for column in COMPLAINTS.counts:
            name = f"{key}:{column}"
            attack.unknown(name)
            names[name] = row[column] == SUPPRESSED
            true_values[name] = real[column]
            if row[column] != SUPPRESSED:
                attack.equalities.append(({name: 1}, row[column]))
        for whole, part in PAIRS:
            attack.orders.append((f"{key}:{part}", f"{key}:{whole}"))
    for column in COMPLAINTS.counts:
        services = sorted({r["service"] for r in published} - {"all"})
        for service in services:
            themes = [f"{(service, r['theme'])}:{column}" for r in published if r["service"] == service and r["theme"] != "all"]
            attack.equalities.append(({f"{(service, 'all')}:{column}": 1, **{t: -1 for t in themes}}, 0))
        attack.equalities.append(({f"{('all', 'all')}:{column}": 1, **{f"{(s, 'all')}:{column}": -1 for s in services}}, 0))
    hidden = [n for n, suppressed in names.items() if suppressed]
    ceiling = max(r["received"] for r in truth) * 3
    found = attack.possible(hidden, ceiling)
    pinned = [n for n in hidden if len(found[n]) < 2]
    # complements: late answers and complaints not upheld, where small, must not be pinned either
    for row, real in zip(published, truth):
        key = (row["service"], row["theme"])
        for whole, part in PAIRS:
            gap = real[whole] - real[part]
            if 0 < gap < THRESHOLD:
                a, b = f"{key}:{whole}", f"{key}:{part}"
                if not (names[a] or names[b]):
                    pinned.append(f"{key}:{whole}-{part} printed as {gap}")
                    continue
                differences = set()
                for value in range(ceiling + 1):
                    for other in range(ceiling + 1):
                        if len(differences) > 1:
                            break
                        if value - other not in differences and attack._solve({a: value, b: other}, ceiling) is not None:
                            differences.add(value - other)
                if len(differences) < 2:
                    pinned.append(f"{key}:{whole}-{part} pinned to {differences}")
    return pinned


# -- small complaints tables, built the way the mart builds them ------------------------------------

def _complaints_table(seed: int) -> list[dict]:
    generator = random.Random(seed)
    leaves = []
    for service, theme in itertools.product(("Housing", "Waste"), ("Repairs", "Staff")):
        received = generator.choice([0, 1, 2, 3, 5, 6, 8, 12])
        s1 = generator.randint(0, received)
        s2 = generator.randint(0, s1)
        decided = generator.randint(0, received)
        leaves.append({"period_id": "fin_2025_26", "service": service, "theme": theme, "received": received,
                       "stage_1_answered": s1, "stage_1_within_target": generator.randint(0, s1), "stage_2_answered": s2,
                       "stage_2_within_target": generator.randint(0, s2), "decided": decided,
                       "upheld": generator.choice([decided, max(decided - 1, 0), generator.randint(0, decided)]),
                       "ombudsman_escalations": generator.randint(0, s2)})
    rows = list(leaves)
    for service in ("Housing", "Waste", "all"):
        members = [r for r in leaves if service in ("all", r["service"])]
        rows.append({"period_id": "fin_2025_26", "service": service, "theme": "all",
                     **{c: sum(r[c] for r in members) for c in COMPLAINTS.counts}})
    for row in rows:
        row["received_per_10000_residents"] = row["received"] / 2.0
        for number, (whole, part) in zip((1, 2), PAIRS[:2]):
            row[f"stage_{number}_percent_within_target"] = 100.0 * row[part] / row[whole] if row[whole] else None
        row["percent_upheld"] = 100.0 * row["upheld"] / row["decided"] if row["decided"] else None
    return sorted(rows, key=lambda r: (r["service"], r["theme"]))


def _mart(tmp_path: Path, name: str, rows: list[dict]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
    connection.execute("CREATE SCHEMA marts")
    columns = list(rows[0])
    types = {c: "DATE" if isinstance(rows[0][c], date) else "DOUBLE" if any(isinstance(r[c], float) for r in rows)
             else "BIGINT" if isinstance(rows[0][c], int) else "VARCHAR" for c in columns}
    connection.execute(f"CREATE TABLE marts.{name} ({', '.join(f'{c} {types[c]}' for c in columns)})")
    connection.executemany(f"INSERT INTO marts.{name} VALUES ({', '.join('?' * len(columns))})", [[r[c] for c in columns] for r in rows])
    return connection


@pytest.mark.parametrize("seed", range(12))
def test_no_suppressed_complaint_count_can_be_worked_back(tmp_path, seed):
    truth = _complaints_table(seed)
    with _mart(tmp_path, "complaints_summary", truth) as connection:
        published = controlled(connection, "complaints_summary", THRESHOLD).rows
    by_key = {(r["service"], r["theme"]): r for r in published}
    published = [by_key[(r["service"], r["theme"])] for r in truth]
    printed = [r[c] for r in published for c in COMPLAINTS.counts if r[c] != SUPPRESSED]
    assert not [n for n in printed if 0 < n < THRESHOLD]
    assert _attack_complaints(published, truth) == []
    for row, real in zip(published, truth):
        if 0 < real["received"] < THRESHOLD:  # a small group: nothing about it, not even a 0 or a 100%
            assert all(row[c] == SUPPRESSED for c in (*COMPLAINTS.counts, *COMPLAINTS.derived)
                       if c not in ("stage_1_percent_within_target", "stage_2_percent_within_target", "percent_upheld")
                       or real[c] is not None), row
        for column, sources in COMPLAINTS.derived.items():
            if any(row[s] == SUPPRESSED for s in sources):
                assert row[column] == SUPPRESSED


def test_six_decided_and_five_upheld_does_not_print_the_one_not_upheld(tmp_path):
    truth = _complaints_table(3)
    for row in truth:  # one theme: 6 decided, 5 upheld; the totals follow
        if (row["service"], row["theme"]) == ("Housing", "Repairs"):
            row.update(received=8, decided=6, upheld=5)
    for service in ("Housing", "all"):
        total = next(r for r in truth if r["service"] == service and r["theme"] == "all")
        members = [r for r in truth if r["theme"] != "all" and service in ("all", r["service"])]
        total.update({c: sum(r[c] for r in members) for c in COMPLAINTS.counts})
    with _mart(tmp_path, "complaints_summary", truth) as connection:
        published = controlled(connection, "complaints_summary", THRESHOLD).rows
    row = next(r for r in published if (r["service"], r["theme"]) == ("Housing", "Repairs"))
    assert SUPPRESSED in (row["decided"], row["upheld"]) and row["percent_upheld"] == SUPPRESSED
    ordered = [next(r for r in published if (r["service"], r["theme"]) == (t["service"], t["theme"])) for t in truth]
    assert _attack_complaints(ordered, truth) == []


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
                rows.append({"survey": "s", "wave_start": wave, "wave_end": wave, "question": question,
                             "breakdown": "all" if whole else "sex", "breakdown_value": "all" if whole else group,
                             "unweighted_n": valid, "dont_know_n": dont_know, "weighted_base": float(valid),
                             "effective_n": float(valid), "percent_positive": percent, "ci_lower": percent, "ci_upper": percent,
                             "benchmark_percent": 60.0 if whole else None, "benchmark_round": "R28" if whole else None,
                             "benchmark_fieldwork_month": date(2021, 2, 1) if whole else None,
                             "benchmark_age_months": 44 + 12 * (wave.year - 2024) if whole else None,
                             "benchmark_stale": True if whole else None,
                             "benchmark_difference": percent - 60.0 if whole and percent is not None else None,
                             "benchmark_significant": False if whole and percent is not None else None,
                             "benchmark_statement": "no clear difference from the national poll of February 2021 (a different "
                                                    "method, and 44 months before this survey; compare with caution)"
                                                    if whole and percent is not None else None,
                             "previous_wave_percent": None, "change_vs_previous_wave": None, "change_significant": None,
                             "change_statement": "no previous wave",
                             "difference_from_rest": float(generator.randint(-30, 30)) if p_value is not None else None,
                             "difference_p_value": p_value,
                             "difference_significant_fdr": None if whole else p_value is not None and p_value < 0.01,
                             "tests_in_family": None if whole else 3 * len(QUESTIONS),
                             "fdr_level": None if whole else 0.05})
    earlier = {(r["question"], r["breakdown_value"]): r for r in rows if r["wave_start"].year == 2024}
    for row in rows:
        before = earlier.get((row["question"], row["breakdown_value"])) if row["wave_start"].year == 2025 else None
        if before and before["percent_positive"] is not None and row["percent_positive"] is not None:
            row.update(previous_wave_percent=before["percent_positive"],
                       change_vs_previous_wave=row["percent_positive"] - before["percent_positive"],
                       change_significant=False, change_statement="no significant change")
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
        groups = [r["breakdown_value"] for r in published if (r["wave_start"].year, r["question"]) == (year, question)
                  and r["breakdown"] == "sex"]
        for column in ("unweighted_n", "dont_know_n"):
            attack.equalities.append(({f"{(year, question, 'all')}:{column}": 1,
                                       **{f"{(year, question, g)}:{column}": -1 for g in groups}}, 0))
    for year, group in {(r["wave_start"].year, r["breakdown_value"]) for r in published}:
        for a, b in itertools.pairwise(QUESTIONS):  # the same respondents answer every question
            attack.equalities.append(({f"{(year, a, group)}:unweighted_n": 1, f"{(year, a, group)}:dont_know_n": 1,
                                       f"{(year, b, group)}:unweighted_n": -1, f"{(year, b, group)}:dont_know_n": -1}, 0))
    ceiling = max(r["unweighted_n"] + r["dont_know_n"] for r in truth) * 2
    found = attack.possible(hidden, ceiling)
    return [n for n in hidden if len(found[n]) < 2] + [f"{k} has fewer than {THRESHOLD} respondents but is printed"
                                                       for k in small if f"{k}:unweighted_n" not in hidden]


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
            assert row["difference_from_rest"] == row["difference_p_value"] == row["difference_significant_fdr"] == SUPPRESSED
        # the number of comparisons counts every group row, so it is printed and gives nothing away
        assert row["tests_in_family"] == (None if row["breakdown"] == "all" else 3 * len(QUESTIONS))
        before = previous.get((row["question"], row["breakdown_value"])) if row["wave_start"].year == 2025 else None
        if before and before["unweighted_n"] == SUPPRESSED and row["previous_wave_percent"] is not None:
            assert all(row[c] == SUPPRESSED for c in PREVIOUS_WAVE), row  # the earlier wave's figure, reprinted, gives it back


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
