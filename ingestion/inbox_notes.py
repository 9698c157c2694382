"""The short note beside a handled inbox file, for the officer who dropped it: what happened
to the file, in plain words, and what to do next. The full receipt is in the quality report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

READ_AS = {"return": "an officer's return", "approval": "the performance team's approvals"}
NOTE_ROWS = 50  # quarantined rows listed in a note; the quality report keeps every reason

RECORD_OF_KIND = {
    "surveys": "respondent and survey wave",
    "complaints": "complaint id and stage",
    "returns": "indicator and period (a draft until the performance team approves it)",
}


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def loaded_note(
    folder: str,
    file_name: str,
    received_at: datetime,
    layout: str,
    received: int,
    accepted: int,
    problems: Sequence[tuple[int, str | None, str]],
    replaces: Sequence[str],
) -> str:
    """``problems``: (row number, file column, reason) of each quarantined row."""
    lines = [
        f"{file_name}, received {_when(received_at)} in {folder}/, was loaded.",
        f"It was read as {READ_AS.get(layout, 'the layout ' + layout)}: {received:,} rows received, "
        f"{accepted:,} accepted, {received - accepted:,} quarantined (not loaded).",
        "",
    ]
    if replaces:
        lines.append(
            f"It replaces, whole, the earlier file(s) named {', '.join(replaces)}: their records that "
            f"this file does not hold are withdrawn."
        )
    else:
        lines.append(
            f"Each accepted row adds or updates the record of its {RECORD_OF_KIND[folder]}; records "
            f"received in earlier files and not in this one are kept."
        )
    if problems:
        lines += ["", "Quarantined rows (correct them and send them again in a new file):"]
        lines += [
            f"  row {row}" + (f", column {column!r}" if column else "") + f": {reason}"
            for row, column, reason in problems[:NOTE_ROWS]
        ]
        if len(problems) > NOTE_ROWS:
            lines.append(
                f"  ... and {len(problems) - NOTE_ROWS:,} more: see the quality report's receipt for this file"
            )
    return "\n".join(lines) + "\n"


def refused_note(folder: str, file_name: str, received_at: datetime, reason: str) -> str:
    return (
        f"{file_name}, received {_when(received_at)} in {folder}/, was refused: nothing in it was loaded.\n\n"
        f"Why: {reason}\n\nCorrect the file and drop it in {folder}/ again.\n"
    )


def repeat_note(
    folder: str, file_name: str, received_at: datetime, earlier_name: str, earlier_at: datetime, earlier_status: str
) -> str:
    return (
        f"{file_name}, received {_when(received_at)} in {folder}/, holds the same bytes as {earlier_name}, "
        f"received {_when(earlier_at)} ({earlier_status}): nothing new, nothing changed.\n"
    )
