"""``make bench``: the pipeline at S, M and L, side by side with the floor (one hand-written
DuckDB SQL script), the peer (pandas) and the exports' floor (DuckDB ``COPY`` of the same data),
into ``benchmarks/results/latest.json`` and the table in ``benchmarks/README.md``.

    python -m benchmarks.run --scale L            # or S,M (default S,M,L); --scales is the same
    python -m benchmarks.run --scale S --repeats 1 --results /tmp/s.json   # a try: README untouched

Each scale runs ``benchmarks.pipeline`` in a fresh process (so its peak memory is its own)
``--repeats`` times (L: half as many, at least one); medians are reported. The child's stage
lines are relayed to stdout as they come, and all its output goes to a log beside its result.
The floor and the peer then run on the warehouse the last repeat built and must agree with the
marts (same rows, values within 1e-9) before they are timed; the exports' floor is timed there
too. Scales not measured keep their entry in the results file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "latest.json"
SCALE_NAMES = ("S", "M", "L")
README = Path(__file__).parent / "README.md"
# the targets at L; every ratio is over whole-run seconds as named
TARGETS = {
    "incremental / full pipeline": ("<=", 0.15),
    "peak memory GB": ("<=", 2.0),
    "dbt build / floor": ("<=", 1.5),
    "exports / COPY floor": ("<=", 2.0),
    "pandas peer / full pipeline": (">=", 1.0),  # the whole pipeline faster than pandas computing the same marts
}
EXTRA_RATIOS = ("gate / full pipeline",)  # shown, no target


def machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": os.getloadavg(),
    }


def say(text: str) -> None:
    print(text, flush=True)


def run_scale(scale: str, label: str) -> dict[str, Any]:
    """One run of one scale in a fresh process. Its stage lines (``[S] ...``) are relayed to
    stdout as they come, prefixed with ``label``; all its output is kept in a log beside its
    result."""
    folder = Path(tempfile.mkdtemp(prefix=f"lgperf-bench-run-{scale}-"))
    log_path = folder / "pipeline.log"
    prefix, stages, failed_at = f"[{scale}] ", [], None
    with log_path.open("w", encoding="utf-8") as log:
        child = subprocess.Popen(
            [
                sys.executable,
                "-u",
                "-m",
                "benchmarks.pipeline",
                "--scale",
                scale,
                "--output",
                str(folder / "result.json"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        assert child.stdout is not None
        for line in child.stdout:
            log.write(line)
            log.flush()
            if line.startswith(prefix):
                text = line[len(prefix) :].rstrip("\n")
                say(f"[{label}] {text}")
                if text.startswith("failed at "):
                    failed_at = text[len("failed at ") :].split(":")[0]
                else:
                    stages.append(text.split(":")[0])
        returncode = child.wait()
    if returncode != 0:
        lines = log_path.read_text(encoding="utf-8").splitlines()
        causes = [line.strip() for line in lines if "Runtime Error in" in line or " Error: " in line][:4] or lines[-2:]
        where = failed_at or (f"the stage after {stages[-1]}" if stages else "its start")
        raise RuntimeError(f"scale {scale} failed at {where}: {' | '.join(causes)} (log: {log_path})")
    return json.loads((folder / "result.json").read_text(encoding="utf-8"))


def time_peers(folder: Path, scale: str, repeats: int) -> dict[str, Any]:
    """Floor and pandas on the pipeline's own warehouse: agreement first, then seconds."""
    import duckdb

    from benchmarks.peers import KEYS, compare, run_floor, run_pandas
    from benchmarks.scales import ENGLAND_GROUP, NEIGHBOURS_GROUP, SCALES
    from demo.catalogue import TRAFFORD
    from lgperf.settings import SpcSettings

    groups = [NEIGHBOURS_GROUP] + ([ENGLAND_GROUP] if SCALES[scale].all_councils else [])
    # the bench's pipeline.yml sets no SPC thresholds: the peers take the pipeline's defaults
    # (screening on, no freeze, no configured rebases)
    spc = SpcSettings().model_dump()
    with duckdb.connect(str(folder / "warehouse.duckdb")) as connection:
        run_floor(connection, council=TRAFFORD, comparison_groups=groups, spc=spc)
        frames = run_pandas(connection, council=TRAFFORD, comparison_groups=groups, spc=spc)
        disagreements = {}
        for table, key in KEYS.items():
            # computed_at says which build computed a row: not a figure the peers compute
            expected = connection.execute(f"SELECT * EXCLUDE (computed_at) FROM marts.{table}").df()
            floor = connection.execute(f"SELECT * FROM floor.{table}").df()
            disagreements[table] = {
                "floor": compare(expected, floor, keys=key)[:5],
                "pandas": compare(expected, frames[table], keys=key)[:5],
            }
        # each peer is timed only when it agrees with the marts
        agree = {peer: not any(d[peer] for d in disagreements.values()) for peer in ("floor", "pandas")}
        times: dict[str, list[float]] = {"floor": [], "pandas": []}
        runs = {"floor": run_floor, "pandas": run_pandas}
        for _ in range(repeats):
            for peer in (p for p in runs if agree[p]):
                started = time.perf_counter()
                runs[peer](connection, council=TRAFFORD, comparison_groups=groups, spc=spc)
                times[peer].append(time.perf_counter() - started)
    result: dict[str, Any] = {
        "agree": agree["floor"],
        "pandas_agree": agree["pandas"],
        **{f"{peer}_seconds": statistics.median(times[peer]) for peer in runs if agree[peer]},
    }
    if not all(agree.values()):
        result["disagreements"] = disagreements
    return result


