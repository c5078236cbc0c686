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
  run. Its warm-up run is an installed package's first: with bytecode
  writable, it saves the code of dataclass methods and annotations beside the
  bytecode, for the runs after it (lanner.cli.codecache).

    .venv/bin/python bench/bench_run.py [--rounds N]

Each figure is printed in wall time and in CPU time (`time.process_time` of the
whole process, the child's user + sys for the cold start): on a shared machine
the wall clock swings with other work, CPU time much less.
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


class Timed(tuple[float, float]):
    """(wall, CPU) seconds of one run. CPU is `time.process_time` of the whole process
    (every thread): on a shared machine wall time swings with other work, CPU time
    much less."""


def floor(tasks: int, directory: str) -> Timed:
    db = sqlite3.connect(
        os.path.join(directory, f"floor-{time.monotonic_ns()}.db"), isolation_level=None
    )
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE task_run (id TEXT PRIMARY KEY, execution_id TEXT, task_id TEXT, state TEXT)"
    )
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(tasks):
        for sql, args in (
            ("INSERT INTO task_run VALUES (?, ?, ?, 'CREATED')", (f"r{i}", "e", f"t{i}")),
            ("UPDATE task_run SET state='RUNNING' WHERE id=?", (f"r{i}",)),
            ("UPDATE task_run SET state='SUCCESS' WHERE id=?", (f"r{i}",)),
        ):
            db.execute("BEGIN")
            db.execute(sql, args)
            db.execute("COMMIT")
    elapsed = Timed((time.perf_counter() - start, time.process_time() - cpu))
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
        """A function that runs the flow once and returns its wall time (creation to end)."""
        timed = self.deploy_timed(source)
        return lambda: timed()[0]

    def deploy_timed(self, source: str) -> Callable[[], Timed]:
        """A function that runs the flow once and returns its wall and CPU time."""
        flow: Flow = load_flow(source, self.registry)
        revision, _ = self.store.deploy_flow(flow.namespace, flow.id, source)

        def timed() -> Timed:
            start, cpu = time.perf_counter(), time.process_time()
            execution = self.runtime.create_execution(flow, revision, {})
            final = self.runtime.wait_finalized(execution.id, timeout=600)
            elapsed = Timed((time.perf_counter() - start, time.process_time() - cpu))
            assert final.state.value == "SUCCESS", final.state
            return elapsed

        timed()  # warm-up: the flow's planner, templates, connections
        return timed

    def close(self) -> None:
        self.runtime.stop()
        self.store.close()


def medians(samples: list[Timed]) -> Timed:
    return Timed(
        (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))
    )


def interleaved(rounds: int, *runs: Callable[[], float]) -> list[float]:
    """The median of each run, measured round by round, one after the other."""
    samples: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, taken in zip(runs, samples, strict=True):
            taken.append(run())
    return [statistics.median(s) for s in samples]


def interleaved_timed(rounds: int, *runs: Callable[[], Timed]) -> list[Timed]:
    """interleaved, for wall and CPU medians."""
    samples: list[list[Timed]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, taken in zip(runs, samples, strict=True):
            taken.append(run())
    return [medians(s) for s in samples]


def foreach_times(lanner_: Lanner, rounds: int) -> tuple[Timed, Timed, Timed]:
    """Medians of the ForEach over 10, 100 and 1000 values, interleaved. The short runs
    are taken more often a round: at 1/10 of the time, one hiccup of the machine (or a
    full garbage collection) weighs ten times more on them, so they need more samples."""
    runs = [lanner_.deploy_timed(foreach(n)) for n in (10, 100, 1000)]
    samples: list[list[Timed]] = [[], [], []]
    for _ in range(rounds):
        for run, taken, times in zip(runs, samples, (9, 3, 1), strict=True):
            taken.extend(run() for _ in range(times))
    e10, e100, e1000 = (medians(s) for s in samples)
    return e10, e100, e1000


def against_floor(directory: str, source: str, tasks: int, rounds: int) -> tuple[Timed, Timed]:
    lanner_ = Lanner(directory)
    try:
        run = lanner_.deploy_timed(source)
        floor(tasks, directory)  # warm-up
        lanner_time, floor_time = interleaved_timed(rounds, run, lambda: floor(tasks, directory))
    finally:
        lanner_.close()
    return lanner_time, floor_time


def cold_start(directory: str, rounds: int) -> Timed:
    """Medians of wall time and of the child's CPU (user + sys)."""
    compileall.compile_dir(str(Path(lanner.__file__).parent), quiet=1)
    flow = Path(directory) / "one.yml"
    flow.write_text(sequential_logs(1))
    env = {**os.environ, "LANNER_HOME": directory}
    command = [LANNER, "run", str(flow)]
    # Warm-up (OS caches), writing bytecode as an installed package's first run does.
    first = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, env=first, check=True, capture_output=True)
    samples = []
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        samples.append(Timed((wall, cpu)))
    return medians(samples)


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
        # Wall and CPU medians; the verdict is on each (on a loaded machine the floor's
        # few milliseconds fit in one time slice while Lanner's are sliced: read CPU).
        print(f"{'benchmark':<30} {'':4} {'lanner':>10} {'floor':>10} {'ratio':>7}  bar")
        for name, value, base in rows:
            for label, k in (("wall", 0), ("cpu", 1)):
                ratio = value[k] / base[k]
                print(
                    f"{name if k == 0 else '':<30} {label:4} {value[k] * 1000:8.1f}ms "
                    f"{base[k] * 1000:8.1f}ms {ratio:6.1f}x  <= {RATIO_BAR}x {verdict(ratio <= RATIO_BAR)}"
                )
        lanner_ = Lanner(directory)
        try:
            times = foreach_times(lanner_, max(rounds // 2, 5))
        finally:
            lanner_.close()
        for n, value in zip((10, 100, 1000), times, strict=True):
            print(
                f"{f'ForEach over {n} values':<30} wall {value[0] * 1000:8.1f}ms cpu {value[1] * 1000:8.1f}ms"
            )
        # What one more value costs, measured between two sizes: the fixed cost of an
        # execution (its creation, first and last cycles) cancels out. A loop whose
        # cost per value grows with the values done shows as a higher cost at 100-1000.
        for label, k in (("wall", 0), ("cpu", 1)):
            e10, e100, e1000 = (t[k] for t in times)
            small = (e100 - e10) / 90
            large = (e1000 - e100) / 900
            growth = large / small
            print(
                f"{'  one more value, 10-100':<30} {label:4} {small * 1e6:8.0f}us\n"
                f"{'  one more value, 100-1000':<30} {label:4} {large * 1e6:8.0f}us  "
                f"{growth:5.2f}x the 10-100 cost, bar <= {GROWTH_BAR}x {verdict(growth <= GROWTH_BAR)}"
            )
        cold = cold_start(directory, 7)
        for label, k in (("wall", 0), ("cpu", 1)):
            print(
                f"{'lanner run, 1 task, cold':<30} {label:4} {cold[k] * 1000:8.1f}ms  "
                f"bar <= {COLD_BAR * 1000:.0f} ms {verdict(cold[k] <= COLD_BAR)}"
            )
        rss = peak_rss_mb(directory)
        print(f"{'peak RSS, 40-task run':<30} {rss:8.1f}MB  bar < 100 MB {verdict(rss < 100)}")


if __name__ == "__main__":
    main()
