"""Run the refresh_all job in this process, as a scheduled run would, for the process-fault tests.

    python -m tests.reliability.process_driver RUN_ID [PAUSE_AT]

The environment (WAREHOUSE_PATH, EXPORT_DIR, INBOX_DIR, LGPERF_CONFIG, LGINFORM_*) says where.
With PAUSE_AT the run stops at a named moment, writes the file ``$PROCESS_MARKER_DIR/PAUSE_AT``
and waits there to be killed, so a test kills it at that moment exactly, not after a guessed
sleep:

- ``load``: inside the raw load's transaction, after its last write (the request log and the
  sync state) and before the commit;
- ``export``: inside the open-data export, after its first CSV file is written into the
  staging folder;
- ``swap``: inside the open-data export, when the complete staging folder is about to replace
  the published one.

Exit status: 0 when the run succeeded, 1 when it failed.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path


def _pause(point: str) -> None:
    marker = Path(os.environ["PROCESS_MARKER_DIR"]) / point
    marker.write_text(str(os.getpid()), encoding="utf-8")
    print(f"paused at {point}", flush=True)
    threading.Event().wait()  # until SIGKILL


def _install_pause(point: str) -> None:
    if point == "load":
        import ingestion.lginform.load as load

        original = load.insert_records

        def insert_records(connection, table, records, **kwargs):
            inserted = original(connection, table, records, **kwargs)
            if table == "audit.lginform_sync_state":
                _pause(point)
            return inserted

        load.insert_records = insert_records
    elif point == "export":
        import exports.open_data as open_data

        original_csv = open_data.write_csv

        def write_csv(path, header, rows):
            count = original_csv(path, header, rows)
            _pause(point)
            return count

        open_data.write_csv = write_csv
    elif point == "swap":
        import exports.publish as publish

        original_exchange = publish._exchange

        def exchange(a, b):
            if b.name == "open-data":
                _pause(point)
            return original_exchange(a, b)

        publish._exchange = exchange
    else:
        raise SystemExit(f"unknown pause point {point!r}")


def main(argv: list[str]) -> int:
    run_id, point = argv[0], (argv[1] if len(argv) > 1 else None)
    if point:
        _install_pause(point)
    import dagster as dg

    from lgperf.settings import Environment
    from orchestration.definitions import build_definitions

    defs = build_definitions(Environment.from_environ())
    result = defs.resolve_job_def("refresh_all").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_id=run_id, raise_on_error=False
    )
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            print(f"step failed: {event.step_key}: {event.event_specific_data.error.message}", flush=True)
    print("run succeeded" if result.success else "run FAILED", flush=True)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
