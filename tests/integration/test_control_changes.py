"""`lanner executions replay --input`, `set-state`, `force-run` and `unqueue` on a
real `lanner server`, over each backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.engine.execution import Execution
from tests.support.cluster import Cluster

FLOWS = {
    "child.yml": """\
id: child
namespace: control.changes
inputs:
  - id: greeting
    type: STRING
tasks:
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.greeting | upper }}"
  - id: check
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: not yet
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after the check
""",
    "queued.yml": """\
id: queued
namespace: control.changes
concurrency:
  limit: 1
  behavior: QUEUE
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT30S
""",
}


@pytest.fixture
def server(cluster: Cluster, tmp_path: Path) -> Cluster:
    for name, source in FLOWS.items():
        (tmp_path / name).write_text(source)
        cluster.deploy(tmp_path / name)
    cluster.spawn("server")
    return cluster


def _state(server: Cluster, execution_id: str) -> str:
    execution = server.store.get_execution(execution_id)
    assert execution is not None
    return execution.state.value


def _run(execution: Execution, task_id: str) -> str:
    return next(r.id for r in execution.task_runs.values() if r.task_id == task_id)


def test_cli_replay_with_inputs_and_set_state(server: Cluster) -> None:
    first = server.start("control.changes", "child", {"greeting": "hi"})
    [failed] = server.wait_finalized([first])
    assert failed.state.value == "FAILED"
    result = server.cli("executions", "replay", first, "-i", "greeting=bye")
    assert result.returncode == 0, result.stderr
    [again] = server.wait_finalized([result.stdout.split()[1]])
    assert again.inputs == {"greeting": "bye"}
    answer = next(r for r in again.task_runs.values() if r.task_id == "answer")
    assert answer.outputs == {"value": "BYE"}
    check = _run(failed, "check")
    bad = server.cli("executions", "set-state", first, "--task-run", check, "--state", "RUNNING")
    assert bad.returncode == 2 and "SUCCESS, WARNING or FAILED" in bad.stderr
    ok = server.cli("executions", "set-state", first, "--task-run", check, "--state", "warning")
    assert ok.returncode == 0, ok.stderr
    server.wait_for(lambda: _state(server, first) == "WARNING", 60, "the execution to go on")
    [done] = server.wait_finalized([first])
    assert {r.task_id: r.state.value for r in done.task_runs.values()} == {
        "answer": "SUCCESS",
        "check": "WARNING",
        "after": "SUCCESS",
    }


def test_cli_unqueue_and_force_run(server: Cluster) -> None:
    running = server.start("control.changes", "queued")
    server.wait_for(lambda: _state(server, running) == "RUNNING", 60, "the first to run")
    a, b = (server.start("control.changes", "queued") for _ in range(2))
    server.wait_for(lambda: _state(server, a) == _state(server, b) == "QUEUED", 60, "a queue")
    refused = server.cli("executions", "unqueue", running)
    assert refused.returncode == 2 and "QUEUED" in refused.stderr
    assert server.cli("executions", "unqueue", a, "--state", "CANCELLED").returncode == 0
    assert server.cli("executions", "force-run", b).returncode == 0
    server.wait_for(lambda: _state(server, a) == "CANCELLED", 60, "the unqueued one to end")
    server.wait_for(lambda: _state(server, b) == "RUNNING", 60, "the forced one to run")
    for execution_id in (running, b):
        assert server.cli("executions", "kill", execution_id).returncode == 0
    server.wait_finalized([running, a, b])
