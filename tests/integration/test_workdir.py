"""WorkingDirectory end to end, through the real `lanner run` (and a real server for
a kill): its tasks share one directory, each is a task run of its own with its
outputs, later tasks render against earlier ones' outputs on the worker, a failure
or a timeout of a task ends the WorkingDirectory; LocalFiles and `{{ workingDir }}`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanner.engine.execution import Execution
from tests.support.cli import lanner, logs, run_flow, run_state, write_flow
from tests.support.cluster import Cluster
from tests.support.http_origin import HttpOrigin

SHARED_VENVS = os.environ.get("LANNER_TEST_VENVS") or str(
    Path(tempfile.gettempdir()) / "lanner-test-venvs"
)


@pytest.fixture
def origin() -> Iterator[HttpOrigin]:
    server = HttpOrigin()
    yield server
    server.close()


PIPELINE = """
id: shared
namespace: company.team
tasks:
  - id: seed
    type: io.kestra.plugin.core.storage.Write
    content: "from storage"
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      given.txt: "given inline"
      stored.txt: "{{ outputs.seed.uri }}"
    outputFiles: ["*.out"]
    tasks:
      - id: first
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - cat given.txt stored.txt > both.out
          - echo "dir={{ workingDir }}"
          - "echo '::{\\"outputs\\": {\\"n\\": 3}}::'"
      - id: files
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          note.txt: "n is {{ outputs.first.vars.n }}"
        outputs: ["both.out"]
      - id: second
        type: io.kestra.plugin.scripts.python.Script
        script: |
          import os
          from kestra import Kestra
          Kestra.outputs({
              "both": open("both.out").read(),
              "note": open("note.txt").read(),
              "same": os.getcwd() == "{{ workingDir }}",
          })
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "note={{ outputs.second.vars.note }}"
  - id: alone
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - test "$PWD" = "{{ workingDir }}" && echo "alone in {{ workingDir }}"
"""


def test_the_tasks_of_a_working_directory_share_it(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**env, "LANNER_VENVS": SHARED_VENVS}
    execution, runs = run_flow(tmp_path, PIPELINE, env, "SUCCESS")
    wdir = runs["wdir"]
    # Each child is a task run of its own, under the WorkingDirectory's.
    for child in ("first", "files", "second"):
        assert runs[child]["parentTaskRunId"] == wdir["id"]
        assert run_state(runs[child]) == "SUCCESS"
        assert len(runs[child]["attempts"]) == 1
    assert runs["first"]["outputs"]["vars"] == {"n": 3}
    assert set(runs["files"]["outputs"]["uris"]) == {"both.out"}
    assert runs["files"]["outputs"]["outputFiles"] == runs["files"]["outputs"]["uris"]
    second = runs["second"]["outputs"]["vars"]
    assert second == {"both": "given inlinefrom storage", "note": "n is 3", "same": True}
    assert set(wdir["outputs"]["outputFiles"]) == {"both.out"}
    lines = logs(execution["id"], env)
    assert ("after", "INFO", "note=n is 3") in lines
    [first_dir] = [m for t, _, m in lines if t == "first" and m.startswith("dir=")]
    assert Path(first_dir[4:]).is_absolute() and not Path(first_dir[4:]).exists()  # removed
    assert any(t == "alone" and m.startswith("alone in /") for t, _, m in lines), lines


def test_a_download_then_a_script_in_one_directory(
    tmp_path: Path, env: dict[str, str], origin: HttpOrigin
) -> None:
    flow = f"""
    id: fetch
    namespace: company.team
    tasks:
      - id: wdir
        type: io.kestra.plugin.core.flow.WorkingDirectory
        tasks:
          - id: download
            type: io.kestra.plugin.core.http.Download
            uri: "{origin.url}/echo/data"
          - id: use
            type: io.kestra.plugin.scripts.shell.Commands
            inputFiles:
              got.json: "{{{{ outputs.download.uri }}}}"
            outputFiles: ["got.json"]
            commands:
              - grep -q /echo/data got.json
    """
    _, runs = run_flow(tmp_path, flow, env, "SUCCESS")
    assert runs["download"]["outputs"]["uri"].startswith("kestra:///company/team/fetch/")
    assert set(runs["use"]["outputs"]["outputFiles"]) == {"got.json"}


FAILING = """
id: failing
namespace: company.team
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: tolerated
        type: io.kestra.plugin.scripts.shell.Commands
        allowFailure: true
        commands: ["exit 3"]
      - id: skipped
        type: io.kestra.plugin.core.log.Log
        runIf: "{{ false }}"
        message: never
      - id: broken
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["echo partial > part.txt", "exit 5"]
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: never
errors:
  - id: handler
    type: io.kestra.plugin.core.log.Log
    message: "failed: {{ error.message }}"
