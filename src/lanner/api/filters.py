"""Kestra's search filters: `filters[field][OPERATION]=value` (and
`filters[labels][EQUALS][key]=value`), as kestrapy encodes its QueryFilter
list, plus the older plain parameters (`namespace=`, `flowId=`, `state=`).

Only the fields and operations listed here are understood; any other is
answered with a 422 naming it, never silently ignored."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from lanner.api.errors import ApiError
from lanner.model.states import State
from lanner.store.base import FlowRecord
from lanner.store.search import (
    DATE_OPERATIONS,
    TEXT_OPERATIONS,
    AnyTextCondition,
    Condition,
    DateCondition,
    LabelCondition,
    StateCondition,
    TextCondition,
)

T = TypeVar("T")

_KEY = re.compile(r"^filters\[(\w+)\]\[(\w+)\](?:\[([^\]]*)\])?$")


@dataclass(frozen=True)
class Filter:
    field: str
    operation: str
    value: str
    key: str | None = None  # the label key of a labels filter


def parse(params: Iterable[tuple[str, str]]) -> list[Filter]:
    out: list[Filter] = []
    for name, value in params:
        if not name.startswith("filters"):
            continue
        match = _KEY.match(name)
        if match is None:
            raise ApiError(f"{name}: not a filter; write filters[field][OPERATION]=value")
        field, operation, key = match.groups()
        out.append(Filter(field, operation.upper(), value, key))
    return out


# The older plain query parameters of Kestra 1.x's searches and by-query actions, as
# filters: a namespace prefix, a flow id, states, `key:value` labels, dates, a time range.
_PLAIN = {
    "namespace": ("namespace", "PREFIX"),
    "flowId": ("flowId", "EQUALS"),
    "state": ("state", "IN"),
    "q": ("q", "EQUALS"),
    "labels": ("labels", "EQUALS"),
    "startDate": ("startDate", "GREATER_THAN_OR_EQUAL_TO"),
    "endDate": ("endDate", "LESS_THAN_OR_EQUAL_TO"),
    "timeRange": ("timeRange", "EQUALS"),
}
# Kestra's other 1.x parameters: refused rather than ignored, so that a query never
# selects more than the caller meant.
_PLAIN_REFUSED = ("scope", "triggerExecutionId", "childFilter")


def query_filters(params: Iterable[tuple[str, str]]) -> list[Filter]:
    """`filters[...]` and the older plain parameters. A repeated `state` is one list of
    states (any of them); repeated `labels` must all hold."""
    pairs = list(params)
    out = parse(pairs)
    states: list[str] = []
    for name, value in pairs:
        if name in _PLAIN_REFUSED:
            raise ApiError(f"{name}: not supported here; select executions with filters")
        if name == "state" and value:
            states.append(value)
        elif name in _PLAIN and value:
            field, operation = _PLAIN[name]
            out.append(Filter(field, operation, value))
    if states:
        out.append(Filter("state", "IN", ",".join(states)))
    return out


def _values(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def text_test(field: str, op: str, value: str) -> Callable[[str], bool]:
    """A test of a text field for one operation (a 422 naming an operation not served)."""
    values = _values(value)
    tests: dict[str, Callable[[str], bool]] = {
        "EQUALS": lambda s: s == value,
        "NOT_EQUALS": lambda s: s != value,
        "IN": lambda s: s in values,
        "NOT_IN": lambda s: s not in values,
        "CONTAINS": lambda s: value.lower() in s.lower(),
        "STARTS_WITH": lambda s: s.startswith(value),
        "ENDS_WITH": lambda s: s.endswith(value),
        "PREFIX": lambda s: s == value or s.startswith(value + "."),
        "REGEX": lambda s: re.search(value, s) is not None,
    }
    if op not in tests:
        raise ApiError(f"filters[{field}][{op}]: operation not supported on {field}")
    return tests[op]


def _date(field: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(f"filters[{field}]: {value!r} is not an ISO 8601 date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _duration(field: str, value: str) -> timedelta:
    from lanner.model.common import parse_duration

    try:
        return parse_duration(value)
    except (ValueError, TypeError):
        raise ApiError(f"filters[{field}]: {value!r} is not an ISO 8601 duration") from None


_FIELDS = {"namespace": "namespace", "flowId": "flow_id", "id": "id", "executionId": "id"}


def execution_conditions(filters: list[Filter], now: datetime) -> list[Condition]:
    """The filters as the store's search conditions (each field and operation checked)."""
    return [_execution_condition(f, now) for f in filters]


