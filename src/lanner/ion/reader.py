"""Reading Ion text as a stream of Python values, line by line (see the package docstring)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO

import orjson

MAX_VALUE_CHARS = 16 * 1024 * 1024
"""A value spread over several lines is gathered up to this size, then refused."""

_STRING = re.compile(r'("(?:[^"\\\n]|\\.)*")')
# A bare field name right after `{` or `,`; `$` may not start one (`$10` is a symbol id).
_BARE_NAME = re.compile(r"([{,]\s*)([A-Za-z_][A-Za-z0-9_$]*)(\s*:)")
# Symbols that are Ion keywords are not field names.
_KEYWORDS = frozenset({"null", "true", "false", "nan"})
_PLAIN = frozenset({str, int, bool, type(None)})


class IonFormatError(ValueError):
    """The file is not Ion text Lanner can read; the message names the line."""


def _number(text: str) -> float | Decimal:
    # In Ion, 1.5 is a decimal and 1.5e0 a float.
    return float(text) if "e" in text or "E" in text else Decimal(text)


def _not_ion(name: str) -> Any:
    raise ValueError(f"{name} is not Ion")  # NaN, Infinity: JSON extensions Python accepts


_decode_json = json.JSONDecoder(parse_float=_number, parse_constant=_not_ion).decode

# Ion scalars that are not JSON but common in row files (a query's timestamps, dates
# and decimals): read here rather than by amazon-ion, a line at a time. Timestamps of
# day precision or with a time and an offset, fractions of up to 6 digits (longer
# ones go to amazon-ion, which rounds them); decimals with a `d` exponent.
_ION_SCALAR = re.compile(
    r"(?<![\w.+$-])(?:"
    r"(?P<date>\d{4}-\d{2}-\d{2})(?:T(?:(?P<time>\d{2}:\d{2})(?::(?P<sec>\d{2})"
    r"(?:\.(?P<frac>\d{1,6}))?)?(?P<off>Z|[+-]\d{2}:\d{2}))?)?"
    r"|(?P<dec>-?\d+(?:\.\d*)?[dD][+-]?\d+)"
    r")(?![\w.:+$-])"
)
# Each such scalar is replaced, before `json` reads the line, by a number whose text
# starts with this (a line holding it already is left to amazon-ion).
_HELD = "-0.0e-999999"


def _ion_scalar(match: re.Match[str]) -> Any:
    if match.group("dec"):
        return Decimal(match.group("dec").replace("d", "E").replace("D", "E"))
    year, month, day = map(int, match.group("date").split("-"))
    if not match.group("off"):
        return dt.date(year, month, day)
    hour, minute = map(int, match.group("time").split(":"))
    second = int(match.group("sec") or 0)
    micro = int((match.group("frac") or "0").ljust(6, "0"))
    offset = match.group("off")
    if offset == "-00:00":
        zone: dt.tzinfo | None = None  # Ion's unknown offset: a local time
    elif offset in ("Z", "+00:00"):
        zone = dt.UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        zone = dt.timezone(sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    return dt.datetime(year, month, day, hour, minute, second, micro, zone)


def _json_shaped(line: str) -> Any:
    """The value of a line that is JSON, or that is once its bare field names are quoted
    and its timestamps and `d` decimals are held aside.

    Safe because JSON's strings are Ion's short strings, with a subset of their
    escapes, and JSON's numbers, true, false and null mean in Ion what we read them
    as; anything else (quoted symbols, long strings, comments, blobs, ...) makes
    `json` fail, and the line goes to amazon-ion."""
    if not (line[:1] == "{" and (line[1:2].isalpha() or line[1:2] == "_")):  # {name: is not JSON
        try:
            return _decode_json(line)
        except ValueError:
            pass
    parts = _STRING.split(line)
    held: list[Any] = []

    def hold(match: re.Match[str]) -> str:
        held.append(_ion_scalar(match))  # a bad date raises ValueError: amazon-ion's turn
        return f"{_HELD}{len(held) - 1}"

    for i in range(0, len(parts), 2):
        part = parts[i]
        # A quote or slash outside strings: a quoted symbol, long string or comment,
        # which could hide a `"` from the split above.
        if "'" in part or "/" in part:
            raise ValueError("not JSON-shaped")
        if ("-" in part or "d" in part or "D" in part) and _ION_SCALAR.search(part):
            if _HELD in part:
                raise ValueError("holds the placeholder text")
            part = parts[i] = _ION_SCALAR.sub(hold, part)
        if ":" not in part:
            continue
        # The usual segment between two strings: `,name:` (or `{name:`), without a regex.
        name = part[1:-1]
        if part[-1] == ":" and part[0] in "{," and name.isidentifier() and name.isascii():
            if name in _KEYWORDS:
                raise ValueError("a keyword is not a field name")
            parts[i] = f'{part[0]}"{name}":'
        else:
            parts[i] = _BARE_NAME.sub(_quote_name, part)
    if not held:
        return _decode_json("".join(parts))

    def number(text: str) -> Any:
        return held[int(text[len(_HELD) :])] if text.startswith(_HELD) else _number(text)

    return json.JSONDecoder(parse_float=number, parse_constant=_not_ion).decode("".join(parts))


def _quote_name(match: re.Match[str]) -> str:
    name = match.group(2)
    if name in _KEYWORDS:
        raise ValueError("a keyword is not a field name")
    return f'{match.group(1)}"{name}"{match.group(3)}'


def _fast(line: bytes) -> Any:
    """A line read with orjson, when its value holds no number with a fraction or an
    exponent (orjson reads 1.5 as a float, where Ion means a decimal); else ValueError."""
    value = orjson.loads(line)
    kind = type(value)
    # issuperset(map(type, ...)) runs in C: this check is on every row.
    if kind is dict:
        if _PLAIN.issuperset(map(type, value.values())):
            return value
    elif kind is list:
        if _PLAIN.issuperset(map(type, value)):
            return value
    elif kind in _PLAIN:
        return value
    raise ValueError("not a flat value")


def _with_amazon_ion(text: str) -> list[Any]:
    from lanner.ion import reference  # imported on first need: see its docstring

    return reference.load_text(text)


_BLOCK = 1 << 17
"""Bytes read at a time; a block's lines are decoded together when they allow it."""


