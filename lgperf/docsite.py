"""The documentation as a static site that works offline: every page of docs/ rendered to HTML
(markdown-it-py, the ``docs`` extra), an index that starts from the reader's audience, and dbt's
own generated docs of every model (``dbt docs generate --static``) under dbt/.

``make docs`` runs dbt, then this: ``python -m lgperf.docsite --out site --dbt-docs <static_index.html>``.
"""

import argparse
import html
import re
import shutil
from pathlib import Path

from markdown_it import MarkdownIt

from lgperf.settings import PROJECT_ROOT

DOCS_DIR = PROJECT_ROOT / "docs"
ASSET_SUFFIXES = (".svg", ".png")
# the audience pages, in the order the index lists them; the other pages follow
AUDIENCES = ("for-data-engineers", "for-auditors", "for-bi-users", "for-open-data-users", "for-developers")
DBT_DOCS = "dbt/index.html"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
    line-height: 1.5; color: #1b1b1b; }}
nav {{ border-bottom: 1px solid #ccc; margin-bottom: 1.5rem; padding-bottom: .5rem; }}
code, pre {{ background: #f4f4f4; }} pre {{ padding: .75rem; overflow-x: auto; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: .25rem .5rem; vertical-align: top; }}
img {{ max-width: 100%; }}
</style></head>
<body><nav><a href="index.html">Documentation</a> · <a href="{dbt}">dbt docs: every model and its columns</a></nav>
{body}
</body></html>
"""

_MD_LINK = re.compile(r'href="(?!https?:|mailto:|#)([^"#]+)\.md(#[^"]*)?"')


def markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def title_of(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def render(text: str, *, title: str) -> str:
    """A page of docs/ as HTML: links to other pages (``x.md``) point at their HTML."""
    body = _MD_LINK.sub(lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', markdown().render(text))
    return PAGE.format(title=html.escape(title), body=body, dbt=DBT_DOCS)


def index(pages: dict[str, str]) -> str:
    """The front page: the audiences first, then every page, then dbt's docs."""

    def item(stem: str) -> str:
        return f'<li><a href="{stem}.html">{html.escape(pages[stem])}</a></li>'

    audiences = [s for s in AUDIENCES if s in pages]
    rest = sorted((s for s in pages if s not in AUDIENCES), key=lambda s: pages[s])
    body = (
        "<h1>lgperf documentation</h1>\n<h2>Start here: who are you?</h2>\n<ul>\n"
        + "\n".join(map(item, audiences))
        + "\n</ul>\n<h2>Every page</h2>\n<ul>\n"
        + "\n".join(map(item, rest))
        + "\n</ul>\n"
        + f'<h2>The marts, column by column</h2>\n<p><a href="{DBT_DOCS}">dbt\'s generated documentation</a> of every '
        "model, source, seed and test, with their columns and lineage (works offline).</p>\n"
    )
    return PAGE.format(title="lgperf documentation", body=body, dbt=DBT_DOCS)


def build(out: Path, *, docs_dir: Path = DOCS_DIR, dbt_docs: Path | None = None) -> list[Path]:
    """Write the site to ``out`` (replaced whole); returns the files written."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written: list[Path] = []
    pages: dict[str, str] = {}
    for source in sorted(docs_dir.glob("*.md")):
        text = source.read_text(encoding="utf-8")
        pages[source.stem] = title_of(text, source.stem)
        target = out / f"{source.stem}.html"
        target.write_text(render(text, title=pages[source.stem]), encoding="utf-8")
        written.append(target)
    for asset in sorted(p for p in docs_dir.rglob("*") if p.suffix in ASSET_SUFFIXES):
        target = out / asset.relative_to(docs_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(asset, target)
        written.append(target)
    (out / "index.html").write_text(index(pages), encoding="utf-8")
    written.append(out / "index.html")
    if dbt_docs is not None:
        target = out / DBT_DOCS
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dbt_docs, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lgperf.docsite", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "site")
    parser.add_argument("--dbt-docs", type=Path, help="dbt's static_index.html (dbt docs generate --static)")
    args = parser.parse_args(argv)
    written = build(args.out, dbt_docs=args.dbt_docs)
    print(f"{len(written)} files written to {args.out}; open {args.out / 'index.html'}")


if __name__ == "__main__":
    main()
