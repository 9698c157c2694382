"""Column descriptions read from dbt's manifest: the project's own models only, in documentation
order, on one line, and read again when dbt writes a new manifest."""

import json
import os
from pathlib import Path

from lgperf.dbt_manifest import column_descriptions


def manifest(path: Path, description: str) -> Path:
    columns = {
        "period_id": {"name": "period_id", "description": description},
        "received": {"name": "received", "description": ""},
    }
    nodes = {
        "model.lgperf.complaints_summary": {
            "name": "complaints_summary",
            "resource_type": "model",
            "package_name": "lgperf",
            "columns": columns,
        },
        "model.other.complaints_summary": {
            "name": "complaints_summary",
            "resource_type": "model",
            "package_name": "other",
            "columns": {"x": {"description": "no"}},
        },
        "test.lgperf.not_null": {"name": "not_null", "resource_type": "test", "package_name": "lgperf", "columns": {}},
    }
    path.write_text(json.dumps({"metadata": {"project_name": "lgperf"}, "nodes": nodes}), encoding="utf-8")
    return path


def test_a_models_columns_come_from_the_manifest_on_one_line(tmp_path):
    path = manifest(tmp_path / "manifest.json", "The period\n  of the row.\n")
    assert column_descriptions("complaints_summary", path) == {"period_id": "The period of the row.", "received": ""}
    assert list(column_descriptions("complaints_summary", path)) == ["period_id", "received"]
    assert column_descriptions("revisions", path) == {} and column_descriptions("not_null", path) == {}
    stat = path.stat()
    manifest(path, "Changed.")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # dbt parsed again
    assert column_descriptions("complaints_summary", path)["period_id"] == "Changed."
