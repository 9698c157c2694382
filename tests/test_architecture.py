"""The rooms and who may call whom, read from the source with ``ast`` (nothing is imported): a
room that reaches into a later one, Dagster outside orchestration, or orchestration imported
from below fails here, by file and line, rather than as a tangle found later.

Imports inside functions count as much as those at the top of a module. A module named in a
string (``importlib.import_module``) is not seen; the rooms use none.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from lgperf.settings import PROJECT_ROOT

# room -> the other rooms it may import, in the flow's order
MAY_IMPORT: dict[str, frozenset[str]] = {
    "lgperf": frozenset(),  # the core: settings, the warehouse, the publication rules
    "ingestion": frozenset({"lgperf"}),
    "expectations": frozenset({"lgperf"}),
    "exports": frozenset({"lgperf", "expectations"}),
    "demo": frozenset(),  # stands in for the outside systems: none of ours, but the exception below
    "orchestration": frozenset({"lgperf", "ingestion", "expectations", "exports", "demo"}),  # wires them to Dagster
}
# (room, module): why that one module of another room may be imported all the same
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("demo", "ingestion.lginform.signing"): "the demo API verifies requests signed as the ESD services expect, "
    "in both of the scheme's forms, with the one implementation the client signs with (and redacts credentials "
    "from its log the same way)",
}
# not rooms: they drive the pipeline from outside, so may import any room, orchestration and Dagster included
DRIVERS = frozenset({"tests", "benchmarks"})
OURS = frozenset(MAY_IMPORT) | DRIVERS
DAGSTER_ROOM = "orchestration"  # the only room that imports dagster (or dagster_dbt, dagster_duckdb, ...)


def modules(root: Path, folder: str) -> Iterator[Path]:
    yield from sorted((root / folder).rglob("*.py"))


def imported(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every import in ``path``: ``import a.b`` gives ``a.b``, ``from a
    import b`` gives ``a.b`` (b a module or a name in a), a relative import resolved against the
    file's package."""
    package = path.relative_to(root).parent.parts
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}" if base else alias.name


def _excepted(folder: str, module: str) -> bool:
    return any(room == folder and (module == m or module.startswith(m + ".")) for room, m in EXCEPTIONS)


def violations(root: Path) -> list[str]:
    """Every import that breaks a rule, as ``file:line: what``."""
    found = []
    folders = sorted(
        p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and any(p.rglob("*.py"))
    )
    for folder in folders:
        if folder not in OURS:
            found.append(f"{folder}/: Python in a folder the rules do not know: add it to MAY_IMPORT (or DRIVERS)")
            continue
        if folder in DRIVERS:
            continue
        for path in modules(root, folder):
            where = path.relative_to(root).as_posix()
            for line, module in sorted(set(imported(path, root))):
                top = module.split(".")[0]
                if top == folder:
                    continue
                if top.startswith("dagster") and folder != DAGSTER_ROOM:
                    found.append(f"{where}:{line}: imports {module}: Dagster belongs in {DAGSTER_ROOM}/ only")
                elif top == "orchestration":
                    found.append(f"{where}:{line}: imports {module}: only orchestration, tests and benchmarks may")
                elif top in OURS and top not in MAY_IMPORT[folder] and not _excepted(folder, module):
                    allowed = ", ".join(sorted(MAY_IMPORT[folder])) or "none of our rooms"
                    found.append(f"{where}:{line}: imports {module}: {folder} may import {allowed}")
    return found


def test_every_room_imports_only_what_its_rule_allows():
    found = violations(PROJECT_ROOT)
    assert not found, "imports that break the rooms' rules:\n" + "\n".join(found)


def test_each_room_of_the_rules_exists_and_each_exception_is_still_needed():
    assert [name for name in OURS if not (PROJECT_ROOT / name).is_dir()] == []
    for room, module in EXCEPTIONS:  # an exception nothing uses any more is dropped, not kept "just in case"
        used = {m for path in modules(PROJECT_ROOT, room) for _, m in imported(path, PROJECT_ROOT)}
        assert any(m == module or m.startswith(module + ".") for m in used), f"{room} no longer imports {module}"


def _room(root: Path, name: str, source: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")


@pytest.mark.parametrize(
    "name, source, broken",
    [
        (
            "lgperf/waive.py",
            "def main():\n    from expectations.runner import load_suites\n",
            "lgperf/waive.py:2: imports expectations",
        ),
        (
            "exports/x.py",
            "import dagster as dg\n",
            "exports/x.py:1: imports dagster: Dagster belongs in orchestration/",
        ),
        ("ingestion/x.py", "from orchestration import resources\n", "ingestion/x.py:1: imports orchestration"),
        ("expectations/x.py", "from exports.publish import write_csv\n", "expectations/x.py:1: imports exports"),
        ("demo/x.py", "from ingestion.lginform import client\n", "demo/x.py:1: imports ingestion.lginform"),
        (
            "lgperf/sub/x.py",
            "from ..publication import EPOCH\nfrom ... import tests\n",
            "lgperf/sub/x.py:2: imports tests",
        ),
        ("scripts/x.py", "print(1)\n", "scripts/: Python in a folder the rules do not know"),
    ],
)
def test_a_broken_rule_is_caught(tmp_path, name, source, broken):
    """The checker itself, on a small tree: each kind of break is seen (and an allowed import is not)."""
    _room(
        tmp_path,
        "demo/ok.py",
        "from ingestion.lginform.signing import verify_signed_url\nfrom ingestion.lginform import signing\n",
    )
    _room(tmp_path, "orchestration/ok.py", "import dagster\nfrom exports import publish\nfrom demo import ok\n")
    _room(tmp_path, "benchmarks/ok.py", "from orchestration import ok\nimport dagster\n")
    assert violations(tmp_path) == []
    _room(tmp_path, name, source)
    found = violations(tmp_path)
    assert any(line.startswith(broken) for line in found), found


def test_the_files_handed_out_first_exist():
    """conftest's LONGEST_FIRST names test files by path: a renamed file would silently lose its place."""
    from tests.conftest import LONGEST_FIRST

    assert [path for path in LONGEST_FIRST if not (PROJECT_ROOT / path).is_file()] == []