def _execution_condition(f: Filter, now: datetime) -> Condition:
    field, op, value = f.field, f.operation, f.value
    if field in _FIELDS:
        if op not in TEXT_OPERATIONS:
            raise ApiError(f"filters[{field}][{op}]: operation not supported on {field}")
        if op == "REGEX":
            try:
                re.compile(value)
            except re.error as exc:
                raise ApiError(f"filters[{field}][REGEX]: {value!r}: {exc}") from None
        values = tuple(_values(value)) if op in ("IN", "NOT_IN") else (value,)
        return TextCondition(_FIELDS[field], op, values)
    if field == "state":
        states = {s.upper() for s in _values(value)}
        unknown = states - set(State.__members__)
        if unknown:
            raise ApiError(f"filters[state]: {', '.join(sorted(unknown))}: not a state")
        if op in ("EQUALS", "IN"):
            return StateCondition(frozenset(states))
        if op in ("NOT_EQUALS", "NOT_IN"):
            return StateCondition(frozenset(states), negated=True)
        raise ApiError(f"filters[state][{op}]: operation not supported on state")
    if field == "labels":
        return _labels_condition(f)
    if field in ("startDate", "endDate"):
        if op not in DATE_OPERATIONS:
            raise ApiError(f"filters[{field}][{op}]: operation not supported on {field}")
        column = "start_date" if field == "startDate" else "end_date"
        return DateCondition(column, op, _date(field, value))
    if field == "timeRange":
        if op != "EQUALS":
            raise ApiError(f"filters[timeRange][{op}]: only EQUALS (a duration back from now)")
        since = now - _duration(field, value)
        return DateCondition("start_date", "GREATER_THAN_OR_EQUAL_TO", since)
    if field == "q":
        return AnyTextCondition(value)
    raise ApiError(
        f"filters[{field}]: not a field executions can be searched by here (namespace, flowId,"
        " state, labels, startDate, endDate, timeRange, q)"
    )


def _labels_condition(f: Filter) -> Condition:
    if f.key is not None:
        pairs = {f.key: f.value}
    else:
        pairs = {}
        for item in _values(f.value):
            key, sep, val = item.partition(":")
            if not sep:
                raise ApiError(f"filters[labels]: {item!r} is not key:value")
            pairs[key] = val
    if f.operation in ("EQUALS", "IN"):
        return LabelCondition(tuple(pairs.items()))
    if f.operation == "NOT_EQUALS":
        return LabelCondition(tuple(pairs.items()), negated=True)
    raise ApiError(f"filters[labels][{f.operation}]: operation not supported on labels")


FlowTest = Callable[[FlowRecord], bool]


def flow_tests(filters: list[Filter]) -> list[FlowTest]:
    return [_flow_test(f) for f in filters]


def _flow_test(f: Filter) -> FlowTest:
    if f.field == "namespace":
        ns = text_test(f.field, f.operation, f.value)
        return lambda r: ns(r.namespace)
    if f.field in ("id", "flowId"):
        ident = text_test(f.field, f.operation, f.value)
        return lambda r: ident(r.id)
    if f.field == "q":
        needle = f.value.lower()
        return lambda r: needle in r.id.lower() or needle in r.namespace.lower()
    raise ApiError(
        f"filters[{f.field}]: not a field flows can be searched by here (namespace, id, q)"
    )


def sort_keys(sort: list[str] | None, known: Iterable[str]) -> list[tuple[str, bool]]:
    """`sort=field:asc|desc` (repeatable) as (field, descending), each field checked."""
    allowed = set(known)
    out: list[tuple[str, bool]] = []
    for item in sort or ():
        field, _, direction = item.partition(":")
        direction = direction.lower() or "asc"
        if field not in allowed or direction not in ("asc", "desc"):
            raise ApiError(
                f"sort {item!r}: sort by one of {', '.join(sorted(allowed))}, with :asc or :desc"
            )
        out.append((field, direction == "desc"))
    return out


def sorted_by(
    rows: list[T], keys: list[tuple[str, bool]], value: Callable[[T, str], Any]
) -> list[T]:
    """Stable sorts, last key first, so that the first key decides; None sorts first."""
    for field, descending in reversed(keys):

        def key(row: T, field: str = field) -> tuple[bool, Any]:
            v = value(row, field)
            return (v is not None, v)

        rows = sorted(rows, key=key, reverse=descending)
    return rows
