"""The executor thread of `lanner run` asks the store for due events at a mere
timeout only now and then (process.ALONE_LOOK_SECONDS): everything of the run's own
that leaves due events in the store must wake it. With that look put off for an
hour, a flow whose cycles, driven by worker threads, start a Subflow's child,
deliver the child's end to its parent and set a timer still runs to its end; and
an event that another process writes is still seen at the next look."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lanner.config import Config
from lanner.engine.events import Kill
from lanner.model.states import State
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime import eventcodec, process
from lanner.runtime.process import Process
from lanner.store import open_store

KID = (
    "id: kid\nnamespace: t\ntasks:\n"
    "  - id: k0\n    type: io.kestra.plugin.core.log.Log\n    message: kid\n"
    "  - id: k1\n    type: io.kestra.plugin.core.log.Log\n    message: kid done\n"
)
MOM = (
    "id: mom\nnamespace: t\ntasks:\n"
    "  - id: m0\n    type: io.kestra.plugin.core.log.Log\n    message: mom\n"
    "  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: t\n"
    "    flowId: kid\n    wait: true\n"
    "  - id: m1\n    type: io.kestra.plugin.core.log.Log\n    message: back\n"
    "  - id: nap\n    type: io.kestra.plugin.core.flow.Pause\n    pauseDuration: PT0.2S\n"
    "  - id: m2\n    type: io.kestra.plugin.core.log.Log\n    message: mom done\n"
)
SLEEPY = (
    "id: sleepy\nnamespace: t\ntasks:\n"
    "  - id: s0\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT60S\n"
)


def test_own_events_wake_the_executor_of_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process, "ALONE_LOOK_SECONDS", 3600.0)
    registry = TaskRegistry.from_entry_points()
    store = open_store(f"sqlite:///{tmp_path}/lanner.db")
    runtime = Process(store, registry, Config(), alone=True)
    runtime.start()
    try:
        store.deploy_flow("t", "kid", KID)
        flow = load_flow(MOM, registry)
        revision, _ = store.deploy_flow("t", "mom", MOM)
        execution = runtime.create_execution(flow, revision, {})
        final = runtime.wait_finalized(execution.id, timeout=30)
        assert final.state is State.SUCCESS
        assert {r.task_id for r in final.task_runs.values()} == {"m0", "call", "m1", "nap", "m2"}
    finally:
        runtime.stop()
        store.close()


def test_an_event_from_another_process_reaches_a_run(tmp_path: Path) -> None:
    registry = TaskRegistry.from_entry_points()
    store = open_store(f"sqlite:///{tmp_path}/lanner.db")
    runtime = Process(store, registry, Config(), alone=True)
    runtime.start()
    try:
        flow = load_flow(SLEEPY, registry)
        revision, _ = store.deploy_flow("t", "sleepy", SLEEPY)
        execution = runtime.create_execution(flow, revision, {})
        # Written straight to the store, as `lanner executions kill` from another
        # process does: nothing wakes the executor thread.
        now = datetime.now(UTC)
        store.add_event(eventcodec.encode(execution.id, Kill(), now, f"kill:{execution.id}"))
        final = runtime.wait_finalized(execution.id, timeout=30)
        assert final.state is State.KILLED
    finally:
        runtime.stop()
        store.close()
