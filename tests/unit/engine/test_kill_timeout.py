"""SPEC §2.2, §3.2 (kill), §4.5 and §0 decision 4 (timeouts)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lanner.engine.events import Kill, Start, TimeoutDue
from lanner.engine.execution import Execution
from lanner.model.states import State
from lanner.plugin import Outcome
from tests.unit.engine.support import Driver, history, order, run, run_of

KILLABLE = """
tasks:
  - id: a
    type: Log
    message: a
  - id: b
    type: Log
    message: b
  - id: c
    type: Log
    message: never
errors:
  - id: e
    type: Log
    message: never
finally:
  - id: f
    type: Log
    message: never
afterExecution:
  - id: x
    type: Log
    message: "{{ execution.state }}"
"""


def test_kill_running_task_killing_then_killed() -> None:
    """§2.2: KILLING → KILLED; the running job gets a Cancel; errors and finally
    don't run, afterExecution does."""
    d = Driver.of(KILLABLE)
    d.plan(Start())
    d.plan(d.result("a"))
    assert d.run("b").state is State.SUBMITTED
    d.plan(Kill())
    assert d.execution.state is State.KILLED
    assert history(d.execution)[-2:] == ["KILLING", "KILLED"]
    assert d.run("b").state is State.KILLED
    assert d.cancelled() == ["b"]
    assert d.dispatched() == ["a", "b", "x"]
    d.plan(d.result("b"))  # the late result of the killed job is discarded
    assert d.run("b").state is State.KILLED
    d.plan(d.result("x"))
    assert d.states() == [("a", "SUCCESS"), ("b", "KILLED"), ("x", "SUCCESS")]
    assert d.execution.finalized_at is not None


def test_kill_when_in_simulate() -> None:
    def after_a(ex: Execution) -> bool:
        return any(r.task_id == "a" and r.state.terminated for r in ex.task_runs.values())

    sim = run(KILLABLE, kill_when=after_a)
    assert sim.execution.state is State.KILLED
    assert "c" not in order(sim)
    assert "e" not in order(sim) and "f" not in order(sim)
    assert sim.messages("x") == ["KILLED"]


def test_kill_stops_flowable_children() -> None:
    d = Driver.of(
        """
        tasks:
          - id: par
            type: Parallel
            tasks:
              - id: p1
                type: Log
                message: p1
              - id: seq
                type: Sequential
                tasks:
                  - id: s1
                    type: Log
                    message: s1
        """
    )
    d.plan(Start())
    d.plan(Kill())
    assert d.states() == [("par", "KILLED"), ("p1", "KILLED"), ("seq", "KILLED"), ("s1", "KILLED")]
    assert d.cancelled() == ["p1", "s1"]
    assert d.execution.state is State.KILLED


def test_kill_while_retrying() -> None:
    d = Driver.of(
        """
        tasks:
          - id: t
            type: Log
            message: x
            retry:
              type: constant
              interval: PT1M
              maxAttempts: 3
        """
    )
    d.plan(Start())
    d.plan(d.result("t", State.FAILED))
    assert d.execution.state is State.RETRYING
    d.plan(Kill())
    assert d.execution.state is State.KILLED
    assert d.run("t").state is State.KILLED
    timer = d.timers()[0]
    d.plan(timer.event)  # the retry timer fires after the kill: nothing happens
    assert d.run("t").state is State.KILLED
    assert d.dispatched() == ["t"]


def test_kill_after_terminal_is_ignored() -> None:
    d = Driver.of(KILLABLE.replace("  - id: c\n    type: Log\n    message: never\n", ""))
    d.plan(Start())
    d.plan(d.result("a"))
    d.plan(d.result("b"))
    d.plan(d.result("f"))
    assert d.execution.state is State.SUCCESS
    d.plan(Kill())
    assert d.execution.state is State.SUCCESS
    assert d.run("x").state is State.SUBMITTED


def test_after_execution_flowable_runs_after_kill_C4() -> None:
    """§3.4 [TEST C-4]: flowable afterExecution tasks and their children run when KILLED."""
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
          - id: b
            type: Log
            message: b
        afterExecution:
          - id: branch
            type: If
            condition: "{{ execution.state == 'KILLED' }}"
            then:
              - id: on_kill
                type: Log
                message: "{{ execution.state }}"
        """,
        kill_when=lambda ex: bool(ex.task_runs),
    )
    assert sim.execution.state is State.KILLED
    assert sim.messages("on_kill") == ["KILLED"]


# -- timeouts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeout", "seconds"),
    [("PT1M30S", 90.0), ("PT0.25S", 0.25), ("\"{{ 'PT2S' }}\"", 2.0), (None, None)],
)
def test_runnable_timeout_is_passed_in_dispatch(timeout: str | None, seconds: float | None) -> None:
    """§4.5: `timeout` limits each attempt; the planner passes it (in seconds) to the worker."""
    line = f"\n    timeout: {timeout}" if timeout else ""
    d = Driver.of(
        f"""
