"""What the README and docs/ say that the code can check: the commands, the settings and the
open-data files they name exist, so a page cannot drift from the code unnoticed. (Rendered
links are checked by tests/lgperf/test_docsite.py; the asset table by test_docgen.py.)"""

import re
from pathlib import Path

import pytest

from exports.open_data import RESOURCES
from lgperf.settings import PROJECT_ROOT
from orchestration.cli import build_parser

README = PROJECT_ROOT / "README.md"
PAGES = [README, *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
README_LIMIT = 12_000  # characters: the two commands, the outputs and where to read more


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _code_spans(page: Path) -> list[str]:
    """Inline code and fenced blocks: where a page names a command."""
    text = _text(page)
    return re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S) + re.findall(r"`([^`\n]+)`", text)


def _makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.M))


def test_the_readme_stays_short():
    assert len(_text(README)) <= README_LIMIT, f"README.md is {len(_text(README))} characters: move detail into docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_make_target_a_page_names_exists(page: Path):
    named = {m for span in _code_spans(page) for m in re.findall(r"\bmake ([a-z][a-z-]*)", span)}
    assert named - _makefile_targets() == set(), f"{page.name} names make targets the Makefile lacks"


def _lgperf_commands() -> set[str]:
    """The sub-commands as `lgperf --help` lists them (indented name, then its help)."""
    help_text = build_parser().format_help().split("positional arguments:")[1]
    return set(re.findall(r"^    ([a-z]+) ", help_text, flags=re.M))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_lgperf_command_a_page_names_exists(page: Path):
    commands = _lgperf_commands()
    assert {"run", "trace"} <= commands  # the help is still read correctly
    named = {m for span in _code_spans(page) for m in re.findall(r"\blgperf ([a-z]+)\b", span)}
    assert named - commands == set(), f"{page.name} names lgperf commands that do not exist"


def test_every_lgperf_command_is_documented():
    commands = _lgperf_commands()
    cli_page = _text(PROJECT_ROOT / "docs" / "cli.md")
    assert {c for c in commands if f"lgperf {c}" not in cli_page} == set()


def test_every_environment_variable_the_settings_read_is_documented():
    source = (PROJECT_ROOT / "lgperf" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r"""(?:env\.get|path)\("([A-Z][A-Z_]+)\"""", source)) | {"LGPERF_DEMO", "DAGSTER_HOME"}
    assert len(read) >= 8  # the regular expression still finds them
    page = _text(PROJECT_ROOT / "docs" / "configuration.md")
    assert {name for name in read if f"`{name}" not in page} == set()


def test_the_readme_lists_every_open_data_file_the_export_writes():
    row = next(line for line in _text(README).splitlines() if line.startswith("| open data |"))
    listed = set(re.findall(r"`([a-z_]+)(?:/|\.csv)`", row))
    assert listed == {resource.name for resource in RESOURCES}
    for resource in RESOURCES:  # a large resource is a folder of yearly files, a small one a single CSV
        shape = f"`{resource.name}/`" if resource.by_financial_year else f"`{resource.name}.csv`"
        assert shape in row, f"README's open-data row should show {shape}"
