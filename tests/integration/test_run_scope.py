"""The runtime of one `lanner run` works on its own executions only
(runtime.scope); a server's works on any. Two runtimes in one process over one
real SQLite store stand for two processes."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from lanner.config import Config
from lanner.model.states import State
from lanner.model.task import Task
from lanner.model.validate import load_flow
from lanner.plugin import Outcome, TaskContext, TaskRegistry, TaskType
from lanner.runtime.process import Process
from lanner.store import open_store

LANNER = str(Path(sys.executable).parent / "lanner")
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
    owner = Process(store, registry, Config(), alone=True)
    left = owner.create_execution(flow, revision, {})
    other = Process(store, registry, Config(), alone=True)
    other.start()
    server = Process(store, registry, Config())
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
    run = Process(store, registry, Config(), alone=True)  # waits, runs nothing
    server = Process(store, registry, Config())
    server.start()
    try:
        execution = run.create_execution(flow, revision, {})
        assert run.wait_finalized(execution.id, timeout=60).state is State.SUCCESS
    finally:
        server.stop()
        store.close()


KID = (
    "id: kid\nnamespace: t\ntasks:\n"
    "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT3S\n"
    "  - id: hi\n    type: io.kestra.plugin.core.log.Log\n    message: kid done\n"
)
MOM = (
    "id: mom\nnamespace: t\ntasks:\n"
    "  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: t\n"
    "    flowId: kid\n    wait: false\n"
    "  - id: after\n    type: io.kestra.plugin.core.log.Log\n    message: mom done\n"
)


def test_a_run_hands_back_what_it_still_holds_when_its_execution_ends(tmp_path: Path) -> None:
    """A Subflow child started with `wait: false` still runs when `lanner run` ends:
    its task is stopped and handed back unfinished (not KILLED), for a server."""
    registry = TaskRegistry.from_entry_points()
    url = f"sqlite:///{tmp_path}/lanner.db"
    store = open_store(url)
    store.deploy_flow("t", "kid", KID)
    (tmp_path / "mom.yml").write_text(MOM)
    env = {**os.environ, "LANNER_DB": url, "LANNER_HOME": str(tmp_path / "home")}
    env.pop("LANNER_CONFIG", None)
    proc = subprocess.run(
        [LANNER, "run", str(tmp_path / "mom.yml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    server = Process(store, registry, Config())
    try:
        [kid] = store.list_executions(flow_id="kid")
        assert kid.state is State.RUNNING
        [(claim,)] = _job_claims(tmp_path / "lanner.db")
        assert claim is None  # handed back: no lease to wait for
        server.start()
        deadline = time.monotonic() + 60
        while (done := store.get_execution(kid.id)) is None or done.finalized_at is None:
            assert time.monotonic() < deadline, "the server never finished it"
            time.sleep(0.05)  # polling with a deadline
        assert done.state is State.SUCCESS
        assert {r.task_id: r.state for r in done.task_runs.values()} == {
            "nap": State.SUCCESS,
            "hi": State.SUCCESS,
        }
    finally:
        server.stop()
        store.close()


def _job_claims(db: Path) -> list[tuple[str | None]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT claim_token FROM job").fetchall()


class Stubborn(Task):
    type: str


def run_stubborn(task: Stubborn, ctx: TaskContext) -> Outcome:
    """Takes a second to stop once cancelled, as a task cleaning up would."""
    ctx.wait(60)
    time.sleep(1)
    return Outcome()


def test_a_stopping_run_records_the_end_of_a_killed_task_that_outlives_its_execution(
    tmp_path: Path,
) -> None:
    """A kill ends the execution at once (Kestra); the task's own KILLED result
    comes later. The run waits for it and records it (the job is deleted) rather
    than hand the job back, which a server would run again."""
    registry = TaskRegistry.from_entry_points()
    registry.register(TaskType(name="test.Stubborn", model=Stubborn, run=run_stubborn))
    source = "id: stubborn\nnamespace: t\ntasks:\n  - id: slow\n    type: test.Stubborn\n"
    store = open_store(f"sqlite:///{tmp_path}/lanner.db")
    runtime = Process(store, registry, Config(), alone=True)
    runtime.start()
    try:
        flow = load_flow(source, registry)
        revision, _ = store.deploy_flow(flow.namespace, flow.id, source)
        execution = runtime.create_execution(flow, revision, {})
        deadline = time.monotonic() + 30
        while not runtime.workers.held_executions():
            assert time.monotonic() < deadline
            time.sleep(0.01)  # polling with a deadline
        runtime.kill(execution.id)
        assert runtime.wait_finalized(execution.id, timeout=60).state is State.KILLED
    finally:
        runtime.stop()
    try:
        assert store.counts()["job"] == 0
    finally:
        store.close()
