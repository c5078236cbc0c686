"""Durable-runtime benchmarks (issue: executors and workers on SQLite and
PostgreSQL), each printed beside a floor measured in the same run.

- Throughput of a 2-task flow (Return + Log), executions started as fast as
  they complete (a feeder keeps IN_FLIGHT executions waiting), every state
  change durable: one `lanner server` on SQLite; one `lanner executor` and
  two `lanner worker` processes on PostgreSQL. Bars: 6,000 and 3,000
  executions per minute.
- The floor: plain SQL doing the same claims and writes per execution, one
  transaction each, in one process (create + start event; a cycle per task
  that consumes an event, writes the task run and its job; a claim; a
  completion that deletes the job and writes the result event; the final
  cycle).
- End-to-end latency of one 2-task execution on an idle server (SQLite):
  median under 50 ms, p99 under 200 ms.
- Idle `lanner server` resident memory: under 150 MB.

    .venv/bin/python bench/bench_cluster.py [--seconds S] [--postgres URL]

PostgreSQL defaults to a new database on postgresql://postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import collections
import os
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.newexecution import new_execution, start_event
from lanner.store import open_store
from lanner.store.base import Store

LANNER = str(Path(sys.executable).parent / "lanner")
IN_FLIGHT = 64
FLOW = """
id: two
namespace: bench
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.id }}"
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.ret.value }}"
"""

# -- the floor ------------------------------------------------------------------------
SCHEMA = [
    "CREATE TABLE execution (id TEXT PRIMARY KEY, state TEXT, doc TEXT)",
    "CREATE TABLE task_run (id TEXT PRIMARY KEY, execution_id TEXT, state TEXT, doc TEXT)",
    "CREATE TABLE job (id TEXT PRIMARY KEY, execution_id TEXT, token TEXT, payload TEXT)",
    "CREATE TABLE event (id INTEGER PRIMARY KEY, execution_id TEXT, payload TEXT)",
]


def floor_transactions(execution_id: str) -> list[list[tuple[str, tuple[Any, ...]]]]:
    """The writes of one 2-task execution, one list per transaction."""
    e = execution_id
    txs: list[list[tuple[str, tuple[Any, ...]]]] = [
        [
            ("INSERT INTO execution VALUES (?, 'CREATED', '{}')", (e,)),
            ("INSERT INTO event (execution_id, payload) VALUES (?, 'start')", (e,)),
        ]
    ]
    for t in ("ret", "log"):
        txs.append(  # the executor's cycle
            [
                ("DELETE FROM event WHERE execution_id = ?", (e,)),
                ("UPDATE execution SET state = 'RUNNING' WHERE id = ?", (e,)),
                ("INSERT INTO task_run VALUES (?, ?, 'SUBMITTED', '{}')", (f"{e}{t}", e)),
                ("INSERT INTO job VALUES (?, ?, NULL, '{}')", (f"{e}{t}", e)),
            ]
        )
        txs.append([("UPDATE job SET token = 'x' WHERE id = ?", (f"{e}{t}",))])  # claim
        txs.append(  # completion
            [
                ("DELETE FROM job WHERE id = ? AND token = 'x'", (f"{e}{t}",)),
                ("INSERT INTO event (execution_id, payload) VALUES (?, 'result')", (e,)),
            ]
        )
        txs.append([("UPDATE task_run SET state = 'SUCCESS' WHERE id = ?", (f"{e}{t}",))])
    txs.append(
        [
            ("DELETE FROM event WHERE execution_id = ?", (e,)),
            ("UPDATE execution SET state = 'SUCCESS' WHERE id = ?", (e,)),
        ]
    )
    return txs


def floor_sqlite(directory: str, seconds: float) -> float:
    db = sqlite3.connect(os.path.join(directory, "floor.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for sql in SCHEMA:
        db.execute(sql)
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for tx in floor_transactions(f"e{done}"):
            db.execute("BEGIN IMMEDIATE")
            for sql, args in tx:
                db.execute(sql, args)
            db.execute("COMMIT")
        done += 1
    return done / (time.perf_counter() - start) * 60


def floor_postgres(url: str, seconds: float) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for sql in SCHEMA:
            conn.execute(sql.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY"))
        done = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            for tx in floor_transactions(f"e{done}"):
                with conn.transaction():
                    for sql, args in tx:
                        conn.execute(sql.replace("?", "%s"), args)
            done += 1
        return done / (time.perf_counter() - start) * 60


# -- Lanner ---------------------------------------------------------------------------
def spawn(role: str, url: str, home: str, *args: str) -> subprocess.Popen[bytes]:
    # LANNER_PORT=0: the server's API takes a free port (8080 may be taken).
    env = {**os.environ, "LANNER_HOME": home, "LANNER_DB": url, "LANNER_PORT": "0"}
    env.pop("LANNER_CRASH_AT", None)
    return subprocess.Popen(
        [LANNER, role, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def finalized_count(store: Store) -> int:
    return store.counts().get("finalized", 0)


def throughput(url: str, seconds: float) -> float:
    """Executions per minute finished by the processes already running on `url`."""
    store = open_store(url)
    flow = load_flow(FLOW, TaskRegistry.from_entry_points())
    revision, _ = store.deploy_flow(flow.namespace, flow.id, FLOW)
    started: list[str] = []
    stop = threading.Event()

    def feed() -> None:
        # In flight: started and not seen finalized. Executions end about in the
        # order they start, so looking at the oldest one (a primary-key read) is
        # enough; counting rows on every poll cost the server more CPU than the
        # processes under test on a 2-core machine.
        feeder = open_store(url)
        waiting: collections.deque[str] = collections.deque()
        while not stop.is_set():
            if len(waiting) >= IN_FLIGHT:
                oldest = feeder.get_execution(waiting[0])
                if oldest is None or oldest.finalized_at is None:
                    time.sleep(0.002)
                    continue
                waiting.popleft()
            now = datetime.now(UTC)
            execution = new_execution(flow, revision, {}, now)
            feeder.create_execution(execution, [start_event(execution, now)])
            started.append(execution.id)
            waiting.append(execution.id)
        feeder.close()

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    time.sleep(2.0)  # warm-up: processes started, caches filled
    first = finalized_count(store)
    t0 = time.perf_counter()
    time.sleep(seconds)
    done = finalized_count(store) - first
    elapsed = time.perf_counter() - t0
    stop.set()
    thread.join()
    store.close()
    return done / elapsed * 60


def latency(url: str, runs: int) -> list[float]:
    store = open_store(url)
    flow = load_flow(FLOW, TaskRegistry.from_entry_points())
    revision, _ = store.deploy_flow(flow.namespace, flow.id, FLOW)
    times: list[float] = []
    for _ in range(runs):
        time.sleep(0.05)  # an idle server between executions
        now = datetime.now(UTC)
        execution = new_execution(flow, revision, {}, now)
        t0 = time.perf_counter()
        store.create_execution(execution, [start_event(execution, now)])
        while True:
            got = store.get_execution(execution.id)
            if got is not None and got.finalized_at is not None:
                break
            time.sleep(0.0005)
        times.append(time.perf_counter() - t0)
    store.close()
    return times


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def new_pg_database(admin: str) -> str:
    import psycopg

    name = f"lanner_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(admin: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


def row(name: str, value: str, floor: str, ratio: str, bar: str, ok: bool) -> None:
    print(f"{name:<36}{value:>14}{floor:>14}{ratio:>9}  {bar} {'ok' if ok else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    missed = 0
    print(f"{'benchmark':<36}{'lanner':>14}{'floor':>14}{'ratio':>9}  bar")
    with tempfile.TemporaryDirectory(prefix="lanner-bench-") as home:
        url = f"sqlite://{home}/lanner.db"
        server = spawn("server", url, home)
        try:
            time.sleep(3.0)
            idle = rss_mb(server.pid)
            ok = idle < 150
            missed += not ok
            row("idle server RSS", f"{idle:.1f} MB", "-", "-", "< 150 MB", ok)
            lat = sorted(latency(url, 100))
            med, p99 = statistics.median(lat) * 1000, lat[int(len(lat) * 0.99) - 1] * 1000
            ok = med < 50 and p99 < 200
            missed += not ok
            row(
                "latency, 2-task execution",
                f"{med:.1f}/{p99:.1f}ms",
                "-",
                "-",
                "median < 50 ms, p99 < 200 ms",
                ok,
            )
            rate = throughput(url, args.seconds)
        finally:
            stop([server])
        base = floor_sqlite(home, 5.0)
        ok = rate >= 6000
        missed += not ok
        row(
            "throughput, SQLite, 1 server",
            f"{rate:,.0f}/min",
            f"{base:,.0f}/min",
            f"{rate / base:.2f}x",
            ">= 6,000/min",
            ok,
        )
    if not args.no_postgres:
        url = new_pg_database(args.postgres)
        with tempfile.TemporaryDirectory(prefix="lanner-bench-") as home:
            open_store(url).close()  # migrated once, before the processes race for it
            procs = [
                spawn("executor", url, home),
                spawn("worker", url, home, "--threads", "4"),
                spawn("worker", url, home, "--threads", "4"),
            ]
            try:
                rate = throughput(url, args.seconds)
            finally:
                stop(procs)
            base_url = new_pg_database(args.postgres)
            try:
                base = floor_postgres(base_url, 5.0)
            finally:
                drop_pg_database(args.postgres, base_url)
            drop_pg_database(args.postgres, url)
        ok = rate >= 3000
        missed += not ok
        row(
            "throughput, PostgreSQL, 1+2 procs",
            f"{rate:,.0f}/min",
            f"{base:,.0f}/min",
            f"{rate / base:.2f}x",
            ">= 3,000/min",
            ok,
        )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
