"""Execution-core benchmarks (issue: `lanner run`), printed as ratios against a
floor measured in the same run.

The floor is plain Python writing the same task runs to SQLite: one insert
and two state updates per task, one transaction each, WAL,
synchronous=NORMAL. Lanner is measured inside the process from the
execution's creation to its end (parsing excluded), through the real
runtime: executor thread, worker threads, SQLite store, every state change
committed when it happens.

    .venv/bin/python bench/bench_run.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lanner.config import Config
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.runtime import Runtime
from lanner.store import open_store

LANNER = str(Path(sys.executable).parent / "lanner")


def floor(tasks: int, directory: str) -> float:
    db = sqlite3.connect(
        os.path.join(directory, f"floor-{time.monotonic_ns()}.db"), isolation_level=None
    )
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE task_run (id TEXT PRIMARY KEY, execution_id TEXT, task_id TEXT, state TEXT)"
    )
    start = time.perf_counter()
    for i in range(tasks):
        for sql, args in (
            ("INSERT INTO task_run VALUES (?, ?, ?, 'CREATED')", (f"r{i}", "e", f"t{i}")),
            ("UPDATE task_run SET state='RUNNING' WHERE id=?", (f"r{i}",)),
            ("UPDATE task_run SET state='SUCCESS' WHERE id=?", (f"r{i}",)),
        ):
            db.execute("BEGIN")
            db.execute(sql, args)
            db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def sequential_logs(n: int) -> str:
    return "id: seq\nnamespace: bench\ntasks:\n" + "".join(
        f"  - id: t{i}\n    type: io.kestra.plugin.core.log.Log\n    message: hello {i}\n"
        for i in range(n)
    )


def parallel_returns(n: int) -> str:
    return (
        "id: par\nnamespace: bench\ntasks:\n  - id: p\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
        + "".join(
            f"      - id: t{i}\n        type: io.kestra.plugin.core.debug.Return\n        format: v{i}\n"
            for i in range(n)
        )
    )


def foreach(n: int) -> str:
    return (
        "id: each\nnamespace: bench\ntasks:\n  - id: loop\n    type: io.kestra.plugin.core.flow.ForEach\n"
        f"    values: '{list(range(n))}'\n    tasks:\n"
        "      - id: ret\n        type: io.kestra.plugin.core.debug.Return\n        format: '{{ taskrun.value }}'\n"
    )


def timed_runs(source: str, rounds: int, directory: str) -> float:
    registry = TaskRegistry.from_entry_points()
    store = open_store(f"sqlite:///{directory}/lanner-{time.monotonic_ns()}.db")
    runtime = Runtime(store, registry, Config(), alone=True)  # as `lanner run`
    runtime.start()
    flow = load_flow(source, registry)
    revision, _ = store.deploy_flow(flow.namespace, flow.id, source)
    samples = []
    try:
        for _ in range(rounds):
            start = time.perf_counter()
            execution = runtime.create_execution(flow, revision, {})
            final = runtime.wait_finalized(execution.id, timeout=600)
            samples.append(time.perf_counter() - start)
            assert final.state.value == "SUCCESS", final.state
    finally:
        runtime.stop()
        store.close()
    return statistics.median(samples)


def cold_start(directory: str, rounds: int) -> float:
    flow = Path(directory) / "one.yml"
    flow.write_text(sequential_logs(1))
    env = {**os.environ, "LANNER_HOME": directory}
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run([LANNER, "run", str(flow)], env=env, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def peak_rss_mb(directory: str) -> float:
    flow = Path(directory) / "forty.yml"
    flow.write_text(sequential_logs(40))
    env = {**os.environ, "LANNER_HOME": directory}
    subprocess.run([LANNER, "run", str(flow)], env=env, check=True, capture_output=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        rows = []
        f40 = statistics.median(floor(40, directory) for _ in range(args.rounds))
        l40 = timed_runs(sequential_logs(40), args.rounds, directory)
        rows.append(("40 sequential Log tasks", l40, f40, 10.0))
        f100 = statistics.median(floor(100, directory) for _ in range(args.rounds))
        l100 = timed_runs(parallel_returns(100), max(args.rounds // 3, 3), directory)
        rows.append(("100 tasks in one Parallel", l100, f100, 10.0))
        print(f"{'benchmark':<30} {'lanner':>10} {'floor':>10} {'ratio':>7}  bar")
        for name, value, base, bar in rows:
            ratio = value / base
            print(
                f"{name:<30} {value * 1000:8.1f}ms {base * 1000:8.1f}ms {ratio:6.1f}x  <= {bar:g}x "
                f"{'ok' if ratio <= bar else 'MISSED'}"
            )
        e100 = timed_runs(foreach(100), 5, directory)
        e1000 = timed_runs(foreach(1000), 3, directory)
        print(
            f"{'ForEach over 100 values':<30} {e100 * 1000:8.1f}ms  bar < 1000 ms {'ok' if e100 < 1 else 'MISSED'}"
        )
        print(
            f"{'ForEach over 1000 values':<30} {e1000 * 1000:8.1f}ms  {e1000 / e100:5.1f}x the 100-value time, "
            f"bar < 10x {'ok' if e1000 / e100 < 10 else 'MISSED'}"
        )
        cold = cold_start(directory, 5)
        print(
            f"{'lanner run, 1 task, cold':<30} {cold * 1000:8.1f}ms  bar < 500 ms {'ok' if cold < 0.5 else 'MISSED'}"
        )
        rss = peak_rss_mb(directory)
        print(
            f"{'peak RSS, 40-task run':<30} {rss:8.1f}MB  bar < 100 MB {'ok' if rss < 100 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
