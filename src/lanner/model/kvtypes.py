"""The KV store's vocabulary: a key-value pair of a namespace and its value types.

Kestra's KV store keeps one value per (namespace, key), typed by ``kvType``:
STRING, NUMBER, BOOLEAN, DATETIME, DATE, DURATION or JSON. A value given as
text with a type is parsed into that type (``coerce``); a value given
without one takes the type of what it is (``infer``). DATETIME, DATE and
DURATION values are kept as their ISO-8601 text (Kestra prints them so).
A pair may expire (``ttl``): an expired pair reads as missing.

Shared by the store (rows), the KV task types, the ``kv()`` reader the
executor hands the planner, and the ``lanner kv`` commands (docs/kv.md).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from lanner.model.common import format_duration, parse_duration

__all__ = ["KEY_RE", "KVEntry", "KVType", "check_key", "coerce", "expiry", "infer", "lineage"]

# Kestra's KV keys: letters, digits, '.', '-', '_' (its KVStore.validateKey pattern).
KEY_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
MAX_KEY_LENGTH = 255


class KVType(StrEnum):
    STRING = "STRING"
    NUMBER = "NUMBER"
    BOOLEAN = "BOOLEAN"
    DATETIME = "DATETIME"
    DATE = "DATE"
    DURATION = "DURATION"
    JSON = "JSON"


@dataclass(frozen=True)
class KVEntry:
    """One stored pair. `value` is JSON data of `type` (see the module docstring)."""

    namespace: str
    key: str
    type: KVType
    value: Any
    description: str | None = None
    updated_at: datetime | None = None
    expires_at: datetime | None = None  # None: never

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def lineage(namespace: str) -> list[str]:
    """The namespace, then its parents, nearest first (a.b.c, a.b, a): where a read of
    the flow's own namespace looks (expr/functions.py's kv() keeps the same rule)."""
    parts = namespace.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def check_key(key: str) -> str:
    """The key, or a ValueError saying what a key may hold."""
    if not isinstance(key, str) or not KEY_RE.match(key) or len(key) > MAX_KEY_LENGTH:
        raise ValueError(
            f"invalid KV key {str(key)[:80]!r}: a key is 1 to {MAX_KEY_LENGTH} letters, digits,"
            " '.', '-' or '_', starting with a letter or a digit"
        )
    return key


def infer(value: Any) -> KVType:
    """The type of a value given without `kvType`."""
    if isinstance(value, bool):
        return KVType.BOOLEAN
    if isinstance(value, int | float):
        return KVType.NUMBER
    if isinstance(value, dict | list | tuple):
        return KVType.JSON
    if isinstance(value, datetime):
        return KVType.DATETIME
    if isinstance(value, date):
        return KVType.DATE
    if isinstance(value, timedelta):
        return KVType.DURATION
    return KVType.STRING


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a NUMBER")
    if isinstance(value, int | float):
        number: int | float = value
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise ValueError(f"{text[:80]!r} is not a number") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ValueError(f"{str(value)[:80]!r} is not a boolean (true or false)")


def _datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text[:80]!r} is not an ISO-8601 date-time") from None
    # A date-time without an offset is taken as UTC, as the store takes every date.
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).isoformat()


def _date(value: Any) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    text = str(value).strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{text[:80]!r} is not an ISO-8601 date (YYYY-MM-DD)") from None


def _duration(value: Any) -> str:
    if isinstance(value, timedelta):
        return format_duration(value)
    text = str(value).strip()
    return format_duration(parse_duration(text))


def _json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ValueError(f"the value is not JSON: {exc}") from None


def coerce(value: Any, kv_type: KVType | None) -> tuple[KVType, Any]:
    """`value` as `kv_type` (inferred when None); a ValueError says why it is not one."""
    if kv_type is None:
        kv_type = infer(value)
    if value is None:
        raise ValueError("a KV value cannot be null")
    if kv_type is KVType.STRING:
        converted: Any = value if isinstance(value, str) else _text(value)
    elif kv_type is KVType.NUMBER:
        converted = _number(value)
    elif kv_type is KVType.BOOLEAN:
        converted = _boolean(value)
    elif kv_type is KVType.DATETIME:
        converted = _datetime(value)
    elif kv_type is KVType.DATE:
        converted = _date(value)
    elif kv_type is KVType.DURATION:
        converted = _duration(value)
    else:
        converted = _json(value)
        if converted is None:  # JSON null: a pair is never null (null means missing)
            raise ValueError("a KV value cannot be null")
    return kv_type, converted


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return str(value)


def expiry(ttl: str | timedelta | None, now: datetime) -> datetime | None:
    """When a pair set at `now` with `ttl` expires (None: never)."""
    if ttl is None:
        return None
    delta = ttl if isinstance(ttl, timedelta) else parse_duration(ttl)
    if delta <= timedelta(0):
        raise ValueError(f"ttl must be a positive duration (got {format_duration(delta)})")
    return now + delta
