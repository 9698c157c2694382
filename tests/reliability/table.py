"""Write docs/reliability.md's table of what was tried and what held, from test-artifacts/reliability.json
(left there by the last ``make test``) and test-artifacts/reliability-soak.json (by the last ``make soak``).

    python -m tests.reliability.table
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.reliability.results import FAMILIES, RESULTS, SOAK_RESULTS

README = Path(__file__).parents[2] / "docs" / "reliability.md"
START, END = "<!-- reliability:start -->", "<!-- reliability:end -->"


def table(cases: list[dict]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    held = sum(c["held"] for c in cases)
    lines = [
        f"{held} of {len(cases)} cases held.",
        "",
        "| family | tried | expected | held | run by |",
        "| --- | --- | --- | --- | --- |",
    ]
    for case in sorted(cases, key=lambda c: FAMILIES.index(c["family"])):
        lines.append(
            f"| {case['family']} | {cell(case['what'])} | {cell(case['expected'])} | "
            f"{'yes' if case['held'] else '**no**'} | {'make soak' if case['soak'] else 'make test'} |"
        )
    return "\n".join(lines)


def main() -> int:
    for path, command in ((RESULTS, "make test"), (SOAK_RESULTS, "make soak")):
        if not path.exists():
            print(f"{path} is missing: run `{command}` first", file=sys.stderr)
            return 1
    cases = [case for path in (RESULTS, SOAK_RESULTS) for case in json.loads(path.read_text(encoding="utf-8"))]
    missing = [family for family in FAMILIES if not any(case["family"] == family for case in cases)]
    if missing:  # every family has cases: a family without any means a results file lost them
        print(
            f"no {', '.join(missing)} cases in {RESULTS.name} or {SOAK_RESULTS.name}: run both again",
            file=sys.stderr,
        )
        return 1
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"{README} has no {START} ... {END} markers", file=sys.stderr)
        return 1
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    README.write_text(f"{head}{START}\n{table(cases)}\n{END}{tail}", encoding="utf-8")
    print(f"{README.name}: {len(cases)} reliability cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
