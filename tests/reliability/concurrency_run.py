"""One pipeline run in its own process, on the instance under DAGSTER_HOME, as `make run` starts one:
``python -m tests.reliability.concurrency_run JOB`` prints ``{"run_id": ..., "success": ...}`` on its last line.

The concurrency cases start two of these at once against the same DAGSTER_HOME and warehouse."""

from __future__ import annotations

import json
import sys

import dagster as dg

from lgperf.settings import Environment


def main(job: str) -> int:
    from orchestration.definitions import build_definitions

    defs = build_definitions(Environment.from_environ())
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False)
        print(json.dumps({"run_id": result.run_id, "success": result.success}), flush=True)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "refresh_all"))
