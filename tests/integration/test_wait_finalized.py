"""A process waiting for an execution that another process runs looks at the
store every half second: at the execution's head only, and reads its task runs
once, when it is over (a long ForEach's thousand task runs are not read again at
every look)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.config import Config
from lanner.model.states import State
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.process import Process
from lanner.store import open_store

FLOW = """
id: slow
namespace: wait.test
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1.6S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: awake
"""


def test_a_waiter_reads_the_task_runs_once_the_execution_is_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = TaskRegistry.from_entry_points()
    url = f"sqlite:///{tmp_path}/lanner.db"
    store = open_store(url)
    watched = open_store(url)
    runner = Process(store, registry, Config(), alone=True)
    # Never started: it runs nothing, so only the store can tell it the execution ended.
    waiter = Process(watched, registry, Config(), alone=True)
    full_reads: list[str] = []
    read_whole = watched.get_execution

    def counted(execution_id: str) -> object:
        full_reads.append(execution_id)
        return read_whole(execution_id)

    monkeypatch.setattr(watched, "get_execution", counted)
    runner.start()
    try:
        flow = load_flow(FLOW, registry)
        revision, _ = store.deploy_flow(flow.namespace, flow.id, FLOW)
        execution = runner.create_execution(flow, revision, {})
        final = waiter.wait_finalized(execution.id, timeout=60)
    finally:
        runner.stop()
        store.close()
        watched.close()
    assert final.state is State.SUCCESS
    assert [t.task_id for t in final.task_runs.values()] == ["nap", "after"]
    # Three looks or more while the Sleep ran; the task runs were read at the end only.
    assert full_reads == [execution.id]
