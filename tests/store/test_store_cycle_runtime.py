"""Store contract inside the executor's transaction: flow concurrency, flow-trigger state,
subflow links, and executions created by a cycle."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from lanner.model.states import State
from lanner.store.base import CycleWrite, Store

_SECOND = dt.timedelta(seconds=1)


class Boom(Exception):
    pass


# -- flow concurrency ------------------------------------------------------------------------


def test_slots_are_held_by_started_unfinalized_executions_of_the_flow(
    store: Store, make: Any, now: dt.datetime
) -> None:
    later = now + 60 * _SECOND
    cases: list[tuple[str, State, dict[str, Any]]] = [
        ("created", State.CREATED, {}),
        ("queued", State.QUEUED, {}),
        ("running", State.RUNNING, {}),
        ("paused", State.PAUSED, {}),
        ("me", State.RUNNING, {}),
        # Terminal but its afterExecution tasks still run: it keeps its slot.
        ("terminal", State.SUCCESS, {"terminal_at": now}),
        ("finalized", State.FAILED, {"terminal_at": now, "finalized_at": later}),
        ("other-flow", State.RUNNING, {"flow_id": "other"}),
        ("other-ns", State.RUNNING, {"namespace": "other.ns"}),
    ]
    for execution_id, state, fields in cases:
        store.create_execution(make.execution(execution_id, state=state, **fields), [])
    with store.executor_tx() as tx:
        assert tx.slots_taken("company.team", "hello", "me") == 3
        assert tx.slots_taken("company.team", "hello", "queued") == 4
        assert tx.slots_taken("company.team", "other", "me") == 1
        assert tx.slots_taken("nobody", "hello", "me") == 0


def test_a_slot_taken_in_a_cycle_is_counted_by_the_next(store: Store, make: Any) -> None:
    store.create_execution(make.execution("a", state=State.CREATED), [])
    store.create_execution(make.execution("b", state=State.CREATED), [])
    with store.executor_tx() as tx:
        assert tx.slots_taken("company.team", "hello", "a") == 0
        a = tx.load("a")
        assert a is not None
        tx.write(CycleWrite(replace(a, state=State.RUNNING, version=1), 0))
    with store.executor_tx() as tx:
        assert tx.slots_taken("company.team", "hello", "b") == 1
        assert tx.slots_taken("company.team", "hello", "a") == 0


def test_oldest_queued_is_by_creation_then_id(store: Store, make: Any, now: dt.datetime) -> None:
    with store.executor_tx() as tx:
        assert tx.oldest_queued("company.team", "hello") is None
    queued = [("q-b", now), ("q-a", now), ("q-first", now - _SECOND), ("q-later", now + _SECOND)]
    for execution_id, created in queued:
        store.create_execution(
            make.execution(execution_id, state=State.QUEUED, created=created), []
        )
    store.create_execution(make.execution("r", state=State.RUNNING, created=now - 9 * _SECOND), [])
    other = make.execution("o", state=State.QUEUED, created=now - 9 * _SECOND, flow_id="other")
    store.create_execution(other, [])
    with store.executor_tx() as tx:
        assert tx.oldest_queued("company.team", "hello") == "q-first"
        first = tx.load("q-first")
        assert first is not None
        tx.write(CycleWrite(replace(first, state=State.RUNNING, version=1), 0))
        assert tx.oldest_queued("company.team", "hello") == "q-a"  # sees the cycle's write
        assert tx.oldest_queued("company.team", "other") == "o"


# -- flow-trigger state ----------------------------------------------------------------------------


def test_trigger_state_is_saved_replaced_and_deleted(store: Store, now: dt.datetime) -> None:
    window = {"start": "2025-03-04T05:00:00+00:00", "seen": {"a.b/c": ["SUCCESS"]}, "n": 2}
    with store.executor_tx() as tx:
        assert tx.trigger_state("ns", "f", "t") is None
        tx.put_trigger_state("ns", "f", "t", window, now)
        tx.put_trigger_state("ns", "f", "other", {}, now)
        assert tx.trigger_state("ns", "f", "t") == window
    with store.executor_tx() as tx:
        assert tx.trigger_state("ns", "f", "t") == window
        assert tx.trigger_state("ns", "f", "other") == {}
        assert tx.trigger_state("ns", "g", "t") is None
        tx.put_trigger_state("ns", "f", "t", {"n": 3}, now + _SECOND)
    with store.executor_tx() as tx:
        assert tx.trigger_state("ns", "f", "t") == {"n": 3}
        tx.put_trigger_state("ns", "f", "t", None, now)
        tx.put_trigger_state("ns", "f", "never-saved", None, now)
    with store.executor_tx() as tx:
        assert tx.trigger_state("ns", "f", "t") is None
        assert tx.trigger_state("ns", "f", "other") == {}


def test_trigger_state_is_rolled_back_with_its_cycle(store: Store, now: dt.datetime) -> None:
    with store.executor_tx() as tx:
        tx.put_trigger_state("ns", "f", "t", {"n": 1}, now)
    with pytest.raises(Boom), store.executor_tx() as tx:
        tx.put_trigger_state("ns", "f", "t", {"n": 2}, now)
        tx.put_trigger_state("ns", "f", "u", {"n": 2}, now)
        raise Boom
    with store.executor_tx() as tx:
        assert tx.trigger_state("ns", "f", "t") == {"n": 1}
        assert tx.trigger_state("ns", "f", "u") is None


# -- subflow links and executions created by a cycle -------------------------------------------


def test_subflow_links_round_trip(store: Store, make: Any) -> None:
    child = make.execution(
        "child",
        parent_execution_id="parent",
        parent_task_run_id="parent-subflow-task",
        parent_attempt=2,
    )
    store.create_execution(child, [])
    loaded = store.get_execution("child")
    assert loaded == child
    assert loaded is not None and loaded.parent_task_run_id == "parent-subflow-task"
    assert loaded.parent_attempt == 2
    [listed] = store.list_executions()
    assert (listed.parent_task_run_id, listed.parent_attempt) == ("parent-subflow-task", 2)
    with store.executor_tx() as tx:
        assert tx.load("child") == child
    plain = make.execution("plain")
    store.create_execution(plain, [])
    loaded = store.get_execution("plain")
    assert (
        loaded is not None and loaded.parent_task_run_id is None and loaded.parent_attempt is None
    )


def _subflow_cycle(store: Store, make: Any, now: dt.datetime, *, fail: bool = False) -> None:
    """A cycle of `exec1` that starts a child execution and tells `parent` something."""
    with store.executor_tx() as tx:
        execution = tx.load("exec1")
        assert execution is not None
        child = make.execution(
            "child",
            state=State.CREATED,
            parent_execution_id="exec1",
            parent_task_run_id="call",
            parent_attempt=1,
        )
        tx.write(
            CycleWrite(
                replace(execution, version=execution.version + 1),
                execution.version,
                new_executions=[child],
                new_events=[
                    make.event("child", kind="Start", dedup_key="child:start"),
                    make.event("parent", kind="SubflowDone", dedup_key="parent:exec1:done"),
                ],
            )
        )
        if fail:
            raise Boom


def test_a_cycle_writes_a_child_execution_and_events_to_other_executions_together(
    store: Store, make: Any, now: dt.datetime
) -> None:
    store.create_execution(make.execution("parent"), [])
    store.create_execution(make.execution(), [])
    with pytest.raises(Boom):
        _subflow_cycle(store, make, now, fail=True)
    assert store.get_execution("child") is None
    assert store.counts()["execution_event"] == 0

    _subflow_cycle(store, make, now)
    child = store.get_execution("child")
    assert child is not None and child.state is State.CREATED
    assert (child.parent_execution_id, child.parent_task_run_id, child.parent_attempt) == (
        "exec1",
        "call",
        1,
    )
    with store.executor_tx() as tx:
        assert [e.kind for e in tx.events("child", now)] == ["Start"]
        assert [e.kind for e in tx.events("parent", now)] == ["SubflowDone"]

    # A replayed cycle (same child id, same dedup keys) adds nothing and changes nothing.
    started = replace(child, state=State.RUNNING, version=1)
    with store.executor_tx() as tx:
        tx.write(CycleWrite(started, 0))
    _subflow_cycle(store, make, now)
    assert store.get_execution("child") == started
    assert store.counts()["execution_event"] == 2
    assert store.counts()["execution"] == 3


def test_create_execution_is_idempotent_for_an_id_a_cycle_created(
    store: Store, make: Any, now: dt.datetime
) -> None:
    store.create_execution(make.execution("parent"), [])
    store.create_execution(make.execution(), [])
    _subflow_cycle(store, make, now)
    before = store.get_execution("child")
    store.create_execution(make.execution("child", state=State.FAILED), [make.event("child")])
    assert store.get_execution("child") == before
    with store.executor_tx() as tx:
        assert [e.kind for e in tx.events("child", now)] == ["Start"]


# -- orphan events ---------------------------------------------------------------------------


def test_drop_events_deletes_events_no_cycle_can_consume(
    store: Store, make: Any, now: dt.datetime
) -> None:
    store.create_execution(make.execution("kept"), [make.event("kept")])
    store.add_event(make.event("purged", kind="SubflowEnded", dedup_key="late"))
    with store.executor_tx() as tx:
        rows = tx.events("purged", now)
        assert [r.kind for r in rows] == ["SubflowEnded"]
        tx.drop_events([r.id for r in rows])
    with store.executor_tx() as tx:
        assert tx.events("purged", now) == []
        assert [r.kind for r in tx.events("kept", now)] == ["Start"]
    assert store.counts()["execution_event"] == 1
