"""Store contract: jobs are claimed exclusively, under a lease, and completed with a fence."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from dataclasses import replace
from typing import Any

import pytest

from lanner.store.base import CycleWrite, Renewal, Store

JOBS = 600
_HELD = Renewal(frozenset(), frozenset())  # every claim still held, nothing cancelled


def _queue(store: Store, make: Any, task_run_ids: list[str], at: dt.datetime | None = None) -> None:
    """Jobs go in through an executor cycle, as in production."""
    if store.get_execution("exec1") is None:
        store.create_execution(make.execution(), [])
    execution = store.get_execution("exec1")
    assert execution is not None
    jobs = [make.job(i, at=at) if at else make.job(i) for i in task_run_ids]
    with store.executor_tx() as tx:
        new = replace(execution, version=execution.version + 1)
        tx.write(CycleWrite(new, execution.version, new_jobs=jobs))


def test_claim_takes_due_jobs_in_order_under_a_lease(
    store: Store, make: Any, now: dt.datetime
) -> None:
    _queue(store, make, ["a", "b", "c"])
    _queue(store, make, ["early"], at=now - dt.timedelta(seconds=1))
    _queue(store, make, ["future"], at=now + dt.timedelta(seconds=60))
    jobs = store.claim_jobs("w1", 3, 30, now)
    assert [j.task_run_id for j in jobs] == ["early", "a", "b"]
    assert all(j.claims == 1 and j.execution_id == "exec1" and j.attempt == 1 for j in jobs)
    assert all(j.lease_expires_at == now + dt.timedelta(seconds=30) for j in jobs)
    assert len({j.claim_token for j in jobs}) == 3
    assert jobs[1].payload == {"task": "a"}
    assert [j.task_run_id for j in store.claim_jobs("w2", 10, 30, now)] == ["c"]
    assert store.claim_jobs("w2", 10, 30, now) == []
    later = now + dt.timedelta(seconds=61)
    assert [j.task_run_id for j in store.claim_jobs("w2", 10, 30, later)] == ["future"]


def test_a_scoped_claim_takes_only_the_jobs_of_its_executions(
    store: Store, make: Any, now: dt.datetime
) -> None:
    _queue(store, make, ["a1", "a2"])
    for name in ("other", "third"):
        store.create_execution(make.execution(name), [])
        execution = store.get_execution(name)
        assert execution is not None
        jobs = [make.job(f"{name}-t", execution_id=name, at=now - dt.timedelta(seconds=1))]
        with store.executor_tx() as tx:
            new = replace(execution, version=execution.version + 1)
            tx.write(CycleWrite(new, execution.version, new_jobs=jobs))
    assert store.claim_jobs("w", 10, 30, now, []) == []
    assert store.claim_jobs("w", 10, 30, now, ["nope"]) == []
    # The oldest job of the store is another execution's: passed over.
    scoped = store.claim_jobs("w", 1, 30, now, ["exec1"])
    assert [(j.task_run_id, j.execution_id) for j in scoped] == [("a1", "exec1")]
    assert [j.task_run_id for j in store.claim_jobs("w", 10, 30, now, ["exec1", "third"])] == [
        "third-t",
        "a2",
    ]
    assert store.claim_jobs("w", 10, 30, now, ["exec1", "third"]) == []
    # An unscoped claimer (a server's worker) still takes any job.
    assert [j.task_run_id for j in store.claim_jobs("w2", 10, 30, now)] == ["other-t"]


def test_complete_job_deletes_the_job_and_writes_event_and_logs(
    store: Store, make: Any, now: dt.datetime
) -> None:
    _queue(store, make, ["t1"])
    [job] = store.claim_jobs("w", 1, 30, now)
    result = make.event(kind="TaskResult", dedup_key="t1:1:result", state="SUCCESS")
    assert store.complete_job(job, result, [make.log("done")])
    assert [log.message for log in store.get_logs("exec1")] == ["done"]
    with store.executor_tx() as tx:
        [event] = tx.events("exec1", now)
    assert event.kind == "TaskResult" and event.payload == {"state": "SUCCESS"}
    # Completing again (the same token) finds no job: nothing more is written.
    assert not store.complete_job(job, replace(result, dedup_key=None), [make.log("again")])
    assert [log.message for log in store.get_logs("exec1")] == ["done"]
    assert store.claim_jobs("w", 10, 30, now) == []


def test_a_stale_claim_token_is_fenced_off(store: Store, make: Any, now: dt.datetime) -> None:
    _queue(store, make, ["t1"])
    [job] = store.claim_jobs("w", 1, 30, now)
    zombie = replace(job, claim_token="0" * 32)
    assert not store.job_started(zombie, make.event(kind="TaskStarted"))
    assert not store.complete_job(zombie, make.event(kind="TaskResult"), [make.log("late")])
    assert store.get_logs("exec1") == []
    with store.executor_tx() as tx:
        assert tx.events("exec1", now) == []
    # The real claim still holds the job.
    assert store.renew_leases("w", [job.claim_token], 30, now) == _HELD
    assert store.job_started(job, make.event(kind="TaskStarted"))
    assert store.complete_job(job, make.event(kind="TaskResult"))
    with store.executor_tx() as tx:
        assert [e.kind for e in tx.events("exec1", now)] == ["TaskStarted", "TaskResult"]


def test_a_start_recorded_twice_is_one_event_and_the_claim_holds(
    store: Store, make: Any, now: dt.datetime
) -> None:
    _queue(store, make, ["t1"])
    [job] = store.claim_jobs("w", 1, 30, now)
    started = make.event(kind="TaskStarted", dedup_key="t1:1:started")
    assert store.job_started(job, started)
    assert store.job_started(job, started)  # its dedup key drops the event, not the claim
    with store.executor_tx() as tx:
        assert [e.kind for e in tx.events("exec1", now)] == ["TaskStarted"]


def test_result_dedup_key_drops_a_duplicate_result(
    store: Store, make: Any, now: dt.datetime
) -> None:
    _queue(store, make, ["t1"])
    assert store.add_event(make.event(kind="TaskResult", dedup_key="t1:1"))
    [job] = store.claim_jobs("w", 1, 30, now)
    # The job is completed (fence passed) but its duplicate result is dropped.
    assert store.complete_job(job, make.event(kind="TaskResult", dedup_key="t1:1"))
    with store.executor_tx() as tx:
        assert len(tx.events("exec1", now)) == 1


def test_renew_leases_extends_only_own_claims(store: Store, make: Any, now: dt.datetime) -> None:
    _queue(store, make, ["t1"])
    [job] = store.claim_jobs("w", 1, 30, now)
    assert store.renew_leases("w", [], 30, now) == _HELD
    renewal = store.renew_leases("w", [job.claim_token, "unknown"], 60, now)
    assert renewal == Renewal(frozenset(), frozenset({"unknown"}))
    # Another worker's renewal extends nothing: for it the token holds no claim.
    renewal = store.renew_leases("intruder", [job.claim_token], 60, now)
    assert renewal == Renewal(frozenset(), frozenset({job.claim_token}))


def test_claims_are_exclusive_across_threads(store: Store, make: Any, now: dt.datetime) -> None:
    ids = [f"t{i:04d}" for i in range(JOBS)]
    _queue(store, make, ids)
    claimed: list[list[str]] = [[] for _ in range(6)]
    start = threading.Barrier(len(claimed))

    def claimer(out: list[str]) -> None:
        start.wait()
        while jobs := store.claim_jobs("w", 7, 30, now):
            out.extend(j.task_run_id for j in jobs)

    threads = [threading.Thread(target=claimer, args=(out,)) for out in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    every = [i for out in claimed for i in out]
    assert sorted(every) == ids  # each job exactly once
    assert sum(1 for out in claimed if out) > 1


# A second process claims from the same store; it reports on stdout.
_CHILD = """
import json, sys, datetime as dt
from lanner.store import open_store
store = open_store(sys.argv[1])
now = dt.datetime.fromisoformat(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()  # go
claimed = []
while jobs := store.claim_jobs("child", 5, 30, now):
    if not claimed:
        print("first", flush=True)  # the parent starts claiming now: both race
    claimed.extend(j.task_run_id for j in jobs)
if not claimed:
    print("first", flush=True)
print(json.dumps(claimed), flush=True)
"""


@pytest.mark.parametrize("threads", [3])
def test_claims_are_exclusive_across_processes(
    store: Store, store_url: str, make: Any, now: dt.datetime, threads: int
) -> None:
    ids = [f"t{i:04d}" for i in range(JOBS * 2)]
    _queue(store, make, ids)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, store_url, now.isoformat()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "ready"
        claimed: list[list[str]] = [[] for _ in range(threads)]

        def claimer(out: list[str]) -> None:
            while jobs := store.claim_jobs("parent", 5, 30, now):
                out.extend(j.task_run_id for j in jobs)

        workers = [threading.Thread(target=claimer, args=(out,)) for out in claimed]
        child.stdin.write("go\n")
        child.stdin.flush()
        # Started once the child holds its first claim, so that the two processes
        # always overlap (a fast parent could otherwise take every job alone).
        assert child.stdout.readline().strip() == "first"
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
        from_child = json.loads(child.stdout.readline())
    finally:
        child.stdin.close()
        child.wait(timeout=60)
        child.stdout.close()
    every = [i for out in claimed for i in out] + from_child
    assert sorted(every) == ids  # each job exactly once
    assert from_child, "the other process claimed nothing: the test did not race"
    assert child.returncode == 0


def test_a_claim_waits_for_the_writer_instead_of_failing(
    store: Store, make: Any, now: dt.datetime
) -> None:
    """A claimer blocked by a long executor cycle gets the job once the cycle commits."""
    _queue(store, make, [])
    got: list[str] = []
    entered = threading.Event()

    def claim() -> None:
        entered.set()
        got.extend(j.task_run_id for j in store.claim_jobs("w", 1, 30, now))

    with store.executor_tx() as tx:
        execution = tx.load("exec1")
        assert execution is not None
        tx.write(
            CycleWrite(
                replace(execution, version=execution.version + 1),
                execution.version,
                new_jobs=[make.job("t1")],
            )
        )
        thread = threading.Thread(target=claim)
        thread.start()
        assert entered.wait(10)
    thread.join(timeout=30)
    assert got == ["t1"]
