"""Request and Download through the real `lanner run`, against a real server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import LANNER, lanner, logs, run_json, write_flow
from tests.support.http_origin import HttpOrigin

TOKEN = "tok-0f9e8d7c6b5a"


@pytest.fixture
def origin() -> Iterator[HttpOrigin]:
    with HttpOrigin() as server:
        yield server


def task_run(execution: dict[str, Any], task_id: str) -> dict[str, Any]:
    runs: list[dict[str, Any]] = [t for t in execution["taskRunList"] if t["taskId"] == task_id]
    [run] = runs
    return run


def test_download_then_upload_then_log_through_lanner_run(
    origin: HttpOrigin, tmp_path: Path, env: dict[str, str]
) -> None:
    flow = write_flow(
        tmp_path,
        f"""\
        id: http_pipeline
        namespace: company.team
        tasks:
          - id: extract
            type: io.kestra.plugin.core.http.Download
            uri: {origin.url}/named?cd=attachment%3B%20filename%3D%22orders.csv%22
          - id: upload
            type: io.kestra.plugin.core.http.Request
            uri: {origin.url}/echo
            method: POST
            contentType: multipart/form-data
            formData:
              file: "{{{{ outputs.extract.uri }}}}"
              note: from lanner
          - id: status
            type: io.kestra.plugin.fs.http.Request
            uri: {origin.url}/status/404
            options:
              allowedResponseCodes: [404]
          - id: show
            type: io.kestra.plugin.core.log.Log
            message: "{{{{ outputs.status.code }}}} {{{{ outputs.extract.length }}}}"
        """,
    )
    execution = run_json(flow, env)
    assert execution["state"]["current"] == "SUCCESS", execution
    extract = task_run(execution, "extract")["outputs"]
    assert extract["uri"].endswith("/orders.csv") and extract["length"] == 5
    assert extract["code"] == 200
    upload = json.loads(task_run(execution, "upload")["outputs"]["body"])
    assert 'filename="orders.csv"' in upload["body"] and "named" in upload["body"]
    assert ("show", "INFO", "404 5") in logs(execution["id"], env)


def test_request_failure_fails_the_execution_with_the_code(
    origin: HttpOrigin, tmp_path: Path, env: dict[str, str]
) -> None:
    flow = write_flow(
        tmp_path,
        f"""\
        id: http_fail
        namespace: company.team
        tasks:
          - id: call
            type: io.kestra.plugin.core.http.Request
            uri: {origin.url}/status/500
        """,
    )
    execution = run_json(flow, env)
    assert execution["state"]["current"] == "FAILED"
    messages = [m for _, level, m in logs(execution["id"], env) if level == "ERROR"]
    assert any("response code 500" in m for m in messages), messages


def test_secret_headers_and_encrypted_body_never_show(
    origin: HttpOrigin, tmp_path: Path, env: dict[str, str]
) -> None:
    env = {**env, "SECRET_API_TOKEN": base64.b64encode(TOKEN.encode()).decode()}
    flow = write_flow(
        tmp_path,
        f"""\
        id: http_secret
        namespace: company.team
        tasks:
          - id: call
            type: io.kestra.plugin.core.http.Request
            uri: {origin.url}/status/200
            headers:
              X-Api-Key: "{{{{ secret('API_TOKEN') }}}}"
            options:
              logs: [REQUEST_HEADERS]
            encryptBody: true
          - id: show
            type: io.kestra.plugin.core.log.Log
            message: "got {{{{ outputs.call.encryptedBody }}}}"
          - id: forward
            type: io.kestra.plugin.core.http.Request
            uri: {origin.url}/echo
            method: POST
            contentType: text/plain
            body: "{{{{ outputs.call.encryptedBody }}}}"
        """,
    )
    proc = lanner("run", str(flow), "--json", env=env)
    execution = json.loads(proc.stdout)
    assert execution["state"]["current"] == "SUCCESS", proc.stderr
    # The server got the real values ...
    seen = origin.requests
    assert seen[0].headers["x-api-key"] == TOKEN
    assert seen[1].body == b"status 200"
    # ... and nothing Lanner shows holds them.
    lines = logs(execution["id"], env)
    shown = proc.stdout + proc.stderr + json.dumps(lines)
    assert TOKEN not in shown
    assert "status 200" not in shown
    assert any("X-Api-Key: ******" in m for _, _, m in lines)
    assert ("show", "INFO", "got ******") in lines
    assert "body" not in task_run(execution, "call")["outputs"]
    # Stored sealed: the database file holds neither value in clear.
    database = Path(env["LANNER_DB"].removeprefix("sqlite:///")).read_bytes()
    assert TOKEN.encode() not in database and b"status 200" not in database


def test_download_of_200_mb_streams_in_bounded_memory(
    origin: HttpOrigin, tmp_path: Path, env: dict[str, str]
) -> None:
    size = 200 * 1024 * 1024
    flow = write_flow(
        tmp_path,
        f"""\
        id: http_big
        namespace: company.team
        tasks:
          - id: big
            type: io.kestra.plugin.core.http.Download
            uri: {origin.url}/bytes/{size}
        """,
    )
    # The peak RSS of `lanner run` (and of anything it waited for), measured by a parent
    # of its own so that pytest's memory does not count.
    measure = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(p.stdout)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", measure, LANNER, "run", str(flow), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    peak_kib, _, out = proc.stdout.partition("\n")
    execution = json.loads(out)
    assert execution["state"]["current"] == "SUCCESS", proc.stderr
    assert task_run(execution, "big")["outputs"]["length"] == size
    peak_mb = int(peak_kib) / 1024
    print(f"peak RSS of lanner run: {peak_mb:.0f} MB")
    assert peak_mb < 100, f"lanner run peaked at {peak_mb:.0f} MB for a 200 MB download"
    # Named from the URL's last segment.
    [stored] = Path(env["LANNER_HOME"]).rglob(str(size))
    assert stored.stat().st_size == size


def test_dynamic_properties_rendered_by_the_executor(
    origin: HttpOrigin, tmp_path: Path, env: dict[str, str]
) -> None:
    flow = write_flow(
        tmp_path,
        f"""\
        id: http_dynamic
        namespace: company.team
        inputs:
          - id: base
            type: STRING
            defaults: {origin.url}
          - id: verb
            type: STRING
            defaults: put
          - id: codes
            type: JSON
            defaults: "[418]"
        tasks:
          - id: teapot
            type: io.kestra.plugin.core.http.Request
            uri: "{{{{ inputs.base }}}}/status/418"
            options:
              allowedResponseCodes: "{{{{ inputs.codes }}}}"
              followRedirects: "{{{{ true }}}}"
          - id: send
            type: io.kestra.plugin.core.http.Request
            uri: "{{{{ inputs.base }}}}/echo"
            method: "{{{{ inputs.verb }}}}"
            formData: "{{{{ {{'code': outputs.teapot.code}} | toJson }}}}"
            headers: "{{{{ {{'X-Code': outputs.teapot.code ~ ''}} | toJson }}}}"
          - id: empty
            type: io.kestra.plugin.core.http.Download
            uri: "{{{{ inputs.base }}}}/empty"
            failOnEmptyResponse: "{{{{ false }}}}"
        """,
    )
    execution = run_json(flow, env)
    assert execution["state"]["current"] == "SUCCESS", execution
    assert task_run(execution, "teapot")["outputs"]["code"] == 418
    sent = json.loads(task_run(execution, "send")["outputs"]["body"])
    assert sent["method"] == "PUT" and sent["body"] == "code=418"
    assert sent["headers"]["x-code"] == "418"
    assert task_run(execution, "empty")["outputs"]["length"] == 0


def test_task_timeout_stops_a_slow_request(
    origin: HttpOrigin, tmp_path: Path, env: dict[str, str]
) -> None:
    flow = write_flow(
        tmp_path,
        f"""\
        id: http_timeout
        namespace: company.team
        tasks:
          - id: slow
            type: io.kestra.plugin.core.http.Download
            uri: {origin.url}/slow/30
            timeout: PT0.5S
        """,
    )
    started = time.monotonic()
    execution = run_json(flow, env)
    assert time.monotonic() - started < 20
    assert execution["state"]["current"] == "FAILED"
    messages = [m for _, level, m in logs(execution["id"], env) if level == "ERROR"]
    assert any("Timeout after" in m for m in messages), messages


def test_retry_of_a_failed_request(origin: HttpOrigin, tmp_path: Path, env: dict[str, str]) -> None:
    flow = write_flow(
        tmp_path,
        f"""\
        id: http_retry
        namespace: company.team
        tasks:
          - id: call
            type: io.kestra.plugin.core.http.Request
            uri: {origin.url}/flaky/call/2
            retry:
              type: constant
              interval: PT0.1S
              maxAttempts: 3
        """,
    )
    execution = run_json(flow, env)
    assert execution["state"]["current"] == "SUCCESS", execution
    run = task_run(execution, "call")
    assert [a["state"]["current"] for a in run["attempts"]] == ["FAILED", "FAILED", "SUCCESS"]
    assert run["outputs"]["body"] == "recovered"
