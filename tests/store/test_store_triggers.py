"""The trigger contexts (migration 0004, docs/triggers.md), on both backends: state,
the version fence, locks, and exactly-once creation under concurrent evaluators."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace

from lanner.engine.execution import Execution, History
from lanner.model.states import State
from lanner.runtime.newexecution import start_event
from lanner.store import open_store
from lanner.store.base import NewExecution, Store, TriggerContext
from tests.store.conftest import NOW

KEY = ("company.team", "hello", "every_second")


def _context(**fields: object) -> TriggerContext:
    base = TriggerContext(
        *KEY,
        type="io.kestra.plugin.core.trigger.Schedule",
        next_date=NOW,
        data={"fingerprint": "* * * * * *|True|"},
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _execution(execution_id: str) -> NewExecution:
    execution = Execution(
        id=execution_id,
        namespace=KEY[0],
        flow_id=KEY[1],
        flow_revision=1,
        state=State.CREATED,
        histories=(History(State.CREATED, NOW),),
        trigger={"id": KEY[2], "date": NOW.isoformat()},
    )
    return NewExecution(execution, [start_event(execution, NOW)])


def test_a_context_is_created_once_and_reads_back(store: Store) -> None:
    assert store.init_trigger_context(_context(), NOW)
    assert not store.init_trigger_context(_context(next_date=None), NOW)
    found = store.get_trigger_context(*KEY)
    assert found is not None
    assert (found.next_date, found.last_date, found.disabled, found.version) == (
        NOW,
        None,
        False,
        0,
    )
    assert found.data == {"fingerprint": "* * * * * *|True|"}
    assert store.list_trigger_contexts() == [found]
    assert store.list_trigger_contexts("other") == []
    assert store.delete_trigger_context(*KEY)
    assert store.get_trigger_context(*KEY) is None


def test_advance_is_fenced_on_the_version_and_creates_the_executions(store: Store) -> None:
    store.init_trigger_context(_context(), NOW)
    before = store.get_trigger_context(*KEY)
    assert before is not None
    later = NOW + dt.timedelta(seconds=1)
    after = replace(before, next_date=later, last_date=NOW, execution_id="e1")
    assert store.advance_trigger(before, after, [_execution("e1")], NOW)
    # A second evaluator that read the same version writes nothing at all.
    assert not store.advance_trigger(before, after, [_execution("e2")], NOW)
    found = store.get_trigger_context(*KEY)
    assert found is not None
    assert (found.next_date, found.last_date, found.execution_id, found.version) == (
        later,
        NOW,
        "e1",
        1,
    )
    assert store.get_execution("e1") is not None
    assert store.get_execution("e2") is None
    assert store.has_due_events(NOW)


def test_an_execution_id_that_exists_is_not_created_again(store: Store) -> None:
    store.init_trigger_context(_context(), NOW)
    first = store.get_trigger_context(*KEY)
    assert first is not None
    assert store.advance_trigger(first, first, [_execution("same")], NOW)
    second = store.get_trigger_context(*KEY)
    assert second is not None
    assert store.advance_trigger(second, second, [_execution("same")], NOW)
    assert [e.id for e in store.list_executions()] == ["same"]


def test_disabled_reads_back(store: Store) -> None:
    store.init_trigger_context(_context(), NOW)
    before = store.get_trigger_context(*KEY)
    assert before is not None
    assert store.advance_trigger(before, replace(before, disabled=True), (), NOW)
    found = store.get_trigger_context(*KEY)
    assert found is not None and found.disabled


def test_a_lock_is_held_until_it_expires_or_is_released(store: Store) -> None:
    store.init_trigger_context(_context(), NOW)
    until = NOW + dt.timedelta(seconds=30)
    assert store.lock_trigger(*KEY, "a", until, NOW)
    assert store.lock_trigger(*KEY, "a", until, NOW)  # the owner extends it
    assert not store.lock_trigger(*KEY, "b", until, NOW)
    assert store.lock_trigger(*KEY, "b", until + dt.timedelta(seconds=1), until)  # expired
    assert not store.unlock_trigger(*KEY, "a")
    assert store.unlock_trigger(*KEY, "b")
    assert store.lock_trigger(*KEY, "a", until, NOW)
    assert store.unlock_trigger(*KEY)  # anyone (`unlock` from the CLI)
    found = store.get_trigger_context(*KEY)
    assert found is not None and found.locked_by is None


def test_two_concurrent_evaluators_create_each_date_once(store: Store, store_url: str) -> None:
    """Two processes' evaluators (two connections) race on every date: each date's
    execution is created once, and the winner's context is the one kept."""
    store.init_trigger_context(_context(), NOW)
    other = open_store(store.url)
    barrier = threading.Barrier(2)
    wins: dict[str, int] = {"a": 0, "b": 0}

    def evaluate(name: str, mine: Store) -> None:
        for _ in range(40):
            try:
                barrier.wait(timeout=5)
            except threading.BrokenBarrierError:
                return  # the other one saw the last date first
            while True:
                before = mine.get_trigger_context(*KEY)
                assert before is not None and before.next_date is not None
                date = before.next_date
                if date >= NOW + dt.timedelta(seconds=20):
                    barrier.abort()
                    return
                after = replace(before, next_date=date + dt.timedelta(seconds=1), last_date=date)
                new = _execution(f"d{int((date - NOW).total_seconds())}-{name}")
                if mine.advance_trigger(before, after, [new], NOW):
                    wins[name] += 1
                break

    threads = [
        threading.Thread(target=evaluate, args=("a", store)),
        threading.Thread(target=evaluate, args=("b", other)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    other.close()
    executions = store.list_executions(limit=100)
    dates = sorted(int(e.id[1:].split("-")[0]) for e in executions)
    assert dates == list(range(20))
    assert wins["a"] + wins["b"] == 20
