"""Kestra's names for the types of Lanner's values, and nothing of Python's.

A flow author sees Kestra's (Java) names: ``className`` returns the class a
value has in Kestra (``java.lang.String``, ``java.util.ArrayList``...), and
error messages name types the same way. Python's names (``int``, ``dict``,
``function``, ``LoopContext``...) are an implementation detail and never
shown: :func:`scrub` rewrites any that an unexpected exception carries.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["java_name", "scrub"]

_INT_MIN, _INT_MAX = -(2**31), 2**31
_LONG_MIN, _LONG_MAX = -(2**63), 2**63


def java_name(value: Any) -> str:
    """The Java class a value has in Kestra's expressions, or ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        # Jackson reads a JSON integer as Integer, Long or BigInteger by size.
        if _INT_MIN <= value < _INT_MAX:
            return "java.lang.Integer"
        return "java.lang.Long" if _LONG_MIN <= value < _LONG_MAX else "java.math.BigInteger"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, Mapping):
        return "java.util.LinkedHashMap"
    if isinstance(value, list | tuple | range):
        return "java.util.ArrayList"
    if isinstance(value, dt.datetime):
        return "java.time.ZonedDateTime" if value.tzinfo else "java.time.LocalDateTime"
    if isinstance(value, dt.date):
        return "java.time.LocalDate"
    if isinstance(value, dt.time):
        return "java.time.LocalTime"
    if isinstance(value, Decimal):
        return "java.math.BigDecimal"
    if isinstance(value, bytes):
        return "[B"  # Java's name for byte[]
    return "java.lang.Object"


# Python's type names as exceptions from Python or Jinja spell them.
_PYTHON_NAMES = {
    "int": "java.lang.Integer",
    "bool": "java.lang.Boolean",
    "float": "java.lang.Double",
    "str": "java.lang.String",
    "NoneType": "null",
    "None": "null",
    "list": "java.util.ArrayList",
    "tuple": "java.util.ArrayList",
    "range": "java.util.ArrayList",
    "dict": "java.util.LinkedHashMap",
    "LoopMap": "java.util.HashMap",
    "datetime": "java.time.ZonedDateTime",
    "date": "java.time.LocalDate",
    "time": "java.time.LocalTime",
    "Decimal": "java.math.BigDecimal",
    "bytes": "[B",
    "function": "function",
    "builtin_function_or_method": "function",
    "method": "function",
    "Macro": "macro",
    "LoopContext": "loop",
    "Undefined": "undefined",
    "StrictUndefined": "undefined",
    "PebbleUndefined": "undefined",
    "TemplateReference": "template",
    "Context": "context",
    "generator": "java.util.Iterator",
}
# Python's builtin type names, quoted or not, as a TypeError spells them.
_BUILTIN = re.compile(
    r"'?\b(int|bool|float|str|NoneType|list|tuple|range|dict|bytes|function"
    r"|builtin_function_or_method|method)\b(?: object)?'?"
)
# Lanner's and Jinja's internal classes, wherever they appear.
_INTERNAL = re.compile(
    r"\b(?:jinja2\.runtime\.|lanner\.expr\.pebble\.)?"
    r"(LoopContext|LoopMap|Macro|StrictUndefined|PebbleUndefined|Undefined|TemplateReference)\b"
)


def _builtin(match: re.Match[str]) -> str:
    name = _PYTHON_NAMES[match.group(1)]
    return f"'{name}'" if match.group(0).startswith("'") else name


def scrub(message: str, *, type_error: bool = False) -> str:
    """A message with Python's and Jinja's names replaced by Kestra's.

    Builtin type names (``int``, ``str``...) are common words, so they are
    rewritten only in a message about types (``type_error``).
    """
    if type_error:
        message = message.replace(" or None or have an __index__ method", "")
        message = _BUILTIN.sub(_builtin, message)
    return _INTERNAL.sub(lambda m: _PYTHON_NAMES[m.group(1)], message)
