"""Script tasks through the real `lanner run` CLI: outputs and files in the execution
(`--json`, `lanner executions show`), each script's output live on the terminal,
prefixed by its task id, and in the store while the script still runs; timeout and
the Docker runner (refused, or switched to Process by a forced plugin default)."""

from __future__ import annotations

import base64
import json
import os
import pty
import re
import select
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.cli import LANNER, lanner, logs, run_json

SHARED_VENVS = os.environ.get("LANNER_TEST_VENVS") or str(
    Path(tempfile.gettempdir()) / "lanner-test-venvs"
)

PIPELINE = """
id: scripts
namespace: company.team
tasks:
  - id: extract
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["data.csv"]
    commands:
      - printf 'name,amount\\nada,3\\nbob,4\\n' > data.csv
      - echo extracted
  - id: transform
    type: io.kestra.plugin.scripts.python.Script
    inputFiles:
      data.csv: "{{ outputs.extract.outputFiles['data.csv'] }}"
    outputFiles: ["report.txt"]
    script: |
      import csv
      from kestra import Kestra
      rows = list(csv.DictReader(open("data.csv")))
      total = sum(int(r["amount"]) for r in rows)
      open("report.txt", "w").write(f"total={total}\\n")
      Kestra.outputs({"total": total, "rows": len(rows)})
      Kestra.counter("rows", len(rows))
  - id: show
    type: io.kestra.plugin.scripts.node.Commands
    commands:
      - node -e 'console.log("total is {{ outputs.transform.vars.total }}")'
"""


def _env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "LANNER_VENVS": SHARED_VENVS}


def _flow(tmp_path: Path, text: str, name: str = "flow.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_pipeline_of_scripts_and_its_outputs(tmp_path: Path, env: dict[str, str]) -> None:
    env = _env(env)
    execution = run_json(_flow(tmp_path, PIPELINE), env)
    runs = {r["taskId"]: r for r in execution["taskRunList"]}
    assert execution["state"]["current"] == "SUCCESS", runs
    assert runs["extract"]["outputs"]["exitCode"] == 0
    assert set(runs["extract"]["outputs"]["outputFiles"]) == {"data.csv"}
    transform = runs["transform"]["outputs"]
    assert transform["vars"] == {"total": 7, "rows": 2}
    assert transform["metrics"] == [{"name": "rows", "type": "counter", "value": 2, "tags": {}}]
    assert transform["outputFiles"]["report.txt"].startswith("kestra:///company/team/scripts/")
    # The same outputs through `lanner executions show`.
    shown = lanner("executions", "show", execution["id"], env=env)
    assert shown.returncode == 0, shown.stderr
    again = {r["taskId"]: r for r in json.loads(shown.stdout)["taskRunList"]}
    assert again["transform"]["outputs"]["vars"] == {"total": 7, "rows": 2}
    assert again["transform"]["outputs"]["outputFiles"] == transform["outputFiles"]
    # ... and the files they stored, with their sizes and the text of small ones.
    files = {f["uri"]: f for f in json.loads(shown.stdout)["files"]}
    as_json = lanner("executions", "show", execution["id"], "--json", env=env)
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == json.loads(shown.stdout)
    report = files[transform["outputFiles"]["report.txt"]]
    assert report == {**report, "size": len("total=7\n"), "preview": "total=7\n"}
    data = files[runs["extract"]["outputs"]["outputFiles"]["data.csv"]]
    assert data["preview"] == "name,amount\nada,3\nbob,4\n"
    lines = logs(execution["id"], env)
    assert ("extract", "INFO", "extracted") in lines
    assert ("show", "INFO", "total is 7") in lines


def test_script_output_shows_live_on_the_terminal_and_in_the_store(
    tmp_path: Path, env: dict[str, str]
) -> None:
    env = _env(env)
    flag = tmp_path / "go-on"
    flow = _flow(
        tmp_path,
        f"""
id: live
namespace: company.team
tasks:
  - id: slow_script
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo first line
      - while [ ! -f {flag} ]; do sleep 0.05; done
      - echo second line
""",
    )
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [LANNER, "run", str(flow)], env=env, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL
    )
    os.close(slave)
    seen = ""

    def read_until(pattern: str, timeout: float = 60) -> re.Match[str]:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, seen)
            if found:
                return found
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    seen += os.read(master, 4096).decode(errors="replace")
                except OSError:
                    break
        raise AssertionError(f"{pattern!r} not seen in:\n{seen}")

    try:
        execution_id = read_until(r"Execution (\S+) of company\.team\.live").group(1)
        read_until(r"slow_script │ first line")
        assert "second line" not in seen  # the script is still waiting: this is live
        # The line is in the store too while the task runs.
        deadline = time.monotonic() + 30
        while ("slow_script", "INFO", "first line") not in logs(execution_id, env):
            assert time.monotonic() < deadline, "the running script's log never reached the store"
            time.sleep(0.1)
        flag.touch()
        read_until(r"slow_script │ second line")
        read_until(r"ended SUCCESS")
        assert proc.wait(60) == 0
        # Sent ahead while the task ran, and not again with its result.
        assert logs(execution_id, env).count(("slow_script", "INFO", "first line")) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_a_timeout_stops_the_script(tmp_path: Path, env: dict[str, str]) -> None:
    """A timeout stops the script's whole process group: its background child too."""
    pids = tmp_path / "pids"
    flow = _flow(
        tmp_path,
        f"""
id: slow
namespace: company.team
tasks:
  - id: sleeper
    type: io.kestra.plugin.scripts.shell.Commands
    timeout: PT1S
    commands: ["sleep 60 & echo $! > {pids}", "wait"]
""",
    )
    began = time.monotonic()
    execution = run_json(flow, _env(env))
    assert time.monotonic() - began < 30
    run = execution["taskRunList"][0]
    assert run["state"]["current"] == "FAILED"
    assert ("sleeper", "ERROR", "Timeout after 00:00:01.000") in logs(execution["id"], env)
    child = int(pids.read_text())
    deadline = time.monotonic() + 10
    while _alive(child):  # reaped by init shortly after the group was stopped
        assert time.monotonic() < deadline, f"the script's child {child} outlived its timeout"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


