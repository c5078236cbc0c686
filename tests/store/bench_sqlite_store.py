"""Microbenchmark of SQLiteStore's hot path (not collected by pytest).

Replays the store traffic of ``lanner run`` on a sequential flow of N tasks:
for each task, one executor cycle dispatches it (a task run and a job), a
worker claims it, reports it started and completes it, and two more
executor cycles record those events. Prints the store time per executor
cycle, per claim/start/complete round trip and for the whole flow.

    .venv/bin/python tests/store/bench_sqlite_store.py [TASKS] [ROUNDS]
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from lanner.engine.execution import ROOT, Execution, History, Phase, TaskRun, task_run_id
from lanner.model.states import State
from lanner.store import open_store
from lanner.store.base import CycleWrite, EventRow, LogRecord, NewEvent, NewJob, Store

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


ChangeParts = tuple[Execution, list[TaskRun], list[NewJob]]
Change = Callable[[Execution, list[EventRow]], ChangeParts]


def cycle(store: Store, cached: Execution | None, change: Change) -> tuple[Execution, float]:
    """One executor cycle; `change(execution, events)` returns the CycleWrite's parts."""
    start = time.perf_counter()
    with store.executor_tx() as tx:
        execution_id = tx.next_execution(NOW)
        assert execution_id is not None
        events = tx.events(execution_id, NOW)
        execution = tx.load(execution_id, cached)
        assert execution is not None
        new, upserts, jobs = change(execution, events)
        new = replace(new, version=execution.version + 1)
        tx.write(
            CycleWrite(
                new,
                execution.version,
                upsert_task_runs=upserts,
                new_jobs=jobs,
                consumed_events=[e.id for e in events],
                # No executor log line: task logs come with complete_job.
            )
        )
    return new, time.perf_counter() - start


def run_flow(store: Store, tasks: int, n: int) -> tuple[list[float], list[float], float]:
    execution_id = f"bench-{n}"
    execution = Execution(
        execution_id,
        "bench",
        "seq",
        1,
        State.CREATED,
        (History(State.CREATED, NOW),),
        inputs={"name": "World", "items": list(range(50))},
        variables={"v": "x" * 200},
        labels={"team": "bench"},
    )
    cycles: list[float] = []
    round_trips: list[float] = []
    flow_start = time.perf_counter()
    store.create_execution(execution, [NewEvent(execution_id, "Start", {}, NOW)])
    ids = [task_run_id(execution_id, None, f"t{i}", None, None) for i in range(tasks)]

    def dispatch(e: Execution, i: int) -> tuple[Execution, list[TaskRun], list[NewJob]]:
        if i == tasks:
            return e.to(State.SUCCESS, NOW), [], []
        tid = ids[i]
        run = TaskRun(
            tid, e.id, f"t{i}", None, None, None, Phase.MAIN, i, State.SUBMITTED,
            (History(State.CREATED, NOW), History(State.SUBMITTED, NOW)),
        )  # fmt: skip
        key = (ROOT, Phase.MAIN)
        new = replace(
            e.to(State.RUNNING, NOW),
            task_runs={**e.task_runs, tid: run},
            children={**e.children, key: (*e.children.get(key, ()), tid)},
        )
        job = NewJob(tid, e.id, 1, {"type": "io.kestra.plugin.core.log.Log", "i": i}, NOW)
        return new, [run], [job]

    def advance(e: Execution, i: int, state: State) -> tuple[Execution, list[TaskRun]]:
        run = e.task_runs[ids[i]].to(state, NOW)
        return replace(e, task_runs={**e.task_runs, run.id: run}), [run]

    def finish(e: Execution, i: int) -> tuple[Execution, list[TaskRun], list[NewJob]]:
        done, runs = advance(e, i, State.SUCCESS)
        new, more, jobs = dispatch(done, i + 1)
        return new, runs + more, jobs

    cached, took = cycle(store, None, lambda e, _: dispatch(e, 0))
    cycles.append(took)
    for i, tid in enumerate(ids):
        start = time.perf_counter()
        [job] = store.claim_jobs("worker", 1, 30, NOW)
        assert store.job_started(job, NewEvent(execution_id, "TaskStarted", {"t": tid}, NOW))
        round_trips.append(time.perf_counter() - start)

        def running(e: Execution, _: list[EventRow], i: int = i) -> ChangeParts:
            return (*advance(e, i, State.RUNNING), [])

        cached, took = cycle(store, cached, running)
        cycles.append(took)
        start = time.perf_counter()
        outputs = {"t": tid, "outputs": {"value": i}}
        result = NewEvent(execution_id, "TaskResult", outputs, NOW, dedup_key=f"{tid}:1")
        log = LogRecord(execution_id, f"t{i}", tid, 1, NOW, "INFO", f"hello {i}")
        assert store.complete_job(job, result, [log])
        round_trips[-1] += time.perf_counter() - start

        def ended(e: Execution, _: list[EventRow], i: int = i) -> ChangeParts:
            return finish(e, i)

        cached, took = cycle(store, cached, ended)
        cycles.append(took)
    assert cached.state is State.SUCCESS and len(cached.task_runs) == tasks
    return cycles, round_trips, time.perf_counter() - flow_start


def floor(folder: Path, n: int = 2000) -> float:
    """The cheapest write transaction on this machine: raw sqlite3, one row, same settings."""
    db = sqlite3.connect(folder / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    db.execute("INSERT INTO t VALUES (1, 0)")
    start = time.perf_counter()
    for i in range(n):
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE t SET v = ? WHERE id = 1", (i,))
        db.execute("COMMIT")
    took = (time.perf_counter() - start) / n
    db.close()
    return took


def main() -> None:
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "bench.db"))
        run_flow(store, tasks, -1)  # warm up: connection, statement cache, imports
        results = [run_flow(store, tasks, n) for n in range(rounds)]
        store.close()
        base = floor(Path(tmp))
    cycles = [t for r in results for t in r[0]]
    trips = [t for r in results for t in r[1]]
    stores = [sum(r[0]) + sum(r[1]) for r in results]
    print(f"sequential flow of {tasks} tasks, {rounds} rounds: median, p90, x floor")
    print(f"  floor (raw 1-row write tx):     {base * 1e6:7.1f} us")
    for name, values, unit in (
        ("executor cycle", cycles, 1e6),
        ("claim + started + complete", trips, 1e6),
        (f"store time per flow ({2 * tasks + 1} cycles)", stores, 1e3),
    ):
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        label = "us" if unit == 1e6 else "ms"
        print(
            f"  {name + ':':31} {median * unit:7.1f} {label} {p90 * unit:7.1f} {label}"
            f" {median / base:6.1f}x"
        )


if __name__ == "__main__":
    main()
