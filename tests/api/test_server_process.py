"""The real `lanner server` process: it serves the API beside its executor
and workers (with --no-worker too), on the port it is told, and says a
taken port clearly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from lanner.store import open_store
from tests.api.conftest import API
from tests.api.flows import HELLO, SLEEPY
from tests.api.process import LANNER, lanner_server
from tests.support.postgres import PostgresServer


def test_lanner_server_serves_the_api_and_runs_executions(tmp_path: Path) -> None:
    with (
        lanner_server(tmp_path, "--threads", "1") as (url, proc),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        assert client.get("/health").json() == {"status": "UP"}
        deployed = client.post(
            f"{API}/flows", content=HELLO, headers={"Content-Type": "application/x-yaml"}
        )
        assert deployed.status_code == 200, deployed.text
        run = client.post(
            f"{API}/executions/company.team/hello",
            files={"name": (None, "process")},
            params={"wait": "true"},
        ).json()
        assert run["state"]["current"] == "SUCCESS"
    assert proc.returncode == 0


def test_an_idle_server_stays_under_150_mb(tmp_path: Path) -> None:
    """The issue's bar for an idle server (API + UI + executor + workers): the heavy
    client libraries of the task families (boto3, pyarrow, drivers...) load lazily,
    when a task needs them, not at start (bench/bench_api.py measures it too)."""
    with (
        lanner_server(tmp_path, "--threads", "2") as (url, proc),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        assert client.get("/ui/").status_code == 200
        assert client.get(f"{API}/flows/search").status_code == 200
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss_kb = int(
            next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]
        )
        assert rss_kb < 150 * 1024, f"idle server RSS {rss_kb / 1024:.1f} MB"


def test_no_worker_server_still_answers(tmp_path: Path) -> None:
    with lanner_server(tmp_path, "--no-worker") as (url, _), httpx.Client(base_url=url) as client:
        assert client.get(f"{API}/flows/search").json()["total"] == 0


@pytest.mark.postgres
def test_two_servers_on_one_postgresql_both_serve_the_api(
    postgres_server: PostgresServer,
    tmp_path: Path,
) -> None:
    """Several servers on one PostgreSQL all serve the API: a flow deployed through
    one is started through the other, a `--no-worker` replica (API + executor),
    whose answer waits for the task runs a worker of the first one ran."""
    db = postgres_server.new_database()
    store = open_store(db)
    try:
        store.migrate()
    finally:
        store.close()
    with (
        lanner_server(tmp_path, "--db", db, "--threads", "1") as (full_url, _),
        lanner_server(tmp_path, "--db", db, "--no-worker") as (replica_url, _),
        httpx.Client(base_url=full_url, timeout=60) as full,
        httpx.Client(base_url=replica_url, timeout=60) as replica,
    ):
        assert full_url != replica_url
        deployed = full.post(
            f"{API}/flows", content=HELLO, headers={"Content-Type": "application/x-yaml"}
        )
        assert deployed.status_code == 200, deployed.text
        assert replica.get(f"{API}/flows/company.team/hello").json()["revision"] == 1
        run = replica.post(
            f"{API}/executions/company.team/hello",
            files={"name": (None, "replica")},
            params={"wait": "true"},
        ).json()
        assert run["state"]["current"] == "SUCCESS", run
        assert [t["taskId"] for t in run["taskRunList"]] == ["say", "warn"]
        seen = full.get(f"{API}/executions/{run['id']}").json()
        assert seen["state"]["current"] == "SUCCESS"
        found = full.get(
            f"{API}/executions/search", params={"filters[flowId][EQUALS]": "hello"}
        ).json()
        assert [e["id"] for e in found["results"]] == [run["id"]]


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "LANNER_HOME": str(tmp_path)}
        env.pop("LANNER_DB", None)
        proc = subprocess.run(
            [LANNER, "server", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode != 0
    assert f"cannot serve HTTP on 127.0.0.1:{port}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_cli_does_not_load_the_api() -> None:
    """A cold `lanner run` (and every role's module) must not pay for FastAPI."""
    code = (
        "import sys, lanner.cli.main, lanner.cli.roles, lanner.runtime.serve;"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('fastapi', 'uvicorn', 'starlette', 'lanner') and m.startswith(('fastapi', 'uvicorn',"
        " 'starlette', 'lanner.api')));"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_sigterm_ends_the_server_while_a_request_waits(tmp_path: Path) -> None:
    """A `wait=true` request for an execution that will not end in time must not
    keep a stopping server alive: it is answered with the execution as it stands."""
    (tmp_path / "config.yml").write_text("worker:\n  shutdownGraceSeconds: 1\n")
    with (
        lanner_server(tmp_path, "--threads", "1") as (url, proc),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        deployed = client.post(
            f"{API}/flows", content=SLEEPY, headers={"Content-Type": "application/x-yaml"}
        )
        assert deployed.status_code == 200, deployed.text
        answers: list[httpx.Response | BaseException] = []

        def wait() -> None:
            try:
                answers.append(
                    client.post(f"{API}/executions/company.team/sleepy", params={"wait": "true"})
                )
            except httpx.HTTPError as exc:
                answers.append(exc)

        waiting = threading.Thread(target=wait)
        waiting.start()
        deadline = time.monotonic() + 60
        while not client.get(
            f"{API}/executions/search", params={"filters[state][EQUALS]": "RUNNING"}
        ).json()["total"]:
            assert time.monotonic() < deadline, "never RUNNING"
            time.sleep(0.05)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert time.monotonic() - started < 20
        waiting.join(30)
    assert proc.returncode == 0
    [answer] = answers
    if isinstance(answer, httpx.Response):
        assert answer.status_code == 200 and answer.json()["state"]["current"] == "RUNNING"
