"""`lanner run` end to end: the real CLI in a subprocess, the embedded SQLite
store, and a real HTTP server on 127.0.0.1 receiving the Slack webhooks that
a forced instance plugin default redirects to it (the seed flows unchanged)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanner.store import open_store
from tests.support.http_sink import HttpSink
from tests.support.seed import SEED_DIR as SEED
from tests.support.seed import SEED_SHA256

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "flows"
LANNER = str(Path(sys.executable).parent / "lanner")


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    server = HttpSink()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def env(tmp_path: Path, sink: HttpSink) -> dict[str, str]:
    config = tmp_path / "config.yml"
    config.write_text(
        "pluginDefaults:\n"
        "  - type: io.kestra.plugin.slack\n"
        "    forced: true\n"
        f"    values: {{url: '{sink.url}/hook'}}\n"
    )
    return {
        **os.environ,
        "LANNER_HOME": str(tmp_path / "home"),
        "LANNER_CONFIG": str(config),
        "LANNER_DB": f"sqlite:///{tmp_path}/lanner.db",
    }


def lanner(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LANNER, *args], env=env, capture_output=True, text=True, timeout=timeout)


def run_json(flow: Path, env: dict[str, str], *extra: str) -> tuple[int, dict[str, Any]]:
    proc = lanner("run", str(flow), "--json", *extra, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def states(execution: dict[str, Any]) -> dict[str, str]:
    return {r["taskId"]: r["state"]["current"] for r in execution["taskRunList"]}


def log_messages(execution_id: str, env: dict[str, str]) -> list[tuple[str | None, str, str]]:
    proc = lanner("logs", execution_id, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    return [(r["taskId"], r["level"], r["message"]) for r in json.loads(proc.stdout)]


def test_examples_hold_the_seed_flows_unchanged() -> None:
    for name, digest in SEED_SHA256.items():
        assert hashlib.sha256((EXAMPLES / name).read_bytes()).hexdigest() == digest, name


def test_alerts_demo_sends_only_on_failure(env: dict[str, str], sink: HttpSink) -> None:
    code, execution = run_json(SEED / "alerts_demo.yml", env)
    assert code == 1
    assert execution["state"]["current"] == "FAILED"
    assert states(execution) == {"fail": "FAILED", "onSuccess": "SKIPPED", "onFailure": "SUCCESS"}
    assert [r.json for r in sink.requests] == [
        {"text": "Oh no, company.team.alerts_demo failed!!!"}
    ]
    run = next(r for r in execution["taskRunList"] if r["taskId"] == "onFailure")
    assert sink.requests[0].headers["idempotency-key"] == f"{run['id']}:1"


def test_after_execution_errors_runs_local_handler_and_keeps_success(
    env: dict[str, str], sink: HttpSink
) -> None:
    code, execution = run_json(SEED / "after_execution_errors.yml", env)
    assert code == 0
    assert execution["state"]["current"] == "SUCCESS"
    assert states(execution) == {
        "hello": "SUCCESS",
        "t2": "FAILED",
        "t2-t1": "SUCCESS",
        "t2-t2": "FAILED",
        "sendAlert": "SUCCESS",
    }
    assert len(sink.requests) == 1
    text = sink.requests[0].json["text"]
    assert (
        text
        == f"Flow company.team.after_execution_errors with execution ID {execution['id']} failed."
    )
    # The execution's terminal state was set before afterExecution started.
    history = [h["state"] for h in execution["state"]["histories"]]
    assert history == ["CREATED", "RUNNING", "SUCCESS"]


def test_state_demo_logs_running_running_failed(env: dict[str, str], sink: HttpSink) -> None:
    code, execution = run_json(SEED / "state_demo.yml", env)
    assert code == 1
    logs = [(t, m) for t, level, m in log_messages(execution["id"], env) if level == "INFO"]
    assert logs == [
        ("run", "Execution RUNNING"),
        ("finally", "Execution RUNNING"),
        ("afterExecution", "Execution FAILED"),
    ]


def test_json_output_has_kestra_api_shape(env: dict[str, str]) -> None:
    _, execution = run_json(SEED / "state_demo.yml", env)
    assert set(execution) >= {
        "id",
        "namespace",
        "flowId",
        "flowRevision",
        "state",
        "inputs",
        "outputs",
        "labels",
        "taskRunList",
    }
    assert len(execution["id"]) == 22 and execution["id"].isalnum()
    run = execution["taskRunList"][0]
    assert set(run) >= {
        "id",
        "executionId",
        "taskId",
        "parentTaskRunId",
        "value",
        "iteration",
        "state",
        "attempts",
        "outputs",
    }
    date = run["state"]["histories"][0]["date"]
    assert date.endswith("Z") and len(date.split(".")[1]) == 7  # microseconds + Z
    assert [r["taskId"] for r in execution["taskRunList"]] == [
        "run",
        "fail",
        "finally",
        "afterExecution",
    ]


def test_every_state_change_is_in_the_store_during_the_run(
    tmp_path: Path, env: dict[str, str]
) -> None:
    flow = tmp_path / "slow.yml"
    flow.write_text(
        "id: slow\nnamespace: demo\ntasks:\n"
        "  - id: first\n    type: io.kestra.plugin.core.log.Log\n    message: one\n"
        "  - id: wait\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT2S\n"
    )
    proc = subprocess.Popen(
        [LANNER, "run", str(flow)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # RUNNING is committed before the task's code runs (docs/runtime.md).
        seen = _wait_for_state(env, "wait", "RUNNING")
        assert seen["first"] == "SUCCESS"
    finally:
        _, err = proc.communicate(timeout=60)  # reads and closes its stderr pipe
    assert proc.returncode == 0, err


def _wait_for_state(
    env: dict[str, str], task_id: str, state: str, deadline: float = 20
) -> dict[str, str]:
    """The run's task run states as the store holds them, once `task_id` is in `state`.
    Read from the store itself, not through the CLI: under load a `lanner` process
    takes seconds to start, longer than the states under test last."""
    end = time.monotonic() + deadline
    store = open_store(env["LANNER_DB"])
    try:
        while time.monotonic() < end:
            listed = store.list_executions(limit=1)
            execution = store.get_execution(listed[0].id) if listed else None
            if execution is not None:
                current = {r.task_id: r.state.value for r in execution.task_runs.values()}
                if current.get(task_id) == state:
                    return current
            time.sleep(0.02)  # polling with a deadline
    finally:
        store.close()
    raise AssertionError(f"{task_id} never reached {state}")


def test_timeout_of_a_flowable_stops_what_would_still_post(
    tmp_path: Path, env: dict[str, str], sink: HttpSink
) -> None:
    flow = tmp_path / "timeout.yml"
    flow.write_text(
        "id: timeout_demo\nnamespace: demo\ntasks:\n"
        "  - id: group\n    type: io.kestra.plugin.core.flow.Sequential\n    timeout: PT0.3S\n    tasks:\n"
        "      - id: nap\n        type: io.kestra.plugin.core.flow.Sleep\n        duration: PT1S\n"
        "      - id: late\n        type: io.kestra.plugin.slack.notifications.SlackIncomingWebhook\n"
        "        url: https://hooks.slack.com/services/xxxxx\n        messageText: too late\n"
    )
    code, execution = run_json(flow, env)
    assert code == 1
    assert states(execution) == {"group": "FAILED", "nap": "KILLED"}
    messages = [m for _, level, m in log_messages(execution["id"], env) if level == "ERROR"]
    assert "Timeout after 00:00:00.300" in messages
    _nothing_arrives(sink, 1.5)


def _nothing_arrives(sink: HttpSink, seconds: float) -> None:
    with pytest.raises(TimeoutError):
        sink.wait_for(1, timeout=seconds)


def test_timeout_of_a_runnable_task_fails_the_attempt(tmp_path: Path, env: dict[str, str]) -> None:
    flow = tmp_path / "timeout_task.yml"
    flow.write_text(
        "id: timeout_task\nnamespace: demo\ntasks:\n"
        "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT60S\n    timeout: PT0.2S\n"
    )
    started = time.monotonic()
    code, execution = run_json(flow, env)
    assert time.monotonic() - started < 40  # long before the 60 s Sleep would end
    assert code == 1
    assert states(execution) == {"nap": "FAILED"}


def test_ctrl_c_kills_the_execution_and_after_execution_still_runs(
    tmp_path: Path, env: dict[str, str], sink: HttpSink
) -> None:
    flow = tmp_path / "kill.yml"
    flow.write_text(
        "id: kill_demo\nnamespace: demo\ntasks:\n"
        "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT5S\n"
        "  - id: late\n    type: io.kestra.plugin.slack.notifications.SlackIncomingWebhook\n"
        "    url: https://hooks.slack.com/services/xxxxx\n    messageText: too late\n"
        "finally:\n  - id: cleanup\n    type: io.kestra.plugin.core.log.Log\n    message: finally\n"
        "afterExecution:\n  - id: report\n    type: io.kestra.plugin.core.log.Log\n"
        '    message: "ended {{ execution.state }}"\n'
    )
    proc = subprocess.Popen(
        [LANNER, "run", str(flow), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_state(env, "nap", "RUNNING")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    execution = json.loads(out)
    assert execution["state"]["current"] == "KILLED"
    assert states(execution) == {"nap": "KILLED", "report": "SUCCESS"}
    logs = [m for t, _, m in log_messages(execution["id"], env) if t == "report"]
    assert logs == ["ended KILLED"]
    _nothing_arrives(sink, 0.5)


def test_parallel_children_really_overlap(tmp_path: Path, env: dict[str, str]) -> None:
    flow = tmp_path / "parallel.yml"
    flow.write_text(
        "id: par\nnamespace: demo\ntasks:\n  - id: p\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
        + "".join(
            f"      - id: s{i}\n        type: io.kestra.plugin.core.flow.Sleep\n        duration: PT0.5S\n"
            for i in range(3)
        )
    )
    _, execution = run_json(flow, env)
    runs = {
        r["taskId"]: r["state"]["histories"] for r in execution["taskRunList"] if r["taskId"] != "p"
    }
    starts = sorted(h[0]["date"] for h in runs.values())
    ends = sorted(h[-1]["date"] for h in runs.values())
    assert starts[-1] < ends[0]  # the last one started before the first one ended


def test_secrets_are_masked_in_logs_and_outputs(tmp_path: Path, env: dict[str, str]) -> None:
    flow = tmp_path / "secret.yml"
    flow.write_text(
        "id: secret_demo\nnamespace: demo\ninputs:\n  - id: token\n    type: SECRET\ntasks:\n"
        "  - id: show\n    type: io.kestra.plugin.core.log.Log\n"
        "    message: \"key={{ secret('API_KEY') }} upper={{ secret('API_KEY') | upper }} token={{ inputs.token }}\"\n"
        "  - id: ret\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ secret('API_KEY') }}\"\n"
    )
    env = {**env, "SECRET_API_KEY": base64.b64encode(b"s3cr3t-value").decode()}
    code, execution = run_json(flow, env, "--input", "token=tok-12345")
    assert code == 0
    assert execution["inputs"] == {"token": "******"}
    dumped = json.dumps(execution)
    assert "s3cr3t-value" not in dumped and "tok-12345" not in dumped
    logs = lanner("logs", execution["id"], env=env).stdout
    assert "s3cr3t-value" not in logs and "S3CR3T-VALUE" not in logs and "tok-12345" not in logs
    assert "key=******" in logs


def test_bad_inputs_run_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    flow = tmp_path / "inputs.yml"
    flow.write_text(
        "id: inputs_demo\nnamespace: demo\ninputs:\n  - id: count\n    type: INT\ntasks:\n"
        '  - id: show\n    type: io.kestra.plugin.core.log.Log\n    message: "{{ inputs.count }}"\n'
    )
    proc = lanner("run", str(flow), "--input", "count=abc", env=env)
    assert proc.returncode == 2
    assert "count" in proc.stderr
    proc = lanner("run", str(flow), "--input", "cuont=1", env=env)
    assert proc.returncode == 2
    assert "count" in proc.stderr
    listing = lanner("executions", "list", "--json", env=env)
    assert json.loads(listing.stdout) == []


def test_run_command_lines_the_short_way_leaves_to_the_full_cli(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """`lanner run` parses plain command lines itself (lanner.cli.launch); help and
    malformed ones still get typer's help and usage errors."""
    proc = lanner("run", "--help", env=env)
    assert proc.returncode == 0 and "FLOW.yml" in proc.stdout and "--input" in proc.stdout
    proc = lanner("run", str(tmp_path / "x.yml"), "--no-such-option", env=env)
    assert proc.returncode == 2 and "No such option" in proc.stderr
    proc = lanner("run", str(tmp_path / "missing.yml"), env=env)
    assert proc.returncode == 2 and "missing.yml" in proc.stderr
    flow = tmp_path / "one.yml"
    flow.write_text(
        "id: one\nnamespace: demo\ntasks:\n"
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
    )
    proc = lanner("run", str(flow), "--db", f"sqlite:///{tmp_path}/other.db", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "ended SUCCESS" in proc.stdout
    assert (tmp_path / "other.db").exists()
