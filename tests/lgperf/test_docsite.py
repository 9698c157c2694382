"""`make docs`: every page of docs/ rendered, reached from the index, with no broken link."""

import re
from pathlib import Path

from lgperf import docsite


def test_the_site_has_every_page_and_no_broken_link(tmp_path: Path):
    dbt_docs = tmp_path / "static_index.html"
    dbt_docs.write_text("<html>dbt</html>", encoding="utf-8")
    out = tmp_path / "site"
    docsite.build(out, dbt_docs=dbt_docs)
    pages = sorted(p.stem for p in docsite.DOCS_DIR.glob("*.md"))
    index = (out / "index.html").read_text(encoding="utf-8")
    for stem in pages:
        assert (out / f"{stem}.html").exists()
        assert f'href="{stem}.html"' in index, f"{stem} is not reached from the index"
    assert set(docsite.AUDIENCES) <= set(pages), "an audience page is missing from docs/"
    assert (out / docsite.DBT_DOCS).read_text(encoding="utf-8") == "<html>dbt</html>"
    for page in out.glob("*.html"):
        for target in re.findall(r'(?:href|src)="([^"#:]+)(?:#[^"]*)?"', page.read_text(encoding="utf-8")):
            assert (out / target).exists(), f"{page.name} links to {target}, which is not in the site"
    assert 'src="asset-graph.svg"' in (out / "dagster.html").read_text(encoding="utf-8")
    assert "<table>" in (out / "dagster.html").read_text(encoding="utf-8")
