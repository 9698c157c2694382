"""Statistical disclosure control: which published counts to suppress so that no small count
can be given back (docs/disclosure.md says the rules in words).

A table is described as cells (a row key and a column) with their true values, the cells it
would print, and the linear relations a reader knows between cells: a total and its parts,
a count and its complement (decided = upheld + not upheld, where "not upheld" is never printed
but is a count of people too), the same respondents answering every question. Primary
suppression hides every printed count from 1 to ``threshold - 1``, and everything printed
inside a small base (a 0 upheld out of 3 complaints tells those 3 people's outcome).
Secondary suppression is then driven by an attack: for every protected cell (each suppressed
one, primary or secondary, and each small count that is never printed), an integer program over the printed
figures and the relations finds the smallest and largest value it could hold; if they are
equal the cell could be recovered, so the nearest other printed cell in its relations (the
smallest non-zero one) is suppressed too, and the attack is run again until every protected
cell has at least two possible values.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

SUPPRESSED = "c"
Cell = tuple[Hashable, str]  # (row key, column); a column name of a hidden cell says what it counts


@dataclass
class Table:
    """What a reader of a table knows, before anything is suppressed."""

    values: dict[Cell, int] = field(default_factory=dict)  # every cell's true value, printed or hidden
    printed: set[Cell] = field(default_factory=set)  # the cells the table prints (the rest are hidden)
    equations: list[dict[Cell, int]] = field(default_factory=list)  # sum(coefficient * cell) is known
    within: dict[Cell, list[Cell]] = field(default_factory=dict)  # a small base hides these, zeros included
    # what suppressing a cell of a column costs the reader (default 1): of two candidates, the cheaper goes
    cost: dict[str, int] = field(default_factory=dict)

    def count(self, cell: Cell, value: int, *, printed: bool = True) -> None:
        self.values[cell] = int(value)
        if printed:
            self.printed.add(cell)

    def equations_of(self) -> dict[Cell, list[int]]:
        """Each cell's equations, by index (built once the table is complete)."""
        if getattr(self, "_by_cell", None) is None or self._by_cell[0] != len(self.equations):
            by_cell: dict[Cell, list[int]] = defaultdict(list)
            for i, equation in enumerate(self.equations):
                for member in equation:
                    by_cell[member].append(i)
            self._by_cell = (len(self.equations), by_cell)
        return self._by_cell[1]

    def relate(self, coefficients: Mapping[Cell, int]) -> None:
        """A linear relation the reader knows (its constant is worked out from the true values)."""
        terms = {cell: c for cell, c in coefficients.items() if c and cell in self.values}
        if len(terms) > 1:
            self.equations.append(terms)


def suppress(table: Table, threshold: int, *, withheld: Iterable[Cell] = (), fixed: Iterable[Cell] = ()) -> set[Cell]:
    """The printed cells to suppress so that no protected cell can be recovered exactly.

    ``withheld`` and ``fixed`` are for a table published beside another already controlled:
    its withheld cells stay withheld (and protected), its printed ones are never chosen."""
    fixed = set(fixed)
    small = {cell for cell, value in table.values.items() if 0 < value < threshold}
    hidden = {cell for cell in small if cell in table.printed} | set(withheld)
    for base in small:
        hidden |= {cell for cell in table.within.get(base, ()) if cell in table.printed}
    exposed = recoverable(table, hidden, small | hidden)
    while exposed:
        added = {
            partner
            for cell, evidence in exposed.items()
            if (partner := _smallest(table, evidence - fixed) or _nearest_partner(table, hidden | fixed, cell))
            is not None
        }
        if not added:  # every cell related to them is already hidden: nothing more can be done
            raise ValueError(f"disclosure control cannot protect {sorted(map(str, exposed))[:5]}")
        hidden |= added
        # hiding more only widens what a cell could be: only the cells still exposed, and the newly
        # hidden ones (no "c" may be worked back, whatever its size), need asking again
        exposed = recoverable(table, hidden, set(exposed) | added)
    return hidden


def recoverable(table: Table, hidden: set[Cell], protected: Iterable[Cell]) -> dict[Cell, set[Cell]]:
    """The protected cells whose value a reader could work out from what is printed, each with
    the printed cells that give it away (empty when the integer program, not a chain of
    single equations, pinned it)."""
    known = {cell: value for cell, value in table.values.items() if cell in table.printed and cell not in hidden}
    equations = [_reduced(equation, table.values, known) for equation in table.equations]
    reasons = _propagate(equations)
    unknown_protected = [c for c in protected if c not in known and c not in reasons]
    exposed = {c: _evidence(table, known, reasons, c) for c in protected if c not in known and c in reasons}
    for component, rows in _components(equations, set(reasons)):
        targets = [c for c in unknown_protected if c in component]
        if targets:
            exposed.update((c, set()) for c in _pinned(component, rows, table.values, set(reasons), targets))
    return exposed


def _evidence(table: Table, known: Mapping[Cell, int], reasons: Mapping[Cell, int], cell: Cell) -> set[Cell]:
    """The printed cells in the chain of equations that fixes ``cell``."""
    printed, stack, seen = set(), [cell], {cell}
    while stack:
        for member in table.equations[reasons[stack.pop()]]:
            if member in known:
                printed.add(member)
            elif member in reasons and member not in seen:
                seen.add(member)
                stack.append(member)
    return printed


