"""The runtime of one `lanner run` works on its own executions only
(runtime.scope); a server's works on any. Two runtimes in one process over one
real SQLite store stand for two processes."""

from __future__ import annotations

import time
from pathlib import Path

from lanner.config import Config
from lanner.engine.states import State
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.runtime import Runtime
from lanner.store import open_store

SLEEPY = (
    "id: sleepy\nnamespace: t\ntasks:\n"
    "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.2S\n"
    "  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
)


def test_a_run_leaves_another_runs_execution_alone_and_a_server_takes_it(
    tmp_path: Path,
) -> None:
    registry = TaskRegistry.from_entry_points()
    store = open_store(f"sqlite:///{tmp_path}/lanner.db")
    flow = load_flow(SLEEPY, registry)
    revision, _ = store.deploy_flow(flow.namespace, flow.id, SLEEPY)
    # `owner` creates an execution and stops before running it, as a `lanner run`
    # killed at that moment would.
    owner = Runtime(store, registry, Config(), alone=True)
    left = owner.create_execution(flow, revision, {})
    other = Runtime(store, registry, Config(), alone=True)
    other.start()
    server = Runtime(store, registry, Config())
    try:
        mine = other.create_execution(flow, revision, {})
        assert other.wait_finalized(mine.id, timeout=60).state is State.SUCCESS
        time.sleep(0.5)  # the other run had every chance to take it
        stored = store.get_execution(left.id)
        assert stored is not None and stored.state is State.CREATED and not stored.task_runs
        # Any executor later started on the store finishes it.
        server.start()
        deadline = time.monotonic() + 60
        while (done := store.get_execution(left.id)) is None or done.finalized_at is None:
            assert time.monotonic() < deadline, "the server never finished it"
            time.sleep(0.05)  # polling with a deadline
        assert done.state is State.SUCCESS
        assert store.counts()["job"] == 0
    finally:
        other.stop()
        server.stop()
        store.close()


def test_a_run_hears_of_its_execution_finalized_by_another_process(tmp_path: Path) -> None:
    registry = TaskRegistry.from_entry_points()
    store = open_store(f"sqlite:///{tmp_path}/lanner.db")
    flow = load_flow(SLEEPY, registry)
    revision, _ = store.deploy_flow(flow.namespace, flow.id, SLEEPY)
    run = Runtime(store, registry, Config(), alone=True)  # waits, runs nothing
    server = Runtime(store, registry, Config())
    server.start()
    try:
        execution = run.create_execution(flow, revision, {})
        assert run.wait_finalized(execution.id, timeout=60).state is State.SUCCESS
    finally:
        server.stop()
        store.close()
