"""Store contract for the durable runtime: processes, the lease reaper, hand-back, retention."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from lanner.model.states import State
from lanner.store.base import CycleWrite, NewJob, ProcessRecord, Renewal, RunningJob, Store

_SECOND = dt.timedelta(seconds=1)


def _queue(
    store: Store, make: Any, task_run_ids: list[str], now: dt.datetime, execution_id: str = "exec1"
) -> None:
    """Jobs go in through an executor cycle, as in production; payloads carry a taskId."""
    execution = store.get_execution(execution_id)
    if execution is None:
        store.create_execution(make.execution(execution_id), [])
        execution = store.get_execution(execution_id)
    assert execution is not None
    jobs = [
        NewJob(i, execution_id, 1, {"taskId": f"task-{i}", "properties": {"x": 1}}, now)
        for i in task_run_ids
    ]
    with store.executor_tx() as tx:
        tx.write(
            CycleWrite(
                replace(execution, version=execution.version + 1), execution.version, new_jobs=jobs
            )
        )


def _pending_kinds(store: Store, execution_id: str, at: dt.datetime) -> list[str]:
    with store.executor_tx() as tx:
        return [e.kind for e in tx.events(execution_id, at)]


# -- live processes -----------------------------------------------------------------------


def test_heartbeat_records_a_process_and_keeps_its_start(store: Store, now: dt.datetime) -> None:
    store.heartbeat_process("p1", "worker", "host-a", 101, {"threads": 4}, now)
    later = now + 5 * _SECOND
    store.heartbeat_process("p1", "worker", "host-a", 101, {"threads": 8}, later)
    assert store.list_processes() == [
        ProcessRecord("p1", "worker", "host-a", 101, now, later, {"threads": 8}, ())
    ]


def test_processes_are_listed_by_role_then_id_with_the_jobs_they_hold(
    store: Store, make: Any, now: dt.datetime
) -> None:
    store.heartbeat_process("w2", "worker", "h", 2, {}, now)
    store.heartbeat_process("w1", "worker", "h", 1, {}, now)
    store.heartbeat_process("x1", "executor", "h", 3, {"v": [1, "a"]}, now)
    _queue(store, make, ["a", "b", "c", "d"], now)
    a, b = store.claim_jobs("w1", 2, 30, now)
    [c] = store.claim_jobs("w2", 1, 30, now + _SECOND)
    store.claim_jobs("ghost", 1, 30, now)  # a process that never sent a heartbeat

    listed = store.list_processes()
    assert [(p.role, p.id) for p in listed] == [
        ("executor", "x1"),
        ("worker", "w1"),
        ("worker", "w2"),
    ]
    assert listed[0].info == {"v": [1, "a"]} and listed[0].jobs == ()
    lease = now + 30 * _SECOND
    assert listed[1].jobs == (
        RunningJob("exec1", "a", 1, "task-a", lease),
        RunningJob("exec1", "b", 1, "task-b", lease),
    )
    assert listed[2].jobs == (RunningJob("exec1", "c", 1, "task-c", lease + _SECOND),)
    assert listed[1].info == {}

    # A completed job is no longer listed.
    assert store.complete_job(a, make.event(kind="TaskResult"))
    assert [j.task_run_id for j in store.list_processes()[1].jobs] == ["b"]
    assert b.task_run_id == "b" and c.task_run_id == "c"


def test_remove_and_prune_processes(store: Store, now: dt.datetime) -> None:
    store.heartbeat_process("old", "worker", "h", 1, {}, now)
    store.heartbeat_process("edge", "worker", "h", 2, {}, now + 10 * _SECOND)
    store.heartbeat_process("new", "executor", "h", 3, {}, now + 20 * _SECOND)
    store.heartbeat_process("gone", "worker", "h", 4, {}, now + 20 * _SECOND)
    store.remove_process("gone")
    store.remove_process("unknown")  # nothing to do
    assert store.prune_processes(now + 10 * _SECOND) == 1  # strictly older only
    assert [p.id for p in store.list_processes()] == ["new", "edge"]
    assert store.prune_processes(now) == 0


# -- the lease reaper ------------------------------------------------------------------------


def test_expired_jobs_are_the_claimed_ones_past_their_lease_oldest_first(
    store: Store, make: Any, now: dt.datetime
) -> None:
    _queue(store, make, ["a", "b", "c", "free"], now)
    [a] = store.claim_jobs("w", 1, 20, now)
    [b] = store.claim_jobs("w", 1, 10, now)
    [c] = store.claim_jobs("w", 1, 30, now)
    assert store.expired_jobs(now + 10 * _SECOND, 10) == []  # a lease ending now still holds
    assert store.expired_jobs(now + 25 * _SECOND, 10) == [b, a]
    assert store.expired_jobs(now + 60 * _SECOND, 2) == [b, a]
    assert store.expired_jobs(now + 60 * _SECOND, 10) == [b, a, c]
    assert store.expired_jobs(now + 60 * _SECOND, 0) == []
    assert b.claims == 1 and b.payload == {"taskId": "task-b", "properties": {"x": 1}}


def test_requeue_unclaims_keeps_the_claim_count_and_writes_the_event(
    store: Store, make: Any, now: dt.datetime
) -> None:
    _queue(store, make, ["t1"], now)
    [job] = store.claim_jobs("w", 1, 10, now)
    later = now + 15 * _SECOND
    [expired] = store.expired_jobs(later, 10)
    resubmitted = make.event(kind="Resubmitted", dedup_key="t1:1:claim1", task_run_id="t1")
    assert store.requeue_job(expired, resubmitted, later)
    assert _pending_kinds(store, "exec1", later) == ["Resubmitted"]
    assert store.expired_jobs(later + 60 * _SECOND, 10) == []

    # The old claim is gone: its renewal says so, its completion is fenced off.
    assert store.renew_leases("w", [job.claim_token], 30, later) == Renewal(
        frozenset(), frozenset({job.claim_token})
    )
    assert not store.complete_job(job, make.event(kind="TaskResult"))
    assert not store.job_started(job, make.event(kind="TaskStarted"))

    # Due at `later`, not before; the next claim is the second one.
    assert store.claim_jobs("w2", 1, 30, later - _SECOND) == []
    [again] = store.claim_jobs("w2", 1, 30, later)
    assert again.claims == 2 and again.claim_token != job.claim_token
    assert _pending_kinds(store, "exec1", later) == ["Resubmitted"]


def test_requeue_of_a_zombie_claim_writes_nothing(
    store: Store, make: Any, now: dt.datetime
) -> None:
    _queue(store, make, ["t1", "t2"], now)
    first, second = store.claim_jobs("w", 2, 10, now)
    later = now + 15 * _SECOND
    assert store.requeue_job(first, make.event(kind="Resubmitted"), later)
    # The same claim again (a second reaper that read it before): fenced off.
    assert not store.requeue_job(first, make.event(kind="Twice"), later)
    [reclaimed] = store.claim_jobs("w2", 1, 30, later)
    assert not store.requeue_job(first, make.event(kind="Stale"), later)
    # A completed job is gone.
    assert store.complete_job(second, make.event(kind="TaskResult"))
    assert not store.requeue_job(second, make.event(kind="Late"), later)
    assert _pending_kinds(store, "exec1", later) == ["Resubmitted", "TaskResult"]
    assert store.renew_leases("w2", [reclaimed.claim_token], 30, later) == Renewal(
        frozenset(), frozenset()
    )


def test_requeue_honours_the_event_dedup_key(store: Store, make: Any, now: dt.datetime) -> None:
    _queue(store, make, ["t1"], now)
    assert store.add_event(make.event(kind="Resubmitted", dedup_key="k"))
    [job] = store.claim_jobs("w", 1, 10, now)
    assert store.requeue_job(job, make.event(kind="Resubmitted", dedup_key="k"), now)
    assert _pending_kinds(store, "exec1", now) == ["Resubmitted"]
    assert [j.task_run_id for j in store.claim_jobs("w", 1, 10, now)] == ["t1"]


def test_release_jobs_hands_back_the_claims_still_held(
    store: Store, make: Any, now: dt.datetime
) -> None:
    _queue(store, make, ["a", "b", "c"], now)
    a, b, c = store.claim_jobs("w", 3, 30, now)
    assert store.complete_job(c, make.event(kind="TaskResult"))
    assert store.release_jobs([]) == 0
    assert store.release_jobs([a.claim_token, b.claim_token, c.claim_token, "unknown"]) == 2
    assert store.release_jobs([a.claim_token]) == 0
    assert store.renew_leases("w", [a.claim_token], 30, now).lost == {a.claim_token}
    again = store.claim_jobs("w2", 10, 30, now)
    assert [(j.task_run_id, j.claims) for j in again] == [("a", 2), ("b", 2)]
    assert store.expired_jobs(now + 3600 * _SECOND, 10) == again


# -- retention ---------------------------------------------------------------------------------


def _execution_with_everything(
    store: Store, make: Any, execution_id: str, finalized: dt.datetime | None, now: dt.datetime
) -> None:
    runs = [make.task_run(f"{execution_id}-t", 0, execution_id=execution_id)]
    execution = make.execution(
        execution_id,
        runs,
        state=State.SUCCESS if finalized else State.RUNNING,
        terminal_at=finalized,
        finalized_at=finalized,
    )
    store.create_execution(execution, [make.event(execution_id, kind="Late")])
    store.append_logs([make.log(f"log of {execution_id}", execution_id=execution_id)])
    _queue(store, make, [f"{execution_id}-job"], now, execution_id=execution_id)


def test_purge_deletes_finalized_executions_with_everything_they_own(
    store: Store, make: Any, now: dt.datetime
) -> None:
    old = [f"old{i}" for i in range(5)]
    for i, execution_id in enumerate(old):
        _execution_with_everything(store, make, execution_id, now + i * _SECOND, now)
    _execution_with_everything(store, make, "recent", now + 60 * _SECOND, now)
    _execution_with_everything(store, make, "running", None, now)
    terminal = make.execution("terminal", state=State.FAILED, terminal_at=now)  # not finalized
    store.create_execution(terminal, [])
    assert store.counts() == {
        "execution": 8,
        "finalized": 6,
        "task_run": 7,
        "job": 7,
        "execution_event": 7,
        "log": 7,
    }

    assert store.purge_executions(now + 30 * _SECOND, limit=2) == 5  # in three batches
    assert store.counts() == {
        "execution": 3,
        "finalized": 1,
        "task_run": 2,
        "job": 2,
        "execution_event": 2,
        "log": 2,
    }
    assert all(store.get_execution(i) is None for i in old)
    for kept in ("recent", "running"):
        loaded = store.get_execution(kept)
        assert loaded is not None and len(loaded.task_runs) == 1
        assert [log.message for log in store.get_logs(kept)] == [f"log of {kept}"]
    assert store.get_execution("terminal") is not None
    assert store.purge_executions(now + 30 * _SECOND) == 0
    # Strictly before: finalized exactly at the cutoff stays.
    assert store.purge_executions(now + 60 * _SECOND) == 0
    assert store.purge_executions(now + 61 * _SECOND) == 1
    assert {e.id for e in store.list_executions()} == {"running", "terminal"}


def test_counts_of_an_empty_store(store: Store) -> None:
    assert store.counts() == {
        "execution": 0,
        "finalized": 0,
        "task_run": 0,
        "job": 0,
        "execution_event": 0,
        "log": 0,
    }


def test_list_executions_filters_by_state(store: Store, make: Any, now: dt.datetime) -> None:
    for i, state in enumerate([State.RUNNING, State.QUEUED, State.RUNNING, State.SUCCESS]):
        created = now + i * _SECOND
        store.create_execution(make.execution(f"e{i}", state=state, created=created), [])
    assert [e.id for e in store.list_executions(state="RUNNING")] == ["e2", "e0"]
    assert [e.id for e in store.list_executions(state="QUEUED", flow_id="hello")] == ["e1"]
    assert [e.id for e in store.list_executions(state="RUNNING", limit=1)] == ["e2"]
    assert store.list_executions(state="KILLED") == []
