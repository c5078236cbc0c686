"""amazon-ion, the reference Ion library, and its values as plain Python.

Kept apart from the reader so that amazon-ion is imported only when a file needs it
(a line that is not JSON-shaped): loading every task type at start-up stays fast.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from amazon.ion import simpleion
from amazon.ion.core import IonType, TimestampPrecision
from amazon.ion.simple_types import IonPyNull


class UnexpectedIonType(ValueError):
    """amazon-ion gave a value of a type this module does not know."""


def plain(value: Any) -> Any:
    """An amazon-ion value as plain Python (see the package docstring); annotations dropped."""
    if value is None or isinstance(value, IonPyNull):
        return None
    kind = getattr(value, "ion_type", None)
    if kind is None:
        return value
    if kind is IonType.BOOL:
        return bool(value)
    if kind is IonType.INT:
        return int(value)
    if kind is IonType.FLOAT:
        return float(value)
    if kind is IonType.DECIMAL:
        return Decimal(value)
    if kind is IonType.TIMESTAMP:
        return _timestamp(value)
    if kind is IonType.SYMBOL:
        return value.text
    if kind is IonType.STRING:
        return str(value)
    if kind in (IonType.BLOB, IonType.CLOB):
        return bytes(value)
    if kind in (IonType.LIST, IonType.SEXP):
        return [plain(v) for v in value]
    if kind is IonType.STRUCT:
        return {k: plain(v) for k, v in value.items()}
    raise UnexpectedIonType(f"unexpected Ion type {kind}")


def _timestamp(value: dt.datetime) -> dt.datetime | dt.date:
    precision = getattr(value, "precision", None)
    if precision in (TimestampPrecision.YEAR, TimestampPrecision.MONTH, TimestampPrecision.DAY):
        return dt.date(value.year, value.month, value.day)
    return dt.datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=value.tzinfo,
    )


def load_text(text: str) -> list[Any]:
    """Every top-level value of an Ion text, as plain Python."""
    return [plain(v) for v in simpleion.loads(text, single_value=False)]
