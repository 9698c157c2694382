"""Where the exports' HTML comes from: the package folder ``exports/templates/``, one folder per set of pages.

``report/`` holds the councillors' report (exports/report.py): its Jinja templates, the macros of
its SVG charts (``charts.svg.j2``), ``report.css`` and ``report.js``; ``quality/`` the quality
report (exports/quality_report.py): its template, the files-received section (``receipts.html.j2``),
``quality.css`` and the page that stands in for a GX site's own index. pyproject.toml's
package-data ships them with the package. A page is self-contained: its style and script are
files here, put whole into its <style> and <script> elements as it is written (``inline``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import jinja2
import jinja2.ext
from jinja2.lexer import TOKEN_DATA, TOKEN_VARIABLE_BEGIN, TOKEN_VARIABLE_END, Token
from markupsafe import Markup


def environment(**options: Any) -> jinja2.Environment:
    """An autoescaping Jinja environment over ``exports/templates/``, in which a missing variable
    is an error, not a blank; ``options`` are more of jinja2.Environment's."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("exports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        **options,
    )


def inline(environment: jinja2.Environment, name: str) -> Markup:
    """A file of the templates folder (``report/report.css``) as text to put into a page whole, as
    the content of a <style> or <script> element, so the page needs no other file; its line breaks
    are LF even from a checkout that made them CRLF, as Jinja makes the templates', so the page's
    bytes do not depend on it."""
    assert environment.loader is not None
    source, _, _ = environment.loader.get_source(environment, name)
    return Markup(source.replace("\r\n", "\n"))


class JoinedLines(jinja2.ext.Extension):
    """For a page written as one line from a template written in lines (the quality report): a line
    break of the template's text, with the spaces and indentation around it, is one space in running
    text, as HTML reads it, and nothing between two tags (``>`` then ``<``), at the start or end of
    the template, or next to a ``{% %}`` tag. A break beside a ``{{ }}`` value counts as running
    text. A value's own line breaks are not the template's: they are kept."""

    _BREAK = re.compile(r"[ \t]*\n\s*")

    def filter_stream(self, stream: Iterable[Token]) -> Iterator[Token]:  # type: ignore[override]
        tokens = list(stream)
        for index, token in enumerate(tokens):
            if token.type != TOKEN_DATA:
                yield token
                continue
            text = token.value
            # what the text touches at its ends: a value is running text, a tag or the template's end is not
            before = "}" if index and tokens[index - 1].type == TOKEN_VARIABLE_END else ""
            after = "{" if index + 1 < len(tokens) and tokens[index + 1].type == TOKEN_VARIABLE_BEGIN else ""

            def joined(match: re.Match[str], text: str = text, before: str = before, after: str = after) -> str:
                left = text[match.start() - 1] if match.start() else before
                right = text[match.end()] if match.end() < len(text) else after
                return "" if not left or not right or (left == ">" and right == "<") else " "

            yield Token(token.lineno, token.type, self._BREAK.sub(joined, text))
