"""WorkerPool.hand: a chain's step (one job, started by the cycle that the thread
which will run it drove) leaves the pool as the general hand-off does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lanner.expr import SecretMasker
from lanner.plugin import TaskRegistry
from lanner.runtime.worker import _BACKLOG, WorkerPool
from lanner.store.base import Job

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _pool() -> WorkerPool:
    return WorkerPool(store=None, registry=TaskRegistry(), masker=SecretMasker(), storage=None)  # type: ignore[arg-type]


def _job(name: str) -> Job:
    return Job(name, "ex", 1, {"taskId": name}, f"token-{name}", 1, T0)


def _state(pool: WorkerPool) -> dict[str, Any]:
    work = []
    while not pool._work.empty():
        work.append(pool._work.get_nowait())
    return {
        "kept": pool._local.kept,
        "queued": dict(pool._queued),
        "started": set(pool._started),
        "backlog": list(pool._backlog),
        "work": work,
    }


def _general(jobs: list[Job], started: int, *, keeping: bool) -> dict[str, Any]:
    """What hand() did before the chain's shortcut, written out."""
    pool = _pool()
    pool._local.keeping = keeping
    waiting, first = jobs[started:], jobs[:started]
    for job in (*first, *waiting):
        pool._queued[job.task_run_id] = job
    pool._started.update(job.task_run_id for job in first)
    pool._backlog.extend(waiting)
    idle = pool.threads - pool._busy - pool._claiming - pool._work.qsize() - len(first)
    for _ in range(min(len(waiting), max(idle, 0))):
        pool._work.put(_BACKLOG)
    if keeping and first:
        pool._local.kept = first[0]
        first = first[1:]
    for job in first:
        pool._work.put(job)
    return _state(pool)


def test_a_chain_step_is_kept_by_the_thread_that_drove_its_cycle() -> None:
    pool = _pool()
    pool._local.keeping = True
    job = _job("a")
    pool.hand([job], 1)
    state = _state(pool)
    assert state == _general([job], 1, keeping=True)
    assert state["kept"] is job and state["work"] == []


def test_other_hand_offs_are_unchanged() -> None:
    jobs = [_job(n) for n in "abcdef"]
    for keeping in (False, True):
        for count in (1, 2, 6):
            for started in range(count + 1):
                pool = _pool()
                pool._local.keeping = keeping
                pool.hand(jobs[:count], started)
                assert _state(pool) == _general(jobs[:count], started, keeping=keeping)


def test_a_thread_that_keeps_a_job_already_hands_the_next_on() -> None:
    pool = _pool()
    pool._local.keeping = True
    first, second = _job("a"), _job("b")
    pool.hand([first], 1)
    pool.hand([second], 1)
    state = _state(pool)
    assert state["kept"] is first and state["work"] == [second]
    assert state["started"] == {"a", "b"}
