"""Kestra's other WorkingDirectory test flows (core/src/test/resources/flows/valids),
unchanged, through the real `lanner run`, asserting what Kestra's WorkingDirectoryTest
asserts: in nested ForEach loops (`each`), a child reading the loop's value
(`taskrun`), `workerTaskrun` and `parent(s)` (`taskrunNested`), `inputFiles` and
`outputFiles`. (`working-directory.yaml` and the cache flow are in
test_workdir_handlers.py; the namespace-files and encryption flows use Kestra's
test-only task types.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.cli import lanner, run_flow

EACH = """
id: working-directory-each
namespace: io.kestra.tests

tasks:
  - id: 1_each
    type: io.kestra.plugin.core.flow.ForEach
    values: '["s1"]'
    tasks:
    - id: 1-1_each
      type: io.kestra.plugin.core.flow.ForEach
      values: '["s2"]'
      tasks:
        - id: 1-1-1_each
          type: io.kestra.plugin.core.flow.ForEach
          values: '["s3"]'
          tasks:
            - id: 1-1-1-1_return
              type: io.kestra.plugin.core.debug.Return
              format: "{{task.id}} > {{taskrun.value}} > {{taskrun.startDate}}"
            - id: worker
              type: io.kestra.plugin.core.flow.WorkingDirectory
              tasks:
              - id: first
                type: io.kestra.plugin.core.storage.LocalFiles
                inputs:
                  out/stay.txt: "{{ taskrun.id }}"
              - id: second
                type: io.kestra.plugin.core.storage.LocalFiles
                outputs:
                  - out/*
  - id: 2_end
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.second.s1.s2.s3.uris['out/stay.txt'] }}"
"""

TASKRUN = """
id: working-directory-taskrun
namespace: io.kestra.tests

tasks:
  - id: parallel
    type: io.kestra.plugin.core.flow.ForEach
    concurrencyLimit: 0
    values: ["1"]
    tasks:
      - id: workingDir
        type: io.kestra.plugin.core.flow.WorkingDirectory
        tasks:
          - id: log-taskrun
            type: io.kestra.plugin.core.debug.Return
            format:  "{{ taskrun.value }}"
"""

TASKRUN_NESTED = """
id: working-directory-taskrun-nested
namespace: io.kestra.tests

tasks:
  - id: parallel
    type: io.kestra.plugin.core.flow.ForEach
    concurrencyLimit: 0
    values: ["1"]
    tasks:
      - id: seq
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: workingDir
            type: io.kestra.plugin.core.flow.WorkingDirectory
            tasks:
              - id: log-taskrun
                type: io.kestra.plugin.core.debug.Return
                format: "{{ workerTaskrun }}"
              - id: log-workerparents
                type: io.kestra.plugin.core.debug.Return
                format:  "{{ parents }}"
              - id: log-workerparent
                type: io.kestra.plugin.core.debug.Return
                format:  "{{ parent }}"
"""

INPUTS = """
id: working-directory-inputs
namespace: io.kestra.tests

tasks:
  - id: workingDir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      input.txt: Hello World
    tasks:
      - id: inputFiles
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs:
          - input.txt
"""

OUTPUTS = """
id: working-directory-outputs
namespace: io.kestra.tests

tasks:
  - id: workingDir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles:
      - output.txt
    tasks:
      - id: outputFiles
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          output.txt: "Hello World"
"""


def _one(execution: dict[str, Any], task_id: str) -> dict[str, Any]:
    runs: list[dict[str, Any]] = [r for r in execution["taskRunList"] if r["taskId"] == task_id]
    [run] = runs
    return run


def _download(execution_id: str, uri: str, env: dict[str, str], tmp_path: Path) -> str:
    target = tmp_path / "downloaded"
    proc = lanner("executions", "files", execution_id, "download", uri, "-o", str(target), env=env)
    assert proc.returncode == 0, proc.stderr
    return target.read_text()


def test_each(tmp_path: Path, env: dict[str, str]) -> None:
    execution, _ = run_flow(tmp_path, EACH, env, "SUCCESS")
    assert len(execution["taskRunList"]) == 8
    assert _one(execution, "2_end")["outputs"]["value"].startswith("kestra://")


def test_taskrun(tmp_path: Path, env: dict[str, str]) -> None:
    execution, _ = run_flow(tmp_path, TASKRUN, env, "SUCCESS")
    assert len(execution["taskRunList"]) == 3
    assert "1" in _one(execution, "log-taskrun")["outputs"]["value"]


def test_taskrun_nested(tmp_path: Path, env: dict[str, str]) -> None:
    execution, _ = run_flow(tmp_path, TASKRUN_NESTED, env, "SUCCESS")
    assert len(execution["taskRunList"]) == 6
    parent = _one(execution, "log-workerparent")["outputs"]["value"]
    assert '{"taskrun":{"value":"1"}}' in parent
    worker = _one(execution, "workingDir")
    assert f'"id":"{worker["id"]}"' in _one(execution, "log-taskrun")["outputs"]["value"]


def test_input_files(tmp_path: Path, env: dict[str, str]) -> None:
    execution, _ = run_flow(tmp_path, INPUTS, env, "SUCCESS")
    assert len(execution["taskRunList"]) == 2
    uri = execution["taskRunList"][1]["outputs"]["uris"]["input.txt"]
    assert uri.endswith("input.txt")
    assert _download(execution["id"], uri, env, tmp_path) == "Hello World"


def test_output_files(tmp_path: Path, env: dict[str, str]) -> None:
    execution, _ = run_flow(tmp_path, OUTPUTS, env, "SUCCESS")
    assert len(execution["taskRunList"]) == 2
    outputs = execution["taskRunList"][0]["outputs"]["outputFiles"]
    [uri] = outputs.values()
    assert _download(execution["id"], uri, env, tmp_path) == "Hello World"
