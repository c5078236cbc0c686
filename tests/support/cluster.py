"""Real `lanner` processes on one store, for the runtime and crash tests.

A `Cluster` writes a configuration (short leases, so that a lost worker is
noticed in seconds; Slack webhooks forced to a local HTTP sink), starts
`lanner server|executor|worker` subprocesses with `LANNER_CRASH_AT` when a
test arms a crash point, and creates executions straight in the store (a
CLI round trip per execution would dominate the chaos run).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lanner.engine.execution import Execution
from lanner.errors import LannerError
from lanner.model.flow import Flow
from lanner.model.validate import load_flow_file
from lanner.plugin import TaskRegistry
from lanner.runtime.newexecution import new_execution, start_event
from lanner.store import open_store
from lanner.store.base import Store

LANNER = str(Path(sys.executable).parent / "lanner")


@dataclass
class Proc:
    role: str
    popen: subprocess.Popen[bytes]
    log: Path
    crash_at: str | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    db_url: str
    home: Path
    sink_url: str = "http://127.0.0.1:9/unused"
    lease_seconds: float = 2.0
    max_claims: int = 3
    grace_seconds: float = 5.0
    procs: list[Proc] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.config = self.home / "config.yml"
        self.write_config()
        self.registry = TaskRegistry.from_entry_points()
        self.store: Store = open_store(self.db_url)
        self.flows: dict[tuple[str, str], tuple[Flow, int]] = {}

    def write_config(self) -> None:
        """The configuration every process of the cluster reads (rewrite it after a change)."""
        self.config.write_text(
            "pluginDefaults:\n"
            "  - type: io.kestra.plugin.slack\n"
            "    forced: true\n"
            f"    values: {{url: '{self.sink_url}/hook'}}\n"
            "worker:\n"
            "  threads: 4\n"
            f"  leaseSeconds: {self.lease_seconds}\n"
            f"  shutdownGraceSeconds: {self.grace_seconds}\n"
            "executor:\n"
            f"  maxClaims: {self.max_claims}\n"
        )

    # -- processes ---------------------------------------------------------------------
    def env(self, crash_at: str | None = None) -> dict[str, str]:
        env = {
            **os.environ,
            "LANNER_HOME": str(self.home),
            "LANNER_DB": self.db_url,
            "LANNER_CONFIG": str(self.config),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("LANNER_CRASH_AT", None)
        if crash_at:
            env["LANNER_CRASH_AT"] = crash_at
        return env

    def spawn(self, role: str, *args: str, crash_at: str | None = None) -> Proc:
        log = self.home / f"{role}-{len(self.procs)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [LANNER, role, *args],
                env=self.env(crash_at),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        proc = Proc(role, popen, log, crash_at)
        self.procs.append(proc)
        return proc

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [LANNER, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def close(self) -> None:
        for proc in self.procs:
            proc.kill()
        self.store.close()

    # -- flows and executions ------------------------------------------------------------
    def deploy(self, *paths: Path) -> None:
        for path in paths:
            flow, source = load_flow_file(path, self.registry)
            revision, _ = self.store.deploy_flow(flow.namespace, flow.id, source)
            self.flows[(flow.namespace, flow.id)] = (flow, revision)

    def start(self, namespace: str, flow_id: str, inputs: Mapping[str, Any] | None = None) -> str:
        flow, revision = self.flows[(namespace, flow_id)]
        now = datetime.now(UTC)
        execution = new_execution(flow, revision, inputs or {}, now, from_strings=False)
        self.store.create_execution(execution, [start_event(execution, now)])
        return execution.id

    def wait_finalized(self, ids: Iterable[str], timeout: float = 60) -> list[Execution]:
        """Poll until every execution is finalized; fails with the stragglers' states."""
        wanted = list(ids)
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = [self.store.get_execution(i) for i in wanted]
            except LannerError:  # the database restarting: poll again
                time.sleep(0.2)
                continue
            if all(e is not None and e.finalized_at is not None for e in found):
                return [e for e in found if e is not None]
            if time.monotonic() > deadline:
                late = {
                    i: (e.state.value if e else "missing")
                    for i, e in zip(wanted, found, strict=True)
                    if e is None or e.finalized_at is None
                }
                logs = "\n".join(
                    f"--- {p.role} {p.crash_at}\n{p.output()[-2000:]}" for p in self.procs
                )
                raise AssertionError(f"not finalized after {timeout} s: {late}\n{logs}")
            time.sleep(0.05)

    def wait_for(self, predicate: Any, timeout: float = 30, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = predicate()
            except LannerError:
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.02)


@pytest.fixture(name="cluster")
def sqlite_cluster_fixture(tmp_path: Path) -> Iterator[Cluster]:
    """Import it as `sqlite_cluster_fixture` and ask for `cluster`: a Cluster on a SQLite
    store of the test's own and no sink, in place of tests/conftest.py's `cluster` (one
    per backend) where the store is not what is tested (the broker crash tests)."""
    c = Cluster(f"sqlite://{tmp_path / 'lanner.db'}", tmp_path / "home")
    try:
        yield c
    finally:
        c.close()
