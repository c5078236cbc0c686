"""`sla` and `listeners` end to end: `lanner run` in a subprocess on our own flows
(tests/integration/flows/), with the embedded SQLite store and a real worker."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import FLOWS, LANNER


def run(flow: str, env: dict[str, str], *inputs: str) -> tuple[int, dict[str, Any]]:
    args = [a for i in inputs for a in ("--input", i)]
    proc = subprocess.run(
        [LANNER, "run", str(FLOWS / f"{flow}.yml"), "--json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def states(execution: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["taskId"], r["state"]["current"]) for r in execution["taskRunList"]]


def labels(execution: dict[str, Any]) -> dict[str, str]:
    """The execution's own labels (system.* ones, such as system.correlationId, left out)."""
    return {
        label["key"]: label["value"]
        for label in execution.get("labels") or []
        if not label["key"].startswith("system.")
    }


def logs(execution_id: str, env: dict[str, str]) -> list[tuple[str | None, str, str]]:
    proc = subprocess.run(
        [LANNER, "logs", execution_id, "--json"], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return [(r["taskId"], r["level"], r["message"]) for r in json.loads(proc.stdout)]


def test_max_duration_fail_stops_a_sleeping_execution(env: dict[str, str]) -> None:
    started = time.monotonic()
    code, execution = run("sla_max_duration_fail", env)
    # The Sleep of PT30S is stopped by the SLA of PT0.5S, not waited for.
    assert time.monotonic() - started < 25
    assert code == 1
    assert execution["state"]["current"] == "FAILED"
    assert states(execution) == [("sleep", "FAILED"), ("after", "SUCCESS")]
    assert labels(execution) == {"sla": "miss"}
    lines = logs(execution["id"], env)
    assert ("after", "INFO", "after FAILED") in lines
    assert any(
        level == "ERROR" and m.startswith("Execution failed due to SLA 'maxDuration' violated")
        for _, level, m in lines
    )


def test_a_met_max_duration_leaves_its_timer_stored_and_harmless(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, execution = run("sla_max_duration_ok", env)
    assert code == 0
    assert execution["state"]["current"] == "SUCCESS"
    assert labels(execution) == {}
    with sqlite3.connect(tmp_path / "lanner.db") as db:
        [(created,)] = db.execute("SELECT created_at FROM execution").fetchall()
        timers = db.execute(
            "SELECT visible_at, dedup_key FROM execution_event WHERE kind = 'SlaDue'"
        ).fetchall()
    # The timer was written with the start: one row, due an hour after the creation.
    [(due, key)] = timers
    assert key == f"timer:{execution['id']}:SlaDue:0:0"
    assert 3600 <= (due - created) / 1e6 < 3605


@pytest.mark.parametrize(
    ("value", "code", "state", "tasks", "expected_labels"),
    [
        ("CANCEL", 1, "CANCELLED", [], {}),
        ("LABEL", 0, "SUCCESS", [("return", "SUCCESS")], {"sla": "violated"}),
        ("PASS", 0, "SUCCESS", [("return", "SUCCESS")], {}),
    ],
)
def test_execution_assertion(
    env: dict[str, str],
    value: str,
    code: int,
    state: str,
    tasks: list[tuple[str, str]],
    expected_labels: dict[str, str],
) -> None:
    got, execution = run("sla_assert_cancel", env, f"string={value}")
    assert got == code
    assert execution["state"]["current"] == state
    assert states(execution) == tasks
    assert labels(execution) == expected_labels


@pytest.mark.parametrize(
    ("fail", "state", "tasks"),
    [
        ("true", "FAILED", [("work", "FAILED"), ("alert", "SUCCESS"), ("after", "SUCCESS")]),
        ("false", "SUCCESS", [("work", "SKIPPED"), ("after", "SUCCESS")]),
    ],
)
def test_listeners_run_on_failed_only(
    env: dict[str, str], fail: str, state: str, tasks: list[tuple[str, str]]
) -> None:
    _, execution = run("listeners_on_failure", env, f"fail={fail}")
    assert execution["state"]["current"] == state
    assert states(execution) == tasks
    lines = logs(execution["id"], env)
    assert ("after", "INFO", f"after {state}") in lines
    assert (("alert", "INFO", "alert: FAILED") in lines) == (fail == "true")
