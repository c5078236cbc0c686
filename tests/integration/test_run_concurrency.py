"""Several `lanner run` at once on one LANNER_HOME: each runs its own execution
(and its Subflow children) only, so none takes another's work and then
abandons it when it exits (runtime.scope). Real processes, one SQLite file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lanner.store import open_store
from tests.support.postgres import postgres_server  # noqa: F401 (fixture)

LANNER = str(Path(sys.executable).parent / "lanner")
FLOWS = Path(__file__).parent / "flows"
RUNS = 8
TASKS = 20


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {**os.environ, "LANNER_HOME": str(tmp_path / "home")}
    environment.pop("LANNER_DB", None)
    environment.pop("LANNER_CONFIG", None)
    return environment


def _twenty(tmp_path: Path, nap: str) -> Path:
    """A flow of 20 tasks, every fifth one a Sleep."""
    tasks = "".join(
        f"  - id: nap{i}\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: {nap}\n"
        if i % 5 == 2
        else f"  - id: log{i}\n    type: io.kestra.plugin.core.log.Log\n    message: task {i}\n"
        for i in range(TASKS)
    )
    flow = tmp_path / "twenty.yml"
    flow.write_text(f"id: twenty\nnamespace: demo\ntasks:\n{tasks}")
    return flow


def _start(flow: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [LANNER, "run", str(flow), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[int, dict[str, Any]]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"lanner run hung:\n{err}") from None
    assert proc.returncode in (0, 1, 130), err
    return proc.returncode, json.loads(out)


def _states(execution: dict[str, Any]) -> dict[str, str]:
    return {r["taskId"]: r["state"]["current"] for r in execution["taskRunList"]}


def _assert_ran_everything(code: int, execution: dict[str, Any]) -> None:
    assert code == 0, execution["state"]
    assert execution["state"]["current"] == "SUCCESS"
    states = _states(execution)
    assert len(states) == TASKS
    assert set(states.values()) == {"SUCCESS"}, states


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_eight_runs_at_once_on_one_store_all_finish(
    tmp_path: Path, env: dict[str, str], backend: str, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{env['LANNER_HOME']}/lanner.db"
    if backend == "postgres":
        url = request.getfixturevalue("postgres_server").new_database()
        env = {**env, "LANNER_DB": url}
    flow = _twenty(tmp_path, "PT0.2S")
    rounds = 3
    for _ in range(rounds):
        procs = [_start(flow, env) for _ in range(RUNS)]
        for proc in procs:
            _assert_ran_everything(*_finish(proc))
    store = open_store(url)
    try:
        executions = store.list_executions(limit=100)
        assert len(executions) == rounds * RUNS
        assert {e.state.value for e in executions} == {"SUCCESS"}
        counts = store.counts()
        # Nothing left behind: no job claimed and abandoned, no event unconsumed.
        assert counts["job"] == 0 and counts["execution_event"] == 0, counts
    finally:
        store.close()


def test_an_interrupted_run_leaves_the_others_alone(tmp_path: Path, env: dict[str, str]) -> None:
    flow = _twenty(tmp_path, "PT0.5S")
    victim_flow = tmp_path / "victim.yml"
    victim_flow.write_text(
        "id: victim\nnamespace: demo\ntasks:\n"
        "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT60S\n"
        "afterExecution:\n  - id: report\n    type: io.kestra.plugin.core.log.Log\n"
        '    message: "ended {{ execution.state }}"\n'
    )
    others = [_start(flow, env) for _ in range(RUNS - 1)]
    victim = _start(victim_flow, env)
    store = open_store(f"sqlite:///{env['LANNER_HOME']}/lanner.db")
    try:
        _wait_until_running(store, "victim", "nap")
        # The others are under way (each takes two seconds of Sleep at least).
        assert any(p.poll() is None for p in others)
        victim.send_signal(signal.SIGINT)
        code, killed = _finish(victim, timeout=60)
        assert code == 130
        assert killed["state"]["current"] == "KILLED"
        assert _states(killed) == {"nap": "KILLED", "report": "SUCCESS"}
        for proc in others:
            _assert_ran_everything(*_finish(proc))
        assert store.counts()["job"] == 0
    finally:
        for proc in [*others, victim]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        store.close()


def test_runs_of_a_subflow_parent_at_once_each_finish_their_children(
    tmp_path: Path, env: dict[str, str]
) -> None:
    deployed = subprocess.run(
        [LANNER, "flows", "deploy", str(FLOWS / "child.yml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert deployed.returncode == 0, deployed.stderr
    procs = [
        subprocess.Popen(
            [LANNER, "run", str(FLOWS / "parent.yml"), "--json", "--input", "nap=PT0.3S"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for proc in procs:
        code, execution = _finish(proc)
        assert code == 0 and execution["state"]["current"] == "SUCCESS"
        assert _states(execution) == {
            "call": "SUCCESS",
            "echo": "SUCCESS",
            "parent_done": "SUCCESS",
        }
    store = open_store(f"sqlite:///{env['LANNER_HOME']}/lanner.db")
    try:
        children = store.list_executions(flow_id="child", limit=100)
        assert len(children) == 4 and {c.state.value for c in children} == {"SUCCESS"}
        assert store.counts()["job"] == 0
    finally:
        store.close()


def _wait_until_running(store: Any, flow_id: str, task_id: str, deadline: float = 120) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for listed in store.list_executions(flow_id=flow_id, limit=5):
            execution = store.get_execution(listed.id)
            runs = [r for r in execution.task_runs.values() if r.task_id == task_id]
            # SUBMITTED: handed to a worker of its own process, which records no start.
            if runs and runs[0].state.value in ("SUBMITTED", "RUNNING"):
                return
        time.sleep(0.05)  # polling with a deadline
    raise AssertionError(f"{flow_id}.{task_id} never ran")
