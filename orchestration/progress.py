"""A quiet console logger for ``make run``: one line per materialised asset, check and failure,
grouped by pipeline stage, instead of Dagster's full event log."""


import logging
import sys

import dagster as dg

STAGE_OF_PREFIX = {
    "raw": "ingestion",
    "staging": "transformation",
    "intermediate": "transformation",
    "candidate": "transformation",
    "marts": "publish",
    "exports": "exports",
    "quality": "quality",
}
SHOWN_METADATA = ("rows_inserted", "rows_received", "files_seen", "files_inserted", "requests", "bytes", "runs")


class ProgressHandler(logging.Handler):
    def __init__(self, stream=None):
        super().__init__(level=logging.DEBUG)
        self.stream = stream or sys.stdout
        self.stage: str | None = None

    def _print(self, stage: str, text: str) -> None:
        if stage != self.stage:
            self.stage = stage
            print(f"\n== {stage} ==", file=self.stream, flush=True)
        print(f"  {text}", file=self.stream, flush=True)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            if record.levelno >= logging.WARNING:
                print(f"  ! {meta.get('orig_message', record.getMessage())}", file=self.stream, flush=True)
            return
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            key = event.asset_key
            metadata = event.event_specific_data.materialization.metadata
            shown = ", ".join(f"{k}={metadata[k].value:,}" for k in SHOWN_METADATA if k in metadata)
            self._print(_stage(key), f"materialised {key.to_user_string()}" + (f" ({shown})" if shown else ""))
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            verdict = "passed" if evaluation.passed else f"FAILED ({evaluation.severity.value.lower()})"
            self._print(_stage(evaluation.asset_key), f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} {verdict}")
        elif kind == "STEP_FAILURE":
            error = event.event_specific_data.error
            while error is not None and error.cause is not None:  # Dagster wraps the user's error
                error = error.cause
            message = (error.message if error else "").strip().splitlines()
            print(f"  ! step {event.step_key} failed: {message[0] if message else ''}", file=self.stream, flush=True)
        elif kind == "STEP_SKIPPED":
            print(f"  - step {event.step_key} skipped (an upstream step or blocking check did not pass)", file=self.stream, flush=True)


def _stage(key: dg.AssetKey) -> str:
    return STAGE_OF_PREFIX.get(key.path[0], "other")


@dg.logger(description="One line per asset, check and failure, grouped by stage (used by make run).")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("lgperf.progress", level=logging.DEBUG)
    logger.addHandler(ProgressHandler())
    return logger
