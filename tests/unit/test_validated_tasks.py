"""ValidatedTasks: a task validated once is handed out again for the same rendered
properties only; anything else is validated (and fails) as model_validate would."""

from __future__ import annotations

import threading

import pytest
from pydantic import ValidationError

from lanner.plugin import TaskRegistry
from lanner.runtime.cancel import CancelEvent
from lanner.runtime.taskcache import ValidatedTasks, same

LOG = "io.kestra.plugin.core.log.Log"
RETURN = "io.kestra.plugin.core.debug.Return"


@pytest.fixture(scope="module")
def registry() -> TaskRegistry:
    return TaskRegistry.from_entry_points()


def test_the_same_properties_give_the_task_validated_before(registry: TaskRegistry) -> None:
    tasks = ValidatedTasks()
    log = registry.get(LOG)
    assert log is not None
    first = tasks.validate(log, LOG, "t1", {"message": "hello"})
    assert tasks.validate(log, LOG, "t1", {"message": "hello"}) is first
    other = tasks.validate(log, LOG, "t1", {"message": "bye"})
    assert other is not first and other.message == "bye"  # type: ignore[attr-defined]
    assert tasks.validate(log, LOG, "t2", {"message": "bye"}).id == "t2"


def test_equal_values_of_other_types_are_validated_again(registry: TaskRegistry) -> None:
    tasks = ValidatedTasks()
    ret = registry.get(RETURN)
    assert ret is not None
    one = tasks.validate(ret, RETURN, "r", {"format": 1})
    true = tasks.validate(ret, RETURN, "r", {"format": True})
    assert true is not one
    assert true == ret.model.model_validate({"id": "r", "type": RETURN, "format": True})


def test_invalid_properties_fail_every_time(registry: TaskRegistry) -> None:
    tasks = ValidatedTasks()
    log = registry.get(LOG)
    assert log is not None
    tasks.validate(log, LOG, "t1", {"message": "hello"})
    for _ in range(2):
        with pytest.raises(ValidationError):
            tasks.validate(log, LOG, "t1", {"message": "hello", "level": "LOUD"})
    with pytest.raises(ValidationError):
        tasks.validate(log, LOG, "t1", {})


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ({"a": [1, "x", {"b": None}]}, {"a": [1, "x", {"b": None}]}, True),
        ({"a": 1}, {"a": True}, False),
        ({"a": 1}, {"a": 1.0}, False),
        ([1, 2], (1, 2), False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": 1}, {"b": 1}, False),
        ([1, [2]], [1, [2.0]], False),
    ],
)
def test_same_compares_types_too(a: object, b: object, expected: bool) -> None:
    assert same(a, b) is expected


def test_cancel_event_wakes_its_waiter_and_linked_events() -> None:
    event = CancelEvent()
    assert not event.is_set()
    assert event.wait(0) is False
    linked = threading.Event()
    event.link(linked)
    woken: list[bool] = []
    waiter = threading.Thread(target=lambda: woken.append(event.wait(30)))
    waiter.start()
    event.set()
    waiter.join(30)
    assert woken == [True] and linked.is_set() and event.is_set()
    late = CancelEvent()
    event.link(late)  # linked after the set: set at once
    assert late.is_set()
    event.unlink(late)