def time_floors(folder: Path, scale: str, repeats: int) -> dict[str, Any]:
    """The SQL floor and pandas (when they agree with the marts), then the exports' COPY floor."""
    from benchmarks.export_floor import time_export_floor

    peers = time_peers(folder, scale, repeats)
    peers.update(time_export_floor(folder / "warehouse.duckdb", repeats))
    return peers


def ratios(s: dict[str, Any]) -> dict[str, float | None]:
    """The ratios of one scale's summary, from its seconds (an older entry lacking a figure gives None)."""

    def over(a: str, b: str) -> float | None:
        x, y = s.get(a), s.get(b)
        return None if x is None or not y else x / y

    agree = bool(s.get("agree"))
    return {
        "incremental / full pipeline": over("incremental_pipeline_seconds", "full_pipeline_seconds"),
        "peak memory GB": s.get("peak_memory_gb"),
        "dbt build / floor": over("dbt_build_seconds", "floor_seconds") if agree else None,
        "exports / COPY floor": over("exports_seconds", "export_floor_seconds"),
        "pandas peer / full pipeline": over("pandas_seconds", "full_pipeline_seconds")
        if s.get("pandas_agree", agree)
        else None,
        "gate / full pipeline": over("quality_gate_seconds", "full_pipeline_seconds"),
    }


def targets_met(r: dict[str, float | None]) -> dict[str, bool | None]:
    return {
        name: (None if r.get(name) is None else (r[name] <= limit if op == "<=" else r[name] >= limit))
        for name, (op, limit) in TARGETS.items()
    }


