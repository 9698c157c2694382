"""The auditor's quality report: ``EXPORT_DIR/quality/index.html`` over every validation run.

Beside it, written by the gate as it runs: ``gx/``, the Great Expectations Data Docs site (one
page per suite and run), and ``failing/<run>/<suite>/``, each failed expectation's rows as CSV.
The index is the way in: per attempt to publish, the decision in one line, the exports written
or blocked, the waivers used, what the publication changed, then every check in plain words,
failures first with their first rows, the technical detail folded away, and links to the GX
page and the failing rows. A plain static page, no
external requests (the GX pages themselves load GX's styles from a CDN).

The markup is not here: the page is the Jinja template ``exports/templates/quality/index.html.j2``
with ``quality.css`` inline, and ``gx_index.html`` beside them replaces the GX site's own index
(exports/templating.py). This module reads the audit tables and says each check in words; the
template writes the page as one line and escapes every value as ``html.escape`` does (``escaped``),
as the page always has; its files-received section is the template ``receipts.html.j2`` over what
exports/inbox_receipts.py finds.

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
import jinja2
from markupsafe import Markup

from expectations import personal
from expectations.masking import REMOVED, Mask
from expectations.runner import ExpectationOutcome, Suite
from exports import templating
from exports.inbox_receipts import RECEIPTS_SHOWN, received_files
from exports.publish import write_csv
from lgperf import pseudonyms
from lgperf.audit import as_json


def failing_rows_file(run_id: str, suite: str, expectation: str, kwargs_json: str) -> Path:
    """Where a failed expectation's rows are kept, relative to the quality folder."""
    digest = hashlib.sha256(kwargs_json.encode("utf-8")).hexdigest()[:10]
    return Path("failing") / run_id / suite / f"{expectation}-{digest}.csv"


def write_failing_rows(
    quality_dir: Path, run_id: str, suite: Suite, outcomes: Sequence[ExpectationOutcome], mask: Mask
) -> None:
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
    pages = sorted((destination / "gx" / "validations" / suite / run_id).glob("*/*.html"))
    return pages[-1].relative_to(destination) if pages else None


def _href(destination: Path, relative: Path | None) -> str | None:
    """A file of the quality folder as a link's address; None when it is not there."""
    if relative is None or not (destination / relative).exists():
        return None
    return relative.as_posix()


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
        f"SELECT publication_id, change, count(*) FROM {publication.PUBLISHED}.{publication.REVISIONS} GROUP BY 1, 2"
    ):
        counts.setdefault(publication_id, {})[change] = int(count)
    shown: dict[str, list[tuple]] = {}
    for row in store.rows(
        f"SELECT publication_id, indicator_id, area_code, period_id, change, old_value, new_value FROM ("
        "SELECT *, row_number() "
        "OVER (PARTITION BY publication_id ORDER BY change DESC, indicator_id, area_code, period_id) AS shown "
        f"FROM {publication.PUBLISHED}.{publication.REVISIONS}) AS r WHERE shown <= {REVISIONS_SHOWN} "
        "ORDER BY publication_id, shown"
    ):
        shown.setdefault(row[0], []).append(row[1:])
    return {p: Revisions(c, shown.get(p, [])) for p, c in counts.items()}


DRAFTS_WAITING_COLUMNS = ("owner", "indicator_id", "indicator_title", "period_id", "received_at", "source_reference")


def read_drafts_waiting(store: Any) -> list[tuple]:
    """The officers' return rows waiting for the performance team's decision (``marts.return_drafts``),
    oldest first: what the report does not yet carry."""
    from lgperf import publication

    if "return_drafts" not in publication.tables(store, publication.PUBLISHED):
        return []
    return list(
        store.rows(
            f"SELECT {', '.join(DRAFTS_WAITING_COLUMNS)} FROM {publication.PUBLISHED}.return_drafts "
            "WHERE status = 'waiting' ORDER BY received_at, owner, indicator_id, period_id"
        )
    )


def _cell(value: Any) -> str:
    """A table cell's text: blank for None, an integer with thousands separators."""
    return "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


