"""The auditor's quality report: ``EXPORT_DIR/quality/index.html`` over every validation run.

A plain static page (no external requests): per run, each suite's expectations with their
outcome, severity, counts and a sample of failing values.
"""

from __future__ import annotations

import html
from pathlib import Path

import duckdb

from exports.publish import staged_folder

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}
table{border-collapse:collapse;margin-bottom:2rem}th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}
.pass{color:#0b6b2b}.fail{color:#a4000f;font-weight:bold}.warn{color:#8a5300;font-weight:bold}code{font-size:.85em}
"""


def write_quality_report(connection: duckdb.DuckDBPyConnection, destination: Path) -> int:
    """Write the report atomically; return the number of validation runs it covers."""
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
                 "An <em>error</em> that fails blocks the exports downstream of its table in that run; a <em>warning</em> does not.</p>")
    for run_id, results in runs.items():
        failed_errors = sum(1 for r in results if not r[7] and r[6] == "error")
        failed_warnings = sum(1 for r in results if not r[7] and r[6] == "warning")
        verdict = "<span class='fail'>exports blocked</span>" if failed_errors else "<span class='pass'>gate passed</span>"
        parts.append(
            f"<h2 id='run-{html.escape(run_id)}'>Run <code>{html.escape(run_id)}</code> at {html.escape(str(results[0][1]))}: {verdict}</h2>"
            f"<p>{len(results) - failed_errors - failed_warnings} of {len(results)} expectations met; "
            f"{failed_errors} error(s), {failed_warnings} warning(s) failed.</p>"
        )
        parts.append("<table><tr><th>suite / table</th><th>expectation</th><th>severity</th><th>result</th>"
                     "<th>rows</th><th>unexpected</th><th>observed</th><th>failing sample</th></tr>")
        for r in results:
            css, word = ("pass", "passed") if r[7] else (("fail", "FAILED") if r[6] == "error" else ("warn", "failed (warning)"))
            parts.append(
                "<tr>" + "".join(
                    f"<td>{cell}</td>"
                    for cell in (
                        f"{html.escape(r[2])}<br><code>{html.escape(r[3])}</code>",
                        f"{html.escape(r[4])}<br><code>{html.escape(r[5] or '')}</code>",
                        html.escape(r[6]),
                        f"<span class='{css}'>{word}</span>",
                        "" if r[9] is None else f"{r[9]:,}",
                        "" if r[10] is None else f"{r[10]:,}",
                        html.escape(r[8] or ""),
                        f"<code>{html.escape(r[11] or '')}</code>",
                    )
                ) + "</tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    with staged_folder(destination) as folder:
        (folder / "index.html").write_text("".join(parts), encoding="utf-8")
    return len(runs)
