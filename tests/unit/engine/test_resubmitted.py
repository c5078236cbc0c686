"""Lost workers: a Resubmitted attempt goes on; WorkerLost fails like any failure."""

from __future__ import annotations

from lanner.engine.events import Resubmitted, Start, TaskResult, TaskStarted
from lanner.model.states import State
from tests.unit.engine.support import Driver

FLOW = """
tasks:
  - id: a
    type: Log
    message: a
    retry:
      type: constant
      interval: PT1S
      maxAttempts: 2
errors:
  - id: e
    type: Log
    message: "{{ error.type }}"
"""


def attempt_states(d: Driver, task_id: str) -> list[str]:
    return [h.state.value for h in d.run(task_id).attempts[-1].histories]


def test_resubmitted_attempt_goes_on() -> None:
    d = Driver.of(FLOW)
    d.plan(Start())
    run = d.run("a")
    d.plan(TaskStarted(run.id, 1))
    d.plan(Resubmitted(run.id, 1))
    assert d.run("a").state is State.RUNNING
    assert attempt_states(d, "a") == ["CREATED", "RUNNING", "RESUBMITTED"]
    d.plan(TaskStarted(run.id, 1))
    assert attempt_states(d, "a") == ["CREATED", "RUNNING", "RESUBMITTED", "RUNNING"]
    assert len(d.run("a").attempts) == 1
    d.plan(TaskResult(run.id, 1, State.SUCCESS))
    assert d.run("a").state is State.SUCCESS
    assert len(d.run("a").attempts) == 1
    assert d.execution.state is State.SUCCESS


def test_resubmitted_before_start() -> None:
    d = Driver.of(FLOW)
    d.plan(Start())
    run = d.run("a")
    d.plan(Resubmitted(run.id, 1))
    assert d.run("a").state is State.SUBMITTED
    d.plan(TaskStarted(run.id, 1))
    assert d.run("a").state is State.RUNNING
    assert attempt_states(d, "a") == ["CREATED", "RESUBMITTED", "RUNNING"]


def test_resubmitted_does_not_count_toward_max_attempts() -> None:
    d = Driver.of(FLOW)
    d.plan(Start())
    run = d.run("a")
    for _ in range(3):
        d.plan(TaskStarted(run.id, 1))
        d.plan(Resubmitted(run.id, 1))
    d.plan(TaskResult(run.id, 1, State.FAILED, error="boom"))
    assert d.run("a").state is State.RETRYING  # the retry policy still has one attempt


def test_resubmitted_stale_or_duplicate_is_ignored() -> None:
    d = Driver.of(FLOW)
    d.plan(Start())
    run = d.run("a")
    d.plan(TaskStarted(run.id, 1))
    d.plan(Resubmitted(run.id, 1), Resubmitted(run.id, 1))
    assert attempt_states(d, "a") == ["CREATED", "RUNNING", "RESUBMITTED"]
    d.plan(Resubmitted(run.id, 2))  # not the current attempt
    d.plan(Resubmitted("nope", 1))
    assert attempt_states(d, "a") == ["CREATED", "RUNNING", "RESUBMITTED"]
    d.plan(TaskResult(run.id, 1, State.SUCCESS))
    done = d.run("a")
    d.plan(Resubmitted(run.id, 1))  # terminal
    assert d.run("a") == done


def test_worker_lost_result_is_a_failure() -> None:
    d = Driver.of(FLOW)
    d.plan(Start())
    run = d.run("a")
    lost = TaskResult(run.id, 1, State.FAILED, error="worker lost", error_type="WorkerLost")
    d.plan(lost)
    assert d.run("a").state is State.RETRYING
    [timer] = d.timers()
    d.plan(timer.event)
    d.plan(TaskResult(run.id, 2, State.FAILED, error="worker lost", error_type="WorkerLost"))
    assert d.run("a").state is State.FAILED
    assert d.dispatch_of("e").properties["message"] == "WorkerLost"
