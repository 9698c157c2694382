"""``make bench``: the pipeline at S, M and L, side by side with the floor (one hand-written
DuckDB SQL script) and the peer (pandas), into ``benchmarks/results/latest.json`` and the table
in ``benchmarks/README.md``.

Each scale runs ``benchmarks.pipeline`` in a fresh process (so its peak memory is its own)
``--repeats`` times; medians are reported. The floor and the peer then run on the warehouse the
last repeat built and must agree with the marts (same rows, values within 1e-9) before they
are timed.
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
TARGETS = {
    "full build / floor": ("<=", 1.5),
    "pandas peer / full build": (">=", 5.0),
    "incremental / full build": ("<=", 0.15),
    "peak memory GB": ("<=", 2.0),
    "quality gate / total": ("<=", 0.15),
}


def machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cores": os.cpu_count(), "memory_gb": round(memory, 1), "python": platform.python_version(),
            "platform": platform.platform(), "load_average_at_start": os.getloadavg()}


def run_scale(scale: str) -> dict[str, Any]:
    """One run of one scale in a fresh process; its log is kept beside its output."""
    folder = Path(tempfile.mkdtemp(prefix=f"lgperf-bench-run-{scale}-"))
    with (folder / "pipeline.log").open("w", encoding="utf-8") as log:
        finished = subprocess.run([sys.executable, "-m", "benchmarks.pipeline", "--scale", scale, "--output", str(folder / "result.json")],
                                  stdout=log, stderr=subprocess.STDOUT)
    if finished.returncode != 0:
        lines = (folder / "pipeline.log").read_text(encoding="utf-8").splitlines()
        causes = [line.strip() for line in lines if "Runtime Error in" in line or " Error: " in line][:4] or lines[-2:]
        raise RuntimeError(f"scale {scale} failed: {' | '.join(causes)} (log: {folder / 'pipeline.log'})")
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
            expected = connection.execute(f"SELECT * FROM marts.{table}").df()
            floor = connection.execute(f"SELECT * FROM floor.{table}").df()
            disagreements[table] = {"floor": compare(expected, floor, keys=key)[:5],
                                    "pandas": compare(expected, frames[table], keys=key)[:5]}
        if any(d["floor"] or d["pandas"] for d in disagreements.values()):
            return {"agree": False, "disagreements": disagreements}  # nothing is timed
        floor_times, pandas_times = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            run_floor(connection, council=TRAFFORD, comparison_groups=groups, spc=spc)
            floor_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            run_pandas(connection, council=TRAFFORD, comparison_groups=groups, spc=spc)
            pandas_times.append(time.perf_counter() - started)
    return {"agree": True, "floor_seconds": statistics.median(floor_times), "pandas_seconds": statistics.median(pandas_times)}


def summarise(runs: list[dict[str, Any]], peers: dict[str, Any]) -> dict[str, Any]:
    def median(path: tuple[str, ...]) -> float:
        values = []
        for run in runs:
            value: Any = run
            for key in path:
                value = value.get(key, 0.0)
            values.append(value)
        return statistics.median(values)

    full = median(("full", "dbt_build"))
    total = median(("full", "pipeline_wall"))
    summary = {
        "values": runs[0]["values"], "indicators": runs[0]["indicators"], "areas": runs[0]["areas"], "repeats": len(runs),
        "full_pipeline_seconds": total, "ingest_seconds": median(("ingest_seconds",)), "dbt_build_seconds": full,
        "quality_gate_seconds": median(("full", "quality_gate")), "exports_seconds": median(("full", "exports")),
        "incremental_pipeline_seconds": median(("incremental", "pipeline_wall")),
        "incremental_dbt_build_seconds": median(("incremental", "dbt_build")),
        "peak_memory_gb": max(max(r["peak_rss_mb_pipeline_process"], r["peak_rss_mb_largest_child"]) for r in runs) / 1024,
        **peers,
    }
    ratios = {
        "full build / floor": full / peers["floor_seconds"] if peers.get("agree") else None,
        "pandas peer / full build": peers["pandas_seconds"] / full if peers.get("agree") else None,
        "incremental / full build": summary["incremental_dbt_build_seconds"] / full,
        "peak memory GB": summary["peak_memory_gb"],
        "quality gate / total": summary["quality_gate_seconds"] / total,
    }
    summary["ratios"] = ratios
    summary["targets_met"] = {name: (None if value is None else (value <= limit if op == "<=" else value >= limit))
                              for name, value in ratios.items() for op, limit in [TARGETS[name]]}
    return summary


def table(results: dict[str, Any]) -> str:
    """The README table, generated from latest.json."""
    lines = ["| scale | values | full pipeline s | dbt build s | gate s | exports s | incremental s | floor s | pandas s | "
             "build/floor | pandas/build | incr/full | peak GB | gate share |",
             "| --- | " + " | ".join(["---:"] * 13) + " |"]
    for name, s in results["scales"].items():
        if "failed" in s:
            lines.append(f"| {name} | failed: {s['failed'][:300].replace('|', '/')} |" + " |" * 12)
            continue
        r = s["ratios"]

        def fmt(v: Any, digits: int = 2) -> str:
            return "n/a" if v is None else f"{v:.{digits}f}"

        lines.append(f"| {name} ({s['repeats']}) | {s['values']:,} | {fmt(s['full_pipeline_seconds'], 1)} | {fmt(s['dbt_build_seconds'], 1)} | "
                     f"{fmt(s['quality_gate_seconds'], 1)} | {fmt(s['exports_seconds'], 1)} | {fmt(s['incremental_dbt_build_seconds'], 1)} | "
                     f"{fmt(s.get('floor_seconds'), 1)} | {fmt(s.get('pandas_seconds'), 1)} | {fmt(r['full build / floor'])} | "
                     f"{fmt(r['pandas peer / full build'])} | {fmt(r['incremental / full build'])} | {fmt(r['peak memory GB'])} | "
                     f"{fmt(r['quality gate / total'])} |")
    return "\n".join(lines)


def write_readme_table(results: dict[str, Any]) -> None:
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    machine_line = (f"Machine: {results['machine']['cores']} cores, {results['machine']['memory_gb']} GB; "
                    f"load average at start {results['machine']['load_average_at_start'][0]:.2f}.")
    README.write_text(f"{head}{start}\n{table(results)}\n\n{machine_line}\n{end}{tail}", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description="lgperf benchmarks")
    parser.add_argument("--scales", default="S,M,L")
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    results: dict[str, Any] = {"machine": machine(), "scales": {}}
    if RESULTS.exists() and set(arguments.scales.split(",")) != set(SCALE_NAMES):  # re-measuring some scales keeps the others
        results["scales"] = json.loads(RESULTS.read_text(encoding="utf-8"))["scales"]
    failed = False
    for scale in arguments.scales.split(","):
        load_before = os.getloadavg()[0]
        try:
            runs = [run_scale(scale) for _ in range(arguments.repeats if scale != "L" else max(1, arguments.repeats // 2))]
        except RuntimeError as error:  # recorded, and the other scales still run
            results["scales"][scale] = {"failed": str(error)}
            failed = True
        else:
            peers = time_peers(Path(runs[-1]["folder"]), scale, arguments.repeats)
            results["scales"][scale] = summarise(runs, peers)
        # other work on the machine shows here: the 1-minute load before and after the scale
        results["scales"][scale]["load_average"] = {"before": load_before, "after": os.getloadavg()[0]}
        print(f"{scale}: {json.dumps(results['scales'][scale].get('ratios') or results['scales'][scale])}", flush=True)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")  # after every scale
        write_readme_table(results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
