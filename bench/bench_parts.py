"""Two parts of a task that Lanner's shape needs, each measured alone against
bench_run.py's floor: how much of issue 8 §7's 4× bar they leave to the rest.

- **The store's SQL**: every statement the write connection ran during real
  executions (bench_cycle_sql.py's recording: the cycles, and the start events
  of the Parallel's jobs that waited for a thread), replayed with no Python of
  Lanner's around them, on a fresh file of the current schema, without
  checkpoints. What SQLite and the `sqlite3` module cost for the rows a task
  writes.
- **The planner**: every call the executor made to `Planner.plan` and
  `Planner.start` during the same kind of executions, given again on one thread
  to a fresh planner of the flow, each call's input the previous call's result
  as in the executor (the first from a copy of the stored execution). What
  deciding costs, with no store, worker or thread around it.

Both are CPU per task of the flow, medians of rounds interleaved with the floor
(bench_run.floor), and their sum against the bar. Neither holds the task
itself, the workers, the row encoding, the executor's glue, the checkpoints or
the threads' hand-offs, so the sum is a lower bound of a whole run's ratio for
today's shape of a cycle, not an estimate of it.

    .venv/bin/python bench/bench_parts.py [--runs N] [--rounds N]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))  # run as a script: bench.* importable
from bench import bench_cycle_sql, bench_run

from lanner.engine.events import Event, TaskStarted
from lanner.engine.execution import Execution, evolve
from lanner.engine.flowindex import FlowIndex
from lanner.engine.planner import PlanContext, Planner
from lanner.expr import ExpressionEngine
from lanner.model.flow import Flow
from lanner.model.validate import load_flow

FLOWS = {
    "40 sequential Log tasks": (bench_run.sequential_logs(40), 40),
    "100 tasks in one Parallel": (bench_run.parallel_returns(100), 100),
}


@dataclass(frozen=True)
class Call:
    """One call of the executor to the planner."""

    execution_id: str
    version: int
    events: tuple[Event, ...]
    context: PlanContext
    start: bool


class PlanCalls:
    """An executor's PlanRecorder keeping the calls, and a copy of each execution's first
    input (the planner consumes what it is given)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.first: dict[str, Execution] = {}
        self._lock = threading.Lock()

    def planning(
        self,
        execution: Execution,
        events: Sequence[Event],
        context: PlanContext,
        start: bool = False,
    ) -> None:
        with self._lock:
            if execution.id not in self.first:
                self.first[execution.id] = copy.deepcopy(execution)
            call = Call(execution.id, execution.version, tuple(events), context, start)
            self.calls.append(call)

    def planned(self, decision: object) -> None:
        pass


def record_plans(lanner_: bench_run.Lanner, runs: int, source: str) -> tuple[Flow, PlanCalls]:
    """The planner calls of `runs` executions of `source`, after bench_run's warm-up."""
    run = lanner_.deploy_timed(source)
    calls = PlanCalls()
    lanner_.runtime.executor.recorder = calls
    try:
        for _ in range(runs):
            run()
    finally:
        lanner_.runtime.executor.recorder = None
    return load_flow(source, lanner_.registry), calls


def replay_plans(flow: Flow, calls: PlanCalls, tasks: int) -> float:
    """µs of CPU per task to give the recorded calls to a fresh planner."""
    planner = Planner(FlowIndex(flow), ExpressionEngine())
    inputs = {i: copy.deepcopy(e) for i, e in calls.first.items()}
    current: dict[str, Execution] = {}
    cpu = time.process_time()
    for call in calls.calls:
        execution = current.get(call.execution_id)
        if execution is None:
            execution = inputs[call.execution_id]
        if execution.version != call.version:
            execution = evolve(execution, version=call.version)  # as the executor's `new`
        if call.start:
            started = [e for e in call.events if isinstance(e, TaskStarted)]
            decision = planner.start(execution, started, call.context)
        else:
            decision = planner.plan(execution, call.events, call.context, consume=True)
        current[call.execution_id] = decision.execution
    spent = time.process_time() - cpu
    unfinished = [e.id for e in current.values() if e.finalized_at is None]
    if unfinished:
        raise AssertionError(f"the replay did not end executions {unfinished}")
    return spent / (len(calls.first) * tasks) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    as_recorded = bench_cycle_sql.as_recorded()
    print(
        f"{'CPU per task':<28}{'floor':>8}{'SQL':>15}{'planner':>15}{'both':>15}"
        f"{'whole run':>15}  bar"
    )
    for name, (source, tasks) in FLOWS.items():
        with tempfile.TemporaryDirectory() as directory:
            transactions = bench_cycle_sql.record(args.runs, directory, source)
            lanner_ = bench_run.Lanner(directory)
            try:
                flow, calls = record_plans(lanner_, args.runs, source)
                whole_run = lanner_.deploy_timed(source)
                taken: list[list[float]] = [[], [], [], []]
                for _ in range(args.rounds):
                    floor_, sql_, plan_, whole_ = taken
                    floor_.append(bench_run.floor(tasks, directory)[1] / tasks * 1e6)
                    per_tx, _pages = bench_cycle_sql.replay(directory, transactions, as_recorded)
                    sql_.append(per_tx * len(transactions) / (args.runs * tasks))
                    plan_.append(replay_plans(flow, calls, tasks))
                    whole_.append(whole_run()[1] / tasks * 1e6)
            finally:
                lanner_.close()
        floor, sql, plan, whole = (statistics.median(x) for x in taken)
        cells = "".join(f"{v:8.1f}µs {v / floor:4.1f}x" for v in (sql, plan, sql + plan, whole))
        print(f"{name:<28}{floor:6.1f}µs{cells}  <= {bench_run.RATIO_BAR}x")


if __name__ == "__main__":
    main()
