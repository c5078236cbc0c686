"""Writing Ion text, one value per line (see the package docstring for the design)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, BinaryIO

import orjson

# Types whose JSON text is also their Ion text, with the same meaning. float is not
# one of them: JSON's 1.5 is an Ion *decimal*.
_JSON_SCALARS = frozenset({str, int, bool, type(None)})
_NEWLINE = orjson.OPT_APPEND_NEWLINE
_dump_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_line(value: Any) -> bytes:
    """The Ion text of `value` on one line, newline included, in UTF-8."""
    kind = type(value)
    if (kind is dict and _plain_keys(value)) or kind is list:
        items = value.values() if kind is dict else value
        if _JSON_SCALARS.issuperset(map(type, items)):
            try:
                # Raises on a key that is not a string and on an int past 64 bits.
                return orjson.dumps(value, option=_NEWLINE)
            except TypeError:
                pass
        elif _ION_SCALARS.issuperset(map(type, items)):
            # Decimals, timestamps, dates and blobs formatted into orjson's line.
            try:
                return orjson.dumps(value, default=_ion_fragment, option=_FLAT_OPTIONS)
            except TypeError:  # a value Ion cannot hold: _text says which
                pass
    return (_text(value) + "\n").encode("utf-8")


def encode_text_row(row: Mapping[str, str | None]) -> bytes:
    """The Ion line of a struct whose values are all strings or None (a CSV row): the
    fastest path, for callers that know their values' types."""
    if not _plain_keys(row):
        return encode_line(dict(row))
    return orjson.dumps(row, option=_NEWLINE)


_SYMBOL_ID = re.compile(r"\$[0-9]+")


def _plain_keys(row: Mapping[Any, Any]) -> bool:
    """False when a key may look like an Ion symbol id (`$0`, `$12`). amazon-ion reads
    such a field name written as a string as the id, not as text, so those rows go
    the slow way, which writes the name as a quoted symbol (`'$0'`), text for every
    reader."""
    return not any(type(key) is str and key[:1] == "$" for key in row)


def _field_name(key: Any) -> str:
    name = str(key)
    return f"'{name}'" if _SYMBOL_ID.fullmatch(name) else _dump_json(name)


# Values orjson would write as JSON that Ion reads otherwise: JSON's 1.5 is an Ion
# decimal, and a list or struct may hold such a float.
_NOT_FLAT = frozenset({float, list, tuple, dict})
_FLAT_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATETIME


IonText = orjson.Fragment
"""Ion text put into a row as it is by `flat_struct_encoder` (`IonText("150d-2")`)."""

_ION_SCALARS = _JSON_SCALARS | {Decimal, dt.datetime, dt.date, bytes}


def _ion_fragment(value: Any) -> IonText:
    return IonText(ion_scalar_text(value))


def flat_struct_encoder(
    ion_text: Callable[[Any], IonText],
) -> Callable[[dict[str, Any]], bytes | None]:
    """A fast encoder of flat rows, for writers of many rows of known kinds (a query's).

    The row's strings, integers, booleans and nulls are written by orjson; every
    other value (decimal, datetime, date, bytes, ...) is handed to `ion_text`, which
    returns its Ion text as `IonText(ion_scalar_text(value))` does, or raises
    TypeError. The encoder returns None for a row it cannot write that way (a
    float, a list or struct among its values, a value `ion_text` refuses, an integer
    past 64 bits): the caller then writes it with `encode_line`."""

    def encode(row: dict[str, Any]) -> bytes | None:
        if not _NOT_FLAT.isdisjoint(map(type, row.values())) or not _plain_keys(row):
            return None
        try:
            return orjson.dumps(row, default=ion_text, option=_FLAT_OPTIONS)
        except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
            return None

    return encode


def ion_scalar_text(value: Any) -> str:
    """The Ion text of a decimal, datetime, date or bytes value; TypeError for others."""
    kind = type(value)
    if kind is Decimal:
        return _decimal(value)
    if kind is dt.datetime:
        return _timestamp(value)
    if kind is dt.date:
        return f"{value.isoformat()}T"
    if kind is bytes:
        return "{{" + base64.b64encode(value).decode("ascii") + "}}"
    raise TypeError(f"{kind.__name__} is not an Ion scalar this writer knows")


def dumps_line(value: Any) -> str:
    """The Ion text of `value` on one line (no newline at the end)."""
    return encode_line(value)[:-1].decode("utf-8")


def write_values(out: BinaryIO, values: Iterable[Any]) -> int:
    """Write each value on its own line; the number of values written."""
    count = 0
    write = out.write
    for value in values:
        write(encode_line(value))
        count += 1
    return count


def _text(value: Any) -> str:
    kind = type(value)
    if kind in _JSON_SCALARS:
        return _dump_json(value)
    if isinstance(value, int):  # subclasses: IntEnum, ... (bool is final)
        return str(int(value))
    if isinstance(value, str):
        return _dump_json(str(value))
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat() + "T"
    if isinstance(value, bytes | bytearray | memoryview):
        return "{{" + base64.b64encode(bytes(value)).decode("ascii") + "}}"
    if isinstance(value, Mapping):
        fields = (f"{_field_name(k)}:{_text(v)}" for k, v in value.items())
        return "{" + ",".join(fields) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_text(v) for v in value) + "]"
    raise ValueError(f"{kind.__name__} values have no Ion representation")


def _float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    text = repr(value)
    # Ion reads a number without an exponent as a decimal: floats carry one.
    return text if "e" in text else text + "e0"


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"Ion decimals are finite numbers (got {value})")
    # str() keeps the digits and the exponent exactly ("1.50", "1E+3", "0E-7"); Ion
    # writes an exponent with d (an E is a float's), and digits alone are an integer.
    text = str(value)
    if "E" in text:
        return text.replace("E", "d")
    return text if "." in text else text + "d0"


def _timestamp(value: dt.datetime) -> str:
    if value.tzinfo is None:
        return value.isoformat() + "-00:00"  # Ion's "unknown local offset"
    offset = value.utcoffset()
    if offset is None:
        return value.replace(tzinfo=None).isoformat() + "-00:00"
    if offset.total_seconds() % 60:
        raise ValueError(f"Ion timestamp offsets are whole minutes (got {offset})")
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
