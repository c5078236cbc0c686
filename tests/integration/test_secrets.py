"""Secrets end to end (docs/secrets.md): real `lanner` processes on one store.

Every value computed from a secret is masked in the logs and in
`lanner executions show --json`, printed by a process that has neither the
SECRET_ variable nor the key; the store's bytes never hold it; a task gets
the plain text; a process without the store's key fails the task that needs
a sealed value, and says why.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lanner.expr import ExpressionEngine, Scope
from lanner.expr.secrets import MASK
from tests.support.http_sink import HttpSink
from tests.unit.expr.test_expr_taint import JSON_SECRET, SECRET, TRANSFORMATIONS

LANNER = str(Path(sys.executable).parent / "lanner")
TOKEN = "input-token-4242"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _run(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LANNER, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _env(home: Path, db: str, *, secrets: bool, config: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SECRET_")}
    env.update({"LANNER_HOME": str(home), "LANNER_DB": db})
    env.pop("LANNER_CONFIG", None)
    if config is not None:
        env["LANNER_CONFIG"] = str(config)
    if secrets:
        env["SECRET_X"] = _b64(SECRET)
        env["SECRET_J"] = _b64(JSON_SECRET)
    return env


def _plaintexts() -> list[str]:
    """What each transformation renders to: none may appear anywhere shown or stored."""
    engine = ExpressionEngine()
    scope = Scope({}, dt.datetime.now(dt.UTC), secrets={"X": SECRET, "J": JSON_SECRET}.__getitem__)
    texts = [str.__str__(engine.render("{{ " + e + " }}", scope)) for e in TRANSFORMATIONS]
    assert all(len(t) >= 4 for t in texts)
    return [*texts, SECRET, "hunter-twenty-two", TOKEN, TOKEN[::-1]]


def _flow() -> str:
    lines = ["id: secrets", "namespace: test", "inputs:", "  - id: token", "    type: SECRET"]
    lines += ["tasks:"]
    lines += [
        "  - id: input",
        "    type: io.kestra.plugin.core.debug.Return",
        '    format: "{{ inputs.token | reverse }}"',
    ]
    for i, expression in enumerate(TRANSFORMATIONS):
        template = "{{ " + expression + " }}"
        lines += [
            f"  - id: t{i}",
            "    type: io.kestra.plugin.core.debug.Return",
            f"    format: {json.dumps(template)}",
            f"  - id: l{i}",
            "    type: io.kestra.plugin.core.log.Log",
            f"    message: {json.dumps('logged ' + template + ' and ' + '{{ outputs.t' + str(i) + '.value }}')}",
        ]
    lines += [
        "  - id: labels",
        "    type: io.kestra.plugin.core.execution.Labels",
        "    labels:",
        "      token: \"{{ secret('X') | reverse }}\"",
        "  - id: vars",
        "    type: io.kestra.plugin.core.execution.SetVariables",
        "    variables:",
        "      pw: \"{{ secret('J', null, 'pw') }}\"",
        "  - id: each",
        "    type: io.kestra.plugin.core.flow.ForEach",
        '    values: ["{{ secret(\'X\') | upper }}", "plain"]',
        "    tasks:",
        "      - id: inner",
        "        type: io.kestra.plugin.core.log.Log",
        '        message: "item {{ taskrun.value }}"',
        "  - id: boom",
        "    type: io.kestra.plugin.core.execution.Fail",
        "    errorMessage: \"failed with {{ secret('X') | title }}\"",
    ]
    return "\n".join(lines) + "\n"


def _leaks(text: str, plaintexts: list[str]) -> list[str]:
    return [p for p in plaintexts if p in text]


def test_transformations_are_masked_everywhere_and_never_stored(tmp_path: Path) -> None:
    flow = tmp_path / "secrets.yml"
    flow.write_text(_flow())
    db_file = tmp_path / "lanner.db"
    db = f"sqlite:///{db_file}"
    home = tmp_path / "home"
    run = _run(
        "run", str(flow), "--input", f"token={TOKEN}", "--json", env=_env(home, db, secrets=True)
    )
    assert run.returncode == 1, run.stderr  # the Fail task at the end
    plaintexts = _plaintexts()
    assert _leaks(run.stdout + run.stderr, plaintexts) == []
    execution_id = json.loads(run.stdout)["id"]

    # Shown by processes with neither the secret nor the key.
    bare = tmp_path / "bare"
    for viewer_home in (home, bare):
        env = _env(viewer_home, db, secrets=False)
        show = _run("executions", "show", execution_id, env=env)
        logs = _run("logs", execution_id, "--json", env=env)
        assert show.returncode == 0, show.stderr
        assert logs.returncode == 0, logs.stderr
        assert _leaks(show.stdout + logs.stdout, plaintexts) == []
        execution = json.loads(show.stdout)
        runs = {r["taskId"]: r for r in execution["taskRunList"]}
        for i in range(len(TRANSFORMATIONS)):
            assert runs[f"t{i}"]["outputs"] == {"value": MASK}, TRANSFORMATIONS[i]
        records = json.loads(logs.stdout)
        by_task = {r["taskId"]: r["message"] for r in records}
        for i in range(len(TRANSFORMATIONS)):
            assert MASK in by_task[f"l{i}"], (TRANSFORMATIONS[i], by_task[f"l{i}"])
        assert runs["input"]["outputs"] == {"value": MASK}
        assert execution["inputs"] == {"token": MASK}
        assert {"key": "token", "value": MASK} in execution["labels"]
        assert execution["variables"] == {"pw": MASK}
        assert sorted(r["value"] for r in execution["taskRunList"] if r["value"]) == [
            MASK,
            "plain",
        ]
        assert any(r["message"] == f"failed with {MASK}" for r in records)
    assert not (bare / "instance.key").exists()  # showing never creates a key

    key = home / "instance.key"
    assert key.stat().st_mode & 0o777 == 0o600
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("lanner.db*"))
    assert [p for p in plaintexts if p.encode() in stored] == []


def test_a_task_gets_the_plain_value(tmp_path: Path) -> None:
    with HttpSink() as sink:
        hook = f"{sink.url}/services/T0/B0/very-secret-path"
        flow = tmp_path / "slack.yml"
        flow.write_text(
            "id: slack\nnamespace: test\ntasks:\n"
            "  - id: notify\n"
            "    type: io.kestra.plugin.slack.notifications.SlackIncomingWebhook\n"
            "    url: \"{{ secret('HOOK') }}\"\n"
            '    messageText: "hello"\n'
        )
        db = f"sqlite:///{tmp_path}/lanner.db"
        env = {**_env(tmp_path / "home", db, secrets=False), "SECRET_HOOK": _b64(hook)}
        run = _run("run", str(flow), "--json", env=env)
        assert run.returncode == 0, run.stdout + run.stderr
        [request] = sink.wait_for(1)
        assert request.path == "/services/T0/B0/very-secret-path"
        assert request.json == {"text": "hello"}
        assert "very-secret-path" not in run.stdout


def _wait(env: dict[str, str], execution_id: str, deadline: float) -> dict[str, Any]:
    while True:
        show = _run("executions", "show", execution_id, env=env)
        execution: dict[str, Any] = json.loads(show.stdout)
        if execution["state"]["current"] in ("SUCCESS", "FAILED", "WARNING", "KILLED"):
            return execution
        assert time.monotonic() < deadline, execution["state"]
        time.sleep(0.2)


@pytest.mark.parametrize("worker_key", ["same", "other", "none"])
def test_a_worker_without_the_key_fails_the_task_and_says_why(
    tmp_path: Path, worker_key: str
) -> None:
    """An executor with the secret renders and seals it; a worker without the
    SECRET_ variable runs the task (masking what it logs), unless it lacks the key."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "f.yml").write_text(
        "id: f\nnamespace: test\ntasks:\n"
        "  - id: say\n"
        "    type: io.kestra.plugin.core.log.Log\n"
        "    message: \"token {{ secret('X') | reverse }}\"\n"
    )
    db = f"sqlite:///{tmp_path}/lanner.db"
    home = tmp_path / "home"
    config = tmp_path / "config.yml"
    config.write_text("secrets:\n  key: the-executor-key-0123456789\n")
    executor_env = _env(home, db, secrets=True, config=config)
    worker_home = tmp_path / "worker-home"
    worker_config = tmp_path / "worker.yml"
    if worker_key == "same":
        worker_config = config
    elif worker_key == "other":
        worker_config.write_text("secrets:\n  key: another-key-9876543210\n")
    else:
        worker_config.write_text("worker:\n  threads: 2\n")
    worker_env = _env(worker_home, db, secrets=False, config=worker_config)
    assert _run("flows", "deploy", str(flows), env=executor_env).returncode == 0
    procs = [
        subprocess.Popen([LANNER, "executor"], env=executor_env, stdin=subprocess.DEVNULL),
        subprocess.Popen([LANNER, "worker", "--threads", "1"], env=worker_env),
    ]
    try:
        start = _run("executions", "start", "test", "f", env=executor_env)
        assert start.returncode == 0, start.stderr
        execution_id = start.stdout.strip().split()[-1]
        viewer = _env(tmp_path / "viewer", db, secrets=False)
        execution = _wait(viewer, execution_id, time.monotonic() + 60)
    finally:
        for p in procs:
            p.kill()
            p.wait(10)
    logs = _run("logs", execution_id, env=viewer).stdout
    assert SECRET[::-1] not in logs
    if worker_key == "same":
        assert execution["state"]["current"] == "SUCCESS", logs
        assert f"token {MASK}" in logs or MASK in logs
    else:
        assert execution["state"]["current"] == "FAILED", logs
        reason = "another key" if worker_key == "other" else "no key"
        assert reason in logs, logs


