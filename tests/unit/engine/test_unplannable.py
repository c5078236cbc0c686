"""An execution the executor cannot plan ends FAILED without the planner."""

from __future__ import annotations

from datetime import timedelta

from lanner.engine.events import Cancel, Deliver, Kill, LogLine, Start, StartSubflow, SubflowEnded
from lanner.engine.execution import evolve
from lanner.engine.unplannable import ERROR_TYPE, fail_unplannable
from lanner.model.states import State
from tests.unit.engine.support import T0, Driver

LATER = T0 + timedelta(minutes=5)

PARALLEL = """
tasks:
  - id: both
    type: Parallel
    tasks:
      - id: nap
        type: Sleep
        duration: PT1H
      - id: call
        type: Subflow
        namespace: tests.child
        flowId: child
  - id: never
    type: Log
    message: never
afterExecution:
  - id: report
    type: Log
    message: done
"""


def test_running_task_runs_end_failed_and_the_execution_is_finalized() -> None:
    d = Driver.of(PARALLEL)
    d.plan(Start())
    [start] = d.of_type(StartSubflow)
    decision = fail_unplannable(d.execution, "flow tests.t revision 1 does not load", LATER)
    ex = decision.execution
    assert ex.state is State.FAILED
    assert ex.terminal_at == LATER and ex.finalized_at == LATER
    assert ex.error is not None and ex.error.type == ERROR_TYPE
    assert "flow tests.t revision 1 does not load" in ex.error.message
    for task_id in ("both", "nap", "call"):
        run = next(r for r in ex.task_runs.values() if r.task_id == task_id)
        assert run.state is State.FAILED
        assert run.histories[-1].date == LATER
        assert all(a.state is State.FAILED for a in run.attempts[-1:])
    assert not any(r.task_id in ("never", "report") for r in ex.task_runs.values())
    assert decision.changed == frozenset(ex.task_runs)
    nap = next(r for r in ex.task_runs.values() if r.task_id == "nap")
    assert Cancel(nap.id) in decision.commands  # its worker is told to stop
    assert Deliver(start.execution_id, Kill(), f"kill:{start.execution_id}") in decision.commands
    [log] = [c for c in decision.commands if isinstance(c, LogLine)]
    assert log.level == "ERROR" and log.message.startswith("The executor cannot go on")


def test_a_terminal_execution_keeps_its_state_and_its_error() -> None:
    d = Driver.of(PARALLEL)
    d.plan(Start())
    done = evolve(d.execution, state=State.SUCCESS, terminal_at=T0)
    ex = fail_unplannable(done, "boom", LATER).execution
    assert ex.state is State.SUCCESS and ex.error is None
    assert ex.terminal_at == T0 and ex.finalized_at == LATER


def test_a_killing_execution_ends_killed() -> None:
    d = Driver.of(PARALLEL)
    d.plan(Start())
    # KILLING does not outlast the cycle that applies a Kill today; if it did,
    # the kill would still win.
    killing = evolve(d.execution, state=State.KILLING)
    ex = fail_unplannable(killing, "boom", LATER).execution
    assert ex.state is State.KILLED and ex.finalized_at == LATER
    assert all(r.state in (State.KILLED, State.SUCCESS) for r in ex.task_runs.values())


def test_a_subflow_child_tells_its_parent() -> None:
    d = Driver.of(PARALLEL)
    d.plan(Start())
    child = evolve(
        d.execution, parent_execution_id="p1", parent_task_run_id="p1-run", parent_attempt=1
    )
    decision = fail_unplannable(child, "boom", LATER)
    [notice] = [c for c in decision.commands if isinstance(c, Deliver) and c.execution_id == "p1"]
    assert isinstance(notice.event, SubflowEnded)
    assert notice.event.state is State.FAILED and notice.event.task_run_id == "p1-run"
