"""Values as the text Kestra's Java tasks write for them (`toString()`, date patterns).

IonToCsv writes each field as Java's `toString()` of the value read from Ion,
dates through the task's patterns; IonToJson writes numbers as Jackson does.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lanner.expr.dates import format_date, zone


def java_double(value: float) -> str:
    """Java's Double.toString: 1.0, 0.001, 1.0E7, 1.5E-4, NaN, Infinity."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text else text + ".0"  # repr is never exponential here
    # Same shortest digits as repr, in Java's d.dddE±n layout.
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    figures = "".join(map(str, digits))
    power = exponent + len(figures) - 1
    mantissa = figures[0] + "." + (figures[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


@dataclass(frozen=True)
class Formats:
    """The date patterns and zone of a text-writing task (Kestra's AbstractTextWriter)."""

    date: str = "yyyy-MM-dd"
    time: str = "HH:mm:ss[XXX]"
    date_time: str = "yyyy-MM-dd'T'HH:mm:ss.SSS[XXX]"
    zone_id: str = "Etc/UTC"

    def text(self, value: Any) -> str | None:
        """A field's text: None stays None (an empty field)."""
        if value is None or type(value) is str:
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return java_double(value)
        if isinstance(value, Decimal):
            return str(value)  # the same to-scientific-string rule as BigDecimal.toString
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:  # no zone in the source: the task's zone
                value = value.replace(tzinfo=zone(self.zone_id))
            return format_date(value, self.date_time, self.zone_id)
        if isinstance(value, dt.date):
            return format_date(
                dt.datetime(value.year, value.month, value.day, tzinfo=zone(self.zone_id)),
                self.date,
                self.zone_id,
            )
        if isinstance(value, dt.time):
            moment = dt.datetime.combine(dt.date(2000, 1, 1), value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone(self.zone_id))
            return format_date(moment, self.time, self.zone_id)
        if isinstance(value, bytes):
            return base64.b64encode(value).decode("ascii")
        if isinstance(value, list):
            return "[" + ", ".join(self._inner(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k}={self._inner(v)}" for k, v in value.items()) + "}"
        return str(value)

    def _inner(self, value: Any) -> str:
        text = self.text(value)
        return "null" if text is None else text
