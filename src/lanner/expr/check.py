"""Syntax checking of templates without rendering them: what `lanner validate`
uses to find a broken `{{ ... }}` or `{% ... %}` before any run.

Parsing goes through the same Pebble-flavoured parser as rendering, so a
template that passes here meets no syntax error at run time (unknown
variables, functions and filters are found only when rendered).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from lanner.errors import RenderError

if TYPE_CHECKING:
    from lanner.expr.engine import ExpressionEngine


@functools.lru_cache(maxsize=1)
def _engine() -> ExpressionEngine:
    from lanner.expr.engine import ExpressionEngine

    return ExpressionEngine()


# Flows repeat their templates (`{{ outputs.x.value }}`), and a deployed flow is
# loaded again for each of its executions: short templates are parsed once.
_CACHED_LENGTH = 4096


def syntax_error(template: str) -> str | None:
    """Why `template` cannot be parsed (with the line inside it), or None when it can."""
    if len(template) <= _CACHED_LENGTH:
        return _cached_syntax_error(template)
    return _syntax_error(template)


@functools.lru_cache(maxsize=4096)
def _cached_syntax_error(template: str) -> str | None:
    return _syntax_error(template)


def _syntax_error(template: str) -> str | None:
    from jinja2.exceptions import TemplateSyntaxError

    try:
        _engine().parse(template)
    except TemplateSyntaxError as exc:
        message = (exc.message or "syntax error").replace("Jinja was looking for", "expected")
        return f"{message.rstrip('. ')} (line {exc.lineno} of the expression)"
    except RenderError as exc:
        return exc.message
    return None
