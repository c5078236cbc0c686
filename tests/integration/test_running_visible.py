"""A task run is RUNNING in the store while its code runs, whichever runtime runs
it: a real `lanner server` (whose worker threads take jobs handed over by its
own executor) and a real `lanner run`. RUNNING is committed before the task's
code starts, so a crash mid-task is visible as a task that started
(docs/runtime.md, durability)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lanner.engine.execution import Execution
from lanner.errors import LannerError
from lanner.model.states import State
from lanner.store import open_store
from tests.support.cluster import Cluster

LANNER = str(Path(sys.executable).parent / "lanner")

# `first` is handed over by the cycle of the Start; `second` by the cycle of
# `first`'s result, to the thread that ran `first`; the Parallel hands six jobs
# to four threads, so two wait for a thread.
FLOW = """
id: visible
namespace: durability.test
tasks:
  - id: first
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1.5S
  - id: second
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1.5S
  - id: wide
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
""" + "".join(
    f"      - id: p{i}\n        type: io.kestra.plugin.core.flow.Sleep\n        duration: PT1S\n"
    for i in range(6)
)
THREADS = 4
SLEEPERS = {"first", "second", *(f"p{i}" for i in range(6))}


def _watch(
    find: Callable[[], Execution | None], timeout: float = 60
) -> tuple[set[str], int, Execution]:
    """Poll the store until the execution ends: which sleepers were seen RUNNING,
    the most seen RUNNING at once, and the final execution."""
    seen: set[str] = set()
    most = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            execution = find()
        except LannerError:
            execution = None
        if execution is not None:
            running = {
                r.task_id
                for r in execution.task_runs.values()
                if r.state is State.RUNNING and r.task_id in SLEEPERS
            }
            seen |= running
            most = max(most, len(running))
            if execution.finalized_at is not None:
                return seen, most, execution
        time.sleep(0.05)
    raise AssertionError(f"not finalized in {timeout} s; seen RUNNING: {sorted(seen)}")


def _check(seen: set[str], most: int, final: Execution) -> None:
    assert final.state is State.SUCCESS
    assert most >= 1
    # Each sleeper runs a second or more: long enough for the poll to see it RUNNING.
    assert seen == SLEEPERS
    started = {}
    for run in final.task_runs.values():
        if run.task_id in SLEEPERS:
            states = [h.state for h in run.histories]
            assert State.RUNNING in states, (run.task_id, states)
            assert states[-1] is State.SUCCESS, (
                run.task_id,
                run.state,
                states,
                run.attempts,
                final.task_runs,
            )
            assert states.index(State.RUNNING) < len(states) - 1, (run.task_id, states)
            started[run.task_id] = next(h.date for h in run.histories if h.state is State.RUNNING)
    # A job waiting for a thread is not RUNNING: the fifth of the Parallel's sleepers
    # started only once one of the first four (asleep for a second) was over.
    wide = sorted(started[f"p{i}"] for i in range(6))
    assert (wide[THREADS] - wide[0]).total_seconds() >= 0.9, wide


def test_running_is_in_the_store_while_a_task_runs_under_lanner_server(
    cluster: Cluster, tmp_path: Path
) -> None:
    path = tmp_path / "visible.yml"
    path.write_text(FLOW)
    cluster.deploy(path)
    cluster.spawn("server")
    execution_id = cluster.start("durability.test", "visible")
    seen, most, final = _watch(lambda: cluster.store.get_execution(execution_id))
    _check(seen, most, final)


def test_running_is_in_the_store_while_a_task_runs_under_lanner_run(tmp_path: Path) -> None:
    path = tmp_path / "visible.yml"
    path.write_text(FLOW)
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yml").write_text(f"worker:\n  threads: {THREADS}\n")
    env = {**os.environ, "LANNER_HOME": str(home), "LANNER_CONFIG": str(home / "config.yml")}
    env.pop("LANNER_DB", None)
    run = subprocess.Popen(
        [LANNER, "run", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        db = home / "lanner.db"
        deadline = time.monotonic() + 30
        while not db.exists():
            assert time.monotonic() < deadline and run.poll() is None, run.communicate()
            time.sleep(0.02)
        store = open_store(f"sqlite:///{db}")
        try:

            def find() -> Execution | None:
                listed = store.list_executions()
                return store.get_execution(listed[0].id) if listed else None

            seen, most, final = _watch(find)
        finally:
            store.close()
        _, err = run.communicate(timeout=30)
        assert run.returncode == 0, err
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    _check(seen, most, final)