def summarise(runs: list[dict[str, Any]], peers: dict[str, Any]) -> dict[str, Any]:
    def median(path: tuple[str, ...]) -> float:
        values = []
        for run in runs:
            value: Any = run
            for key in path:
                value = value.get(key, 0.0)
            values.append(value)
        return statistics.median(values)

    summary = {
        "values": runs[0]["values"],
        "indicators": runs[0]["indicators"],
        "areas": runs[0]["areas"],
        "repeats": len(runs),
        "settings": runs[-1].get("settings"),
        "full_pipeline_seconds": median(("full", "pipeline_wall")),
        "ingest_seconds": median(("ingest_seconds",)),
        "dbt_build_seconds": median(("full", "dbt_build")),
        "quality_gate_seconds": median(("full", "quality_gate")),
        "exports_seconds": median(("full", "exports")),
        "incremental_pipeline_seconds": median(("incremental", "pipeline_wall")),
        "incremental_dbt_build_seconds": median(("incremental", "dbt_build")),
        "incremental_quality_gate_seconds": median(("incremental", "quality_gate")),
        "incremental_exports_seconds": median(("incremental", "exports")),
        "incremental_values_added": runs[0]["incremental"].get("values_added"),
        "peak_memory_gb": max(max(r["peak_rss_mb_pipeline_process"], r["peak_rss_mb_largest_child"]) for r in runs)
        / 1024,
        **peers,
    }
    summary["ratios"] = ratios(summary)
    summary["targets_met"] = targets_met(summary["ratios"])
    return summary


COLUMNS = (
    "full pipeline s",
    "dbt build s",
    "gate s",
    "exports s",
    "incremental pipeline s",
    "floor s",
    "export floor s",
    "pandas s",
    "incr / full",
    "peak GB",
    "dbt / floor",
    "exports / COPY floor",
    "pandas / full",
    "gate share",
)


def table(results: dict[str, Any]) -> str:
    """The README table, generated from latest.json; a ratio that misses its target is marked."""

    def fmt(v: Any, digits: int = 2) -> str:
        return "n/a" if v is None else f"{v:.{digits}f}"

    lines = [
        "| scale | values | " + " | ".join(COLUMNS) + " |",
        "| --- | " + " | ".join(["---:"] * (len(COLUMNS) + 1)) + " |",
    ]
    for name, s in results["scales"].items():
        if "failed" in s:
            lines.append(f"| {name} | failed: {s['failed'][:300].replace('|', '/')} |" + " |" * len(COLUMNS))
            continue
        r, met = ratios(s), targets_met(ratios(s))

        def ratio(key: str) -> str:
            # B023: called within this iteration only, never after the loop moves on
            return fmt(r[key]) + (" ✗" if met.get(key) is False else "")  # noqa: B023

        seconds = [
            s.get(k)
            for k in (
                "full_pipeline_seconds",
                "dbt_build_seconds",
                "quality_gate_seconds",
                "exports_seconds",
                "incremental_pipeline_seconds",
                "floor_seconds",
                "export_floor_seconds",
                "pandas_seconds",
            )
        ]
        cells = [fmt(v, 1) for v in seconds] + [
            ratio(k)
            for k in (
                "incremental / full pipeline",
                "peak memory GB",
                "dbt build / floor",
                "exports / COPY floor",
                "pandas peer / full pipeline",
            )
        ]
        cells.append(fmt(r["gate / full pipeline"]))
        lines.append(f"| {name} ({s['repeats']}) | {s['values']:,} | " + " | ".join(cells) + " |")
    targets = "; ".join(f"{name} {op} {limit:g}" for name, (op, limit) in TARGETS.items())
    notes = [f"- {name}: {s['measured']}" for name, s in results["scales"].items() if s.get("measured")]
    for name, s in results["scales"].items():
        settings = s.get("settings") or {}
        changed = [
            f"{key} {settings[key]} (from {settings[key + '_from']})"
            for key in ("dbt_threads", "duckdb_memory_limit")
            if key in settings and not str(settings.get(key + "_from", "default")).startswith("default")
        ]
        if changed:
            notes.append(f"- {name}: not the default settings: {', '.join(changed)}")
    return (
        "\n".join(lines)
        + f"\n\nTargets (at L; ✗ marks a miss at any scale): {targets}."
        + ("\n\n" + "\n".join(notes) if notes else "")
    )


