"""The auditor's quality report: ``EXPORT_DIR/quality/index.html`` over every validation run.

Beside it, written by the gate as it runs: ``gx/``, the Great Expectations Data Docs site (one
page per suite and run), and ``failing/<run>/<suite>/``, each failed expectation's rows as CSV.
The index is the way in: per attempt to publish, the decision in one line, the exports written
or blocked, the waivers used, what the publication changed, then every check in plain words,
failures first with their first rows, the technical detail folded away, and links to the GX
page and the failing rows. A plain static page, no
external requests (the GX pages themselves load GX's styles from a CDN).

The folder sits beside the open data, so it names no one: the failing rows (written masked by the
gate), and the samples and observed values this page shows for a check on a personal column, are
masked as ``expectations/masking.py`` says (identifiers as keyed pseudonyms, demographic and
free-text values as a marker); the GX pages of such a suite show counts, not values. The rows as
found are in the warehouse's audit schema, for those who may read it.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from expectations import personal
from expectations.masking import REMOVED, Mask
from expectations.runner import ExpectationOutcome, Suite
from exports.inbox_receipts import receipts_section
from exports.publish import write_csv
from lgperf import pseudonyms
from lgperf.audit import as_json

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}
table{border-collapse:collapse;margin-bottom:2rem}th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}
table.rows{margin:.3rem 0 0;font-size:.85em}table.rows td{max-width:28rem;overflow-wrap:anywhere}details{font-size:.85em}
.pass{color:#0b6b2b}.fail{color:#a4000f;font-weight:bold}.warn{color:#8a5300;font-weight:bold}code{font-size:.85em}
"""


def failing_rows_file(run_id: str, suite: str, expectation: str, kwargs_json: str) -> Path:
    """Where a failed expectation's rows are kept, relative to the quality folder."""
    digest = hashlib.sha256(kwargs_json.encode("utf-8")).hexdigest()[:10]
    return Path("failing") / run_id / suite / f"{expectation}-{digest}.csv"