def test_an_executor_with_another_key_fails_the_task_that_reads_a_sealed_output(
    tmp_path: Path,
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "p.yml").write_text(
        "id: p\nnamespace: test\ntasks:\n"
        "  - id: t1\n"
        "    type: io.kestra.plugin.core.debug.Return\n"
        "    format: \"{{ secret('X') }}\"\n"
        "  - id: wait\n"
        "    type: io.kestra.plugin.core.flow.Pause\n"
        "    pauseDuration: PT3S\n"
        "  - id: t3\n"
        "    type: io.kestra.plugin.core.log.Log\n"
        '    message: "got {{ outputs.t1.value }}"\n'
    )
    db = f"sqlite:///{tmp_path}/lanner.db"
    first, other = tmp_path / "first.yml", tmp_path / "other.yml"
    first.write_text("secrets:\n  key: the-first-key-0123456789\n")
    other.write_text("secrets:\n  key: another-key-0123456789\n")
    env_a = _env(tmp_path / "home", db, secrets=True, config=first)
    env_b = _env(tmp_path / "home", db, secrets=False, config=other)
    assert _run("flows", "deploy", str(flows), env=env_a).returncode == 0
    server = subprocess.Popen([LANNER, "server"], env=env_a, stdin=subprocess.DEVNULL)
    try:
        start = _run("executions", "start", "test", "p", env=env_a)
        execution_id = start.stdout.strip().split()[-1]
        deadline = time.monotonic() + 60
        while True:  # until t1 is done and the execution waits in its pause
            shown = json.loads(_run("executions", "show", execution_id, env=env_a).stdout)
            if any(r["taskId"] == "wait" for r in shown["taskRunList"]):
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        server.kill()
        server.wait(10)
    server = subprocess.Popen([LANNER, "server"], env=env_b, stdin=subprocess.DEVNULL)
    try:
        execution = _wait(env_b, execution_id, time.monotonic() + 60)
    finally:
        server.kill()
        server.wait(10)
    runs = {r["taskId"]: r["state"]["current"] for r in execution["taskRunList"]}
    assert runs == {"t1": "SUCCESS", "wait": "SUCCESS", "t3": "FAILED"}
    logs = _run("logs", execution_id, env=env_b).stdout
    assert "encrypted with another key" in logs
    assert SECRET not in logs
