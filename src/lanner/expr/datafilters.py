"""Filters and tests on data: collections, JSON/YAML, jq and dates."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import yaml as yamllib

from lanner.errors import RenderError, SandboxError
from lanner.expr import dates, jqproc, pebble
from lanner.expr.convert import to_json, to_output, to_text

__all__ = ["DATA_FILTERS", "TESTS"]


def _items(value: Any, name: str) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, Mapping):
        return list(value.keys())
    raise RenderError(f"{name} needs a list, got {pebble.type_name(value)}")


def length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value)
    raise RenderError(f"length needs a string, a list or a map, got {pebble.type_name(value)}")


def first(value: Any) -> Any:
    if isinstance(value, str | list | tuple):
        return value[0] if value else None
    return _items(value, "first")[0] if value else None


def last(value: Any) -> Any:
    if isinstance(value, str | list | tuple):
        return value[-1] if value else None
    items = _items(value, "last")
    return items[-1] if items else None


def join(value: Any, separator: str = "") -> Any:
    if value is None:
        return None
    parts = [to_text(v) for v in _items(value, "join")]
    sep = to_text(separator)
    # Size is checked before joining: joining is where memory would go.
    if sum(map(len, parts)) + len(sep) * max(len(parts) - 1, 0) > pebble.max_output():
        raise SandboxError("Result of join() is larger than the output limit")
    return sep.join(parts)


def keys(value: Any) -> list[Any]:
    if not isinstance(value, Mapping):
        raise RenderError("keys needs a map")
    return list(value.keys())


def values(value: Any) -> list[Any]:
    if not isinstance(value, Mapping):
        raise RenderError("values needs a map")
    return list(value.values())


def distinct(value: Any) -> list[Any]:
    result: list[Any] = []
    seen: set[Any] = set()
    for i, item in enumerate(_items(value, "distinct")):
        try:
            if item in seen:
                continue
            seen.add(item)
        except TypeError:  # a list or a map: compared one by one, and that takes time
            if not i & 255:
                pebble.tick()
            if item in result:
                continue
        result.append(item)
    return result


def flatten(value: Any) -> list[Any]:
    result: list[Any] = []
    for item in _items(value, "flatten"):
        result.extend(item if isinstance(item, list | tuple) else [item])
    return result


def chunk(value: Any, size: int) -> list[list[Any]]:
    if not isinstance(size, int) or size <= 0:
        raise RenderError("chunk size must be a positive integer")
    items = _items(value, "chunk")
    return [items[i : i + size] for i in range(0, len(items), size)]


def _sorted(value: Any, reverse: bool) -> list[Any]:
    try:
        return sorted(_items(value, "sort"), reverse=reverse)
    except TypeError as exc:
        raise RenderError("Cannot sort values of different types") from exc


def sort(value: Any) -> list[Any]:
    return _sorted(value, False)


def rsort(value: Any) -> list[Any]:
    return _sorted(value, True)


def reverse(value: Any) -> Any:
    if isinstance(value, str):
        return value[::-1]
    return _items(value, "reverse")[::-1]


def slice_(value: Any, from_index: Any = 0, to_index: Any = None) -> Any:
    for index in (from_index, to_index):
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise RenderError("slice needs integer indexes")
    if isinstance(value, str | list | tuple):
        return value[from_index:to_index]
    raise RenderError("slice needs a string or a list")


def merge(value: Any, other: Any) -> Any:
    if isinstance(value, Mapping) and isinstance(other, Mapping):
        return {**value, **other}
    if isinstance(value, list | tuple) and isinstance(other, list | tuple):
        return pebble.check_size([*value, *other])
    raise RenderError("merge needs two maps or two lists")


def to_json_filter(value: Any) -> str:
    return to_json(value)


def string(value: Any) -> Any:
    return None if value is None else to_output(value)


def class_name(value: Any) -> str | None:
    # Kestra: null has no class, and prints nothing.
    return None if value is None else pebble.type_name(value)


def jq(value: Any, expression: Any) -> list[Any]:
    """Run a jq program on the value; the result is always a list (Kestra).

    The program runs in a helper process (``lanner.expr.jqproc``), bounded in
    time and memory and cut off from the environment and the file system.
    """
    if not isinstance(expression, str):
        raise RenderError("jq needs a program as a string")
    data = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            data = value
    bounds = pebble.limits()
    state = pebble.current()
    seconds = min(bounds.jq_seconds, state.deadline - time.monotonic())
    return jqproc.run_jq(
        expression,
        to_json(data),
        seconds=seconds,
        memory=bounds.jq_memory_bytes,
        limit=bounds.value_bytes,
    )


_DUMPER = getattr(yamllib, "CSafeDumper", yamllib.SafeDumper)


def to_yaml(value: Any) -> str:
    plain = json.loads(to_json(value))
    return yamllib.dump(
        plain, Dumper=_DUMPER, default_flow_style=False, sort_keys=False, allow_unicode=True
    )


def date(
    value: Any,
    format: str | None = None,
    timeZone: str | None = None,
    existingFormat: str | None = None,
    locale: str | None = None,
) -> Any:
    if value is None:
        return None
    moment = dates.parse_date(value, timeZone, existingFormat)
    return dates.format_date(moment, format, timeZone)


def date_add(
    value: Any,
    amount: int,
    unit: str,
    format: str | None = None,
    timeZone: str | None = None,
    existingFormat: str | None = None,
) -> Any:
    if value is None:
        return None
    moment = dates.add(dates.parse_date(value, timeZone, existingFormat), amount, unit)
    return dates.format_date(moment, format, timeZone)


def _timestamp(per_second: int) -> Any:
    def timestamp(
        value: Any,
        timeZone: str | None = None,
        existingFormat: str | None = None,
    ) -> Any:
        if value is None:
            return None
        return dates.timestamp(dates.parse_date(value, timeZone, existingFormat), per_second)

    return timestamp


def default(value: Any, fallback: Any = None) -> Any:
    # Used only where the parser could not see the filter (a {% filter %}
    # block); `x | default(...)` compiles to pebble.default.
    return fallback if pebble.is_empty(value) else value


DATA_FILTERS = {
    "length": length,
    "first": first,
    "last": last,
    "join": join,
    "keys": keys,
    "values": values,
    "distinct": distinct,
    "flatten": flatten,
    "chunk": chunk,
    "sort": sort,
    "rsort": rsort,
    "reverse": reverse,
    "slice": slice_,
    "merge": merge,
    "toJson": to_json_filter,
    "json": to_json_filter,
    "jsonEncode": to_json_filter,
    "string": string,
    "className": class_name,
    "jq": jq,
    "yaml": to_yaml,
    "date": date,
    "dateAdd": date_add,
    "timestamp": _timestamp(1),
    "timestampMilli": _timestamp(1_000),
    "timestampMicro": _timestamp(1_000_000),
    "timestampNano": _timestamp(1_000_000_000),
    "default": default,
}


# --- tests ---------------------------------------------------------------------


def _is_json(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _integer(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise RenderError(f"Can not pass a non-integer value to the '{name}' test")
    return value


TESTS = {
    "defined": lambda value: True,  # compiled to pebble.defined; see syntax.Defined
    "null": lambda value: value is None,
    "empty": pebble.is_empty,
    "even": lambda value: _integer(value, "even") % 2 == 0,
    "odd": lambda value: _integer(value, "odd") % 2 == 1,
    "iterable": lambda value: isinstance(value, list | tuple),  # a Java Map is not Iterable
    "map": lambda value: isinstance(value, Mapping),
    "json": _is_json,
}
