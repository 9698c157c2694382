"""What dbt's manifest says of the project's models, for code that must not load Dagster to ask.

The manifest (``dbt_project/target/manifest.json``) is dbt's parse of the project: the YAML
documentation with any ``doc()`` block rendered. orchestration/dbt.py ``ensure_manifest()``
keeps it matching the project (the code location runs it when it loads), so the exports
describe the marts as the models Dagster built are documented.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from lgperf.settings import DBT_PROJECT_DIR

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"


def column_descriptions(model: str, manifest: Path = MANIFEST_PATH) -> dict[str, str]:
    """The documented columns of ``model`` (a model's name) in documentation order, each description on one
    line (whitespace collapsed, as a descriptor's text); empty for a name that is not a model of the project."""
    stat = manifest.stat()  # the manifest parsed again only when dbt wrote a new one
    return dict(_documented(str(manifest), stat.st_mtime_ns, stat.st_size).get(model, {}))


@functools.lru_cache(maxsize=1)
def _documented(manifest: str, mtime_ns: int, size: int) -> dict[str, dict[str, str]]:
    document = json.loads(Path(manifest).read_text(encoding="utf-8"))
    project = document["metadata"].get("project_name")
    return {
        node["name"]: {
            name: " ".join(str(column.get("description") or "").split())
            for name, column in node.get("columns", {}).items()
        }
        for node in document["nodes"].values()
        if node.get("resource_type") == "model" and node.get("package_name") == project
    }
