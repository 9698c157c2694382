"""Where the exports' HTML comes from: the package folder ``exports/templates/``, one folder per set of pages.

``report/`` holds the councillors' report (exports/report.py): its Jinja templates, ``report.css``
and ``report.js``; ``quality/`` the quality report (exports/quality_report.py): its template,
``quality.css`` and the page that stands in for a GX site's own index. pyproject.toml's
package-data ships them with the package. A page is self-contained: its style and script are
files here, put whole into its <style> and <script> elements as it is written (``inline``).
"""

from __future__ import annotations

from typing import Any

import jinja2
from markupsafe import Markup


def environment(**options: Any) -> jinja2.Environment:
    """An autoescaping Jinja environment over ``exports/templates/``, in which a missing variable
    is an error, not a blank; ``options`` are more of jinja2.Environment's."""
    return jinja2.Environment(loader=jinja2.PackageLoader("exports", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, **options)


def inline(environment: jinja2.Environment, name: str) -> Markup:
    """A file of the templates folder (``report/report.css``) as text to put into a page whole, as
    the content of a <style> or <script> element, so the page needs no other file; its line breaks
    are LF even from a checkout that made them CRLF, as Jinja makes the templates', so the page's
    bytes do not depend on it."""
    assert environment.loader is not None
    source, _, _ = environment.loader.get_source(environment, name)
    return Markup(source.replace("\r\n", "\n"))
