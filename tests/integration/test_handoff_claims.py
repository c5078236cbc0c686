"""A worker thread that goes to claim from the store while a cycle hands jobs over to
the idle threads it counted (its 0.2 s poll ran out, or another thread's claim or
another executor woke it) must not take a job of its own instead of one the cycle
made RUNNING for it: that job would then wait, RUNNING in the store, for a thread
(the flake of test_running_visible's server case). The interleaving is forced: the
wake-up comes just after the cycle counted the idle threads, and the claim waits
for the hand-off."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from lanner.config import Config
from lanner.model.states import State
from lanner.model.task import Task
from lanner.model.validate import load_flow
from lanner.plugin import Outcome, TaskContext, TaskRegistry, TaskType
from lanner.runtime import worker
from lanner.runtime.process import Process
from lanner.store import open_store
from lanner.store.base import Job

THREADS = 2


class Block(Task):
    type: str


def test_a_claim_racing_a_hand_off_leaves_no_started_job_waiting(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No poll of the store by idle threads: the only wake-up is the forced one.
    monkeypatch.setattr(worker, "POLL_SECONDS", 3600.0)
    entered: list[str] = []
    entered_two = threading.Event()
    release = threading.Event()

    def run_block(task: Block, ctx: TaskContext) -> Outcome:
        entered.append(ctx.task_run_id)
        if len(entered) == THREADS:
            entered_two.set()
        release.wait(60)
        return Outcome()

    registry = TaskRegistry.from_entry_points()
    registry.register(TaskType(name="test.Block", model=Block, run=run_block))
    source = (
        "id: handoff\nnamespace: t\ntasks:\n"
        "  - id: wide\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
        + "".join(f"      - id: b{i}\n        type: test.Block\n" for i in range(THREADS + 1))
    )
    store = open_store(db_url)
    # A server's process: jobs beyond its idle threads are written unclaimed. One cycle
    # thread: only the first hands jobs over (on PostgreSQL the others would take the
    # Start and write every job unclaimed).
    config = Config.model_validate({"executor": {"threads": 1}})
    runtime = Process(store, registry, config, threads=THREADS)
    executor, workers = runtime.executor, runtime.workers

    handed = threading.Event()
    real_idle, real_hand, real_claim = executor.local_idle, executor.on_handoff, store.claim_jobs
    real_capacity = executor.local_capacity
    armed = [True]
    woken = threading.Event()

    def idle() -> int:
        count = real_idle()
        if armed[0] and count == THREADS:
            armed[0] = False
            # Wake-ups the cycle did not count: every idle thread now goes to claim.
            workers.jobs_ready(count)
            woken.set()
        return count

    def capacity() -> int:
        if woken.is_set():
            woken.clear()
            # Once the threads took their wake-ups (none waits in the queue), this
            # cycle hands a job to each thread it counted idle.
            deadline = time.monotonic() + 30
            while workers._work.qsize() and time.monotonic() < deadline:
                time.sleep(0.001)
        return real_capacity()

    def hand(jobs: list[Job], started: int) -> None:
        real_hand(jobs, started)
        handed.set()

    def claim(*args: Any, **kwargs: Any) -> list[Job]:
        # The claim lands after the cycle's commit and hand-off: it would find the
        # job the cycle wrote unclaimed for want of a thread.
        handed.wait(30)
        return real_claim(*args, **kwargs)

    executor.local_idle = idle
    executor.local_capacity = capacity
    executor.on_handoff = hand
    store.claim_jobs = claim  # type: ignore[method-assign]
    runtime.start()
    try:
        flow = load_flow(source, registry)
        revision, _ = store.deploy_flow(flow.namespace, flow.id, source)
        execution = runtime.create_execution(flow, revision, {})
        assert entered_two.wait(30), entered
        assert not armed[0]  # the wake-up was forced
        stored = store.get_execution(execution.id)
        assert stored is not None
        running = {
            r.id
            for r in stored.task_runs.values()
            if r.state is State.RUNNING and r.task_id != "wide"
        }
        # Every task run RUNNING in the store is one whose code runs.
        assert running <= set(entered), (running, entered)
        release.set()
        final = runtime.wait_finalized(execution.id, timeout=60)
        assert final.state is State.SUCCESS
    finally:
        release.set()
        runtime.stop()
        store.close()
