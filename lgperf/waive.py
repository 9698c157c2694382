"""Waive one blocking check for one publication, as a named person, with a reason.

    python -m lgperf.waive --check gx_fct_indicator_values --by "Jane Smith, Head of Performance" \
        --reason "ASC2 revised by the department; confirmed correct with the service on 3 March"

The next publication that this check would block goes out instead, marked ``waived``; the
waiver is used up by it and stays in ``audit.waivers``, shown on the quality report beside the
checks it let through. Checks are the publish step's: ``gx_<suite>`` (expectations/suites).
"""

from __future__ import annotations

import argparse
import sys

from expectations.runner import load_suites
from lgperf import publication, warehouse
from lgperf.settings import Environment


def main(argv: list[str] | None = None) -> int:
    checks = sorted(f"gx_{suite.name}" for suite in load_suites())
    parser = argparse.ArgumentParser(prog="python -m lgperf.waive", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", required=True, choices=checks, help="the check to let pass once")
    parser.add_argument("--by", required=True, help="who grants the waiver (a named person and role)")
    parser.add_argument("--reason", required=True, help="why the data may be published although the check fails")
    args = parser.parse_args(argv)
    try:
        with warehouse.connect(Environment.from_environ().warehouse_path) as connection:
            waiver_id = publication.grant_waiver(connection, check_name=args.check, granted_by=args.by, reason=args.reason)
    except ValueError as error:
        print(f"waiver refused: {error}", file=sys.stderr)
        return 2
    print(f"waiver {waiver_id}: {args.check} may fail once, for the next publication (granted by {args.by.strip()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
