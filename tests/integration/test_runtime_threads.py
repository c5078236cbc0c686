"""The runtime's threads: a chain of tasks moves on from one worker to the next
cycle and back on the same thread, with the real SQLite store."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

from lanner.config import Config
from lanner.model.task import Task
from lanner.model.validate import load_flow
from lanner.plugin import Outcome, TaskContext, TaskRegistry, TaskType
from lanner.runtime.process import Process
from lanner.store import open_store

THREADS: list[str] = []


class WhereAmI(Task):
    type: str


def run_where(task: WhereAmI, ctx: TaskContext) -> Outcome:
    THREADS.append(threading.current_thread().name)
    return Outcome(outputs={"thread": threading.current_thread().name})


def test_a_sequential_chain_stays_on_one_worker_thread(tmp_path: Path) -> None:
    registry = TaskRegistry.from_entry_points()
    registry.register(TaskType(name="test.WhereAmI", model=WhereAmI, run=run_where))
    source = "id: chain\nnamespace: t\ntasks:\n" + "".join(
        f"  - id: t{i}\n    type: test.WhereAmI\n" for i in range(8)
    )
    store = open_store(f"sqlite:///{tmp_path}/lanner.db")
    runtime = Process(store, registry, Config(), alone=True)
    runtime.start()
    try:
        flow = load_flow(source, registry)
        revision, _ = store.deploy_flow(flow.namespace, flow.id, source)
        THREADS.clear()
        execution = runtime.create_execution(flow, revision, {})
        final = runtime.wait_finalized(execution.id, timeout=60)
        assert final.state.value == "SUCCESS"
        assert len(THREADS) == 8
        # Each task's cycle runs on the worker that ran the task before it, and hands
        # the next job back to that same worker. (The executor thread may, rarely, take
        # one cycle when it looks for work at that very moment: one switch at most.)
        switches = sum(1 for a, b in itertools.pairwise(THREADS) if a != b)
        assert switches <= 1, THREADS
        assert all(name.startswith("lanner-worker") for name in THREADS)
    finally:
        runtime.stop()
        store.close()