INLINE_COLUMNS = 5  # the checked column(s) first, then the frame's first columns (its keys)


def _failing_rows(destination: Path, relative: Path, kwargs_json: str) -> dict[str, list] | None:
    """The first rows of a failed check's CSV, to show inline, so the auditor sees them without
    opening it: the column the check is about, then the row's leading (key) columns; the CSV has
    them all. None when there is no CSV."""
    path = destination / relative
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = [row for _, row in zip(range(FAILING_ROWS_SHOWN), reader)]
    kwargs = json.loads(kwargs_json or "{}")
    checked = [c for c in [kwargs.get("column"), *kwargs.get("column_list", [])] if c in header]
    shown = [header.index(c) for c in dict.fromkeys(checked + header)][: max(INLINE_COLUMNS, len(checked))]
    return {"header": [header[i] for i in shown], "rows": [[row[i] for i in shown] for row in rows]}


def _masked(result: tuple, mask: Mask) -> tuple:
    """A validation result with its observed value and failing sample masked for this folder."""
    kwargs = json.loads(result[5] or "{}")
    observed, sample = (None if text is None else json.loads(text) for text in (result[8], result[11]))
    observed = None if observed is None else json.dumps(mask.observed(kwargs, observed), sort_keys=True, default=str)
    sample = None if sample is None else json.dumps(mask.sample(kwargs, sample), sort_keys=True, default=str)
    return (*result[:8], observed, *result[9:11], sample, *result[12:])


def _decision(publication: tuple | None, failed_errors: int) -> dict[str, Any]:
    """What a run's heading says: its publication's decision and why (older runs, before
    publications, say the gate's)."""
    if publication is None:
        return {"publication_id": None, "gate_failed": bool(failed_errors)}
    publication_id, _, decision, _, decided_by, state_of = publication
    checks = json.loads(decided_by)
    same = f", no change: the state of {state_of}" if state_of and state_of != publication_id else ""
    if decision == "blocked":
        detail = ", ".join(c["check"] for c in checks if not c.get("waived_by"))
    elif decision == "waived":
        detail = "; ".join(f"{c['check']} waived by {c['waived_by']}" for c in checks) + same
    else:
        detail = same
    return {"publication_id": publication_id, "decision": decision, "detail": detail}


def escaped(value: Any) -> Any:
    """A value as the page writes it: escaped as html.escape does (quotes as &quot; and &#x27;,
    as the page always had them: its bytes do not change), unless it is markup already."""
    return value if hasattr(value, "__html__") else Markup(html.escape(str(value)))


def receipts_section(
    connection: duckdb.DuckDBPyConnection,
    key: bytes,
    declared: Mapping[str, personal.Personal],
    fields_of_layout: Mapping[str, Mapping[str, str]],
    *,
    limit: int = RECEIPTS_SHOWN,
) -> str:
    """The "Files received" section's HTML ('' when nothing was ever received); ``key``: the
    warehouse's pseudonym key; ``declared``: personal.load()."""
    receipts = received_files(connection, key, declared, fields_of_layout, limit=limit)
    if receipts is None:
        return ""
    return _environment().get_template("quality/receipts.html.j2").render(receipts=receipts)


