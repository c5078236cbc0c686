"""Dates the way Kestra's ``date`` filters and ``now()`` see them.

Kestra formats with Java's ``DateTimeFormatter``: named formats (``iso``,
``sql``, ``iso_date``, ...) or a pattern such as ``yyyy-MM-dd'T'HH:mm``.
This module translates the common pattern letters (both to format and,
for ``existingFormat``, to parse). Where Kestra uses the JVM's default
zone, Lanner uses UTC so that a render does not depend on the machine.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lanner.errors import RenderError
from lanner.expr.typenames import java_name

__all__ = ["add", "format_date", "parse_date", "timestamp", "zone"]

UTC = dt.UTC

_NAMED = {
    "iso": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "iso_milli": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
    "iso_sec": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "sql": "yyyy-MM-dd HH:mm:ss.SSSSSS",
    "sql_milli": "yyyy-MM-dd HH:mm:ss.SSS",
    "sql_sec": "yyyy-MM-dd HH:mm:ss",
    "sql_seq": "yyyy-MM-dd HH:mm:ss",  # Kestra's historical spelling
    "iso_local_date": "yyyy-MM-dd",
    "iso_local_time": "HH:mm:ss[n]",
    "iso_local_date_time": "yyyy-MM-dd'T'HH:mm:ss[n]",
    "iso_date": "yyyy-MM-ddXXX",
    "iso_time": "HH:mm:ss[n]XXX",
    "iso_offset_time": "HH:mm:ss[n]XXX",
    "iso_date_time": "yyyy-MM-dd'T'HH:mm:ss[n]XXX[V]",
    "iso_zoned_date_time": "yyyy-MM-dd'T'HH:mm:ss[n]XXX[V]",
    "iso_offset_date_time": "yyyy-MM-dd'T'HH:mm:ss[n]XXX",
    "iso_ordinal_date": "yyyy-DDDXXX",
    "rfc_1123_date_time": "EEE, d MMM yyyy HH:mm:ss 'GMT'",
    # Localized styles, rendered as Java does for Locale.US.
    "short": "M/d/yy, h:mm a",
    "medium": "MMM d, yyyy, h:mm:ss a",
    "long": "MMMM d, yyyy 'at' h:mm:ss a z",
    "full": "EEEE, MMMM d, yyyy 'at' h:mm:ss a z",
}


def zone(name: str | None) -> dt.tzinfo:
    """A Java ``ZoneId``: a region (``Europe/Paris``), ``UTC``/``Z`` or an offset."""
    if name is None or name in ("UTC", "Z", "GMT", "Etc/UTC"):
        return UTC
    if name[:1] in "+-":
        try:
            parsed = dt.datetime.strptime(name, "%z")
        except ValueError as exc:
            raise RenderError(f"Invalid time zone '{name}'") from exc
        assert parsed.tzinfo is not None
        return parsed.tzinfo
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RenderError(f"Unknown time zone '{name}'") from exc


def _tokens(pattern: str) -> Iterator[tuple[str, str]]:
    """Split a Java pattern into ('letters', run), ('text', literal), ('opt', body)."""
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:
                yield "text", "'"
                i += 2
                continue
            if end < 0:
                raise RenderError(f"Unterminated quote in date pattern '{pattern}'")
            yield "text", pattern[i + 1 : end]
            i = end + 1
        elif ch == "[":
            end = pattern.find("]", i)
            if end < 0:
                raise RenderError(f"Unterminated '[' in date pattern '{pattern}'")
            yield "opt", pattern[i + 1 : end]
            i = end + 1
        elif ch.isalpha():
            j = i
            while j < n and pattern[j] == ch:
                j += 1
            yield "letters", pattern[i:j]
            i = j
        else:
            yield "text", ch
            i += 1


def _offset(value: dt.datetime, width: int, z_for_zero: bool) -> str:
    delta = value.utcoffset() or dt.timedelta(0)
    if z_for_zero and delta == dt.timedelta(0):
        return "Z"
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    if width == 1:
        return f"{sign}{hours:02d}" + (f"{minutes:02d}" if minutes else "")
    if width == 2 or width == 4:
        return f"{sign}{hours:02d}{minutes:02d}"
    return f"{sign}{hours:02d}:{minutes:02d}"


def _fraction(value: dt.datetime, digits: int) -> str:
    return f"{value.microsecond:06d}{'0' * 3}"[:digits]


def _letters(run: str, v: dt.datetime) -> str:
    c, k = run[0], len(run)
    simple: dict[str, Callable[[], int]] = {
        "d": lambda: v.day,
        "H": lambda: v.hour,
        "m": lambda: v.minute,
        "s": lambda: v.second,
        "h": lambda: (v.hour % 12) or 12,
        "k": lambda: v.hour or 24,
        "K": lambda: v.hour % 12,
        "D": lambda: v.timetuple().tm_yday,
    }
    if c in simple:
        return str(simple[c]()).zfill(k)
    if c in "yu":
        return f"{v.year % 100:02d}" if k == 2 else str(v.year).zfill(k)
    if c in "ML":
        if k >= 4:
            return calendar.month_name[v.month]
        return calendar.month_abbr[v.month] if k == 3 else str(v.month).zfill(k)
    if c == "E":
        return calendar.day_name[v.weekday()] if k >= 4 else calendar.day_abbr[v.weekday()]
    if c == "e":
        return str((v.isoweekday() % 7) + 1)  # Locale.US: Sunday is 1
    if c == "a":
        return "AM" if v.hour < 12 else "PM"
    if c == "S":
        return _fraction(v, k)
    if c == "n":
        return str(v.microsecond * 1000)
    if c == "X":
        return _offset(v, k, True)
    if c == "x":
        return _offset(v, k, False)
    if c == "Z":
        return _offset(v, 3, True) if k == 5 else _offset(v, 2, False)
    if c == "z":
        return v.tzname() or _offset(v, 3, False)
    if c == "V":
        return str(getattr(v.tzinfo, "key", None) or _offset(v, 3, True))
    raise RenderError(f"Unsupported date pattern letters '{run}'")


def _optional(body: str, v: dt.datetime) -> str:
    # Lanner's named formats use [n] for "fraction if any" (Java's
    # ISO_LOCAL_TIME) and [V] for "[region]" when the zone has a name.
    if body == "n":
        return ("." + f"{v.microsecond:06d}".rstrip("0")) if v.microsecond else ""
    if body == "V":
        key = getattr(v.tzinfo, "key", None)
        return f"[{key}]" if key else ""
    return _render(body, v)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> tuple[tuple[str, str], ...]:
    return tuple(_tokens(pattern))


def _render(pattern: str, value: dt.datetime) -> str:
    parts = []
    for kind, text in _compiled(pattern):
        if kind == "text":
            parts.append(text)
        elif kind == "opt":
            parts.append(_optional(text, value))
        else:
            parts.append(_letters(text, value))
    return "".join(parts)


def format_date(value: dt.datetime, fmt: str | None = None, time_zone: str | None = None) -> str:
    """Format an instant with a named format or a Java pattern."""
    moment = value.astimezone(zone(time_zone))
    return _render(_NAMED.get(fmt or "iso", fmt or "iso"), moment)


_STRPTIME = {
    "yyyy": "%Y",
    "uuuu": "%Y",
    "yy": "%y",
    "MM": "%m",
    "M": "%m",
    "MMM": "%b",
    "MMMM": "%B",
    "dd": "%d",
    "d": "%d",
    "HH": "%H",
    "H": "%H",
    "hh": "%I",
    "h": "%I",
    "mm": "%M",
    "m": "%M",
    "ss": "%S",
    "s": "%S",
    "a": "%p",
    "EEE": "%a",
    "EEEE": "%A",
    "D": "%j",
    "DDD": "%j",
}


def _strptime_format(pattern: str) -> str:
    out = []
    for kind, text in _compiled(_NAMED.get(pattern, pattern)):
        if kind == "text":
            out.append(text.replace("%", "%%"))
        elif kind == "opt":
            raise RenderError(f"Optional sections are not supported in existingFormat '{pattern}'")
        elif text[0] == "S":
            out.append("%f")
        elif text[0] in "XxZ":
            out.append("%z")
        elif text in _STRPTIME:
            out.append(_STRPTIME[text])
        else:
            raise RenderError(f"Unsupported date pattern letters '{text}' in '{pattern}'")
    return "".join(out)


def parse_date(
    value: Any, time_zone: str | None = None, existing: str | None = None
) -> dt.datetime:
    """Kestra's ``AbstractDate.convert``: datetimes, dates, epoch seconds, ISO text."""
    tz = zone(time_zone)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(12), tz)  # Kestra: LocalDate at noon
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, tz)
        except (OverflowError, OSError, ValueError) as exc:
            raise RenderError(f"Epoch time {value} is out of the range of dates") from exc
    if not isinstance(value, str):
        raise RenderError(f"Cannot convert a value of type {java_name(value)} to a date")
    try:
        if existing is not None:
            parsed = dt.datetime.strptime(value, _strptime_format(existing))
        else:
            parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise RenderError(f"Text '{value}' could not be parsed as a date") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


