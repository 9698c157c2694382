"""The auditor's quality report: ``EXPORT_DIR/quality/index.html`` over every validation run.

Beside it, written by the gate as it runs: ``gx/``, the Great Expectations Data Docs site (one
page per suite and run), and ``failing/<run>/<suite>/``, each failed expectation's rows as CSV.
The index is the way in: per run, whether the gate passed, which exports were written and
which were blocked, and per suite each expectation with its outcome, severity, counts, a sample
of failing values, and links to the GX page and the failing rows. A plain static page, no
external requests (the GX pages themselves load GX's styles from a CDN).
"""

from __future__ import annotations

import hashlib
import html
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}
table{border-collapse:collapse;margin-bottom:2rem}th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}
.pass{color:#0b6b2b}.fail{color:#a4000f;font-weight:bold}.warn{color:#8a5300;font-weight:bold}code{font-size:.85em}
"""


def failing_rows_file(run_id: str, suite: str, expectation: str, kwargs_json: str) -> Path:
    """Where a failed expectation's rows are kept, relative to the quality folder."""
    digest = hashlib.sha256(kwargs_json.encode("utf-8")).hexdigest()[:10]
    return Path("failing") / run_id / suite / f"{expectation}-{digest}.csv"


def _docs_page(destination: Path, run_id: str, suite: str) -> Path | None:
    pages = sorted((destination / "gx" / "validations" / suite / run_id).glob("*/*.html"))
    return pages[-1].relative_to(destination) if pages else None


def _link(destination: Path, relative: Path | None, text: str) -> str:
    if relative is None or not (destination / relative).exists():
        return ""
    return f"<a href='{html.escape(relative.as_posix())}'>{html.escape(text)}</a>"


def write_quality_report(
    connection: duckdb.DuckDBPyConnection,
    destination: Path,
    *,
    exports_written: Mapping[str, Sequence[str]] | None = None,
    exports: Sequence[str] = (),
) -> int:
    """Write ``index.html`` atomically (the GX site and failing rows beside it are kept); return
    the number of validation runs it covers. ``exports_written`` maps a run id to the exports it
    wrote; ``exports`` names every export, so the others are reported as not written."""
    rows = connection.execute(
        """
        SELECT run_id, max(validated_at) OVER (PARTITION BY run_id) AS run_time, suite, target, expectation, kwargs,
               severity, success, observed_value, element_count, unexpected_count, failing_sample
        FROM audit.validation_results
        ORDER BY run_time DESC, run_id, suite, expectation, kwargs
        """
    ).fetchall()
    runs: dict[str, list[tuple]] = {}
    for row in rows:
        runs.setdefault(row[0], []).append(row)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Data quality report</title><style>{_STYLE}</style></head><body>"]
    parts.append("<h1>Data quality report</h1><p>Every Great Expectations validation run, newest first. "
                 "An <em>error</em> that fails blocks the exports downstream of its table in that run; a <em>warning</em> does not. "
                 "Each suite links to its Great Expectations Data Docs page; each failed expectation to its failing rows (CSV).</p>")
    if runs:
        parts.append("<ul>" + "".join(f"<li><a href='#run-{html.escape(r)}'>{html.escape(r)}</a></li>" for r in runs) + "</ul>")
    for run_id, results in runs.items():
        failed_errors = sum(1 for r in results if not r[7] and r[6] == "error")
        failed_warnings = sum(1 for r in results if not r[7] and r[6] == "warning")
        verdict = "<span class='fail'>gate failed</span>" if failed_errors else "<span class='pass'>gate passed</span>"
        parts.append(
            f"<h2 id='run-{html.escape(run_id)}'>Run <code>{html.escape(run_id)}</code> at {html.escape(str(results[0][1]))}: {verdict}</h2>"
            f"<p>{len(results) - failed_errors - failed_warnings} of {len(results)} expectations met; "
            f"{failed_errors} error(s), {failed_warnings} warning(s) failed.</p>"
        )
        if exports_written is not None and exports:
            written = set(exports_written.get(run_id, ()))
            blocked = [e for e in exports if e not in written]
            parts.append(
                "<p>Exports written: " + (html.escape(", ".join(e for e in exports if e in written)) or "none") + ". "
                + ("Exports <span class='fail'>not written (blocked or not run)</span>: " + html.escape(", ".join(blocked)) if blocked
                   else "No export was blocked.") + "</p>"
            )
        parts.append("<table><tr><th>suite / table</th><th>expectation</th><th>severity</th><th>result</th>"
                     "<th>rows</th><th>unexpected</th><th>observed</th><th>failing sample</th></tr>")
        for r in results:
            css, word = ("pass", "passed") if r[7] else (("fail", "FAILED") if r[6] == "error" else ("warn", "failed (warning)"))
            docs = _link(destination, _docs_page(destination, run_id, r[2]), "Data Docs")
            failing = "" if r[7] else _link(destination, failing_rows_file(run_id, r[2], r[4], r[5] or ""), "failing rows")
            parts.append(
                "<tr>" + "".join(
                    f"<td>{cell}</td>"
                    for cell in (
                        f"{html.escape(r[2])}<br><code>{html.escape(r[3])}</code><br>{docs}",
                        f"{html.escape(r[4])}<br><code>{html.escape(r[5] or '')}</code>",
                        html.escape(r[6]),
                        f"<span class='{css}'>{word}</span>",
                        "" if r[9] is None else f"{r[9]:,}",
                        "" if r[10] is None else f"{r[10]:,}",
                        html.escape(r[8] or ""),
                        f"<code>{html.escape(r[11] or '')}</code><br>{failing}",
                    )
                ) + "</tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    destination.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".html", dir=destination)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write("".join(parts))
    os.replace(temporary, destination / "index.html")
    # GX's own index lists only the suite it rendered last; the way in is this page
    gx_index = destination / "gx" / "index.html"
    if gx_index.exists():
        gx_index.write_text("<!doctype html><meta charset='utf-8'><meta http-equiv='refresh' content='0; url=../index.html'>"
                            "<a href='../index.html'>The data quality report</a>\n", encoding="utf-8")
    return len(runs)
