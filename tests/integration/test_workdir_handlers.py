"""A WorkingDirectory's own `errors` and `finally`, and its `cache`, through the real
`lanner run`: Kestra's test flows `working-directory.yaml` and
`working-directory-cache.yml` give what Kestra's WorkingDirectoryTest asserts; the
handlers run in the job's directory, after its tasks; the cache is kept in internal
storage (the local folder, and a local S3 server) and expires after its `ttl`."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.support.cli import logs, run_flow, run_json, run_state, task_runs, write_flow
from tests.support.s3 import S3Server

# Kestra's core/src/test/resources/flows/valids/working-directory.yaml, unchanged.
KESTRA_WORKING_DIRECTORY = """
id: working-directory
namespace: io.kestra.tests

inputs:
  - id: failed
    type: STRING

tasks:
  - id: worker
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: first
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          out/stay.txt: "{{ inputs.failed == 'true' ? ko: taskrun.id }}"
      - id: second
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs:
          - out/*
      - id: disabled
        type: io.kestra.plugin.core.debug.Return
        disabled: true
    errors:
      - id: error-t1
        type: io.kestra.plugin.core.debug.Return
        format: "Error Trigger ! {{task.id}}"
  - id: 2_end
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.second.uris['out/stay.txt'] }}"
"""

# Kestra's working-directory-cache.yml, unchanged.
KESTRA_CACHE = """
id: working-directory-cache
namespace: io.kestra.tests

tasks:
  - id: workingDir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    cache:
      ttl: PT5m
      patterns:
        - "*.txt"
    tasks:
      - id: exists
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs:
          - hello.txt
      - id: inputFiles
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          hello.txt: |
            HELLO WORLD
"""

CACHE_PATH = Path("io/kestra/tests/working-directory-cache/workingdir/cache/cache.zip")


def test_kestra_working_directory_success(tmp_path: Path, env: dict[str, str]) -> None:
    flow = write_flow(tmp_path, KESTRA_WORKING_DIRECTORY)
    execution = run_json(flow, env, "--input", "failed=false")
    runs = execution["taskRunList"]
    assert execution["state"]["current"] == "SUCCESS", runs
    assert len(runs) == 4, [r["taskId"] for r in runs]
    assert [r["taskId"] for r in runs][3] == "2_end"
    assert runs[3]["outputs"]["value"].startswith("kestra://")


def test_kestra_working_directory_failed_runs_its_errors(
    tmp_path: Path, env: dict[str, str]
) -> None:
    flow = write_flow(tmp_path, KESTRA_WORKING_DIRECTORY)
    execution = run_json(flow, env, "--input", "failed=true")
    runs = execution["taskRunList"]
    assert execution["state"]["current"] == "FAILED", runs
    assert len(runs) == 3, [r["taskId"] for r in runs]
    [handler] = [r for r in runs if r["taskId"] == "error-t1"]
    by_id = task_runs(execution)
    assert handler["parentTaskRunId"] == by_id["worker"]["id"]
    assert handler["outputs"]["value"] == "Error Trigger ! error-t1"
    assert run_state(by_id["first"]) == "FAILED"
    assert run_state(by_id["worker"]) == "FAILED"


HANDLERS = """
id: handlers
namespace: company.team
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: build
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - echo "half built" > build.log
          - exit 4
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: never
    errors:
      - id: broken_handler
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["exit 9"]
      - id: report
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - echo "report of {{ error.taskId }}" >> build.log
          - "echo '::{\\"outputs\\": {\\"log\\": \\"'$(cat build.log | tr '\\n' '|')'\\"}}::'"
    finally:
      - id: cleanup
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - "echo '::{\\"outputs\\": {\\"seen\\": \\"'$(cat build.log | wc -l)'\\", \\"same\\": \\"'$(test \\"$PWD\\" = \\"{{ workingDir }}\\" && echo yes)'\\"}}::'"
errors:
  - id: flow_handler
    type: io.kestra.plugin.core.log.Log
    message: "flow saw {{ error.message }}"
"""


def test_errors_then_finally_run_in_the_directory_after_a_failure(
    tmp_path: Path, env: dict[str, str]
) -> None:
    execution, runs = run_flow(tmp_path, HANDLERS, env, "FAILED")
    wdir = runs["wdir"]
    assert run_state(wdir) == "FAILED"
    assert "never" not in runs
    for handler in ("broken_handler", "report", "cleanup"):
        assert runs[handler]["parentTaskRunId"] == wdir["id"], handler
    assert run_state(runs["broken_handler"]) == "FAILED"
    # A failed handler does not stop the next one (SPEC §0 decision 2).
    assert run_state(runs["report"]) == "SUCCESS"
    assert runs["report"]["outputs"]["vars"] == {"log": "half built|report of build|"}
    # `finally` after `errors`, in the same directory: it sees what `report` appended.
    assert runs["cleanup"]["outputs"]["vars"] == {"seen": "2", "same": "yes"}
    order = [r["taskId"] for r in execution["taskRunList"]]
    assert order.index("report") < order.index("cleanup") < order.index("flow_handler")
    # The WorkingDirectory fails with its task's error; the flow's errors see that one.
    lines = logs(execution["id"], env)
    assert ("flow_handler", "INFO", "flow saw Command failed with exit code 4") in lines, lines


FINALLY_ONLY = """
id: finally_only
namespace: company.team
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: ["*.txt"]
    tasks:
      - id: make
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["echo made > made.txt"]
    errors:
      - id: not_run
        type: io.kestra.plugin.core.log.Log
        message: never
    finally:
      - id: failing_finally
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["exit 2"]
      - id: stamp
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["cat made.txt > stamped.txt"]
"""


def test_finally_always_runs_and_its_failure_leaves_the_state(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # The state comes from the `tasks` only (SPEC §0 decision 1).
    _, runs = run_flow(tmp_path, FINALLY_ONLY, env, "SUCCESS")
    assert run_state(runs["wdir"]) == "SUCCESS"
    assert "not_run" not in runs
    assert run_state(runs["failing_finally"]) == "FAILED"
    assert run_state(runs["stamp"]) == "SUCCESS"
    # outputFiles are taken once `finally` ran: they include what it wrote.
    assert set(runs["wdir"]["outputs"]["outputFiles"]) == {"made.txt", "stamped.txt"}


def test_kestra_cache_is_restored_on_the_next_run(tmp_path: Path, env: dict[str, str]) -> None:
    flow = write_flow(tmp_path, KESTRA_CACHE)
    cached = Path(env["LANNER_HOME"]) / "storage" / CACHE_PATH
    assert not cached.exists()
    first = run_json(flow, env)
    assert first["state"]["current"] == "SUCCESS", first
    assert len(first["taskRunList"]) == 3
    assert task_runs(first)["exists"]["outputs"]["uris"] == {}
    assert cached.is_file()
    # A second run starts with the cached file in its directory.
    second = run_json(flow, env)
    assert second["state"]["current"] == "SUCCESS", second
    assert len(second["taskRunList"]) == 3
    assert set(task_runs(second)["exists"]["outputs"]["uris"]) == {"hello.txt"}
    lines = logs(second["id"], env)
    assert any(t == "workingDir" and "1 file(s) restored" in m for t, _, m in lines), lines
    # Once the ttl (PT5m) has passed since it was written, the cache is dropped.
    old = time.time() - 600
    os.utime(cached, (old, old))
    third = run_json(flow, env)
    assert third["state"]["current"] == "SUCCESS", third
    assert task_runs(third)["exists"]["outputs"]["uris"] == {}
    lines = logs(third["id"], env)
    assert any(t == "workingDir" and "expired" in m for t, _, m in lines), lines
    assert cached.is_file() and cached.stat().st_mtime > old  # written again
    # A task of the same flow clears it (docs/tasks-workdir.md).
    clear = write_flow(tmp_path, CLEAR, "clear.yml")
    cleared = run_json(clear, env)
    assert task_runs(cleared)["clear"]["outputs"]["deleted"] is True, cleared
    assert not cached.exists()


CLEAR = """
id: working-directory-cache
namespace: io.kestra.tests
tasks:
  - id: clear
    type: io.kestra.plugin.core.storage.Delete
    uri: kestra:///io/kestra/tests/working-directory-cache/workingdir/cache/cache.zip
"""


FAILED_CACHE = """
id: failed_cache
namespace: company.team
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    cache:
      patterns: ["deps/**"]
    tasks:
      - id: install
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - mkdir -p deps/a && echo half > deps/a/lib.txt
          - exit 1
"""


def test_a_failed_run_writes_no_cache(tmp_path: Path, env: dict[str, str]) -> None:
    run_flow(tmp_path, FAILED_CACHE, env, "FAILED")
    folder = Path(env["LANNER_HOME"]) / "storage" / "company/team/failed_cache/wdir"
    assert not folder.exists()


NESTED_CACHE = """
id: nested_cache
namespace: company.team
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    cache:
      patterns: ["deps/**"]
    tasks:
      - id: install
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - 'test -f deps/a/b/lib.txt && echo "::{\\"outputs\\": {\\"hit\\": true}}::" || true'
          - mkdir -p deps/a/b && echo lib > deps/a/b/lib.txt && echo other > other.txt
"""


def test_the_cache_on_s3_storage(tmp_path: Path, env: dict[str, str], s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    home = Path(env["LANNER_HOME"])
    home.mkdir(parents=True)
    (home / "config.yml").write_text(s3_server.config_yaml(bucket))
    flow = write_flow(tmp_path, NESTED_CACHE)
    first = run_json(flow, env)
    assert first["state"]["current"] == "SUCCESS", first
    assert task_runs(first)["install"]["outputs"].get("vars") in (None, {})
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert "company/team/nested_cache/wdir/cache/cache.zip" in keys, keys
    second = run_json(flow, env)
    assert second["state"]["current"] == "SUCCESS", second
    assert task_runs(second)["install"]["outputs"]["vars"] == {"hit": True}


RETRIED = """
id: retried
namespace: company.team
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: prepare
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["echo 0 > count.txt"]
      - id: flaky
        type: io.kestra.plugin.scripts.shell.Commands
        retry:
          type: constant
          interval: PT0.2S
          maxAttempts: 3
          warningOnRetry: true
        commands:
          - n=$(( $(cat count.txt) + 1 )) && echo $n > count.txt
          - test $n -ge 3
      - id: count
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - "echo '::{\\"outputs\\": {\\"count\\": '$(cat count.txt)'}}::'"
  - id: exhausted
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: always_fails
        type: io.kestra.plugin.scripts.shell.Commands
        retry:
          type: constant
          interval: PT0.1S
          maxAttempts: 2
        commands: ["echo try >> tries.txt", "exit 1"]
    errors:
      - id: tries
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - "echo '::{\\"outputs\\": {\\"tries\\": '$(wc -l < tries.txt)'}}::'"
"""


def test_a_child_retry_runs_it_again_in_the_directory(tmp_path: Path, env: dict[str, str]) -> None:
    execution, runs = run_flow(tmp_path, RETRIED, env, "FAILED")
    flaky = runs["flaky"]
    assert [a["state"]["current"] for a in flaky["attempts"]] == ["FAILED", "FAILED", "SUCCESS"]
    history = [h["state"] for h in flaky["state"]["histories"]]
    assert history.count("RETRYING") == 2 and "FAILED" not in history, history
    assert run_state(flaky) == "WARNING"  # warningOnRetry
    assert run_state(runs["wdir"]) == "WARNING"
    # Each attempt ran in the job's directory: the count went up to 3 there.
    assert runs["count"]["outputs"]["vars"] == {"count": 3}
    always = runs["always_fails"]
    assert [a["state"]["current"] for a in always["attempts"]] == ["FAILED", "FAILED"]
    assert run_state(always) == "FAILED"
    assert run_state(runs["exhausted"]) == "FAILED"
    assert runs["tries"]["outputs"]["vars"] == {"tries": 2}
    lines = logs(execution["id"], env)
    assert ("flaky", "INFO", "Retrying in 00:00:00.200 (attempt 2)") in lines, lines


def test_a_cache_the_storage_cannot_write_leaves_the_run_successful(
    tmp_path: Path, env: dict[str, str]
) -> None:
    blocked = Path(env["LANNER_HOME"]) / "storage/company/team/nested_cache/wdir"
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where the cache's folder would go")
    execution, _ = run_flow(tmp_path, NESTED_CACHE, env, "SUCCESS")
    lines = logs(execution["id"], env)
    warned = [m for t, level, m in lines if t == "wdir" and level == "WARN"]
    assert warned and warned[0].startswith("The cache could not be written: "), lines
