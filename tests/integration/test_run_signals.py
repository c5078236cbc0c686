"""Ctrl-C (SIGINT) and SIGTERM to `lanner run`, as real subprocesses: at any
moment from Lanner's first line, start-up included, the run exits 130 without a
traceback and leaves nothing running; once the execution exists, either signal
kills it as Ctrl-C always did (lanner.cli.interrupts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lanner.store import open_store

LANNER = str(Path(sys.executable).parent / "lanner")

FLOW = (
    "id: stoppable\nnamespace: demo\ntasks:\n"
    "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT30S\n"
    "  - id: late\n    type: io.kestra.plugin.core.log.Log\n    message: too late\n"
    "errors:\n  - id: on_error\n    type: io.kestra.plugin.core.log.Log\n    message: errors ran\n"
    "finally:\n  - id: cleanup\n    type: io.kestra.plugin.core.log.Log\n    message: finally ran\n"
    "afterExecution:\n  - id: report\n    type: io.kestra.plugin.core.log.Log\n"
    '    message: "ended {{ execution.state }}"\n'
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {**os.environ, "LANNER_HOME": str(tmp_path / "home")}
    environment.pop("LANNER_DB", None)
    environment.pop("LANNER_CONFIG", None)
    return environment


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "stoppable.yml"
    path.write_text(FLOW)
    return path


def _states(execution: dict[str, Any]) -> dict[str, str]:
    return {r["taskId"]: r["state"]["current"] for r in execution["taskRunList"]}


def _nothing_left_running(home: str) -> None:
    """Every execution the run created is finalized, and no job is left behind."""
    db = Path(home) / "lanner.db"
    if not db.exists():
        return
    store = open_store(f"sqlite:///{db}")
    try:
        for listed in store.list_executions(limit=10):
            assert listed.finalized_at is not None, listed.state
            assert listed.state.value == "KILLED"
        assert store.counts()["job"] == 0
    finally:
        store.close()


class _Stderr:
    """Reads a process's stderr as it comes; `lanner.cli.launch` is the moment its
    import ends, just before `main` runs (python -X importtime says when)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.launched = threading.Event()
        assert proc.stderr is not None
        self._stream = proc.stderr
        # This thread is stderr's only reader: `communicate` would read it too and
        # close it under the thread's feet.
        proc.stderr = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with self._stream:
            for line in self._stream:
                self.lines.append(line)
                if line.rstrip().endswith("| lanner.cli.launch"):
                    self.launched.set()

    def text(self) -> str:
        self._thread.join(30)
        return "".join(line for line in self.lines if not line.startswith("import time:"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_at_any_moment_of_start_up_exits_130_without_a_traceback(
    flow: Path, env: dict[str, str], signum: int
) -> None:
    # From Lanner's first line (the imports that follow, the store opened and
    # migrated, the flow loaded and deployed, the execution created) to its run.
    for delay in (0.0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6):
        home = tempfile_home(env, f"{signum}-{delay}")
        proc = subprocess.Popen(
            [sys.executable, "-X", "importtime", LANNER, "run", str(flow), "--json"],
            env={**env, "LANNER_HOME": home},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stderr = _Stderr(proc)
        try:
            assert stderr.launched.wait(60), stderr.text()
            time.sleep(delay)  # the moment under test, after Lanner's first line
            proc.send_signal(signum)
            out, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err = stderr.text()
        assert proc.returncode == 130, (delay, proc.returncode, err)
        assert "Traceback" not in err, (delay, err)
        if out:  # the execution existed: it was killed, afterExecution ran
            execution = json.loads(out)
            assert execution["state"]["current"] == "KILLED"
            assert "report" in _states(execution)
        _nothing_left_running(home)


def tempfile_home(env: dict[str, str], name: str) -> str:
    return str(Path(env["LANNER_HOME"]).parent / f"home-{name}")


def test_sigterm_kills_the_execution_as_ctrl_c_does(flow: Path, env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [LANNER, "run", str(flow), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_running(env["LANNER_HOME"], "nap")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert time.monotonic() - started < 25  # the 30 s Sleep was stopped
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    execution = json.loads(out)
    assert execution["state"]["current"] == "KILLED"
    # Running tasks stop, errors and finally do not run, afterExecution runs once.
    assert _states(execution) == {"nap": "KILLED", "report": "SUCCESS"}
    logs = subprocess.run(
        [LANNER, "logs", execution["id"], "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    messages = [r["message"] for r in json.loads(logs.stdout)]
    assert messages.count("ended KILLED") == 1
    assert "errors ran" not in messages and "finally ran" not in messages
    _nothing_left_running(env["LANNER_HOME"])


def test_a_third_signal_leaves_at_once(tmp_path: Path, env: dict[str, str]) -> None:
    flow = tmp_path / "slow_after.yml"
    flow.write_text(
        "id: slow_after\nnamespace: demo\ntasks:\n"
        "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT30S\n"
        "afterExecution:\n  - id: slow\n    type: io.kestra.plugin.core.flow.Sleep\n"
        "    duration: PT60S\n"
    )
    proc = subprocess.Popen(
        [LANNER, "run", str(flow), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_running(env["LANNER_HOME"], "nap")
        proc.send_signal(signal.SIGINT)
        _wait_until_running(env["LANNER_HOME"], "slow")
        proc.send_signal(signal.SIGINT)
        time.sleep(0.2)  # two signals, not one: each is handled on its own
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "signal again to leave it unfinished" in err
    store = open_store(f"sqlite:///{env['LANNER_HOME']}/lanner.db")
    try:
        [listed] = store.list_executions()
        # Left for any executor later started on the store: killed, not finalized,
        # and its afterExecution job handed back (unclaimed), not lost.
        assert listed.state.value == "KILLED" and listed.finalized_at is None
        assert store.counts()["job"] == 1
        assert store.claim_jobs("server", 10, 30, _now())
    finally:
        store.close()


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _wait_until_running(home: str, task_id: str, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    db = Path(home) / "lanner.db"
    while time.monotonic() < end:
        if db.exists():
            store = open_store(f"sqlite:///{db}")
            try:
                for listed in store.list_executions(limit=5):
                    execution = store.get_execution(listed.id)
                    assert execution is not None
                    runs = [r for r in execution.task_runs.values() if r.task_id == task_id]
                    # SUBMITTED: handed to a worker of its own process, which records no start.
                    if runs and runs[0].state.value in ("SUBMITTED", "RUNNING"):
                        return
            finally:
                store.close()
        time.sleep(0.05)  # polling with a deadline
    raise AssertionError(f"{task_id} never ran")
