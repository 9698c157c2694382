"""docs/dagster.md's table and docs/asset-graph.svg are generated from the code location: they
must match it (regenerate with `python -m orchestration.docgen`)."""

import re

from orchestration import docgen


def test_the_asset_table_in_the_docs_is_the_code_locations(definitions):
    page = docgen.PAGE.read_text(encoding="utf-8")
    assert docgen.page_with_table(page, docgen.asset_table(definitions)) == page, (
        "docs/dagster.md is out of date: run python -m orchestration.docgen"
    )


def test_the_asset_graph_picture_is_the_code_locations(definitions):
    assert docgen.PICTURE.read_text(encoding="utf-8") == docgen.asset_graph_svg(definitions), (
        "docs/asset-graph.svg is out of date: run python -m orchestration.docgen"
    )


def test_the_freshness_the_docs_state_is_the_policys(definitions):
    from orchestration import catalog

    page = docgen.PAGE.read_text(encoding="utf-8")
    stated = set(re.findall(r"warn after (\d+) days, fail after (\d+) days", page))
    assert stated == {(str(catalog.LONGEST_MONTH.days), str((catalog.LONGEST_MONTH + catalog.GRACE).days))}