def write_readme_table(results: dict[str, Any]) -> None:
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    machine_line = (
        f"Machine: {results['machine']['cores']} cores, {results['machine']['memory_gb']} GB; "
        f"load average at start {results['machine']['load_average_at_start'][0]:.2f}."
    )
    README.write_text(f"{head}{start}\n{table(results)}\n\n{machine_line}\n{end}{tail}", encoding="utf-8")


def progress_line(scale: str, s: dict[str, Any]) -> str:
    if "failed" in s:
        return f"[{scale}] FAILED: {s['failed']}"

    def peer(name: str, agrees: bool) -> str:
        return (
            f"{name} {s[f'{name}_seconds']:.1f} s"
            if agrees
            else f"{name} DISAGREES with the marts (not timed; see disagreements)"
        )

    peers = f"{peer('floor', bool(s.get('agree')))}, {peer('pandas', bool(s.get('pandas_agree', s.get('agree'))))}"
    return f"[{scale}] {peers}, export COPY floor {s['export_floor_seconds']:.1f} s ({s['export_floor_files']} files)"


def ratios_line(scale: str, s: dict[str, Any]) -> str:
    r, met = s["ratios"], s["targets_met"]
    parts = []
    for name, value in r.items():
        if value is None:
            parts.append(f"{name} n/a")
        else:
            mark = (
                ""
                if name not in met
                else (" ok" if met[name] else f" MISSED ({TARGETS[name][0]} {TARGETS[name][1]:g})")
            )
            parts.append(f"{name} {value:.2f}{mark}")
    return f"[{scale}] " + "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description="lgperf benchmarks")
    parser.add_argument(
        "--scale", "--scales", dest="scales", default="S,M,L", help="comma-separated scales (S, M, L); default S,M,L"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per scale, medians reported (L: half as many, at least one)"
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help="results file (default "
        f"{RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}); "
        "the README table is updated only with the default",
    )
    parser.add_argument(
        "--table-only", action="store_true", help="regenerate the README table from the results file; run nothing"
    )
    arguments = parser.parse_args()
    results_path: Path = arguments.results.resolve()
    update_readme = results_path == RESULTS.resolve()
    if arguments.table_only:
        write_readme_table(json.loads(results_path.read_text(encoding="utf-8")))
        return 0
    scales = [name.strip().upper() for name in arguments.scales.split(",") if name.strip()]
    unknown = [name for name in scales if name not in SCALE_NAMES]
    if unknown:
        parser.error(f"unknown scale(s) {unknown}; choose from {', '.join(SCALE_NAMES)}")
    results: dict[str, Any] = {"machine": machine(), "scales": {}}
    if results_path.exists():  # re-measuring some scales keeps the others
        results["scales"] = json.loads(results_path.read_text(encoding="utf-8"))["scales"]
    failed = False
    for scale in scales:
        load_before = os.getloadavg()[0]
        repeats = arguments.repeats if scale != "L" else max(1, arguments.repeats // 2)
        try:
            runs = [
                run_scale(scale, scale if repeats == 1 else f"{scale} run {i + 1}/{repeats}") for i in range(repeats)
            ]
        except RuntimeError as error:  # recorded, and the other scales still run
            results["scales"][scale] = {"failed": str(error)}
            failed = True
        else:
            say(f"[{scale}] timing the floor, pandas and the export COPY floor on {runs[-1]['folder']} ...")
            peers = time_floors(Path(runs[-1]["folder"]), scale, arguments.repeats)
            results["scales"][scale] = summarise(runs, peers)
        # other work on the machine shows here: the 1-minute load before and after the scale
        results["scales"][scale]["load_average"] = {"before": load_before, "after": os.getloadavg()[0]}
        say(progress_line(scale, results["scales"][scale]))
        if "ratios" in results["scales"][scale]:
            say(ratios_line(scale, results["scales"][scale]))
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text(
            json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8"
        )  # after every scale
        if update_readme:
            write_readme_table(results)
    say(
        f"results: {results_path}"
        + (f"; table: {README}" if update_readme else " (README table not updated: not the default results file)")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
