"""Execution-core benchmarks (issue: `lanner run`), printed as ratios against a
floor measured in the same run.

The floor is plain Python writing the same task runs to SQLite: one insert
and two state updates per task, one transaction each, WAL,
synchronous=NORMAL. Lanner is measured inside the process from the
execution's creation to its end (parsing excluded), through the real
runtime: executor thread, worker threads, SQLite store, every state change
committed when it happens.

How it keeps the comparison honest on a busy machine:

- Every figure is a median of several rounds, after one unmeasured warm-up.
- What is compared is measured interleaved: a floor round, then a Lanner
  round, and so on (the ForEach over 10 values, then over 100, then over
  1000, and so on), so that a burst of load elsewhere hits both sides alike.
- A ForEach is judged by what one more value costs between 10 and 100 values
  and between 100 and 1000: the execution's fixed cost cancels out, and a
  cost per value that grows with the values done shows as a ratio above 1.
- `lanner run, cold` is a whole new process each time (median of 7), with
  Lanner's bytecode compiled first, as an installed package has it: pip
  compiles it at install, while a development checkout with
  PYTHONDONTWRITEBYTECODE set would otherwise compile every module on every
  run.

    .venv/bin/python bench/bench_run.py [--rounds N]
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import lanner
from lanner.config import Config
from lanner.model.flow import Flow
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.process import Process
from lanner.store import open_store

LANNER = str(Path(sys.executable).parent / "lanner")

# The bars of issue 8: Lanner against the floor; a ForEach's cost per value between
# 100 and 1000 values against its cost between 10 and 100; a cold `lanner run`.
RATIO_BAR = 4
GROWTH_BAR = 1.15
COLD_BAR = 0.25


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
        f"id: each{n}\nnamespace: bench\ntasks:\n  - id: loop\n    type: io.kestra.plugin.core.flow.ForEach\n"
        f"    values: '{list(range(n))}'\n    tasks:\n"
        "      - id: ret\n        type: io.kestra.plugin.core.debug.Return\n        format: '{{ taskrun.value }}'\n"
    )


class Lanner:
    """One runtime on a fresh SQLite file, as `lanner run` sets it up."""

    def __init__(self, directory: str) -> None:
        self.registry = TaskRegistry.from_entry_points()
        self.store = open_store(f"sqlite:///{directory}/lanner-{time.monotonic_ns()}.db")
        self.runtime = Process(self.store, self.registry, Config(), alone=True)
        self.runtime.start()

    def deploy(self, source: str) -> Callable[[], float]:
        """A function that runs the flow once and returns its time (creation to end)."""
        flow: Flow = load_flow(source, self.registry)
        revision, _ = self.store.deploy_flow(flow.namespace, flow.id, source)

        def timed() -> float:
            start = time.perf_counter()
            execution = self.runtime.create_execution(flow, revision, {})
            final = self.runtime.wait_finalized(execution.id, timeout=600)
            elapsed = time.perf_counter() - start
            assert final.state.value == "SUCCESS", final.state
            return elapsed

        timed()  # warm-up: the flow's planner, templates, connections
        return timed

    def close(self) -> None:
        self.runtime.stop()
        self.store.close()


def interleaved(rounds: int, *runs: Callable[[], float]) -> list[float]:
    """The median of each run, measured round by round, one after the other."""
    samples: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, taken in zip(runs, samples, strict=True):
            taken.append(run())
    return [statistics.median(s) for s in samples]


def foreach_times(lanner_: Lanner, rounds: int) -> tuple[float, float, float]:
    """Medians of the ForEach over 10, 100 and 1000 values, interleaved. The short runs
    are taken more often a round: at 1/10 of the time, one hiccup of the machine (or a
    full garbage collection) weighs ten times more on them, so they need more samples."""
    runs = [lanner_.deploy(foreach(n)) for n in (10, 100, 1000)]
    samples: list[list[float]] = [[], [], []]
    for _ in range(rounds):
        for run, taken, times in zip(runs, samples, (9, 3, 1), strict=True):
            taken.extend(run() for _ in range(times))
    e10, e100, e1000 = (statistics.median(s) for s in samples)
    return e10, e100, e1000


def against_floor(directory: str, source: str, tasks: int, rounds: int) -> tuple[float, float]:
    lanner_ = Lanner(directory)
    try:
        run = lanner_.deploy(source)
        floor(tasks, directory)  # warm-up
        lanner_time, floor_time = interleaved(rounds, run, lambda: floor(tasks, directory))
    finally:
        lanner_.close()
    return lanner_time, floor_time


def cold_start(directory: str, rounds: int) -> float:
    compileall.compile_dir(str(Path(lanner.__file__).parent), quiet=1)
    flow = Path(directory) / "one.yml"
    flow.write_text(sequential_logs(1))
    env = {**os.environ, "LANNER_HOME": directory}
    command = [LANNER, "run", str(flow)]
    subprocess.run(command, env=env, check=True, capture_output=True)  # warm-up (OS caches)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def peak_rss_mb(directory: str) -> float:
    flow = Path(directory) / "forty.yml"
    flow.write_text(sequential_logs(40))
    env = {**os.environ, "LANNER_HOME": directory}
    subprocess.run([LANNER, "run", str(flow)], env=env, check=True, capture_output=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    rounds = args.rounds
    with tempfile.TemporaryDirectory() as directory:
        rows = [
            ("40 sequential Log tasks", *against_floor(directory, sequential_logs(40), 40, rounds)),
            (
                "100 tasks in one Parallel",
                *against_floor(directory, parallel_returns(100), 100, max(rounds // 3, 5)),
            ),
        ]
        print(f"{'benchmark':<30} {'lanner':>10} {'floor':>10} {'ratio':>7}  bar")
        for name, value, base in rows:
            ratio = value / base
            print(
                f"{name:<30} {value * 1000:8.1f}ms {base * 1000:8.1f}ms {ratio:6.1f}x  <= {RATIO_BAR}x "
                f"{verdict(ratio <= RATIO_BAR)}"
            )
        lanner_ = Lanner(directory)
        try:
            e10, e100, e1000 = foreach_times(lanner_, max(rounds // 2, 5))
        finally:
            lanner_.close()
        for n, value in ((10, e10), (100, e100), (1000, e1000)):
            print(f"{f'ForEach over {n} values':<30} {value * 1000:8.1f}ms")
        # What one more value costs, measured between two sizes: the fixed cost of an
        # execution (its creation, first and last cycles) cancels out. A loop whose
        # cost per value grows with the values done shows as a higher cost at 100-1000.
        small = (e100 - e10) / 90
        large = (e1000 - e100) / 900
        growth = large / small
        print(
            f"{'  one more value, 10-100':<30} {small * 1e6:8.0f}us\n"
            f"{'  one more value, 100-1000':<30} {large * 1e6:8.0f}us  {growth:5.2f}x the 10-100 cost, "
            f"bar <= {GROWTH_BAR}x {verdict(growth <= GROWTH_BAR)}"
        )
        cold = cold_start(directory, 7)
        print(
            f"{'lanner run, 1 task, cold':<30} {cold * 1000:8.1f}ms  bar <= {COLD_BAR * 1000:.0f} ms "
            f"{verdict(cold <= COLD_BAR)}"
        )
        rss = peak_rss_mb(directory)
        print(f"{'peak RSS, 40-task run':<30} {rss:8.1f}MB  bar < 100 MB {verdict(rss < 100)}")


if __name__ == "__main__":
    main()
