"""Write docs/reliability.md's table of what was tried and what held, from test-artifacts/reliability.json
(left there by the last ``make test`` or ``make soak``).

    python -m tests.reliability.table
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.reliability.conftest import FAMILIES, RESULTS

README = Path(__file__).parents[2] / "docs" / "reliability.md"
START, END = "<!-- reliability:start -->", "<!-- reliability:end -->"


def table(cases: list[dict]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    held = sum(c["held"] for c in cases)
    lines = [
        f"{held} of {len(cases)} cases held.",
        "",
        "| family | tried | expected | held |",
        "| --- | --- | --- | --- |",
    ]
    for case in sorted(cases, key=lambda c: FAMILIES.index(c["family"])):
        lines.append(
            f"| {case['family']} | {cell(case['what'])} | {cell(case['expected'])} | "
            f"{'yes' if case['held'] else '**no**'} |"
        )
    return "\n".join(lines)


def main() -> int:
    if not RESULTS.exists():
        print(f"{RESULTS} is missing: run `make test` first", file=sys.stderr)
        return 1
    cases = json.loads(RESULTS.read_text(encoding="utf-8"))
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
