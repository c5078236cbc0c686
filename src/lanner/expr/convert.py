"""How a value becomes text: Kestra's output conversion (SPEC §6.1).

Pebble writes values with Java's ``toString`` and Kestra's ``JsonWriter``;
Lanner reproduces what a Kestra user sees: ``null`` prints nothing, maps and
lists print as compact JSON (Jackson's shape, no spaces), booleans as
``true``/``false``, floats as Java's ``Double.toString`` and instants as
ISO-8601 with six fractional digits and ``Z``. A map or list is measured
before it is serialised (``lanner.expr.sizes``), so a value that would expand
past the value limit is refused before any text is built.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from jinja2.runtime import Undefined

from lanner.errors import RenderError
from lanner.expr.limits import MAX_VALUE_BYTES, MAX_VALUE_DEPTH
from lanner.expr.sizes import value_size
from lanner.expr.typenames import java_name

__all__ = ["iso_instant", "java_float", "to_json", "to_output", "to_text"]


def java_float(value: float) -> str:
    """Format a float like Java's ``Double.toString`` (shortest digits)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(value)  # Python's repr is plain in this range
        return text if "." in text else text + ".0"
    # Java switches to "computerized scientific notation": d.dddE±n.
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text_digits = "".join(str(d) for d in digits).rstrip("0") or "0"
    power = exponent + len(digits) - 1
    mantissa = text_digits[0] + "." + (text_digits[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


def iso_instant(value: dt.datetime) -> str:
    """ISO-8601 with six fractional digits; UTC is written ``Z``."""
    if value.tzinfo is None:
        return value.isoformat(timespec="microseconds")
    offset = value.utcoffset()
    text = value.isoformat(timespec="microseconds")
    if offset == dt.timedelta(0):
        return text[: -len("+00:00")] + "Z"
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso_instant(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple | set | frozenset | range):
        return list(value)
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    raise RenderError(f"Cannot convert a value of type {java_name(value)} to JSON")


def to_json(value: Any) -> str:
    """Compact JSON like Jackson: no spaces, non-ASCII kept, key order kept."""
    if isinstance(value, Mapping | list | tuple):
        value_size(value, MAX_VALUE_BYTES, MAX_VALUE_DEPTH)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def to_text(value: Any) -> str:
    """The text of a value in string context (``~``, ``+`` with a string)."""
    if value is None:
        return ""
    return to_output(value)


def to_output(value: Any) -> str:
    """Convert a printed value (``{{ value }}``) to the text Kestra writes."""
    # Ordered by frequency: most printed values are already strings.
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_float(value)
    if isinstance(value, Mapping | list | tuple):
        return to_json(value)
    if isinstance(value, range):
        return to_json(list(value))
    if isinstance(value, dt.datetime):
        return iso_instant(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    # Functions, macros and other runtime objects have no text form in
    # Kestra's language; printing their Python repr would leak internals.
    raise RenderError(f"Cannot print a value of type {java_name(value)}")