DOCKER_FLOW = """
id: docker
namespace: company.team
tasks:
  - id: in_docker
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: ubuntu:24.04
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      pullPolicy: IF_NOT_PRESENT
    commands: ["echo ran here"]
"""


def test_the_docker_runner_fails_with_how_to_switch(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**_env(env), "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    execution = run_json(_flow(tmp_path, DOCKER_FLOW), env)
    assert execution["state"]["current"] == "FAILED"
    errors = [m for _, level, m in logs(execution["id"], env) if level == "ERROR"]
    assert any("none is reachable" in m and "forced: true" in m for m in errors), errors


def test_a_forced_plugin_default_runs_docker_flows_as_processes(
    tmp_path: Path, env: dict[str, str]
) -> None:
    env = _env(env)
    home = Path(env["LANNER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yml").write_text(
        """
pluginDefaults:
  - type: io.kestra.plugin.scripts
    forced: true
    values:
      taskRunner:
        type: io.kestra.plugin.core.runner.Process
"""
    )
    execution = run_json(_flow(tmp_path, DOCKER_FLOW), env)
    assert execution["state"]["current"] == "SUCCESS"
    lines = logs(execution["id"], env)
    assert ("in_docker", "INFO", "ran here") in lines
    warnings = [m for _, level, m in lines if level == "WARN"]
    assert len(warnings) == 2  # containerImage and pullPolicy, each ignored with one warning


def test_a_secret_reaches_a_script_only_through_its_env_and_is_masked(
    tmp_path: Path, env: dict[str, str]
) -> None:
    secret = "hunter2-very-secret"
    env = {**_env(env), "SECRET_API_TOKEN": base64.b64encode(secret.encode()).decode()}
    flow = _flow(
        tmp_path,
        """
id: secretive
namespace: company.team
tasks:
  - id: uses_it
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      TOKEN: "{{ secret('API_TOKEN') }}"
    commands:
      - echo "token=$TOKEN"
      - echo "raw=${SECRET_API_TOKEN:-absent}"
""",
    )
    execution = run_json(flow, env)
    assert execution["state"]["current"] == "SUCCESS"
    messages = [m for task, _, m in logs(execution["id"], env) if task == "uses_it"]
    assert "raw=absent" in messages
    assert not any(secret in m for m in messages)
    assert any(m.startswith("token=") for m in messages)


def test_each_task_run_has_its_own_working_directory_removed_afterwards(
    tmp_path: Path, env: dict[str, str]
) -> None:
    flow = _flow(
        tmp_path,
        """
id: dirs
namespace: company.team
tasks:
  - id: one
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["touch left-here", "echo $WORKING_DIR"]
  - id: two
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["ls", "echo $WORKING_DIR"]
""",
    )
    env = _env(env)
    execution = run_json(flow, env)
    assert execution["state"]["current"] == "SUCCESS"
    lines = logs(execution["id"], env)
    one = [m for task, _, m in lines if task == "one"]
    two = [m for task, _, m in lines if task == "two"]
    assert two[0] != "left-here" and len(two) == 1  # nothing of `one`'s directory
    assert one[0] != two[0]
    assert not Path(one[0]).exists() and not Path(two[0]).exists()
