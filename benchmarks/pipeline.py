"""One scale, one run, in a fresh process: raw data from benchmarks/scales.py, then the real
pipeline (Dagster in-process: dbt build with its tests, the GX gate, the exports), then an
incremental refresh that adds one new period to every indicator. Writes one JSON document, and
prints one line per stage to stdout as it finishes (``[M] raw data: ...``); a stage that fails
prints ``[M] failed at <stage>: <error>`` before the error itself.

    python -m benchmarks.pipeline --scale M --output /tmp/m.json

Stage times come from Dagster's step events; peak memory is the largest resident set of this
process (Dagster, GX, pandas, the exports) and of its largest child (dbt). Nothing here sets
dbt's threads or DuckDB's memory limit: the project's defaults apply (profiles.yml,
lgperf/warehouse.py) unless the caller's environment sets DBT_THREADS or DUCKDB_MEMORY_LIMIT,
and the result records which.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from benchmarks.scales import ENGLAND_GROUP, NEIGHBOURS_GROUP, SCALES, write_raw
from demo.catalogue import TRAFFORD


def progress(scale_name: str, text: str) -> None:
    print(f"[{scale_name}] {text}", flush=True)


@contextlib.contextmanager
def stage(scale_name: str, name: str) -> Iterator[None]:
    """Say which stage failed, on stdout, where the caller reads the progress lines."""
    try:
        yield
    except BaseException as error:
        progress(
            scale_name, f"failed at {name}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        )
        raise


def _stages_line(run: dict[str, float]) -> str:
    return (
        f"dbt build {run.get('dbt_build', 0.0):.1f} s, gate {run.get('quality_gate', 0.0):.1f} s, "
        f"exports {run.get('exports', 0.0):.1f} s ({run['pipeline_wall']:.1f} s)"
    )


def settings_used() -> dict:
    """dbt's threads and DuckDB's memory limit as this run has them, and where they come from."""
    from lgperf.warehouse import connection_config

    return {
        "dbt_threads": int(os.environ.get("DBT_THREADS", "4")),
        "dbt_threads_from": "DBT_THREADS" if "DBT_THREADS" in os.environ else "default (profiles.yml)",
        "duckdb_memory_limit": connection_config()["memory_limit"],
        "duckdb_memory_limit_from": "DUCKDB_MEMORY_LIMIT" if "DUCKDB_MEMORY_LIMIT" in os.environ else "default (2GB)",
        "duckdb_threads": "DuckDB's default (one per core)",
    }


def _configure(folder: Path, scale_name: str) -> None:
    groups = [NEIGHBOURS_GROUP] + ([ENGLAND_GROUP] if SCALES[scale_name].all_councils else [])
    config = {
        "council": TRAFFORD,
        "comparison_groups": groups,
        "thresholds": {"freshness": {"as_of": "2025-11-01"}},
        "lginform": {"metric_types": ["90005"], "areas": [TRAFFORD]},
    }
    (folder / "pipeline.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    os.environ.update(
        {
            "WAREHOUSE_PATH": str(folder / "warehouse.duckdb"),
            "EXPORT_DIR": str(folder / "exports"),
            "INBOX_DIR": str(folder / "inbox"),
            "LGPERF_CONFIG": str(folder / "pipeline.yml"),
            "DAGSTER_HOME": str(folder / "dagster_home"),
            "LGPERF_DEMO": "1",  # the demo generator's synthetic data, asked for
        }
    )
    (folder / "dagster_home").mkdir(exist_ok=True)


def _stage(step_key: str) -> str:
    if step_key == "warehouse_models":
        return "dbt_build"
    if step_key == "marts__publication":  # every GX suite, and the publish transaction
        return "quality_gate"
    if step_key.startswith("exports__"):
        return "exports"
    return "other"


def _run_pipeline(defs) -> dict[str, float]:
    """transformation, publish and exports (every check included) in one Dagster run; seconds per stage."""
    import dagster as dg

    job = dg.define_asset_job("benchmark", selection=dg.AssetSelection.groups("transformation", "publish", "exports"))
    merged = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    instance = dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    result = merged.resolve_job_def("benchmark").execute_in_process(instance=instance, raise_on_error=False)
    wall = time.perf_counter() - started
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        raise RuntimeError(f"the pipeline failed at {failed}")
    stages: dict[str, float] = {}
    for step in instance.get_run_step_stats(result.run_id):
        stages[_stage(step.step_key)] = stages.get(_stage(step.step_key), 0.0) + (step.end_time - step.start_time)
    return {"pipeline_wall": wall, **stages}


def add_a_period(connection) -> int:
    """One new period per indicator (the next after its latest), for every area that has the latest."""
    connection.execute(
        """
        INSERT INTO raw.lginform_periods
        SELECT DISTINCT next_id, next_id, start_date + INTERVAL (months) MONTH, end_date + INTERVAL (months) MONTH,
               period_type, source_system, source_reference || ' (next)', source_sha256, now(), 'bench-next'
        FROM (
            SELECT p.*, CASE WHEN p.period_id LIKE '%\\_q_' ESCAPE '\\' THEN 3 ELSE 12 END AS months,
                   CASE WHEN p.period_id LIKE 'fin\\_%\\_q_' ESCAPE '\\'
                        THEN CASE WHEN right(p.period_id, 1) = '4'
                                  THEN format('fin_{}_{}_q1', CAST(substr(p.period_id, 5, 4) AS INT) + 1,
                                      lpad(CAST((CAST(substr(p.period_id, 5, 4) AS INT) + 2) % 100 AS VARCHAR), 2, '0'))
                                  ELSE left(p.period_id, length(p.period_id) - 1) ||
                                      CAST(CAST(right(p.period_id, 1) AS INT) + 1 AS VARCHAR) END
                        WHEN p.period_id LIKE 'fin\\_%' ESCAPE '\\'
                        THEN format('fin_{}_{}', CAST(substr(p.period_id, 5, 4) AS INT) + 1,
                            lpad(CAST((CAST(substr(p.period_id, 5, 4) AS INT) + 2) % 100 AS VARCHAR), 2, '0'))
                        ELSE format('cal_{}', CAST(substr(p.period_id, 5, 4) AS INT) + 1) END AS next_id
            FROM raw.lginform_periods AS p
            WHERE p.period_id IN (SELECT max(period_id) FROM raw.lginform_values GROUP BY metric_type_id)
        )
        WHERE next_id NOT IN (SELECT period_id FROM raw.lginform_periods)
        """
    ).fetchall()
    return connection.execute(
        """
        INSERT INTO raw.lginform_values
        WITH latest AS (SELECT metric_type_id, max(period_id) AS period_id FROM raw.lginform_values
            GROUP BY metric_type_id),
        next_of AS (
            SELECT l.metric_type_id, l.period_id, n.period_id AS next_id
            FROM latest AS l JOIN raw.lginform_periods AS p ON p.period_id = l.period_id
            JOIN raw.lginform_periods AS n ON n.start_date = p.end_date + INTERVAL 1 DAY
                 AND (n.period_id LIKE '%\\_q_' ESCAPE '\\') = (p.period_id LIKE '%\\_q_' ESCAPE '\\')
        )
        SELECT v.metric_type_id, v.area_code, x.next_id, v.value_type, v.value, v.formatted, v.value_source, v.ci_lower,
               v.ci_upper, v.publication_status, v.source_system, v.source_reference || ' (next)',
                   v.source_sha256, now(), 'bench-next'
        FROM raw.lginform_values AS v JOIN next_of AS x ON x.metric_type_id = v.metric_type_id
            AND x.period_id = v.period_id
        """
    ).fetchall()[0][0]


def measure(scale_name: str) -> dict:
    from lgperf import warehouse
    from lgperf.settings import Environment
    from orchestration.definitions import build_definitions

    folder = Path(tempfile.mkdtemp(prefix=f"lgperf-bench-{scale_name}-"))
    _configure(folder, scale_name)
    env = Environment.from_environ()
    settings = settings_used()
    with stage(scale_name, "raw data"):
        started = time.perf_counter()
        with warehouse.connect(env.warehouse_path) as connection:
            counts = write_raw(connection, SCALES[scale_name], run_id=f"bench-{scale_name}")
            settings["duckdb_threads"] = connection.execute("SELECT current_setting('threads')").fetchall()[0][0]
        ingest = time.perf_counter() - started
    progress(scale_name, f"raw data: {counts['values']:,} values in {ingest:.1f} s ({folder})")
    with stage(scale_name, "full pipeline"):
        defs = build_definitions(env)
        full = _run_pipeline(defs)
    progress(scale_name, f"full pipeline: {_stages_line(full)}")
    with stage(scale_name, "incremental (adding a period)"):
        with warehouse.connect(env.warehouse_path) as connection:
            added = add_a_period(connection)
    with stage(scale_name, "incremental pipeline"):
        incremental = _run_pipeline(defs)
    progress(scale_name, f"incremental: {added:,} values added; {_stages_line(incremental)}")
    peaks = {
        "peak_rss_mb_pipeline_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_mb_largest_child": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    progress(
        scale_name,
        f"peak memory: {max(peaks.values()) / 1024:.2f} GB (pipeline process "
        f"{peaks['peak_rss_mb_pipeline_process'] / 1024:.2f} GB, "
        f"largest child {peaks['peak_rss_mb_largest_child'] / 1024:.2f} GB); dbt threads {settings['dbt_threads']}, "
        f"DuckDB threads {settings['duckdb_threads']}, memory limit {settings['duckdb_memory_limit']}",
    )
    return {
        "scale": scale_name,
        **counts,
        "ingest_seconds": ingest,
        "full": full,
        "incremental": {"values_added": added, **incremental},
        **peaks,
        "settings": settings,
        "folder": str(folder),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), required=True)
    parser.add_argument("--output", type=Path, required=True)
    arguments = parser.parse_args()
    arguments.output.write_text(json.dumps(measure(arguments.scale), indent=2) + "\n", encoding="utf-8")
