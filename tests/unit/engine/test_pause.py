"""SPEC §5.11 and §4.5: the Pause task, paused and resumed by the planner itself."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lanner.engine.events import Kill, PauseElapsed, Resume, Start, Timer
from lanner.engine.execution import evolve
from lanner.model.states import State
from tests.unit.engine.support import Driver, history

PAUSE = """
tasks:
  - id: before
    type: Log
    message: before
  - id: wait
    type: Pause
  - id: after
    type: Log
    message: "{{ outputs.wait.onResume.approved ?? 'none' }}"
afterExecution:
  - id: x
    type: Log
    message: "{{ execution.state }}"
"""


def paused(body: str = PAUSE) -> Driver:
    d = Driver.of(body)
    d.plan(Start())
    d.plan(d.result("before"))
    return d


def elapsed(d: Driver, task_id: str = "wait") -> PauseElapsed:
    timers = [t.event for t in d.timers() if isinstance(t.event, PauseElapsed)]
    run = d.run(task_id)
    found = [e for e in timers if e.task_run_id == run.id]
    assert found, f"no PauseElapsed timer for {task_id}"
    return found[-1]


def test_pause_pauses_task_run_and_execution() -> None:
    d = paused()
    run = d.run("wait")
    assert run.state is State.PAUSED
    assert [h.state.value for h in run.histories] == ["CREATED", "RUNNING", "PAUSED"]
    assert d.execution.state is State.PAUSED
    assert history(d.execution) == ["CREATED", "RUNNING", "PAUSED"]
    assert d.dispatched() == ["before"]  # no worker job for a Pause
    assert d.timers() == []  # no duration, no timeout: it waits for a resume


def test_manual_resume_succeeds_and_sets_outputs() -> None:
    d = paused()
    resumed_at = d.now
    d.plan(Resume({}))
    run = d.run("wait")
    assert run.state is State.SUCCESS
    assert run.outputs == {
        "onResume": {},
        "resumed": {"on": resumed_at.isoformat().replace("+00:00", "Z"), "to": "RUNNING"},
    }
    assert history(d.execution)[-2:] == ["PAUSED", "RUNNING"]
    assert d.dispatched() == ["before", "after"]


def test_resume_of_execution_not_paused_is_ignored() -> None:
    d = Driver.of(PAUSE)
    d.plan(Start())
    d.plan(Resume({}))
    assert d.execution.state is State.RUNNING
    d.plan(d.result("before"))
    d.plan(Resume({}))
    first = d.execution
    d.plan(Resume({}))  # twice == once
    assert d.execution.histories == first.histories
    assert d.run("wait").histories == first.task_runs[d.run("wait").id].histories


ON_RESUME = """
tasks:
  - id: wait
    type: Pause
    onResume:
      - id: approved
        type: BOOLEAN
      - id: reason
        type: STRING
        defaults: none given
  - id: after
    type: Log
    message: "{{ outputs.wait.onResume.approved }} {{ outputs.wait.onResume.reason }}"
