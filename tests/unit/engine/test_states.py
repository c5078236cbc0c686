"""SPEC §2.2, §2.3: the execution and task-run state machines as the planner drives them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lanner.engine.events import Start, TaskStarted
from lanner.model.states import State
from tests.unit.engine.support import Driver, history, run, run_of

ONE_LOG = """
tasks:
  - id: a
    type: Log
    message: a
"""


def test_execution_created_running_terminal() -> None:
    """§2.2: CREATED → RUNNING on the first pass (the first task already sees RUNNING)."""
    d = Driver.of(ONE_LOG)
    d.plan(Start())
    assert d.execution.state is State.RUNNING
    assert d.dispatch_of("a").properties == {"message": "a", "level": "INFO"}
    d.plan(d.result("a"))
    assert history(d.execution) == ["CREATED", "RUNNING", "SUCCESS"]


def test_start_twice_is_a_no_op() -> None:
    d = Driver.of(ONE_LOG)
    d.plan(Start())
    before = d.execution
    d.plan(Start())
    assert d.execution.task_runs == before.task_runs
    assert history(d.execution) == ["CREATED", "RUNNING"]


@pytest.mark.parametrize("state", [State.CREATED, State.QUEUED])
def test_nothing_is_scheduled_before_start_or_while_queued(state: State) -> None:
    """§3.8.5: no task run is created for a CREATED (not started) or QUEUED execution."""
    d = Driver.of(ONE_LOG)
    d.execution = replace(d.execution, state=state)
    d.plan()
    assert d.execution.task_runs == {}
    assert d.execution.state is state


def test_runnable_task_run_state_machine() -> None:
    """§2.3: CREATED → SUBMITTED → RUNNING → SUCCESS, one attempt."""
    sim = run(ONE_LOG)
    a = run_of(sim.execution, "a")
    assert [h.state.value for h in a.histories] == ["CREATED", "SUBMITTED", "RUNNING", "SUCCESS"]
    assert [h.state.value for h in a.attempts[0].histories] == ["CREATED", "RUNNING", "SUCCESS"]


def test_flowable_task_run_state_machine() -> None:
    """§2.3: a flowable goes CREATED → RUNNING → terminal, resolved by the executor."""
    sim = run(
        """
        tasks:
          - id: seq
            type: Sequential
            tasks:
              - id: a
                type: Log
                message: a
        """
    )
    seq = run_of(sim.execution, "seq")
    assert [h.state.value for h in seq.histories] == ["CREATED", "RUNNING", "SUCCESS"]
    assert [a.state for a in seq.attempts] == [State.SUCCESS]
    assert run_of(sim.execution, "a").parent_id == seq.id


def test_task_started_moves_submitted_to_running() -> None:
    """§2.3: SUBMITTED → RUNNING when the worker begins the attempt."""
    d = Driver.of(ONE_LOG)
    d.plan(Start())
    a = d.run("a")
    d.plan(TaskStarted(a.id, 1))
    assert d.run("a").state is State.RUNNING
    assert d.run("a").attempts[-1].state is State.RUNNING