tasks:
  - id: t
    type: Log
    message: x{line}
"""
    )
    d.plan(Start())
    dispatch = d.dispatch_of("t")
    assert dispatch.timeout == seconds
    assert "timeout" not in dispatch.properties
    assert not d.timers()  # the worker enforces a runnable's timeout, not a timer


FLOWABLE_TIMEOUT = """
tasks:
  - id: box
    type: Parallel
    timeout: PT1S
    FLAGS
    tasks:
      - id: slow1
        type: Log
        message: slow1
      - id: slow2
        type: Log
        message: slow2
errors:
  - id: e
    type: Log
    message: "{{ error.taskId }}: {{ error.message }}"
"""


def test_flowable_timeout_kills_children_and_fails_decision_4() -> None:
    """§0 decision 4: at expiry the running children are killed (Cancel) and the
    flowable ends FAILED "Timeout after 00:00:01.000"."""
    d = Driver.of(FLOWABLE_TIMEOUT.replace("FLAGS", ""))
    start = d.now
    d.plan(Start())
    (timer,) = d.timers()
    assert timer.at == start + timedelta(seconds=1)
    assert timer.event == TimeoutDue(d.run("box").id, 1)
    d.plan(d.result("slow1"))
    d.now = timer.at
    d.plan(timer.event)
    assert d.run("box").state is State.FAILED
    assert d.run("slow1").state is State.SUCCESS
    assert d.run("slow2").state is State.KILLED
    assert d.cancelled() == ["slow2"]
    box_logs = [line.message for line in d.logs() if line.task_id == "box"]
    assert box_logs == ["Timeout after 00:00:01.000"]
    assert d.dispatched()[-1] == "e"
    d.plan(d.result("e"))
    assert d.execution.state is State.FAILED
    assert d.dispatch_of("e").properties["message"] == "box: Timeout after 00:00:01.000"


def test_flowable_timeout_after_the_flowable_ended_is_ignored() -> None:
    d = Driver.of(FLOWABLE_TIMEOUT.replace("FLAGS", ""))
    d.plan(Start())
    (timer,) = d.timers()
    d.plan(d.result("slow1"), d.result("slow2"))
    assert d.execution.state is State.SUCCESS
    before = d.execution
    d.plan(timer.event)
    assert d.execution == before


def test_flowable_timeout_respects_allow_failure() -> None:
    """§4.2/§4.5: a timeout is a failure like any other; allowFailure tolerates it."""
    d = Driver.of(FLOWABLE_TIMEOUT.replace("FLAGS", "allowFailure: true"))
    d.plan(Start())
    (timer,) = d.timers()
    d.now = timer.at
    d.plan(timer.event)
    assert d.run("box").state is State.WARNING


def test_forced_timeout_failure_of_a_runnable_is_retried() -> None:
    """§4.5: a runnable's timeout ends the attempt FAILED; retry applies like any failure."""
    sim = run(
        """
        tasks:
          - id: t
            type: Log
            message: x
            timeout: PT1S
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 2
        """,
        forced={
            "t": Outcome(State.FAILED, error="Timeout after 00:00:01.000", error_type="Timeout")
        },
    )
    t = run_of(sim.execution, "t")
    assert len(t.attempts) == 2
    assert t.error is not None and t.error.message == "Timeout after 00:00:01.000"


def test_timed_out_flowable_skips_its_local_handlers() -> None:
    """Lanner decision: a flowable ended by its timeout does not run its own errors/finally
    (its children are stopped with it); the parent container's errors do run."""
    d = Driver.of(
        """
        tasks:
          - id: box
            type: Sequential
            timeout: PT1S
            tasks:
              - id: s
                type: Log
                message: s
            errors:
              - id: local_e
                type: Log
                message: local
            finally:
              - id: local_f
                type: Log
                message: local
        errors:
          - id: flow_e
            type: Log
            message: flow
        """
    )
    d.plan(Start())
    (timer,) = d.timers()
    d.now = timer.at
    d.plan(timer.event)
    d.plan(d.result("flow_e"))
    assert d.states() == [("box", "FAILED"), ("s", "KILLED"), ("flow_e", "SUCCESS")]
    error = d.run("box").error
    assert error is not None and error.type == "Timeout"
