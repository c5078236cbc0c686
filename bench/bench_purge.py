"""PurgeExecutions' cost (issue 11): the selective purge the task runs
(`StoreInstance.purge_executions`: select by namespace, flow, dates and states, then
delete rows and logs in batches of 100) beside a floor measured in the same run, the
retention purge by date alone (`Store.purge_executions`, batches of 1000, no filter),
over the same N finalized executions (each with a task run, an event and 3 log lines)
on a fresh SQLite file. Medians of --runs runs.

    .venv/bin/python bench/bench_purge.py [--executions N] [--runs R]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lanner.engine.execution import ROOT, Execution, History, Phase, TaskRun
from lanner.model.states import State
from lanner.plugin import ExecutionFilter
from lanner.runtime.instanceaccess import StoreInstance
from lanner.storage import LocalStorage
from lanner.store import open_store
from lanner.store.base import LogRecord, NewEvent, Store

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def fill(store: Store, count: int) -> None:
    for i in range(count):
        eid = f"e{i:06d}"
        created = NOW + timedelta(seconds=i)
        run = TaskRun(
            id=f"{eid}-t",
            execution_id=eid,
            task_id="t",
            parent_id=None,
            value=None,
            iteration=None,
            phase=Phase.MAIN,
            seq=0,
            state=State.SUCCESS,
            histories=(History(State.SUCCESS, created),),
        )
        execution = Execution(
            id=eid,
            namespace="bench.team",
            flow_id="f",
            flow_revision=1,
            state=State.SUCCESS,
            histories=(History(State.CREATED, created), History(State.SUCCESS, created)),
            task_runs={run.id: run},
            children={(ROOT, Phase.MAIN): (run.id,)},
            terminal_at=created,
            finalized_at=created,
        )
        store.create_execution(execution, [NewEvent(eid, "Late", {}, created, None)])
        store.append_logs(
            [LogRecord(eid, "t", run.id, 1, created, "INFO", f"line {n}") for n in range(3)]
        )


def timed_run(count: int, selective: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite://{Path(tmp) / 'lanner.db'}")
        try:
            fill(store, count)
            end = NOW + timedelta(days=1)
            start = time.perf_counter()
            if selective:
                instance = StoreInstance(store, LocalStorage(Path(tmp) / "storage"))
                which = ExecutionFilter(end=end, namespace="bench", states=("SUCCESS",))
                done = instance.purge_executions(which, executions=True, logs=True, storage=False)
                assert done.executions == count and done.logs == 3 * count
            else:
                assert store.purge_executions(end) == count
            return time.perf_counter() - start
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n = args.executions
    task = statistics.median(timed_run(n, True) for _ in range(args.runs))
    floor = statistics.median(timed_run(n, False) for _ in range(args.runs))
    print(f"PurgeExecutions (selective, batches of 100): {n / task:,.0f} executions/s")
    print(f"floor (retention purge by date, batches of 1000): {n / floor:,.0f} executions/s")
    print(f"ratio task/floor time: {task / floor:.2f}")


if __name__ == "__main__":
    main()
