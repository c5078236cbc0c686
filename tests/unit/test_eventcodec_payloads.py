"""encode() builds every event's payload as the asdict() encoding did, key for key and
in the same order: the stored JSON text of an event is unchanged, byte for byte."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest

from lanner.engine.events import (
    ChildResult,
    ChildStarted,
    Event,
    ForceRun,
    MarkTaskRun,
    Resume,
    SetLabels,
    SubflowEnded,
    TaskResult,
)
from lanner.expr.taint import Secret, TaintedDict, TaintedList
from lanner.model.states import State
from lanner.runtime.eventcodec import _KINDS, encode
from lanner.store import codec
from lanner.store.base import NewEvent

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def _asdict_encode(
    execution_id: str, event: Event, visible_at: datetime, dedup_key: str | None = None
) -> NewEvent:
    """The encoding before the fast path, as it was written."""
    payload = asdict(event)
    if isinstance(event, TaskResult | SubflowEnded | ChildResult):
        payload["state"] = event.state.value
        payload["outputs"] = dict(event.outputs)
    elif isinstance(event, Resume):
        payload["inputs"] = dict(event.inputs)
    elif isinstance(event, SetLabels):
        payload["labels"] = dict(event.labels)
    elif isinstance(event, MarkTaskRun | ForceRun):
        payload["state"] = event.state.value
    return NewEvent(execution_id, type(event).__name__, payload, visible_at, dedup_key)


_MAPPINGS: list[Any] = [
    {},
    {"a": 1, "b": [1, {"c": (2, 3)}], "d": None, "é": "ü"},
    TaintedDict({"s": Secret("hidden"), "l": TaintedList([1, 2])}),
    {"when": T0, "nested": {"deep": [{"k": "v"}]}},
]
_TEXTS: list[Any] = ["r", "", 'ünïcode "quoted" \n', Secret("s3cret")]
_INTS: list[Any] = [0, 1, 7, True]
_OPTIONAL: list[Any] = [None, "boom", Secret("masked")]


def _values(name: str, annotation: str) -> list[Any]:
    if annotation == "State":
        return list(State)
    if annotation.startswith("Mapping"):
        return _MAPPINGS
    if annotation == "bool":
        return [False, True]
    if annotation == "int":
        return _INTS
    if "None" in annotation:
        return _OPTIONAL + _TEXTS[:2]
    return _TEXTS


def _events() -> list[Event]:
    events: list[Event] = []
    for cls in _KINDS.values():
        spec = [(f.name, str(f.type)) for f in fields(cls)]
        if not spec:
            events.append(cls())
            continue
        # Every value of every field at least once, the others at their first value.
        for i, (name, annotation) in enumerate(spec):
            for value in _values(name, annotation):
                args = [_values(n, a)[0] for n, a in spec]
                args[i] = value
                events.append(cls(*args))
    return events


EVENTS = _events()


def test_every_kind_is_covered() -> None:
    assert {type(e) for e in EVENTS} == set(_KINDS.values())
    assert {type(e) for e in EVENTS} >= {ChildStarted, ChildResult, SetLabels, ForceRun}


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_payload_is_the_asdict_encoding(event: Event) -> None:
    fast = encode("ex", event, T0, "key")
    slow = _asdict_encode("ex", event, T0, "key")
    assert fast == slow
    assert list(fast.payload) == list(slow.payload)  # the JSON's key order
    assert codec.event_params(fast) == codec.event_params(slow)  # the stored text
    assert json.dumps(fast.payload, default=str) == json.dumps(slow.payload, default=str)
    # Same value types all the way down (a tainted text stays tainted).
    assert _shape(fast.payload) == _shape(slow.payload)


def test_a_mapping_field_is_a_fresh_plain_dict() -> None:
    outputs = TaintedDict({"a": 1})
    payload = encode("ex", TaskResult("r", 1, State.SUCCESS, outputs), T0).payload
    assert type(payload["outputs"]) is dict and payload["outputs"] is not outputs


def test_a_mapping_asdict_could_not_copy_is_stored() -> None:
    # asdict's deep copy of the outputs (thrown away for dict(outputs)) failed on a
    # mapping that cannot be copied; the stored payload is what it would have kept.
    outputs = MappingProxyType({"x": 1.5})
    with pytest.raises(TypeError):
        _asdict_encode("ex", TaskResult("r", 1, State.SUCCESS, outputs), T0)
    payload = encode("ex", TaskResult("r", 1, State.SUCCESS, outputs), T0).payload
    assert payload["outputs"] == {"x": 1.5}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return (type(value), [(k, _shape(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value), [_shape(v) for v in value])
    return (type(value), value)
