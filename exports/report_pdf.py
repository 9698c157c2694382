"""``report.pdf``: the councillors' report as committee papers, printed by a headless Chromium.

The PDF is optional: the HTML is the report, and a machine without Chromium (or a Chromium that
fails or hangs) still publishes it; the reason the PDF is missing is returned in plain words
so the Dagster asset can say it. Chromium is found by ``LGPERF_CHROMIUM`` (a name or a path) or
else on ``PATH``. The PDF is byte-stable: Chromium's only varying bytes are the creation and
modification dates in its Info dictionary, which are blanked (at the same length, so the
cross-reference offsets stay right); and an ``index.html`` that has not changed keeps its
previous PDF, unprinted.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV = "LGPERF_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS = 180.0  # the full demo's 61 tiles print in about 12 s on two cores
PDF_NAME = "report.pdf"
# Skia writes these into the Info dictionary: the time of printing, the one thing that varies
_DATES = re.compile(rb"/(?:CreationDate|ModDate) \(D:[0-9+\-Z']*\)")


@dataclass(frozen=True)
class PdfOutcome:
    """What became of report.pdf: ``written`` (printed now or kept from the unchanged previous
    report, ``kept``), or why not (``reason``, a sentence for the officer)."""

    written: bool
    reason: str | None = None
    kept: bool = False

    def describe(self) -> str:
        if not self.written:
            return self.reason or "report.pdf not written"
        return "kept: index.html is unchanged since it was printed" if self.kept else "printed"


class PrintFailed(Exception):
    """Chromium did not produce a complete PDF (the message says what happened)."""


def find_chromium(environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """The Chromium to print with, or None and why. An ``LGPERF_CHROMIUM`` that names nothing
    runnable is reported, not silently replaced by whatever is on PATH."""
    environ = os.environ if environ is None else environ
    named = environ.get(ENV, "").strip()
    if named:
        found = shutil.which(named, path=environ.get("PATH"))
        if found is None:
            return None, f"report.pdf not written: {ENV} names {named}, which is not a program that can be run"
        return found, None
    for name in CANDIDATES:
        found = shutil.which(name, path=environ.get("PATH"))
        if found is not None:
            return found, None
    return None, f"report.pdf not written: no headless Chromium found (set {ENV})"


def print_pdf(chromium: str, page: Path, pdf: Path, timeout: float = TIMEOUT_SECONDS) -> None:
    """Print ``page`` to ``pdf`` atomically (a temporary file renamed into place, so a failed
    print never leaves half a PDF); raise PrintFailed with the reason. Chromium runs with a
    throwaway profile in its own process group, killed whole if it outlives ``timeout``."""
    partial = pdf.with_name(f".{pdf.name}.partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="lgperf-chromium-") as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={partial}",
            page.resolve().as_uri(),
        ]
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the browser and the renderers it started
            process.communicate()
            partial.unlink(missing_ok=True)
            raise PrintFailed(f"report.pdf not written: Chromium took longer than {timeout:g} s") from None
    try:
        data = partial.read_bytes() if partial.exists() else b""
        if process.returncode != 0 or not data.startswith(b"%PDF-") or b"%%EOF" not in data[-64:]:
            last = output.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise PrintFailed(
                f"report.pdf not written: Chromium exited with {process.returncode} "
                f"without a complete PDF ({last[0][:200]})"
            )
        partial.write_bytes(stable(data))
        os.replace(partial, pdf)
    finally:
        partial.unlink(missing_ok=True)


def stable(data: bytes) -> bytes:
    """The PDF with its printing time blanked (at the same length, so the cross-reference offsets
    stay right): the one thing that varies between two prints of the same page. (A table would
    add another: its header cells are named in the structure tree by DOM node numbers whose order
    varies, so the printed page keeps its counts in lists.)"""
    return _DATES.sub(lambda m: b" " * len(m.group()), data, count=2)


def write_pdf(
    folder: Path, previous: Path | None, *, environ: Mapping[str, str] | None = None, timeout: float = TIMEOUT_SECONDS
) -> PdfOutcome:
    """Put ``report.pdf`` beside ``folder/index.html``: the previous report's PDF when its
    index.html is byte for byte the same, else a fresh print; never raises for a missing or
    failing Chromium (the HTML report stands without it)."""
    page, pdf = folder / "index.html", folder / PDF_NAME
    if (
        previous is not None
        and (previous / PDF_NAME).is_file()
        and (previous / "index.html").is_file()
        and (previous / "index.html").read_bytes() == page.read_bytes()
    ):
        shutil.copyfile(previous / PDF_NAME, pdf)
        return PdfOutcome(written=True, kept=True)
    chromium, reason = find_chromium(environ)
    if chromium is None:
        return PdfOutcome(written=False, reason=reason)
    try:
        print_pdf(chromium, page, pdf, timeout)
    except PrintFailed as error:
        return PdfOutcome(written=False, reason=str(error))
    except OSError as error:  # not executable after all, or the folder went away
        return PdfOutcome(written=False, reason=f"report.pdf not written: Chromium could not be run ({error.strerror})")
    return PdfOutcome(written=True)
