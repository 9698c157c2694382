"""The project's pointers to its own documentation resolve, and nothing points outside it.

- Every `docs/<page>` a file of the project names (code, SQL, YAML, JSON, the Makefile,
  dagster.yaml, docs/ and the README) is a file in docs/.
- A citation of a section, `docs/domain.md, "Status: RAG"` (the comma is optional), names a
  heading that docs/domain.md has; outside docs/ the page is always cited by its path.
- No file names the folder of shared material the project was built beside: the project
  stands alone (its reference data are copied in, with their public sources named).

Generated and installed trees (.venv, site/, target/, dbt_packages, build/, logs) are not read.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DOMAIN = ROOT / "docs/domain.md"

SKIPPED_DIRS = {
    ".git",
    ".venv",
    "site",
    "target",
    "dbt_packages",
    "build",
    "logs",
    "test-artifacts",
    ".dagster_home",
    "__pycache__",
    ".pytest_cache",
    "node_modules",
}
TEXT_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".json", ".md", ".toml", ".in", ".cfg", ".ini", ".sh", ".txt"}

# docs/<page>: not part of a longer path or name (dbt-docs/, https://host/docs/...)
DOC_PATH = re.compile(r"(?<![\w./-])docs/([A-Za-z0-9_-]+(?:\.[A-Za-z0-9]+)?)")
# the page's path, then a space or a comma and the section in quotes (escaped in JSON; in a
# comment it may start on the next line); a path closing a string literal is not a citation
SECTION_CITATION = re.compile(r"domain\.md(?:,\s*|\s+)\\?[\"“]([^\"”\\\n]+)\\?[\"”]")
DOMAIN_MENTION = re.compile(r"(?<![\w/.-])(?:[\w./-]*/)?domain\.md")
# written so that this file does not match itself
OUTSIDE = [re.compile(p) for p in (r"\.\./shared\b", r"\bshared/(?:docs|reference)\b", r"""["']shared["']\s*/""")]


def _skipped(folder: str, name: str) -> bool:
    return (
        name in SKIPPED_DIRS
        or name.startswith(".venv")
        or name.endswith(".egg-info")
        or (folder == str(ROOT) and name == "data")
    )  # data/: warehouse, exports, inbox (git-ignored)


@cache
def project_files() -> dict[str, str]:
    """Every text file of the project, by path relative to the root."""
    files = {}
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if not _skipped(folder, d))
        for name in sorted(names):
            path = Path(folder, name)
            if name == ".git":  # a worktree's pointer to its repository
                continue
            if path.suffix not in TEXT_SUFFIXES and path.suffix != "":
                continue
            data = path.read_bytes()
            if b"\0" in data[:4096]:
                continue  # binary
            files[path.relative_to(ROOT).as_posix()] = data.decode("utf-8", errors="replace")
    return files


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def headings(page: Path) -> set[str]:
    return {
        m.group(1).strip() for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", page.read_text(encoding="utf-8"), re.M)
    }


def test_the_scan_reads_the_project():
    files = project_files()
    assert {
        "Makefile",
        "dagster.yaml",
        "README.md",
        "docs/domain.md",
        "dbt_project/macros/performance.sql",
        "dbt_project/models/marts/benchmarks.yml",
    } <= set(files)
    assert not any(name.startswith((".venv", "site/", "dbt_project/target/")) for name in files)


def test_every_docs_path_named_exists():
    missing = [
        f"{name}:{_line(text, m.start())}: docs/{m.group(1)}"
        for name, text in project_files().items()
        for m in DOC_PATH.finditer(text)
        if not (DOCS / m.group(1)).is_file()
    ]
    assert missing == [], "these name a page docs/ does not have:\n" + "\n".join(missing)


def test_every_cited_section_of_the_domain_page_exists():
    sections = headings(DOMAIN)
    cited = [
        (name, _line(text, m.start()), m.group(1).strip())
        for name, text in project_files().items()
        for m in SECTION_CITATION.finditer(text)
    ]
    assert len(cited) >= 5, "the citations are no longer found: the pattern is out of date"
    wrong = [f'{name}:{line}: "{section}"' for name, line, section in cited if section not in sections]
    assert wrong == [], f"sections docs/domain.md lacks (it has {sorted(sections)}):\n" + "\n".join(wrong)


def test_outside_docs_the_domain_page_is_cited_by_its_path():
    bare = [
        f"{name}:{_line(text, m.start())}: {m.group(0)}"
        for name, text in project_files().items()
        if not name.startswith("docs/")
        for m in DOMAIN_MENTION.finditer(text)
        if m.group(0) != "docs/domain.md"
    ]
    assert bare == [], "cite the page as docs/domain.md:\n" + "\n".join(bare)


@pytest.mark.parametrize("pattern", OUTSIDE, ids=["parent-folder", "shared-docs-or-reference", "path-join"])
def test_nothing_points_outside_the_project(pattern: re.Pattern[str]):
    found = [
        f"{name}:{_line(text, m.start())}: {text.splitlines()[_line(text, m.start()) - 1].strip()}"
        for name, text in project_files().items()
        for m in pattern.finditer(text)
    ]
    assert found == [], "the project must stand alone; these point outside it:\n" + "\n".join(found)