def write_failing_rows(quality_dir: Path, run_id: str, suite: Suite, outcomes: Sequence[ExpectationOutcome],
                       mask: Mask) -> None:
    """Each failed expectation's rows (up to the runner's limit) as CSV, masked, for the report to link;
    written by the gate as it runs, named by the kwargs as ``audit.validation_results`` keeps them."""
    for outcome in outcomes:
        if outcome.success or not outcome.failing_rows:
            continue
        path = quality_dir / failing_rows_file(run_id, suite.name, outcome.expectation, as_json(outcome.kwargs) or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [mask.row(row) for row in outcome.failing_rows]
        columns = list(rows[0])
        write_csv(path, columns, ([row[c] for c in columns] for row in rows))


def plain_words(result: tuple) -> str:
    """A check and its outcome as a sentence: 'a percentage stays within 0-100: 137,466 values, all pass'."""
    why, success, element_count, unexpected_count, observed = result[12], result[7], result[9], result[10], result[8]
    what = why or result[4].replace("_", " ")
    if element_count is None:  # a table-level check (row counts)
        return f"{what}: {observed} rows" if observed else what
    if element_count == 0:
        return f"{what}: no rows to check"
    if success:
        return f"{what}: {element_count:,} rows, all pass"
    return f"{what}: {unexpected_count or 0:,} of {element_count:,} rows do not"


def _docs_page(destination: Path, run_id: str, suite: str) -> Path | None:
    pages = sorted((destination / "gx" / suite / "validations" / suite / run_id).glob("*/*.html"))
    return pages[-1].relative_to(destination) if pages else None


def _link(destination: Path, relative: Path | None, text: str) -> str:
    if relative is None or not (destination / relative).exists():
        return ""
    return f"<a href='{html.escape(relative.as_posix())}'>{html.escape(text)}</a>"


REVISIONS_SHOWN = 20  # per publication; the open-data package's revisions/ (a CSV per financial year) lists them all
FAILING_ROWS_SHOWN = 5  # per failed check, inline; its CSV holds up to the gate's limit


@dataclass(frozen=True)
class Revisions:
    """What one publication changed in the indicator fact: counts by change, and the first rows."""

    counts: Mapping[str, int]
    rows: Sequence[tuple]  # (indicator_id, area_code, period_id, change, old_value, new_value)


def read_revisions(store: Any) -> dict[str, Revisions]:
    """Per publication, from ``marts.revisions`` in the marts store (DuckDB or PostgreSQL)."""
    from lgperf import publication

    if publication.REVISIONS not in publication.tables(store, publication.PUBLISHED):
        return {}
    counts: dict[str, dict[str, int]] = {}
    for publication_id, change, count in store.rows(
            f"SELECT publication_id, change, count(*) FROM {publication.PUBLISHED}.{publication.REVISIONS} GROUP BY 1, 2"):
        counts.setdefault(publication_id, {})[change] = int(count)
    shown: dict[str, list[tuple]] = {}
    for row in store.rows(
            f"SELECT publication_id, indicator_id, area_code, period_id, change, old_value, new_value FROM ("
            f"SELECT *, row_number() OVER (PARTITION BY publication_id ORDER BY change DESC, indicator_id, area_code, period_id) "
            f"AS shown FROM {publication.PUBLISHED}.{publication.REVISIONS}) AS r WHERE shown <= {REVISIONS_SHOWN} "
            "ORDER BY publication_id, shown"):
        shown.setdefault(row[0], []).append(row[1:])
    return {p: Revisions(c, shown.get(p, [])) for p, c in counts.items()}


DRAFTS_WAITING_COLUMNS = ("owner", "indicator_id", "indicator_title", "period_id", "received_at", "source_reference")


def read_drafts_waiting(store: Any) -> list[tuple]:
    """The officers' return rows waiting for the performance team's decision (``marts.return_drafts``),
    oldest first: what the report does not yet carry."""
    from lgperf import publication

    if "return_drafts" not in publication.tables(store, publication.PUBLISHED):
        return []
    return list(store.rows(f"SELECT {', '.join(DRAFTS_WAITING_COLUMNS)} FROM {publication.PUBLISHED}.return_drafts "
                           "WHERE status = 'waiting' ORDER BY received_at, owner, indicator_id, period_id"))


def _drafts_section(waiting: Sequence[tuple]) -> str:
    if not waiting:
        return ("<h2 id='returns-waiting'>Officers' returns waiting for approval</h2><p>None: every draft received has been "
                "approved, rejected or superseded.</p>")
    return ("<h2 id='returns-waiting'>Officers' returns waiting for approval</h2>"
            f"<p>{len(waiting):,} draft(s) received from accountable owners and not yet decided by the performance team. "
            "Until approved, their commentary, actions, values and proposed targets reach neither the report nor the open data "
            "(approvals.xlsx in the exports' <code>returns/</code> folder lists them with cells to decide).</p>"
            "<table><tr><th>owner</th><th>indicator</th><th>title</th><th>period</th><th>received</th><th>return row</th></tr>"
            + "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in waiting) + "</table>")


def _cell(value: Any) -> str:
    return html.escape("" if value is None else f"{value:,}" if isinstance(value, int) else str(value))


INLINE_COLUMNS = 5  # the checked column(s) first, then the frame's first columns (its keys)


def _failing_rows_table(destination: Path, relative: Path, kwargs_json: str) -> str:
    """The first rows of a failed check's CSV, inline, so the auditor sees them without opening
    it: the column the check is about, then the row's leading (key) columns; the CSV has them all."""
    path = destination / relative
    if not path.exists():
        return ""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = [row for _, row in zip(range(FAILING_ROWS_SHOWN), reader)]
    kwargs = json.loads(kwargs_json or "{}")
    checked = [c for c in [kwargs.get("column"), *kwargs.get("column_list", [])] if c in header]
    shown = [header.index(c) for c in dict.fromkeys(checked + header)][:max(INLINE_COLUMNS, len(checked))]
    return ("<table class='rows'><tr>" + "".join(f"<th>{html.escape(header[i])}</th>" for i in shown) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{html.escape(row[i])}</td>" for i in shown) + "</tr>" for row in rows) + "</table>")


def _masked(result: tuple, mask: Mask) -> tuple:
    """A validation result with its observed value and failing sample masked for this folder."""
    kwargs = json.loads(result[5] or "{}")
    observed, sample = (None if text is None else json.loads(text) for text in (result[8], result[11]))
    observed = None if observed is None else json.dumps(mask.observed(kwargs, observed), sort_keys=True, default=str)
    sample = None if sample is None else json.dumps(mask.sample(kwargs, sample), sort_keys=True, default=str)
    return (*result[:8], observed, *result[9:11], sample, *result[12:])


def _decision_line(publication: tuple | None, failed_errors: int) -> str:
    """The publication's decision in one line (older runs, before publications, say the gate's)."""
    if publication is None:
        return "<span class='fail'>gate failed</span>" if failed_errors else "<span class='pass'>gate passed</span>"
    publication_id, _, decision, _, decided_by, state_of = publication
    checks = json.loads(decided_by)
    name = f"Publication <code>{html.escape(publication_id)}</code>: "
    if decision == "blocked":
        blocking = [c["check"] for c in checks if not c.get("waived_by")]
        return name + f"<span class='fail'>blocked</span> by {html.escape(', '.join(blocking))} (gate failed)"
    same = f", no change: the state of {state_of}" if state_of and state_of != publication_id else ""
    if decision == "waived":
        waived = "; ".join(f"{c['check']} waived by {c['waived_by']}" for c in checks)
        return name + f"<span class='warn'>published under waiver</span> ({html.escape(waived + same)}; gate passed)"
    return name + f"<span class='pass'>published</span> (gate passed{html.escape(same)})"


def write_quality_report(
    connection: duckdb.DuckDBPyConnection,
    destination: Path,
    *,
    exports_written: Mapping[str, Sequence[str]] | None = None,
    exports: Sequence[str] = (),
    revisions: Mapping[str, Revisions] | None = None,
    demo: bool = False,
    fields_of_layout: Mapping[str, Mapping[str, str]] | None = None,
    drafts_waiting: Sequence[tuple] | None = None,
) -> int:
    """Write ``index.html`` atomically (the GX site and failing rows beside it are kept); return
    the number of validation runs it covers. ``exports_written`` maps a run id to the exports it
    wrote; ``exports`` names every export, so the others are reported as not written;
    ``revisions`` (``read_revisions``) what each publication changed; ``fields_of_layout`` maps an
    inbox layout's file columns to canonical fields, to mask the quarantined rows of the files
    received (``inbox_receipts.py``; without it every cell of those rows is masked);
    ``drafts_waiting`` (``read_drafts_waiting``) the officers' returns not yet decided."""
    rows = connection.execute(
        """
        SELECT run_id, max(validated_at) OVER (PARTITION BY run_id) AS run_time, suite, target, expectation, kwargs,
               severity, success, observed_value, element_count, unexpected_count, failing_sample, why
        FROM audit.validation_results
        ORDER BY run_time DESC, run_id, success, severity, suite, expectation, kwargs
        """
    ).fetchall()
    runs: dict[str, list[tuple]] = {}
    for row in rows:
        runs.setdefault(row[0], []).append(row)
    publications = {r[1]: r for r in connection.execute(
        "SELECT publication_id, run_id, decision, decided_at, decided_by, state_of FROM audit.publications ORDER BY decided_at").fetchall()}
    waivers = connection.execute(
        "SELECT waiver_id, check_name, granted_by, reason, granted_at, publication_id FROM audit.waivers ORDER BY granted_at").fetchall()
    revisions = revisions or {}
    key, declared = pseudonyms.key(connection), personal.load()
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Data quality report</title><style>{_STYLE}</style></head><body>"]
    if demo:
        parts.append("<p class='fail' role='note'>Demonstration data: synthetic values, not published statistics. These checks "
                     "were run on the pipeline's demo.</p>")
    parts.append("<h1>Data quality report</h1><p>One section per attempt to publish, newest first: the decision in one line, "
                 "the waivers it used, what it changed, then every check in plain words, failures first with their rows. "
                 "An <em>error</em> that fails blocks the publication, and so every export, unless a named person waived that "
                 "check for the one publication; a <em>warning</em> is recorded and does not block. "
                 "The technical detail of each check is under <em>detail</em>, and Great Expectations' own Data Docs page "
                 "is linked from each suite.</p>"
                 "<p>Personal data is masked here, as this folder sits beside the open data. In the failing rows, samples and observed values, an "
                 f"identifier (a complaint or respondent id, an author) is shown as a keyed pseudonym (<code>{pseudonyms.PREFIX}</code> "
                 "and 16 hex digits: the same id has the same pseudonym in every run), and a demographic or free-text value "
                 f"is replaced by <code>{html.escape(REMOVED['demographics'])}</code> or <code>{html.escape(REMOVED['free_text'])}</code>; "
                 "for a suite with such columns, the Data Docs page shows counts, not values. The rows as found are in the "
                 "warehouse: <code>audit.failing_rows</code> and <code>audit.validation_results</code>.</p>")
    receipts = receipts_section(connection, key, declared, fields_of_layout or {})
    if receipts:
        parts.append("<p>The files received by the inbox, and what became of their rows, are "
                     "<a href='#files-received'>at the end</a>.</p>")
    if drafts_waiting is not None:
        parts.append(_drafts_section(drafts_waiting))
    if publications:
        parts.append("<h2>Publications</h2><table><tr><th>publication</th><th>decided at</th><th>decision</th>"
                     "<th>checks that decided it</th></tr>")
        for publication_id, run_id, decision, decided_at, decided_by, state_of in reversed(list(publications.values())):
            css = {"published": "pass", "waived": "warn", "blocked": "fail"}[decision]
            checks = "; ".join(c["check"] + (f" (waived by {c['waived_by']})" if c.get("waived_by") else "")
                               for c in json.loads(decided_by)) or "none failed"
            same = f" (no change: the state of {state_of})" if state_of and state_of != publication_id else ""
            parts.append(f"<tr><td><a href='#run-{html.escape(run_id)}'><code>{html.escape(publication_id)}</code></a></td>"
                         f"<td>{html.escape(str(decided_at))}</td>"
                         f"<td><span class='{css}'>{decision}</span>{html.escape(same)}</td><td>{html.escape(checks)}</td></tr>")
        parts.append("</table>")
    if waivers:
        parts.append("<h2>Waivers</h2><table><tr><th>waiver</th><th>check</th><th>granted by</th><th>reason</th>"
                     "<th>granted at</th><th>used by publication</th></tr>" + "".join(
                         "<tr>" + "".join(f"<td>{html.escape(str(cell if cell is not None else 'not used yet'))}</td>" for cell in w)
                         + "</tr>" for w in waivers) + "</table>")
    for run_id, results in runs.items():
        failed_errors = sum(1 for r in results if not r[7] and r[6] == "error")
        failed_warnings = sum(1 for r in results if not r[7] and r[6] == "warning")
        publication = publications.get(run_id)
        parts.append(f"<h2 id='run-{html.escape(run_id)}'>{_decision_line(publication, failed_errors)}</h2>"
                     f"<p>Run <code>{html.escape(run_id)}</code>, checked at {html.escape(str(results[0][1]))}: "
                     f"{len(results) - failed_errors - failed_warnings} of {len(results)} checks met; "
                     f"{failed_errors} error(s), {failed_warnings} warning(s) failed.</p>")
        if exports_written is not None and exports:
            written = set(exports_written.get(run_id, ()))
            blocked = [e for e in exports if e not in written]
            parts.append(
                "<p>Exports written: " + (html.escape(", ".join(e for e in exports if e in written)) or "none") + ". "
                + ("Exports <span class='fail'>not written (blocked or not run)</span>: " + html.escape(", ".join(blocked)) if blocked
                   else "No export was blocked.") + "</p>"
            )
        used = [w for w in waivers if publication is not None and w[5] == publication[0]]
        if used:
            parts.append("<h3>Waivers used</h3><ul>" + "".join(
                f"<li>{html.escape(w[1])}: waiver {html.escape(w[0])}, granted by {html.escape(w[2])} at {html.escape(str(w[4]))}, "
                f"because: {html.escape(w[3])}</li>" for w in used) + "</ul>")
        changed = revisions.get(publication[0]) if publication is not None else None
        if changed is not None:
            summary = ", ".join(f"{changed.counts.get(c, 0):,} {c}" for c in ("added", "revised", "withdrawn"))
            parts.append(f"<h3>What this publication changed</h3><p>Indicator values: {summary} (all of them in the open data's "
                         f"<code>revisions/</code>, a CSV per financial year; the first {REVISIONS_SHOWN} here).</p>"
                         "<table><tr><th>indicator</th>"
                         "<th>area</th><th>period</th><th>change</th><th>old value</th><th>new value</th></tr>" + "".join(
                             "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in changed.rows) + "</table>")
        parts.append("<h3>Checks</h3><table><tr><th>the check, in plain words</th><th>result</th><th>suite / table</th>"
                     "<th>failing rows</th><th>detail</th></tr>")
        for r in results:
            r = _masked(r, Mask(key, declared.get(r[2], personal.NONE)))
            css, word = ("pass", "passed") if r[7] else (("fail", "FAILED") if r[6] == "error" else ("warn", "failed (warning)"))
            docs = _link(destination, _docs_page(destination, run_id, r[2]), "Data Docs")
            rows_file = failing_rows_file(run_id, r[2], r[4], r[5] or "")
            failing = "" if r[7] else (_link(destination, rows_file, "all failing rows, every column (CSV)")
                                        + _failing_rows_table(destination, rows_file, r[5] or ""))
            detail = (f"<details><summary>detail</summary>{html.escape(r[4])} [{html.escape(r[6])}]<br><code>{html.escape(r[5] or '')}</code>"
                      f"<br>rows: {_cell(r[9])}; unexpected: {_cell(r[10])}; observed: {html.escape(r[8] or '')}"
                      f"<br>sample: <code>{html.escape(r[11] or '')}</code></details>")
            parts.append(f"<tr><td>{html.escape(plain_words(r))}</td><td><span class='{css}'>{word}</span></td>"
                         f"<td>{html.escape(r[2])}<br><code>{html.escape(r[3])}</code><br>{docs}</td><td>{failing}</td><td>{detail}</td></tr>")
        parts.append("</table>")
    parts.append(receipts)
    parts.append("</body></html>\n")
    destination.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".html", dir=destination)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write("".join(parts))
    os.replace(temporary, destination / "index.html")
    # GX's own indexes list only the run each rendered last; the way in is this page
    for gx_index in (destination / "gx").glob("*/index.html"):
        gx_index.write_text("<!doctype html><meta charset='utf-8'><meta http-equiv='refresh' content='0; url=../../index.html'>"
                            "<a href='../../index.html'>The data quality report</a>\n", encoding="utf-8")
    return len(runs)
