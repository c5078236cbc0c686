"""The real `lanner` CLI in a subprocess, on a throw-away SQLite store: what the
integration tests of `tests/integration/flows/` share."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

FLOWS = Path(__file__).resolve().parents[1] / "integration" / "flows"
LANNER = str(Path(sys.executable).parent / "lanner")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a CLI run: its own LANNER_HOME and SQLite store."""
    return {
        **os.environ,
        "LANNER_HOME": str(tmp_path / "home"),
        "LANNER_DB": f"sqlite:///{tmp_path}/lanner.db",
    }


def lanner(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LANNER, *args], env=env, capture_output=True, text=True, timeout=120)


def run_json(flow: str | Path, env: dict[str, str], *extra: str) -> dict[str, Any]:
    """`lanner run FLOW --json` (a name is taken in FLOWS): the final execution."""
    path = flow if isinstance(flow, Path) else FLOWS / flow
    proc = lanner("run", str(path), "--json", *extra, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def run_flow(
    tmp_path: Path, text: str, env: dict[str, str], state: str, *extra: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Write `text` as a flow in `tmp_path`, `lanner run` it (with `extra` arguments) and
    check that it ended in `state`: the final execution and its task runs by task id."""
    execution = run_json(write_flow(tmp_path, text), env, *extra)
    runs = task_runs(execution)
    assert execution["state"]["current"] == state, runs
    return execution, runs


def task_runs(execution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The task runs of a `--json` execution by task id (the last one of a task id)."""
    return {r["taskId"]: r for r in execution["taskRunList"]}


def run_state(run: dict[str, Any]) -> str:
    """A `--json` task run's current state."""
    return str(run["state"]["current"])


def logs(execution_id: str, env: dict[str, str]) -> list[tuple[str | None, str, str]]:
    """(task id, level, message) of each log line of an execution."""
    proc = lanner("logs", execution_id, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    return [(r["taskId"], r["level"], r["message"]) for r in json.loads(proc.stdout)]


def write_flow(tmp_path: Path, text: str, name: str = "flow.yml") -> Path:
    """`text` (dedented) as a flow file in `tmp_path`."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path
