"""Property types and rendering shared by the serdes tasks.

Kestra types these properties `Property<Character>`, `Property<Boolean>`, ...:
each may be an expression, so a literal is checked when the flow is loaded and
a rendered value when the task runs, with the same messages.
"""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator

from lanner.expr.dates import format_date, zone
from lanner.model.common import Text, is_dynamic
from lanner.plugin import TaskContext
from lanner.tasks.core.log import as_text


class SerdesError(ValueError):
    """A property rendered to a value the task cannot use, or the input is not what it reads."""


def check_char(value: str) -> str:
    if len(value) != 1:
        raise ValueError(f"expected a single character (got {value!r})")
    return value


def check_charset(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(
            f"'{value}' is not a charset name (for example UTF-8, ISO-8859-1)"
        ) from None
    return value


def check_zone(value: str) -> str:
    try:
        zone(value)
    except Exception as exc:
        raise ValueError(str(exc)) from None
    return value


_SAMPLE = dt.datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=dt.UTC)


def check_date_pattern(value: str) -> str:
    try:
        format_date(_SAMPLE, value, "UTC")
    except Exception as exc:
        raise ValueError(f"'{value}' is not a date pattern Lanner can format: {exc}") from None
    return value


def static_check(check: Callable[[str], str]) -> Callable[[Any], Any]:
    """A validator running `check` on a literal; an expression is checked once rendered."""

    def validate(value: Any) -> Any:
        return value if is_dynamic(value) else check(value)

    return validate


def choice(*values: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"expected one of {', '.join(values)} (got '{value}')")
        return value

    return check


Char = Annotated[Text, AfterValidator(static_check(check_char))]
Charset = Annotated[Text, AfterValidator(static_check(check_charset))]
ZoneId = Annotated[Text, AfterValidator(static_check(check_zone))]
DatePattern = Annotated[Text, AfterValidator(static_check(check_date_pattern))]
ON_BAD_LINES = choice("ERROR", "WARN", "SKIP")
OnBadLines = Annotated[Text, AfterValidator(static_check(ON_BAD_LINES))]


def render(ctx: TaskContext, name: str, value: Any, check: Callable[[str], str]) -> str:
    """A text property rendered, then checked; a SerdesError names the property."""
    text = as_text(ctx.render(value)) if isinstance(value, str) else as_text(value)
    try:
        return check(text)
    except ValueError as exc:
        raise SerdesError(f"'{name}': {exc}") from None


def render_bool(ctx: TaskContext, name: str, value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    text = as_text(ctx.render(value)).strip().lower()
    if text not in ("true", "false"):
        raise SerdesError(f"'{name}': expected true or false (got '{text}')")
    return text == "true"


def render_int(ctx: TaskContext, name: str, value: int | str) -> int:
    if isinstance(value, int):
        return value
    text = as_text(ctx.render(value)).strip()
    try:
        return int(text)
    except ValueError:
        raise SerdesError(f"'{name}': expected an integer (got '{text}')") from None


def python_charset(name: str) -> str:
    """The Python codec for a Java charset name; UTF-8 drops a leading byte-order mark."""
    codec = codecs.lookup(name).name
    return "utf-8-sig" if codec == "utf-8" else codec