"""


def test_resume_inputs_validated_like_flow_inputs() -> None:
    d = Driver.of(ON_RESUME)
    d.plan(Start())
    d.plan(Resume({"approved": "true"}))
    outputs = d.run("wait").outputs
    assert outputs is not None
    assert outputs["onResume"] == {"approved": True, "reason": "none given"}
    assert d.dispatch_of("after").properties["message"] == "true none given"


def test_resume_with_invalid_inputs_is_refused() -> None:
    d = Driver.of(ON_RESUME)
    d.plan(Start())
    d.plan(Resume({"approved": "maybe"}))
    assert d.run("wait").state is State.PAUSED
    assert d.execution.state is State.PAUSED
    assert any("Resume refused" in line.message for line in d.logs())
    d.plan(Resume({"approved": False}))
    assert d.run("wait").state is State.SUCCESS


BEHAVIORS = [
    # behavior, allowFailure, task run state, execution state
    ("RESUME", False, State.SUCCESS, State.SUCCESS),
    ("WARN", False, State.WARNING, State.WARNING),
    ("FAIL", False, State.FAILED, State.FAILED),
    ("FAIL", True, State.WARNING, State.WARNING),
    ("CANCEL", False, State.CANCELLED, State.CANCELLED),
]


@pytest.mark.parametrize(("behavior", "allow", "task_state", "final"), BEHAVIORS)
def test_pause_duration_behavior(
    behavior: str, allow: bool, task_state: State, final: State
) -> None:
    d = Driver.of(f"""
        tasks:
          - id: wait
            type: Pause
            pauseDuration: PT10M
            behavior: {behavior}
            allowFailure: {str(allow).lower()}
        """)
    start = d.now
    d.plan(Start())
    [timer] = d.timers()
    assert timer.at == start + timedelta(minutes=10)
    assert timer.event == PauseElapsed(d.run("wait").id, 1)
    d.plan(timer.event)
    assert d.run("wait").state is task_state
    assert d.execution.state is final
    assert d.execution.finalized_at is not None


def test_pause_duration_old_name_delay() -> None:
    d = Driver.of("""
        tasks:
          - id: wait
            type: Pause
            delay: PT1M
        """)
    d.plan(Start())
    [timer] = d.timers()
    d.plan(timer.event)
    assert d.execution.state is State.SUCCESS


TIMEOUTS = [
    # allowFailure, allowWarning, task run state
    (False, False, State.FAILED),
    (True, False, State.WARNING),
    (True, True, State.SUCCESS),
]


@pytest.mark.parametrize(("allow_failure", "allow_warning", "task_state"), TIMEOUTS)
def test_pause_timeout_not_resumed_in_time(
    allow_failure: bool, allow_warning: bool, task_state: State
) -> None:
    d = Driver.of(f"""
        tasks:
          - id: wait
            type: Pause
            timeout: PT1H
            allowFailure: {str(allow_failure).lower()}
            allowWarning: {str(allow_warning).lower()}
        errors:
          - id: e
            type: Log
            message: handled
        """)
    d.plan(Start())
    d.plan(elapsed(d))
    run = d.run("wait")
    assert run.state is task_state
    assert any("Timeout after 01:00:00.000" in line.message for line in d.logs())
    ran_errors = "e" in d.dispatched()
    assert ran_errors is (task_state is State.FAILED)


def test_pause_resumed_before_timeout_ignores_the_timer() -> None:
    d = Driver.of("""
        tasks:
          - id: wait
            type: Pause
            timeout: PT1H
          - id: after
            type: Log
            message: after
        """)
    d.plan(Start())
    timer = elapsed(d)
    d.plan(Resume({}))
    d.plan(timer)  # stale
    assert d.run("wait").state is State.SUCCESS
    assert d.run("after").state is State.SUBMITTED


def test_kill_paused_execution_ends_killed_with_after_execution() -> None:
    d = paused()
    d.plan(Kill())
    assert d.run("wait").state is State.KILLED
    assert d.execution.state is State.KILLED
    assert d.dispatched() == ["before", "x"]
    d.plan(d.result("x"))
    assert d.execution.finalized_at is not None
    d.plan(Resume({}))  # too late
    assert d.execution.state is State.KILLED


PARALLEL = """
tasks:
  - id: par
    type: Parallel
    tasks:
      - id: wait
        type: Pause
      - id: work
        type: Log
        message: work
  - id: after
    type: Log
    message: after
