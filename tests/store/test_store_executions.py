"""Store contract: executions, the executor's transaction, events and timers."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from typing import Any

import pytest

from lanner.engine.execution import ErrorInfo, Execution, History, Phase
from lanner.errors import StoreError
from lanner.model.states import State
from lanner.store.base import CycleWrite, NewJob, Renewal, Store
from tests.store.conftest import NOW


def _write(store: Store, cycle: CycleWrite) -> None:
    with store.executor_tx() as tx:
        tx.write(cycle)


def test_round_trip_of_an_execution_with_task_runs_of_every_phase(
    store: Store, make: Any, now: dt.datetime
) -> None:
    execution = make.execution(
        task_runs=make.every_phase(),
        inputs={"name": "World", "n": 7},
        outputs={"result": [1, 2]},
        labels={"team": "data"},
        variables={"v": {"deep": True}},
        trigger={"type": "Schedule", "date": "2025-01-01T00:00:00Z"},
        error=ErrorInfo("it failed", "WorkerLost", "t1", "tr1"),
        terminal_at=now + dt.timedelta(minutes=1),
        finalized_at=now + dt.timedelta(minutes=2),
        secret_inputs=frozenset({"password", "token"}),
        parent_execution_id="parent1",
        version=3,
    )
    store.create_execution(execution, [])

    loaded = store.get_execution("exec1")
    assert loaded == execution
    assert loaded is not None
    assert loaded.children[("each", Phase.MAIN)] == ("each-a", "each-b")
    assert [t.id for t in loaded.runs_of(None, Phase.ERRORS)] == ["handler"]
    assert all(h.date.tzinfo is not None for t in loaded.task_runs.values() for h in t.histories)
    with store.executor_tx() as tx:
        assert tx.load("exec1") == execution


def test_an_execution_head_is_the_execution_without_task_runs(store: Store, make: Any) -> None:
    execution = make.execution(
        task_runs=make.every_phase(),
        inputs={"name": "World"},
        secret_inputs=frozenset({"name"}),
    )
    store.create_execution(execution, [])
    head = store.get_execution_head("exec1")
    assert head == replace(execution, task_runs={}, children={})
    assert store.get_execution_head("nope") is None


def test_unknown_execution_is_none(store: Store) -> None:
    assert store.get_execution("nope") is None
    with store.executor_tx() as tx:
        assert tx.load("nope") is None


def test_create_execution_twice_is_a_no_op(store: Store, make: Any, now: dt.datetime) -> None:
    store.create_execution(make.execution(), [make.event()])
    store.create_execution(make.execution(state=State.FAILED), [make.event()])
    loaded = store.get_execution("exec1")
    assert loaded is not None and loaded.state is State.RUNNING
    with store.executor_tx() as tx:
        assert len(tx.events("exec1", now)) == 1


def test_list_executions_most_recent_first_without_task_runs(
    store: Store, make: Any, now: dt.datetime
) -> None:
    for i in range(3):
        created = now + dt.timedelta(seconds=i)
        flow_id = "other" if i == 1 else "hello"
        store.create_execution(
            make.execution(f"e{i}", make.every_phase(f"e{i}"), created=created, flow_id=flow_id),
            [],
        )
    listed = store.list_executions()
    assert [e.id for e in listed] == ["e2", "e1", "e0"]
    assert all(not e.task_runs and not e.children for e in listed)
    assert [e.id for e in store.list_executions(flow_id="hello")] == ["e2", "e0"]
    assert [e.id for e in store.list_executions(namespace="nope")] == []
    assert [e.id for e in store.list_executions(limit=1)] == ["e2"]


def test_load_returns_the_cached_execution_while_its_version_is_current(
    store: Store, make: Any
) -> None:
    store.create_execution(make.execution(task_runs=make.every_phase()), [])
    with store.executor_tx() as tx:
        first = tx.load("exec1")
        assert first is not None
        assert tx.load("exec1", first) is first
        moved = replace(first, state=State.SUCCESS, version=first.version + 1)
        tx.write(CycleWrite(moved, first.version))
    with store.executor_tx() as tx:
        assert tx.load("exec1", moved) is moved
        fresh = tx.load("exec1", first)  # stale cache: reloaded
    assert fresh is not first and fresh == moved


def test_write_applies_every_part_of_a_cycle(store: Store, make: Any, now: dt.datetime) -> None:
    runs = make.every_phase()
    store.create_execution(make.execution(task_runs=runs), [make.event(), make.event(kind="X")])
    with store.executor_tx() as tx:
        execution = tx.load("exec1")
        assert execution is not None
        consumed = [e.id for e in tx.events("exec1", now)]
        changed = replace(runs[1], state=State.WARNING, outputs={"new": 1})
        added = make.task_run("late", 9, phase=Phase.AFTER)
        new = replace(
            execution,
            state=State.SUCCESS,
            task_runs={**execution.task_runs, "late": added, "each-a": changed},
            children={**execution.children, ("", Phase.AFTER): ("notify", "late")},
            version=execution.version + 1,
        )
        new = replace(new, task_runs={k: v for k, v in new.task_runs.items() if k != "cleanup"})
        new = replace(new, children={**new.children, ("", Phase.FINALLY): ()})
        triggered = make.execution(
            "child-exec", [make.task_run("c1", 0, execution_id="child-exec")]
        )
        tx.write(
            CycleWrite(
                execution=new,
                expected_version=execution.version,
                upsert_task_runs=[changed, added],
                delete_task_runs=["cleanup"],
                new_jobs=[make.job("each-b")],
                new_events=[make.event("child-exec"), make.event(kind="Later", at=now + _HOUR)],
                consumed_events=consumed,
                logs=[make.log("cycle")],
                new_executions=[triggered],
            )
        )
    loaded = store.get_execution("exec1")
    assert loaded is not None
    assert loaded.state is State.SUCCESS and loaded.version == execution.version + 1
    expected_children = {k: v for k, v in new.children.items() if v}
    assert loaded == replace(new, children=expected_children)
    assert store.get_execution("child-exec") == triggered
    assert [log.message for log in store.get_logs("exec1")] == ["cycle"]
    with store.executor_tx() as tx:
        assert [e.kind for e in tx.events("exec1", now + _HOUR)] == ["Later"]
        assert tx.next_execution(now) == "child-exec"
    jobs = store.claim_jobs("w", 10, 30, now)
    assert [(j.task_run_id, j.payload) for j in jobs] == [("each-b", {"task": "each-b"})]


_HOUR = dt.timedelta(hours=1)


def test_each_cycle_stores_the_execution_whatever_it_changed(store: Store, make: Any) -> None:
    # A cycle writes only the columns that changed since its load (SQLite): every
    # combination must leave the whole row as a fresh write of the execution would.
    start = make.execution(
        inputs={"who": "me"},
        labels={"team": "a"},
        variables={"v": 1},
        trigger={"id": "t"},
        outputs={"o": 1},
    )
    store.create_execution(start, [])
    later = NOW + _HOUR
    changes: list[dict[str, Any]] = [
        {},
        {"labels": {"team": "b"}, "outputs": None},
        {"variables": {"v": 2}, "trigger": None, "inputs": {"who": "you"}},
        {"state": State.FAILED, "error": ErrorInfo("boom"), "terminal_at": later},
        {"error": None, "secret_inputs": frozenset({"who"})},
        {"histories": (History(State.CREATED, NOW),), "finalized_at": later, "labels": {}},
    ]
    for change in changes:
        with store.executor_tx() as tx:
            execution = tx.load("exec1")
            assert execution is not None
            new = replace(execution, **change, version=execution.version + 1)
            tx.write(CycleWrite(new, execution.version))
        assert store.get_execution("exec1") == new
    # Two writes in one transaction: the second starts from the first's version.
    with store.executor_tx() as tx:
        execution = tx.load("exec1")
        assert execution is not None
        first = replace(execution, outputs={"o": 2}, version=execution.version + 1)
        tx.write(CycleWrite(first, execution.version))
        second = replace(first, state=State.SUCCESS, version=first.version + 1)
        tx.write(CycleWrite(second, first.version))
    assert store.get_execution("exec1") == second


def test_a_stale_expected_version_raises_and_writes_nothing(
    store: Store, make: Any, now: dt.datetime
) -> None:
    store.create_execution(make.execution(version=5), [make.event()])
    with pytest.raises(StoreError, match="changed concurrently"), store.executor_tx() as tx:
        execution = tx.load("exec1")
        assert execution is not None
        tx.write(
            CycleWrite(
                replace(execution, state=State.FAILED, version=5),
                expected_version=4,
                new_jobs=[make.job("t1")],
            )
        )
    loaded = store.get_execution("exec1")
    assert loaded is not None and loaded.state is State.RUNNING and loaded.version == 5
    assert store.claim_jobs("w", 10, 30, now) == []


def test_executor_tx_rolls_back_on_exception(store: Store, make: Any, now: dt.datetime) -> None:
    store.create_execution(make.execution(task_runs=make.every_phase()), [make.event()])
    before = store.get_execution("exec1")
    assert before is not None

    class Boom(Exception):
        pass

    with pytest.raises(Boom), store.executor_tx() as tx:
        events = tx.events("exec1", now)
        tx.write(
            CycleWrite(
                replace(before, state=State.KILLED, version=before.version + 1),
                before.version,
                upsert_task_runs=[make.task_run("x", 99)],
                delete_task_runs=["each"],
                new_jobs=[make.job("x")],
                new_events=[make.event(kind="New")],
                consumed_events=[e.id for e in events],
                logs=[make.log("lost")],
                new_executions=[make.execution("other")],
            )
        )
        raise Boom
    assert store.get_execution("exec1") == before
    assert store.get_execution("other") is None
    assert store.get_logs("exec1") == []
    assert store.claim_jobs("w", 10, 30, now) == []
    with store.executor_tx() as tx:
        assert [e.kind for e in tx.events("exec1", now)] == ["Start"]


def test_replaying_a_cycle_whose_jobs_exist_leaves_the_jobs_alone(
    store: Store, make: Any, now: dt.datetime
) -> None:
    store.create_execution(make.execution(), [])
    execution = store.get_execution("exec1")
    assert execution is not None
    job = make.job("t1")
    _write(store, CycleWrite(replace(execution, version=1), 0, new_jobs=[job]))
    [claimed] = store.claim_jobs("w", 10, 30, now)
    other = NewJob("t1", "exec1", 1, {"different": True}, now)
    _write(store, CycleWrite(replace(execution, version=2), 1, new_jobs=[job, other]))
    # Still claimed by the first claim, with its payload: the insert was a no-op.
    assert store.claim_jobs("w", 10, 30, now) == []
    assert store.renew_leases("w", [claimed.claim_token], 30, now) == Renewal(
        frozenset(), frozenset()
    )
    assert store.complete_job(claimed, make.event(kind="TaskResult"))


def test_cancel_jobs_is_reported_by_renew_leases(store: Store, make: Any, now: dt.datetime) -> None:
    store.create_execution(make.execution(), [])
    _write(
        store,
        CycleWrite(
            make.execution(version=1), 0, new_jobs=[make.job("t1"), make.job("t2", attempt=2)]
        ),
    )
    jobs = store.claim_jobs("w", 10, 30, now)
    tokens = [j.claim_token for j in jobs]
    assert store.renew_leases("w", tokens, 30, now).cancelled == frozenset()
    _write(store, CycleWrite(make.execution(version=2), 1, cancel_jobs=["t2"]))
    assert store.renew_leases("w", tokens, 30, now) == Renewal(frozenset({"t2"}), frozenset())
    assert store.renew_leases("someone-else", tokens, 30, now).cancelled == frozenset()


def test_timers_are_invisible_until_due(store: Store, make: Any, now: dt.datetime) -> None:
    later = now + dt.timedelta(seconds=30)
    store.create_execution(make.execution(), [make.event(kind="RetryDue", at=later)])
    with store.executor_tx() as tx:
        assert tx.next_execution(now) is None
        assert tx.events("exec1", now) == []
    with store.executor_tx() as tx:
        assert tx.next_execution(later) == "exec1"
        [event] = tx.events("exec1", later)
    assert event.kind == "RetryDue" and event.visible_at == later


def test_next_execution_is_the_one_with_the_oldest_visible_event(
    store: Store, make: Any, now: dt.datetime
) -> None:
    for name in ("a", "b", "c"):
        store.create_execution(make.execution(name), [])
    store.add_event(make.event("a", at=now + dt.timedelta(seconds=5)))
    store.add_event(make.event("b", at=now))
    store.add_event(make.event("c", at=now - dt.timedelta(seconds=5)))
    with store.executor_tx() as tx:
        assert tx.next_execution(now) == "c"
        assert tx.next_execution(now - dt.timedelta(seconds=10)) is None


def test_a_scoped_executor_sees_only_the_events_of_its_executions(
    store: Store, make: Any, now: dt.datetime
) -> None:
    for name in ("a", "b", "c"):
        store.create_execution(make.execution(name), [])
    store.add_event(make.event("a", at=now - dt.timedelta(seconds=5)))
    store.add_event(make.event("b", at=now))
    store.add_event(make.event("c", at=now + dt.timedelta(seconds=5)))
    assert store.has_due_events(now)
    assert store.has_due_events(now, ["b"])
    assert store.has_due_events(now, ["a", "c"])
    assert not store.has_due_events(now, ["c"])  # its event is not due yet
    assert not store.has_due_events(now, ["nope"])
    assert not store.has_due_events(now, [])
    with store.executor_tx() as tx:
        assert tx.next_execution(now) == "a"
        assert tx.next_execution(now, ["b", "c"]) == "b"  # "a" is older, but not in scope
        assert tx.next_execution(now, ["c"]) is None
        assert tx.next_execution(now, []) is None
        assert tx.next_execution(now + dt.timedelta(seconds=5), ["c", "b"]) == "b"


def test_events_come_in_insertion_order_with_their_payload(
    store: Store, make: Any, now: dt.datetime
) -> None:
    store.create_execution(make.execution(), [make.event(kind="Start")])
    assert store.add_event(make.event(kind="TaskResult", task_run_id="t1", outputs={"a": [1]}))
    assert store.add_event(make.event(kind="Kill"))
    with store.executor_tx() as tx:
        events = tx.events("exec1", now)
    assert [e.kind for e in events] == ["Start", "TaskResult", "Kill"]
    assert events[1].payload == {"task_run_id": "t1", "outputs": {"a": [1]}}
    assert [e.id for e in events] == sorted(e.id for e in events)


def test_dedup_keys_drop_the_second_event(store: Store, make: Any, now: dt.datetime) -> None:
    store.create_execution(make.execution(), [make.event(dedup_key="start")])
    assert not store.add_event(make.event(kind="Again", dedup_key="start"))
    assert store.add_event(make.event(kind="Kill", dedup_key="kill"))
    assert not store.add_event(make.event(kind="Kill", dedup_key="kill"))
    assert store.add_event(make.event(kind="NoKey"))
    assert store.add_event(make.event(kind="NoKey"))  # no key, no dedup
    # Across add_event and a cycle's new events: the cycle's duplicate is dropped.
    _write(
        store,
        CycleWrite(
            make.execution(version=1),
            0,
            new_events=[make.event(kind="Kill", dedup_key="kill"), make.event(kind="Timer")],
        ),
    )
    with store.executor_tx() as tx:
        kinds = [e.kind for e in tx.events("exec1", now)]
    assert kinds == ["Start", "Kill", "NoKey", "NoKey", "Timer"]


def test_consumed_events_are_deleted(store: Store, make: Any, now: dt.datetime) -> None:
    store.create_execution(make.execution(), [make.event(), make.event(kind="Kill")])
    with store.executor_tx() as tx:
        first = tx.events("exec1", now)[0]
        tx.write(CycleWrite(make.execution(version=1), 0, consumed_events=[first.id]))
    with store.executor_tx() as tx:
        assert [e.kind for e in tx.events("exec1", now)] == ["Kill"]


def test_data_version_changes_when_another_connection_commits(store: Store, make: Any) -> None:
    before = store.data_version()
    assert store.data_version() == before  # nothing committed elsewhere
    thread = threading.Thread(target=lambda: store.create_execution(make.execution(), []))
    thread.start()
    thread.join()
    assert store.data_version() != before


def test_executions_written_by_one_thread_are_read_by_another(store: Store, make: Any) -> None:
    found: list[Execution | None] = []
    store.create_execution(make.execution(task_runs=make.every_phase()), [])
    thread = threading.Thread(target=lambda: found.append(store.get_execution("exec1")))
    thread.start()
    thread.join()
    assert found == [store.get_execution("exec1")]


def test_a_task_run_written_in_a_rolled_back_cycle_or_deleted_is_written_again(
    store: Store, make: Any, now: dt.datetime
) -> None:
    """A task run the store has written before is updated in place; when its row is
    not there after all (the cycle that wrote it rolled back, a later cycle deleted
    it), the write still stores it whole."""
    store.create_execution(make.execution(task_runs=[make.task_run("first", 0)]), [])
    with store.executor_tx() as tx:
        execution = tx.load("exec1")
    assert execution is not None
    late = make.task_run("late", 1)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), store.executor_tx() as tx:
        tx.load("exec1", execution)
        moved = replace(execution, task_runs={**execution.task_runs, "late": late})
        tx.write(CycleWrite(moved, execution.version, upsert_task_runs=[late]))
        raise Abort
    done = replace(
        late, state=State.SUCCESS, histories=(*late.histories, History(State.SUCCESS, now))
    )
    first = replace(execution.task_runs["first"], state=State.FAILED)
    version = execution.version
    for cycle_runs, deleted in (([done, first], []), ([], ["late"]), ([done], [])):
        with store.executor_tx() as tx:
            current = tx.load("exec1")
            assert current is not None
            runs = {k: v for k, v in current.task_runs.items() if k not in deleted}
            runs.update({t.id: t for t in cycle_runs})
            new = replace(current, task_runs=runs, version=version + 1)
            tx.write(
                CycleWrite(new, version, upsert_task_runs=cycle_runs, delete_task_runs=deleted)
            )
        version += 1
        loaded = store.get_execution("exec1")
        assert loaded is not None
        assert loaded.task_runs == runs
    final = store.get_execution("exec1")
    assert final is not None
    assert final.task_runs["late"] == done and final.task_runs["first"] == first