_UNITS = {
    "NANOS": dt.timedelta(microseconds=0.001),
    "MICROS": dt.timedelta(microseconds=1),
    "MILLIS": dt.timedelta(milliseconds=1),
    "SECONDS": dt.timedelta(seconds=1),
    "MINUTES": dt.timedelta(minutes=1),
    "HOURS": dt.timedelta(hours=1),
    "HALF_DAYS": dt.timedelta(hours=12),
    "DAYS": dt.timedelta(days=1),
    "WEEKS": dt.timedelta(weeks=1),
}
_MONTHS = {"MONTHS": 1, "YEARS": 12, "DECADES": 120, "CENTURIES": 1200, "MILLENNIA": 12000}


def add(value: dt.datetime, amount: int, unit: str) -> dt.datetime:
    """``value`` plus ``amount`` Java ``ChronoUnit``s (calendar-aware for months)."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise RenderError("dateAdd needs an integer amount")
    name = str(unit).upper()
    try:
        if name in _UNITS:
            return value + _UNITS[name] * amount
        if name in _MONTHS:
            months = value.month - 1 + amount * _MONTHS[name]
            year, month = value.year + months // 12, months % 12 + 1
            day = min(value.day, calendar.monthrange(year, month)[1])
            return value.replace(year=year, month=month, day=day)
    except (OverflowError, ValueError) as exc:
        raise RenderError(f"dateAdd({amount}, '{unit}') is out of the range of dates") from exc
    raise RenderError(f"Unknown time unit '{unit}'")


def timestamp(value: dt.datetime, per_second: int) -> int:
    """Epoch time in units of 1/per_second seconds, exact to the microsecond."""
    delta = value - dt.datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros * per_second // 1_000_000
