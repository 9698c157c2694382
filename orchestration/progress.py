"""Console loggers for ``lgperf run``.

By default one line per pipeline stage (ingestion, transformation, publication, exports,
quality report) with its counts and elapsed seconds, and under it any warning in plain words;
``lgperf run --verbose`` (config ``detail: true``) prints one line per materialised asset,
check and failure instead, grouped by stage, as ``make run`` used to. Dagster's full event log
and dbt's output go to the run's log file (orchestration/run.py), not here."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import TextIO

import dagster as dg

STAGE_OF_PREFIX = {
    "raw": "ingestion",
    "staging": "transformation",
    "intermediate": "transformation",
    "candidate": "transformation",
    "marts": "publication",
    "exports": "exports",
    "quality": "quality report",
}
# the steps whose assets are not named by their stage
STAGE_OF_STEP = {
    "indicators_raw": "ingestion",
    "library_raw": "ingestion",
    "inbox_raw": "ingestion",
    "warehouse_models": "transformation",
}
SHOWN_METADATA = ("rows_inserted", "rows_received", "files_seen", "files_inserted", "requests", "bytes", "runs")
STAGE_WIDTH = max(len(s) for s in STAGE_OF_PREFIX.values())

# where the console lines go: set by `lgperf run` while Dagster's own output is sent to the log
# file; None: sys.stdout when the line is written
_console: list[TextIO | None] = [None]
# the stage handlers of the runs under way: a run's end is not always logged to its loggers, so
# `lgperf run` flushes them itself when a job has finished
_stage_handlers: list[StageProgressHandler] = []


def set_console(stream: TextIO | None) -> None:
    _console[0] = stream


def console() -> TextIO:
    return _console[0] or sys.stdout


def flush_stages() -> None:
    """Write the last stage line of every run that finished (and forget those runs)."""
    while _stage_handlers:
        _stage_handlers.pop(0).flush_stage()


def stage_of_step(step_key: str | None) -> str:
    if not step_key:
        return "other"
    return STAGE_OF_STEP.get(step_key) or STAGE_OF_PREFIX.get(step_key.split("__")[0], "other")


def _stage(key: dg.AssetKey) -> str:
    return STAGE_OF_PREFIX.get(key.path[0], "other")


def _root_error(error) -> str:
    while error is not None and error.cause is not None:  # Dagster wraps the user's error
        error = error.cause
    lines = (error.message if error else "").strip().splitlines()
    return lines[0] if lines else ""


@dataclass
class StageTally:
    name: str
    seconds: float = 0.0
    materialised: int = 0
    rows_inserted: int = 0
    files: int = 0
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    steps_failed: int = 0
    steps_skipped: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"{self.materialised:,} {'asset' if self.materialised == 1 else 'assets'}"]
        if self.name == "ingestion":
            parts.append(f"{self.rows_inserted:,} new rows")
            if self.files:
                parts.append(f"{self.files:,} inbox files")
        if self.checks_passed or self.checks_failed:
            parts.append(
                f"{self.checks_passed:,} {'check' if self.checks_passed == 1 else 'checks'} passed"
                + (f", {len(self.checks_failed)} failed" if self.checks_failed else "")
            )
        if self.steps_failed:
            parts.append(f"{self.steps_failed} step{'s' if self.steps_failed > 1 else ''} FAILED")
        if self.steps_skipped:
            parts.append(f"{self.steps_skipped} skipped")
        return f"  {self.name:<{STAGE_WIDTH}}  {', '.join(parts):<60} {self.seconds:6.1f} s"


class StageProgressHandler(logging.Handler):
    """One line per stage, written when the next stage starts or the run ends."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.current: StageTally | None = None
        self.started: dict[str, float] = {}
        _stage_handlers.append(self)

    def _tally(self, stage: str) -> StageTally:
        if self.current is None or self.current.name != stage:
            self.flush_stage()
            self.current = StageTally(stage)
        return self.current

    def flush_stage(self) -> None:
        if self.current is not None:
            stream = console()
            print(self.current.line(), file=stream, flush=True)
            for note in self.current.notes:
                print(f"    ! {note}", file=stream, flush=True)
            self.current = None

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            if record.levelno >= logging.WARNING:
                message = str(meta.get("orig_message", record.getMessage())).strip()
                stage = (
                    stage_of_step(meta.get("step_key"))
                    if meta.get("step_key")
                    else (self.current.name if self.current else "other")
                )
                self._tally(stage).notes.append(message.splitlines()[0] if message else "a warning with no message")
            return
        kind = event.event_type_value
        step = event.step_key
        if kind == "STEP_START":
            self._tally(stage_of_step(step))
            self.started[step] = record.created
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            tally = self._tally(stage_of_step(step))
            tally.seconds += record.created - self.started.pop(step, record.created)
            if kind == "STEP_FAILURE":
                tally.steps_failed += 1
                tally.notes.append(f"step {step} failed: {_root_error(event.event_specific_data.error)}")
        elif kind == "STEP_SKIPPED":
            self._tally(stage_of_step(step)).steps_skipped += 1
        elif kind == "ASSET_MATERIALIZATION":
            tally = self._tally(stage_of_step(step))
            tally.materialised += 1
            metadata = event.event_specific_data.materialization.metadata
            if "rows_inserted" in metadata:
                tally.rows_inserted += int(metadata["rows_inserted"].value or 0)
            if "files_inserted" in metadata:
                tally.files += int(metadata["files_inserted"].value or 0)
            elif "files_seen" in metadata:
                tally.files += int(metadata["files_seen"].value or 0)
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            tally = self._tally(stage_of_step(step))
            if evaluation.passed:
                tally.checks_passed += 1
            else:
                tally.checks_failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
        elif kind in ("PIPELINE_SUCCESS", "PIPELINE_FAILURE", "PIPELINE_CANCELED"):
            self.flush_stage()


class ProgressHandler(logging.Handler):
    """``--verbose``: one line per materialised asset, check and failure, grouped by stage."""

    def __init__(self, stream=None):
        super().__init__(level=logging.DEBUG)
        self.stream = stream
        self.stage: str | None = None

    def _out(self) -> TextIO:
        return self.stream or console()

    def _print(self, stage: str, text: str) -> None:
        if stage != self.stage:
            self.stage = stage
            print(f"\n== {stage} ==", file=self._out(), flush=True)
        print(f"  {text}", file=self._out(), flush=True)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            if record.levelno >= logging.WARNING:
                print(f"  ! {meta.get('orig_message', record.getMessage())}", file=self._out(), flush=True)
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
            self._print(
                _stage(evaluation.asset_key),
                f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} {verdict}",
            )
        elif kind == "STEP_FAILURE":
            print(
                f"  ! step {event.step_key} failed: {_root_error(event.event_specific_data.error)}",
                file=self._out(),
                flush=True,
            )
        elif kind == "STEP_SKIPPED":
            print(
                f"  - step {event.step_key} skipped (an upstream step or blocking check did not pass)",
                file=self._out(),
                flush=True,
            )


@dg.logger(
    config_schema={"detail": dg.Field(bool, default_value=True, is_required=False)},
    description="lgperf run's console: one line per stage (detail: false) or per asset, check and failure (detail: "
    "true).",
)
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("lgperf.progress", level=logging.DEBUG)
    logger.addHandler(ProgressHandler() if init_context.logger_config["detail"] else StageProgressHandler())
    return logger