def _environment() -> jinja2.Environment:
    environment = templating.environment(finalize=escaped, extensions=[templating.JoinedLines])
    environment.filters["cell"] = _cell
    return environment


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
    publications = {
        r[1]: r
        for r in connection.execute(
            "SELECT publication_id, run_id, decision, decided_at, decided_by, state_of FROM audit.publications "
            "ORDER BY decided_at"
        ).fetchall()
    }
    waivers = connection.execute(
        "SELECT waiver_id, check_name, granted_by, reason, granted_at, publication_id FROM audit.waivers "
        "ORDER BY granted_at"
    ).fetchall()
    revisions = revisions or {}
    key, declared = pseudonyms.key(connection), personal.load()
    receipts = receipts_section(connection, key, declared, fields_of_layout or {})
    table = []
    for publication_id, run_id, decision, decided_at, decided_by, state_of in reversed(list(publications.values())):
        checks = (
            "; ".join(
                c["check"] + (f" (waived by {c['waived_by']})" if c.get("waived_by") else "")
                for c in json.loads(decided_by)
            )
            or "none failed"
        )
        same = f" (no change: the state of {state_of})" if state_of and state_of != publication_id else ""
        table.append(
            {
                "publication_id": publication_id,
                "run_id": run_id,
                "decided_at": decided_at,
                "decision": decision,
                "css": {"published": "pass", "waived": "warn", "blocked": "fail"}[decision],
                "checks": checks,
                "same": same,
            }
        )
    sections = []
    for run_id, results in runs.items():
        failed_errors = sum(1 for r in results if not r[7] and r[6] == "error")
        failed_warnings = sum(1 for r in results if not r[7] and r[6] == "warning")
        publication = publications.get(run_id)
        written = set(exports_written.get(run_id, ())) if exports_written is not None and exports else None
        changed = revisions.get(publication[0]) if publication is not None else None
        sections.append(
            {
                "run_id": run_id,
                "checked_at": results[0][1],
                "decision": _decision(publication, failed_errors),
                "met": len(results) - failed_errors - failed_warnings,
                "total": len(results),
                "failed_errors": failed_errors,
                "failed_warnings": failed_warnings,
                "exports": None
                if written is None
                else {
                    "written": ", ".join(e for e in exports if e in written),
                    "blocked": ", ".join(e for e in exports if e not in written),
                },
                "waivers_used": [
                    {"waiver_id": w[0], "check": w[1], "granted_by": w[2], "reason": w[3], "granted_at": w[4]}
                    for w in waivers
                    if publication is not None and w[5] == publication[0]
                ],
                "changed": None
                if changed is None
                else {
                    "summary": ", ".join(
                        f"{changed.counts.get(c, 0):,} {c}" for c in ("added", "revised", "withdrawn")
                    ),
                    "rows": changed.rows,
                },
                "checks": [
                    _check(destination, run_id, _masked(r, Mask(key, declared.get(r[2], personal.NONE))))
                    for r in results
                ],
            }
        )
    environment = _environment()
    page = environment.get_template("quality/index.html.j2").render(
        style=templating.inline(environment, "quality/quality.css"),
        demo=demo,
        pseudonym_prefix=pseudonyms.PREFIX,
        removed=REMOVED,
        receipts=Markup(receipts),
        drafts_waiting=drafts_waiting,
        publications=table,
        waivers=waivers,
        runs=sections,
        revisions_shown=REVISIONS_SHOWN,
    )
    destination.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".html", dir=destination)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(page)
    os.replace(temporary, destination / "index.html")
    # GX's own index lists only the run it rendered last; the way in is this page
    redirect = templating.inline(environment, "quality/gx_index.html")
    if (destination / "gx" / "index.html").exists():
        (destination / "gx" / "index.html").write_text(redirect, encoding="utf-8")
    return len(runs)


def _check(destination: Path, run_id: str, r: tuple) -> dict[str, Any]:
    """One check's row of a run's table (``r``: a validation result, masked): in plain words, its
    outcome, its suite and Data Docs page, the failing rows of a failed one, the detail."""
    css, word = ("pass", "passed") if r[7] else ("fail", "FAILED") if r[6] == "error" else ("warn", "failed (warning)")
    rows_file = failing_rows_file(run_id, r[2], r[4], r[5] or "")
    return {
        "words": plain_words(r),
        "css": css,
        "word": word,
        "suite": r[2],
        "target": r[3],
        "docs": _href(destination, _docs_page(destination, run_id, r[2])),
        "rows_file": None if r[7] else _href(destination, rows_file),
        "rows": None if r[7] else _failing_rows(destination, rows_file, r[5] or ""),
        "expectation": r[4],
        "severity": r[6],
        "kwargs": r[5] or "",
        "element_count": r[9],
        "unexpected_count": r[10],
        "observed": r[8] or "",
        "sample": r[11] or "",
    }
