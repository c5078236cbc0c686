"""Parsing text with Java `DateTimeFormatter` patterns (the Avro and Parquet tasks'
`dateFormat`, `timeFormat`, `datetimeFormat`).

A pattern becomes a regular expression: letters are fields, `'...'` is literal
text, `[...]` an optional section (Kestra's defaults use them:
``yyyy-MM-dd'T'HH:mm[:ss][.SSSSSS][XXX]``). Fractions take 1 to N digits (Java's
are exactly N wide; Lanner accepts fewer, which only reads more inputs). Letters
other than those below are refused, so a pattern is checked when the flow loads.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_OFFSET = r"(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)"
# Pattern letters (runs of one letter) and their regular expressions.
_FIELDS: dict[str, tuple[str, str]] = {
    # letter: (group name, expression for a run of that letter; N is the run's length)
    "y": ("year", r"\d{4}|\d{2}"),
    "u": ("year", r"\d{4}|\d{2}"),
    "M": ("month", r"\d{1,2}"),
    "d": ("day", r"\d{1,2}"),
    "H": ("hour", r"\d{1,2}"),
    "h": ("hour12", r"\d{1,2}"),
    "m": ("minute", r"\d{1,2}"),
    "s": ("second", r"\d{1,2}"),
    "S": ("fraction", r"\d{1,N}"),
    "a": ("ampm", r"(?i:AM|PM)"),
    "X": ("offset", ""),
    "x": ("offset", ""),
    "Z": ("offset", ""),
}


@dataclass(frozen=True)
class Parsed:
    """The fields read from a text; None when the pattern or its optional part had none."""

    year: int | None
    month: int | None
    day: int | None
    hour: int | None
    minute: int | None
    second: int | None
    micro: int | None
    offset: dt.tzinfo | None

    def date(self) -> dt.date:
        if self.year is None or self.month is None or self.day is None:
            raise ValueError("the pattern reads no full date (year, month and day)")
        return dt.date(self.year, self.month, self.day)

    def time(self) -> dt.time:
        if self.hour is None:
            raise ValueError("the pattern reads no hour")
        return dt.time(self.hour, self.minute or 0, self.second or 0, self.micro or 0)

    def datetime(self, default_zone: dt.tzinfo) -> dt.datetime:
        """The instant read, in its own offset, else in `default_zone`."""
        moment = dt.datetime.combine(self.date(), self.time())
        return moment.replace(tzinfo=self.offset or default_zone)


def _tokens(pattern: str) -> list[tuple[str, str]]:
    """(kind, text) pieces: ("field", "yyyy"), ("text", "-"), ("open", "["), ("close", "]")."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise ValueError(f"unclosed quote in the date pattern '{pattern}'")
            out.append(("text", pattern[i + 1 : end] or "'"))
            i = end + 1
        elif c in "[]":
            out.append(("open" if c == "[" else "close", c))
            i += 1
        elif c.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == c:
                j += 1
            out.append(("field", pattern[i:j]))
            i = j
        else:
            out.append(("text", c))
            i += 1
    return out


def _field_regex(run: str) -> str:
    letter = run[0]
    if letter == "M" and len(run) >= 3:
        names = "|".join(m if len(run) > 3 else m[:3] for m in _MONTHS)
        return f"(?P<monthname>(?i:{names}))"
    if letter not in _FIELDS:
        raise ValueError(
            f"the pattern letters '{run}' are not supported here (Lanner reads y, u, M, d,"
            " H, h, m, s, S, a, X, x, Z, quoted text and [optional] parts)"
        )
    name, expression = _FIELDS[letter]
    if name == "offset":
        return _OFFSET
    return f"(?P<{name}>{expression.replace('N', str(len(run)))})"


@functools.lru_cache(maxsize=64)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The regular expression of a Java pattern; ValueError when Lanner cannot read it."""
    parts: list[str] = []
    depth = 0
    seen: set[str] = set()
    for kind, text in _tokens(pattern):
        if kind == "open":
            parts.append("(?:")
            depth += 1
        elif kind == "close":
            if depth == 0:
                raise ValueError(f"unbalanced ']' in the date pattern '{pattern}'")
            parts.append(")?")
            depth -= 1
        elif kind == "text":
            parts.append(re.escape(text))
        else:
            piece = _field_regex(text)
            group = re.match(r"\(\?P<(\w+)>", piece)
            assert group is not None
            if group.group(1) in seen:
                raise ValueError(f"the date pattern '{pattern}' reads {text} twice")
            seen.add(group.group(1))
            parts.append(piece)
    if depth:
        raise ValueError(f"unclosed '[' in the date pattern '{pattern}'")
    return re.compile("".join(parts))


def _offset(text: str) -> dt.tzinfo:
    if text == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def parse(text: str, pattern: str) -> Parsed:
    """The fields of `text` read with `pattern`; ValueError when it does not match."""
    match = compile_pattern(pattern).fullmatch(text.strip())
    if match is None:
        raise ValueError(f"'{text}' does not match the pattern '{pattern}'")
    groups = {k: v for k, v in match.groupdict().items() if v is not None}

    def number(name: str) -> int | None:
        return int(groups[name]) if name in groups else None

    year = number("year")
    if year is not None and len(groups["year"]) == 2:
        year += 2000  # Java's yy: 2000-2099
    month = number("month")
    if "monthname" in groups:
        name = groups["monthname"].lower()
        month = next(i for i, m in enumerate(_MONTHS, 1) if m.startswith(name))
    hour = number("hour")
    if "hour12" in groups:
        hour = int(groups["hour12"]) % 12 + (12 if groups.get("ampm", "").upper() == "PM" else 0)
    fraction = groups.get("fraction")
    micro = int(fraction.ljust(6, "0")[:6]) if fraction else None
    offset = _offset(groups["offset"]) if "offset" in groups else None
    return Parsed(
        year, month, number("day"), hour, number("minute"), number("second"), micro, offset
    )
