"""The Jinja2 environment that renders the run page and the gallery from templates/*.html.j2.

Autoescape is on: every value a template prints is escaped (with html.escape's entities, &#x27; and &quot;),
except the Markup that this package makes itself (the inline CSS and scripts of assets.py). Templates are
written one element a line, indented; the page keeps none of those line breaks and indents (`{{ nl }}` puts
a line break where one is wanted), so it reads as compactly as before.
"""

from __future__ import annotations

import html
import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from jinja2.ext import Extension
from markupsafe import Markup

from mlplab.main_metric import is_number
from mlplab.report.page.assets import COPY_SCRIPT, STYLE, TABLE_SCRIPT
from mlplab.report.page.summary import fmt_duration, fmt_number

MAX_TABLE_ROWS = 200  # rows of a table shown on a page (the CSV keeps them all)


class _OneLine(Extension):
    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return re.sub(r"\n[ \t]*", "", source)


def _escaped(value: Any) -> Markup:
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


def kind(value: Any) -> str:
    """What shape of cell or table a metric value is drawn as."""
    if is_number(value):
        return "number"
    if isinstance(value, dict):
        return "dicts" if value and all(isinstance(v, dict) for v in value.values()) else "dict"
    if isinstance(value, list):
        return "numbers" if value and all(is_number(v) for v in value) else "list"
    if isinstance(value, bool):
        return "bool"
    return "none" if value is None else "text"


def parse(text: str) -> Any:
    """A CSV cell as an int or a float where it reads as one (a NaN stays text), else the text."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if value == value else text


def columns(rows: dict[str, dict]) -> list[str]:
    """The keys of a dict of dicts' rows, in the order they first appear."""
    cols: list[str] = []
    for row in rows.values():
        cols += [c for c in row if c not in cols]
    return cols


ENV = Environment(
    loader=PackageLoader("mlplab.report.page", "templates"),
    autoescape=True,
    finalize=_escaped,
    undefined=StrictUndefined,
    extensions=[_OneLine],
)
ENV.globals.update(
    nl=Markup("\n"),
    style=Markup(STYLE),
    copy_script=Markup(COPY_SCRIPT),
    table_script=Markup(TABLE_SCRIPT),
    max_rows=MAX_TABLE_ROWS,
    kind=kind,
    parse=parse,
    columns=columns,
    fmt_number=fmt_number,
    fmt_duration=fmt_duration,
)


def render(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(**context)
