"""Planner.start: the starts of jobs the executor hands to threads in the cycle that
dispatched them, applied without a cycle (docs/performance.md), with the effect the
same TaskStarted events have through `plan`."""

from __future__ import annotations

from lanner.engine.events import Dispatch, Start, TaskStarted
from lanner.engine.planner import PlanContext
from lanner.model.states import State
from tests.unit.engine.support import Driver

TWO = """
tasks:
  - id: p
    type: Parallel
    tasks:
      - id: a
        type: Log
        message: a
      - id: b
        type: Log
        message: b
"""


def _dispatched() -> tuple[Driver, list[TaskStarted]]:
    d = Driver.of(TWO)
    decision = d.plan(Start())
    starts = [
        TaskStarted(c.task_run_id, c.attempt) for c in decision.commands if isinstance(c, Dispatch)
    ]
    assert len(starts) == 2
    return d, starts


def test_start_makes_the_runs_running_as_plan_does() -> None:
    d, starts = _dispatched()
    other, other_starts = _dispatched()
    context = PlanContext(now=d.now)
    started = d.planner.start(d.execution, starts[:1], context)
    planned = other.planner.plan(other.execution, other_starts[:1], context)
    assert started.commands == ()
    assert started.changed == {starts[0].task_run_id}
    run = started.execution.task_runs[starts[0].task_run_id]
    same = planned.execution.task_runs[other_starts[0].task_run_id]
    assert (run.task_id, run.state, run.histories, run.attempts) == (
        same.task_id,
        same.state,
        same.histories,
        same.attempts,
    )
    assert run.state is State.RUNNING
    assert [h.state for h in run.attempts[-1].histories] == [State.CREATED, State.RUNNING]
    assert started.execution.task_runs[starts[1].task_run_id].state is State.SUBMITTED


def test_a_start_of_another_attempt_changes_nothing() -> None:
    d, starts = _dispatched()
    stale = TaskStarted(starts[0].task_run_id, starts[0].attempt + 1)
    started = d.planner.start(d.execution, [stale], PlanContext(now=d.now))
    assert started.changed == frozenset()
    assert started.execution.task_runs[stale.task_run_id].state is State.SUBMITTED