"""


def test_a_failing_task_fails_the_working_directory(tmp_path: Path, env: dict[str, str]) -> None:
    execution, runs = run_flow(tmp_path, FAILING, env, "FAILED")
    assert run_state(runs["tolerated"]) == "WARNING"
    assert run_state(runs["skipped"]) == "SKIPPED"
    assert run_state(runs["broken"]) == "FAILED"
    assert runs["broken"]["outputs"]["exitCode"] == 5
    assert "never" not in runs  # the tasks after a failure do not run
    assert run_state(runs["wdir"]) == "FAILED"
    assert run_state(runs["handler"]) == "SUCCESS"
    lines = logs(execution["id"], env)
    assert ("handler", "INFO", "failed: Command failed with exit code 5") in lines


TIMEOUTS = """
id: timeouts
namespace: company.team
tasks:
  - id: own
    type: io.kestra.plugin.core.flow.WorkingDirectory
    allowFailure: true
    tasks:
      - id: slow
        type: io.kestra.plugin.scripts.shell.Commands
        timeout: PT1S
        commands: ["sleep 30"]
  - id: whole
    type: io.kestra.plugin.core.flow.WorkingDirectory
    timeout: PT5S  # room for `quick` on a loaded machine; `long` outlasts it anyway
    tasks:
      - id: quick
        type: io.kestra.plugin.core.log.Log
        message: quick
      - id: long
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["sleep 30"]
"""


def test_timeouts_of_a_task_and_of_the_working_directory(
    tmp_path: Path, env: dict[str, str]
) -> None:
    execution, runs = run_flow(tmp_path, TIMEOUTS, env, "FAILED")
    assert run_state(runs["slow"]) == "FAILED"
    assert run_state(runs["own"]) == "WARNING"
    assert run_state(runs["quick"]) == "SUCCESS"
    assert run_state(runs["long"]) == "KILLED"
    assert run_state(runs["whole"]) == "FAILED"
    lines = logs(execution["id"], env)
    assert ("slow", "ERROR", "Timeout after 00:00:01.000") in lines, lines
    assert ("whole", "ERROR", "Timeout after 00:00:05.000") in lines, lines


KILLED = """
id: killed
namespace: workdir.test
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: first
        type: io.kestra.plugin.core.log.Log
        message: first
      - id: long
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["sleep 60"]
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: never
"""


def test_a_kill_stops_the_running_task_of_the_job(cluster: Cluster, tmp_path: Path) -> None:
    cluster.deploy(write_flow(tmp_path, KILLED, "killed.yml"))
    cluster.spawn("server")
    execution_id = cluster.start("workdir.test", "killed")

    def long_running() -> bool:
        execution = cluster.store.get_execution(execution_id)
        return execution is not None and any(
            r.task_id == "long" and r.state.value == "RUNNING" for r in execution.task_runs.values()
        )

    cluster.wait_for(long_running, 60, "the task `long` to run")
    assert cluster.cli("executions", "kill", execution_id).returncode == 0
    [final] = cluster.wait_finalized([execution_id], timeout=60)
    states = _states(final)
    assert final.state.value == "KILLED"
    assert states == {"wdir": "KILLED", "first": "SUCCESS", "long": "KILLED"}, states


def _states(execution: Execution) -> dict[str, str]:
    return {r.task_id: r.state.value for r in execution.task_runs.values()}


def test_validation_locates_a_task_that_cannot_run_in_it(
    tmp_path: Path, env: dict[str, str]
) -> None:
    flow = """
    id: invalid
    namespace: company.team
    tasks:
      - id: wdir
        type: io.kestra.plugin.core.flow.WorkingDirectory
        cache:
          patterns: ["../node_modules/**"]
        tasks:
          - id: par
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: a
                type: io.kestra.plugin.core.log.Log
                message: a
    """
    proc = lanner("validate", str(write_flow(tmp_path, flow)), env=env)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "cannot run in a WorkingDirectory" in out, out
    assert "cache.patterns" in out and "inside the working directory" in out, out


CONTEXT = """
id: context
namespace: company.team
labels:
  env: prod
variables:
  threshold: 42
inputs:
  - id: dataset
    type: STRING
    defaults: products
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: hello
  - id: read
    type: io.kestra.plugin.scripts.python.Script
    executionContext: true
    script: |
      from kestra import context, Kestra
      Kestra.outputs({
          "dataset": context.inputs.dataset,
          "env": context.labels.env,
          "threshold": context.vars.threshold,
          "first": context.outputs.first.value,
          "task": context.task.id,
          "keys": sorted(context),
      })
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: inner
        type: io.kestra.plugin.scripts.python.Script
        executionContext: true
        script: |
          from kestra import context, Kestra
          Kestra.outputs({"read": context.outputs.read.vars.dataset, "parent": context.taskrun.parentId})
"""


def test_execution_context_for_the_kestra_library(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**env, "LANNER_VENVS": SHARED_VENVS}
    _, runs = run_flow(tmp_path, CONTEXT, env, "SUCCESS")
    read = runs["read"]["outputs"]["vars"]
    keys = read.pop("keys")
    assert read == {
        "dataset": "products",
        "env": "prod",
        "threshold": 42,
        "first": "hello",
        "task": "read",
    }
    # The execution's metadata only: no environment, secrets or working directory.
    expected = {"flow", "execution", "task", "taskrun", "inputs", "outputs", "labels", "vars"}
    assert set(keys) == expected, keys
    assert runs["inner"]["outputs"]["vars"] == {"read": "products", "parent": runs["wdir"]["id"]}