def _flat_batch(lines: list[bytes]) -> list[Any] | None:
    """The values of lines that are all flat JSON structs of strings, integers, booleans
    and nulls (Lanner's own rows), decoded by orjson in C with no Python step per line;
    None when any line is something else (the lines then go one at a time)."""
    try:
        values = list(map(orjson.loads, lines))
    except ValueError:
        return None
    # Each check runs in C over the whole block.
    if set(map(type, values)) == {dict} and _PLAIN.issuperset(
        map(type, itertools.chain.from_iterable(map(dict.values, values)))
    ):
        return values
    return None


def read_values(
    stream: BinaryIO, *, source: str = "the file", max_chars: int = MAX_VALUE_CHARS
) -> Iterator[Any]:
    """Each top-level value of an Ion text file (UTF-8), in order, as plain Python.

    `source` names the file in error messages; `max_chars` bounds a line and a value
    spread over lines."""
    for batch in read_batches(stream, source=source, max_chars=max_chars):
        yield from batch


def read_batches(
    stream: BinaryIO, *, source: str = "the file", max_chars: int = MAX_VALUE_CHARS
) -> Iterator[list[Any]]:
    """The values of `read_values`, in lists (those of about 128 KiB of the file at a
    time): for callers that handle many rows at once, such as a CSV writer's
    writerows."""
    pending: list[str] = []
    pending_chars = 0
    start = 0

    def one(raw: bytes, number: int) -> list[Any]:
        """The values that end on this line (a line of a value spread over several
        lines ends none until the last)."""
        nonlocal pending_chars, start
        if len(raw) > max_chars:
            raise IonFormatError(
                f"{source}, line {number}: longer than {max_chars} bytes (Lanner reads"
                " Ion text a line at a time, a value per line as Kestra writes it)"
            )
        if not pending:
            try:
                return [_fast(raw)]
            except ValueError:  # orjson's errors are ValueErrors too
                pass
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise IonFormatError(f"{source}, line {number}: not UTF-8 ({exc})") from None
        if not pending:
            text = line.strip()
            if not text:
                return []
            try:
                return [_json_shaped(text)]
            except ValueError:
                pass
            start = number
        pending.append(line)
        pending_chars += len(line)
        try:
            values = _with_amazon_ion("".join(pending))
        except Exception as exc:  # amazon-ion raises plain exceptions of many kinds
            # Perhaps a value spread over lines: gather more, up to a bound.
            if pending_chars > max_chars:
                raise IonFormatError(
                    f"{source}, line {start}: not Ion text ({exc}), or a value longer"
                    f" than {max_chars} characters"
                ) from exc
            return []
        pending.clear()
        pending_chars = 0
        return values

    number = 0
    tail = b""
    while True:
        block = stream.read(_BLOCK)
        if block:
            lines = (tail + block).split(b"\n")
            tail = lines.pop()
            ends = b"\n"
        else:
            lines = [tail] if tail else []  # the last line, with no line break
            ends = b""
        if lines:
            batch = None
            # A line's length with its break, as read_values has always counted it.
            if not pending and max(map(len, lines)) < max_chars:
                batch = _flat_batch(lines)
            if batch is not None:
                number += len(lines)
            else:
                batch = []
                try:
                    for line in lines:
                        number += 1
                        batch.extend(one(line + ends, number))
                except IonFormatError:
                    if batch:  # the values before the bad line come first, as they did
                        yield batch
                    raise
            if batch:
                yield batch
        if not block:
            break
        if len(tail) > max_chars:
            one(tail, number + 1)  # raises: a line longer than the bound
    if pending:
        try:
            yield _with_amazon_ion("".join(pending))
        except Exception as exc:
            raise IonFormatError(f"{source}, line {start}: not Ion text ({exc})") from exc
