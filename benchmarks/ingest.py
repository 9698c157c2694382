"""Ingestion benchmark: a full pull of the demo catalogue as configured in pipeline.demo.yml, then
a refresh in which nothing changed. Requests, bytes and seconds, against the real demo HTTP
server on loopback and a real DuckDB file. Run with ``make bench``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.server import DemoServer
from ingestion.lginform.client import LgInformClient, RetryPolicy
from ingestion.lginform.load import load_pull, read_last_pulls
from ingestion.lginform.pull import pull_lginform, request_fingerprint
from lgperf import warehouse
from lgperf.settings import PROJECT_ROOT, load_pipeline_config

RESULTS = Path(__file__).parent / "results" / "ingest.json"


def measure(server: DemoServer, path: Path, config, run_id: str) -> dict:
    api = config.lginform
    fingerprint = request_fingerprint(api.areas, api.periods)
    with warehouse.connect(path) as connection:
        last = read_last_pulls(connection, fingerprint)
    client = LgInformClient(server.url, DEMO_APPLICATION_KEY, DEMO_SECRET, retry=RetryPolicy(**api.retry.model_dump()))
    started = time.perf_counter()
    result = pull_lginform(
        client,
        metric_types=api.metric_types,
        areas=api.areas,
        periods=api.periods,
        batch_size=api.batch_size,
        last_pulls=last,
        full_refresh=False,
    )
    fetched = time.perf_counter()
    with warehouse.connect(path) as connection:
        inserted = load_pull(connection, result, run_id=run_id, request_log=client.request_log, fingerprint=fingerprint)
    loaded = time.perf_counter()
    client.close()
    return {
        "requests": len(result.responses),
        "data_requests": sum(r.endpoint == "/data" for r in result.responses),
        "bytes": result.bytes,
        "values_received": len(result.rows["lginform_values"]),
        "values_inserted": inserted["lginform_values"],
        "metric_types_fetched": len(result.fetched_metric_types),
        "metric_types_skipped": len(result.skipped_metric_types),
        "fetch_seconds": round(fetched - started, 2),
        "load_seconds": round(loaded - fetched, 2),
        "total_seconds": round(loaded - started, 2),
    }


def main() -> int:
    config = load_pipeline_config(os.environ.get("LGPERF_CONFIG", PROJECT_ROOT / "pipeline.demo.yml"))
    with tempfile.TemporaryDirectory() as folder, DemoServer() as server:
        path = Path(folder) / "bench.duckdb"
        full = measure(server, path, config, "bench-full")
        unchanged = measure(server, path, config, "bench-unchanged")
    report = {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()},
        "catalogue": {
            "metric_types": len(config.lginform.metric_types),
            "areas": config.lginform.areas,
            "periods": config.lginform.periods,
        },
        "full_pull": full,
        "no_change_refresh": unchanged,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for name, run in (("full pull", full), ("refresh with nothing new", unchanged)):
        print(
            f"[ingest] {name}: {run['requests']:,} requests, {run['bytes'] / 2**20:.1f} MB, {run['values_inserted']:,} "
            f"values inserted in {run['total_seconds']:.1f} s",
            flush=True,
        )
    print(f"[ingest] results: {RESULTS}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
