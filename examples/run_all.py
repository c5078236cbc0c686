"""Run every example flow with `lanner run`, offline, and check its final state.

Starts a local webhook receiver on 127.0.0.1:8765 (the URL that
examples/config.yml forces on every Slack task) and a file server on
127.0.0.1:8766 for examples/data/ (the orders CSV of orders_report.yml and
working_directory.yml),
runs each flow of examples/flows/ through the real CLI, and prints what each
ended with. Python script tasks keep their virtual environments in
$LANNER_VENVS (run-examples.sh keeps them in .venv/lanner-venvs).
Exit status 0 when every flow ended as expected.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LANNER = str(Path(sys.executable).parent / "lanner")

EXPECTED = {
    "after_execution_errors": "SUCCESS",
    "alerts_demo": "FAILED",
    "state_demo": "FAILED",
    "log": "SUCCESS",
    "fail": "SUCCESS",
    "exit": "WARNING",
    "sleep_and_timeout": "WARNING",
    "sequential": "FAILED",
    "parallel": "SUCCESS",
    "if_switch": "SUCCESS",
    "foreach": "SUCCESS",
    "allow_failure": "WARNING",
    "outputs_and_variables": "SUCCESS",
    "retries": "WARNING",
    "run_if": "SUCCESS",
    "slack_notification": "SUCCESS",
    "orders_report": "SUCCESS",
    "working_directory": "SUCCESS",
}
DATA_PORT = 8766


def _wait_for_port(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"the file server on 127.0.0.1:{port} did not start")


def main() -> int:
    home = Path(os.environ.get("LANNER_HOME") or tempfile.mkdtemp(prefix="lanner-examples-"))
    env = {**os.environ, "LANNER_HOME": str(home)}
    record = home / "webhooks.jsonl"
    receiver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.http_sink",
            "--port",
            "8765",
            "--record",
            str(record),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert receiver.stdout is not None
    print(f"webhook receiver: {receiver.stdout.readline().strip()}; store: {home}/lanner.db")
    files = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(DATA_PORT), "--bind", "127.0.0.1"],
        cwd=HERE / "data",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(DATA_PORT)
    failures = 0
    try:
        for path in sorted((HERE / "flows").glob("*.yml")):
            proc = subprocess.run(
                [LANNER, "run", str(path), "--json", "--config", str(HERE / "config.yml")],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,  # a Python script's first run builds its virtual environment
            )
            if proc.returncode not in (0, 1):
                print(f"{path.stem:<24} ERROR exit {proc.returncode}: {proc.stderr.strip()}")
                failures += 1
                continue
            execution = json.loads(proc.stdout)
            state = execution["state"]["current"]
            expected = EXPECTED.get(path.stem)
            ok = expected is None or state == expected
            failures += not ok
            runs = ", ".join(
                f"{r['taskId']}={r['state']['current']}" for r in execution["taskRunList"]
            )
            print(
                f"{path.stem:<24} {state:<8} {'ok' if ok else 'expected ' + str(expected)}  [{runs}]"
            )
    finally:
        receiver.terminate()
        receiver.wait(10)
        files.terminate()
        files.wait(10)
    received = record.read_text().splitlines() if record.exists() else []
    print(f"webhook receiver got {len(received)} request(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