def _smallest(table: Table, candidates: set[Cell]) -> Cell | None:
    """The candidate whose suppression loses least: of the cheapest column, the smallest non-zero;
    a zero only when there is no other."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (table.cost.get(c[1], 1), table.values[c] == 0, table.values[c], str(c)))


def _reduced(
    equation: Mapping[Cell, int], values: Mapping[Cell, int], known: Mapping[Cell, int]
) -> tuple[dict[Cell, int], int]:
    """The equation over its unknown cells, and its constant (from the true values)."""
    unknown = {cell: c for cell, c in equation.items() if cell not in known}
    return unknown, sum(c * values[cell] for cell, c in unknown.items())


def _propagate(equations: list[tuple[dict[Cell, int], int]]) -> dict[Cell, int]:
    """Cells fixed by an equation in which every other cell is printed or already fixed, each
    with that equation's index (exact and cheap; the integer program handles what remains)."""
    fixed: dict[Cell, int] = {}
    by_cell: dict[Cell, list[int]] = defaultdict(list)
    for index, (terms, _) in enumerate(equations):
        for cell in terms:
            by_cell[cell].append(index)
    open_count = [len(terms) for terms, _ in equations]
    queue = deque(i for i, n in enumerate(open_count) if n == 1)
    while queue:
        index = queue.popleft()
        remaining = [cell for cell in equations[index][0] if cell not in fixed]
        if len(remaining) != 1:
            continue
        cell = remaining[0]
        fixed[cell] = index
        for other in by_cell[cell]:
            open_count[other] -= 1
            if open_count[other] == 1:
                queue.append(other)
    return fixed


def _components(
    equations: list[tuple[dict[Cell, int], int]], fixed: set[Cell]
) -> Iterable[tuple[set[Cell], list[tuple[dict[Cell, int], int]]]]:
    """Groups of unknown cells linked by equations, each with its equations."""
    parent: dict[Cell, Cell] = {}

    def root(cell: Cell) -> Cell:
        while parent.setdefault(cell, cell) != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    live = [({c: k for c, k in terms.items() if c not in fixed}, constant, terms) for terms, constant in equations]
    for open_terms, _, _ in live:
        cells = list(open_terms)
        for other in cells[1:]:
            parent[root(other)] = root(cells[0])
    groups: dict[Cell, tuple[set[Cell], list]] = {}
    for open_terms, constant, terms in live:
        if open_terms:
            group = groups.setdefault(root(next(iter(open_terms))), (set(), []))
            group[0].update(open_terms)
            group[1].append((terms, constant))
    yield from groups.values()


def _pinned(
    component: set[Cell],
    rows: list[tuple[dict[Cell, int], int]],
    values: Mapping[Cell, int],
    fixed: set[Cell],
    targets: Sequence[Cell],
) -> list[Cell]:
    """Targets whose only possible integer value is their true one.

    A few solves push every undecided target up (then down) at once, with random weights: any
    that moves can be something else, so it is not pinned. Only the rest are asked one by one."""
    cells = sorted(component, key=str)
    index = {cell: i for i, cell in enumerate(cells)}
    entries, right = [], np.zeros(len(rows))
    for r, (terms, constant) in enumerate(rows):
        right[r] = constant - sum(k * values[c] for c, k in terms.items() if c in fixed)
        entries += [(r, index[cell], k) for cell, k in terms.items() if cell in index]
    r_index, c_index, data = zip(*entries)
    matrix = csr_array((data, (r_index, c_index)), shape=(len(rows), len(cells)))
    truth = np.array([values[c] for c in cells], dtype=float)
    # a box far wider than any count in play keeps every solve bounded without cutting off a move
    box = Bounds(0, truth + truth.sum() + 1)
    constraint = LinearConstraint(matrix, right, right)
    integral = np.ones(len(cells))

    def solve(objective: np.ndarray) -> np.ndarray:
        result = milp(objective, constraints=constraint, integrality=integral, bounds=box)
        if result.status != 0:  # the true values are feasible and the box bounds it: this cannot happen
            raise RuntimeError(f"disclosure audit could not solve a system of {len(cells)} cells: {result.message}")
        return np.round(result.x)

    undecided = {index[t] for t in targets}
    generator = np.random.default_rng(len(cells))
    for _ in range(12):  # until a round moves nothing more
        before = len(undecided)
        for sign in (-1.0, 1.0):
            if undecided:
                objective = np.zeros(len(cells))
                chosen = sorted(undecided)
                objective[chosen] = sign * generator.uniform(1.0, 2.0, len(chosen))
                moved = solve(objective)
                undecided -= {i for i in chosen if moved[i] != truth[i]}
        if len(undecided) == before:
            break
    pinned = []
    for i in sorted(undecided):
        objective = np.zeros(len(cells))
        objective[i] = 1.0
        if solve(-objective)[i] == truth[i] and solve(objective)[i] == truth[i]:
            pinned.append(cells[i])
    return pinned


def _nearest_partner(table: Table, hidden: set[Cell], cell: Cell) -> Cell | None:
    """The printed cell to suppress next for ``cell``: from the relations nearest to it (its own,
    then those of the hidden cells they reach), the smallest non-zero one; a zero only when no
    relation has a non-zero one."""
    by_cell = table.equations_of()
    frontier, seen_cells, seen_equations, zero = [cell], {cell}, set(), None
    while frontier:
        candidates, following = [], []
        for member in frontier:
            for i in by_cell[member]:
                if i in seen_equations:
                    continue
                seen_equations.add(i)
                for other in table.equations[i]:
                    if other in table.printed and other not in hidden:
                        candidates.append(other)
                    elif other not in seen_cells:
                        seen_cells.add(other)
                        following.append(other)
        best = _smallest(table, set(candidates))
        if best is not None and table.values[best] > 0:
            return best
        zero = zero or best
        frontier = following
    return zero