"""


def test_pause_in_parallel_lets_siblings_run() -> None:
    d = Driver.of(PARALLEL)
    d.plan(Start())
    assert d.execution.state is State.PAUSED
    assert d.run("work").state is State.SUBMITTED
    d.plan(d.result("work"))
    assert d.run("work").state is State.SUCCESS
    assert d.run("par").state is State.RUNNING
    assert d.execution.state is State.PAUSED
    d.plan(Resume({}))
    assert d.run("par").state is State.SUCCESS
    assert d.execution.state is State.RUNNING
    assert d.dispatched() == ["work", "after"]


def test_failing_sibling_stops_the_pause_and_execution_goes_on() -> None:
    d = Driver.of(PARALLEL)
    d.plan(Start())
    d.plan(d.result("work", State.FAILED))
    assert d.run("wait").state is State.FAILED  # stopped with its parent's state
    assert d.execution.state is State.FAILED
    assert "PAUSED" in history(d.execution)


def test_resume_one_task_run_of_two() -> None:
    d = Driver.of("""
        tasks:
          - id: par
            type: Parallel
            tasks:
              - id: p1
                type: Pause
              - id: p2
                type: Pause
        """)
    d.plan(Start())
    d.plan(Resume({}, d.run("p2").id))
    assert d.run("p1").state is State.PAUSED
    assert d.run("p2").state is State.SUCCESS
    assert d.execution.state is State.PAUSED
    d.plan(Resume({}))
    assert d.execution.state is State.SUCCESS


LOCAL = """
tasks:
  - id: wait
    type: Pause
    tasks:
      - id: inner
        type: Fail
    errors:
      - id: local_error
        type: Log
        message: "{{ error.taskId }}"
    finally:
      - id: local_finally
        type: Log
        message: done
"""


def test_pause_tasks_run_after_resume_with_local_errors() -> None:
    d = Driver.of(LOCAL)
    d.plan(Start())
    assert d.dispatched() == []
    d.plan(Resume({}))
    d.plan(d.result("inner", State.FAILED))
    assert d.dispatch_of("local_error").properties["message"] == "inner"
    d.plan(d.result("local_error"))
    d.plan(d.result("local_finally"))
    assert d.run("wait").state is State.FAILED
    assert d.execution.state is State.FAILED


def test_pause_duration_is_rendered() -> None:
    d = Driver.of("""
        inputs:
          - id: wait
            type: DURATION
            defaults: PT2M
        tasks:
          - id: wait
            type: Pause
            pauseDuration: "{{ inputs.wait }}"
        """)
    d.execution = evolve(d.execution, inputs={"wait": "PT2M"})
    start = d.now
    d.plan(Start())
    [timer] = d.timers()
    assert isinstance(timer, Timer) and timer.at == start + timedelta(minutes=2)


def test_pause_duration_resume_uses_on_resume_defaults() -> None:
    d = Driver.of("""
        tasks:
          - id: wait
            type: Pause
            pauseDuration: PT1M
            onResume:
              - id: reason
                type: STRING
                defaults: timer
              - id: approved
                type: BOOLEAN
        """)
    d.plan(Start())
    [timer] = d.timers()
    d.plan(timer.event)
    run = d.run("wait")
    assert run.state is State.SUCCESS
    assert run.outputs is not None and run.outputs["onResume"] == {"reason": "timer"}


def test_resume_renders_dynamic_defaults_not_given_values() -> None:
    d = Driver.of("""
        tasks:
          - id: wait
            type: Pause
            onResume:
              - id: who
                type: STRING
                defaults: "{{ flow.id }}"
              - id: note
                type: STRING
        """)
    d.plan(Start())
    d.plan(Resume({"note": "{{ flow.namespace }}"}))
    run = d.run("wait")
    assert run.outputs is not None
    assert run.outputs["onResume"] == {"who": "t", "note": "{{ flow.namespace }}"}


def test_pause_in_after_execution_without_duration_goes_on() -> None:
    d = Driver.of("""
        tasks:
          - id: a
            type: Log
            message: a
        afterExecution:
          - id: wait
            type: Pause
          - id: x
            type: Log
            message: x
        """)
    d.plan(Start())
    d.plan(d.result("a"))
    assert d.run("wait").state is State.SUCCESS
    assert d.execution.state is State.SUCCESS
    assert d.run("x").state is State.SUBMITTED
