"""ValidatedTasks: a task validated once is handed out again for the same rendered
properties only; anything else is validated (and fails) as model_validate would."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from lanner.engine.variables import WORKING_DIR_MARK
from lanner.plugin import TaskRegistry
from lanner.runtime.cancel import CancelEvent
from lanner.runtime.taskcache import ValidatedTasks, same

LOG = "io.kestra.plugin.core.log.Log"
RETURN = "io.kestra.plugin.core.debug.Return"


def _no_dir() -> object:
    raise AssertionError("no working directory was asked for")


@pytest.fixture(scope="module")
def registry() -> TaskRegistry:
    return TaskRegistry.from_entry_points()


def test_the_same_properties_give_the_task_validated_before(registry: TaskRegistry) -> None:
    tasks = ValidatedTasks()
    log = registry.get(LOG)
    assert log is not None
    first = tasks.validate(log, LOG, "t1", {"message": "hello"}, _no_dir)
    assert tasks.validate(log, LOG, "t1", {"message": "hello"}, _no_dir) is first
    other = tasks.validate(log, LOG, "t1", {"message": "bye"}, _no_dir)
    assert other is not first and other.message == "bye"  # type: ignore[attr-defined]
    assert tasks.validate(log, LOG, "t2", {"message": "bye"}, _no_dir).id == "t2"


def test_equal_values_of_other_types_are_validated_again(registry: TaskRegistry) -> None:
    tasks = ValidatedTasks()
    ret = registry.get(RETURN)
    assert ret is not None
    one = tasks.validate(ret, RETURN, "r", {"format": 1}, _no_dir)
    true = tasks.validate(ret, RETURN, "r", {"format": True}, _no_dir)
    assert true is not one
    assert true == ret.model.model_validate({"id": "r", "type": RETURN, "format": True})


def test_invalid_properties_fail_every_time(registry: TaskRegistry) -> None:
    tasks = ValidatedTasks()
    log = registry.get(LOG)
    assert log is not None
    tasks.validate(log, LOG, "t1", {"message": "hello"}, _no_dir)
    for _ in range(2):
        with pytest.raises(ValidationError):
            tasks.validate(log, LOG, "t1", {"message": "hello", "level": "LOUD"}, _no_dir)
    with pytest.raises(ValidationError):
        tasks.validate(log, LOG, "t1", {}, _no_dir)


def test_properties_naming_the_working_directory_are_not_kept(
    registry: TaskRegistry, tmp_path: Path
) -> None:
    tasks = ValidatedTasks()
    log = registry.get(LOG)
    assert log is not None
    properties = {"message": f"in {WORKING_DIR_MARK}"}
    first = tasks.validate(log, LOG, "t1", properties, lambda: tmp_path / "a")
    second = tasks.validate(log, LOG, "t1", properties, lambda: tmp_path / "b")
    assert first.message == f"in {tmp_path / 'a'}"  # type: ignore[attr-defined]
    assert second.message == f"in {tmp_path / 'b'}"  # type: ignore[attr-defined]


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
        ({"a": 0.0}, {"a": -0.0}, False),
        ({"a": 1.5, "n": None}, {"a": 1.5, "n": None}, True),
        ({"a": {1}}, {"a": {1}}, False),
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
