"""The planner's side of a one_job task (WorkingDirectory, engine/onejob.py): one
Dispatch for the whole task, its children's task runs made from the worker's
ChildStarted / ChildResult reports, stale reports ignored, a rerun of the job
giving each child a new attempt, a kill stopping the children."""

from __future__ import annotations

from lanner.engine.events import (
    ChildResult,
    ChildStarted,
    Kill,
    Restart,
    Resubmitted,
    Start,
    TaskStarted,
)
from lanner.model.states import State
from tests.unit.engine.support import Driver

FLOW = """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: ["*.csv"]
    inputFiles:
      a.txt: "{{ execution.id }}"
    tasks:
      - id: first
        type: io.kestra.plugin.core.log.Log
        message: "in {{ workingDir }}"
      - id: second
        type: io.kestra.plugin.core.log.Log
        allowFailure: true
        message: "{{ outputs.first.exitCode }}"
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
"""


def _started(d: Driver) -> tuple[str, int]:
    d.plan(Start())
    run = d.run("wdir")
    d.plan(TaskStarted(run.id, 1))
    return run.id, 1


def test_one_dispatch_for_the_task_its_children_left_to_the_worker() -> None:
    d = Driver.of(FLOW)
    d.plan(Start())
    assert d.dispatched() == ["wdir"]
    properties = d.dispatch_of("wdir").properties
    # Its own properties are rendered; its tasks are not (the worker renders each).
    assert properties == {"outputFiles": ["*.csv"], "inputFiles": {"a.txt": d.execution.id}}


def test_children_are_made_from_the_workers_reports() -> None:
    d = Driver.of(FLOW)
    wdir, attempt = _started(d)
    d.plan(ChildStarted(wdir, attempt, 1, "first"))
    first = d.run("first")
    assert first.parent_id == wdir and first.state is State.RUNNING
    assert [a.state for a in first.attempts] == [State.RUNNING]
    d.plan(ChildResult(wdir, attempt, 1, "first", State.SUCCESS, {"exitCode": 0}))
    assert d.run("first").state is State.SUCCESS
    assert d.run("first").outputs == {"exitCode": 0}
    d.plan(ChildStarted(wdir, attempt, 1, "second"))
    d.plan(ChildResult(wdir, attempt, 1, "second", State.FAILED, error="boom"))
    assert d.run("second").state is State.WARNING  # its allowFailure
    assert d.dispatched() == ["wdir"]  # the planner started no child itself
    d.plan(d.result("wdir", State.WARNING))
    assert d.states()[:3] == [("wdir", "WARNING"), ("first", "SUCCESS"), ("second", "WARNING")]
    assert d.dispatched() == ["wdir", "after"]


def test_stale_reports_change_nothing() -> None:
    d = Driver.of(FLOW)
    wdir, attempt = _started(d)
    d.plan(ChildStarted(wdir, attempt + 1, 1, "first"))  # another attempt's
    d.plan(ChildStarted(wdir, attempt, 1, "after"))  # not one of its tasks
    assert [t for t, _ in d.states()] == ["wdir"]
    d.plan(ChildStarted(wdir, attempt, 2, "first"))
    d.plan(ChildResult(wdir, attempt, 1, "first", State.SUCCESS))  # an earlier claim's
    assert d.run("first").state is State.RUNNING


def test_a_job_run_again_gives_its_children_a_new_attempt() -> None:
    d = Driver.of(FLOW)
    wdir, attempt = _started(d)
    d.plan(ChildStarted(wdir, attempt, 1, "first"))
    d.plan(ChildResult(wdir, attempt, 1, "first", State.SUCCESS))
    d.plan(ChildStarted(wdir, attempt, 1, "second"))
    d.plan(Resubmitted(wdir, attempt))  # the worker died in `second`
    d.plan(TaskStarted(wdir, attempt))
    for task_id in ("first", "second"):
        d.plan(ChildStarted(wdir, attempt, 2, task_id))
        d.plan(ChildResult(wdir, attempt, 2, task_id, State.SUCCESS))
    first, second = d.run("first"), d.run("second")
    assert [a.state for a in first.attempts] == [State.SUCCESS, State.SUCCESS]
    assert [a.state for a in second.attempts] == [State.RESUBMITTED, State.SUCCESS]
    assert len([r for r in d.execution.task_runs.values() if r.parent_id == wdir]) == 2


def test_a_kill_stops_the_running_child() -> None:
    d = Driver.of(FLOW)
    wdir, attempt = _started(d)
    d.plan(ChildStarted(wdir, attempt, 1, "first"))
    d.plan(Kill())
    assert d.run("first").state is State.KILLED
    assert d.run("wdir").state is State.KILLED
    assert "wdir" in d.cancelled()


def test_a_restart_runs_the_job_again_and_never_a_child_alone() -> None:
    d = Driver.of(FLOW.replace("allowFailure: true", "allowFailure: false"))
    wdir, attempt = _started(d)
    d.plan(ChildStarted(wdir, attempt, 1, "first"))
    d.plan(ChildResult(wdir, attempt, 1, "first", State.SUCCESS))
    d.plan(ChildStarted(wdir, attempt, 1, "second"))
    d.plan(ChildResult(wdir, attempt, 1, "second", State.FAILED, error="boom"))
    d.plan(d.result("wdir", State.FAILED, error="boom"))
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    assert d.dispatched() == ["wdir", "wdir"]  # the job again, not `second` alone
    assert d.run("second").state is State.RESTARTED
    d.plan(TaskStarted(wdir, 2))
    for task_id in ("first", "second"):
        d.plan(ChildStarted(wdir, 2, 1, task_id))
        d.plan(ChildResult(wdir, 2, 1, task_id, State.SUCCESS))
    d.plan(d.result("wdir"))
    assert [a.state for a in d.run("second").attempts] == [State.FAILED, State.SUCCESS]
    assert d.run("wdir").state is State.SUCCESS


HANDLERS = """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    cache:
      patterns: ["deps/**"]
      ttl: PT1H
    tasks:
      - id: first
        type: io.kestra.plugin.core.log.Log
        message: first
    errors:
      - id: on_error
        type: io.kestra.plugin.core.log.Log
        message: "{{ error.message }}"
    finally:
      - id: always
        type: io.kestra.plugin.core.log.Log
        message: always
"""


def test_its_own_errors_and_finally_are_children_in_their_phases() -> None:
    d = Driver.of(HANDLERS)
    d.plan(Start())
    # The handler lists stay out of the job's properties, as its tasks do; the cache is in.
    properties = d.dispatch_of("wdir").properties
    assert properties == {"cache": {"patterns": ["deps/**"], "ttl": "PT1H"}}
    wdir = d.run("wdir").id
    d.plan(TaskStarted(wdir, 1))
    d.plan(ChildStarted(wdir, 1, 1, "first"))
    d.plan(ChildResult(wdir, 1, 1, "first", State.FAILED, error="boom"))
    d.plan(ChildStarted(wdir, 1, 1, "on_error"))
    d.plan(ChildResult(wdir, 1, 1, "on_error", State.SUCCESS))
    d.plan(ChildStarted(wdir, 1, 1, "always"))
    d.plan(ChildResult(wdir, 1, 1, "always", State.FAILED, error="no"))
    assert d.dispatched() == ["wdir"]  # the planner started no handler itself
    assert [d.run(t).phase.value for t in ("first", "on_error", "always")] == [
        "main",
        "errors",
        "finally",
    ]
    assert all(d.run(t).parent_id == wdir for t in ("first", "on_error", "always"))
    d.plan(d.result("wdir", State.FAILED, error="boom"))
    assert d.states() == [
        ("wdir", "FAILED"),
        ("first", "FAILED"),
        ("on_error", "SUCCESS"),
        ("always", "FAILED"),
    ]
    assert d.execution.state is State.FAILED


def test_a_restart_deletes_its_handlers_and_the_job_makes_them_again() -> None:
    d = Driver.of(HANDLERS)
    d.plan(Start())
    wdir = d.run("wdir").id
    d.plan(TaskStarted(wdir, 1))
    for task_id, state in (("first", State.FAILED), ("on_error", State.SUCCESS)):
        d.plan(ChildStarted(wdir, 1, 1, task_id))
        d.plan(ChildResult(wdir, 1, 1, task_id, state))
    d.plan(d.result("wdir", State.FAILED, error="boom"))
    d.plan(Restart())
    assert d.dispatched() == ["wdir", "wdir"]
    assert {r.task_id for r in d.execution.task_runs.values()} == {"wdir", "first"}
    d.plan(TaskStarted(wdir, 2))
    for task_id in ("first", "always"):
        d.plan(ChildStarted(wdir, 2, 1, task_id))
        d.plan(ChildResult(wdir, 2, 1, task_id, State.SUCCESS))
    d.plan(d.result("wdir"))
    assert d.states() == [("wdir", "SUCCESS"), ("first", "SUCCESS"), ("always", "SUCCESS")]
    assert d.run("always").phase.value == "finally"


RETRY = """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: flaky
        type: io.kestra.plugin.core.log.Log
        message: flaky
        retry:
          type: constant
          interval: PT1S
          maxAttempts: 3
          warningOnRetry: true
"""


def test_a_child_the_worker_retries_is_retrying_never_failed() -> None:
    d = Driver.of(RETRY)
    wdir, attempt = _started(d)
    d.plan(ChildStarted(wdir, attempt, 1, "flaky"))
    d.plan(ChildResult(wdir, attempt, 1, "flaky", State.FAILED, error="boom", retrying=True))
    flaky = d.run("flaky")
    assert flaky.state is State.RETRYING
    assert [a.state for a in flaky.attempts] == [State.FAILED]
    assert d.execution.state is State.RETRYING
    assert d.dispatched() == ["wdir"]  # the planner does not retry it: the worker does
    d.plan(ChildStarted(wdir, attempt, 1, "flaky"))
    flaky = d.run("flaky")
    assert flaky.state is State.RUNNING
    assert [a.state for a in flaky.attempts] == [State.FAILED, State.RUNNING]
    assert d.execution.state is State.RUNNING
    d.plan(ChildStarted(wdir, attempt, 1, "flaky"))  # applied twice: no third attempt
    assert len(d.run("flaky").attempts) == 2
    d.plan(ChildResult(wdir, attempt, 1, "flaky", State.SUCCESS))
    flaky = d.run("flaky")
    assert [a.state for a in flaky.attempts] == [State.FAILED, State.SUCCESS]
    assert flaky.state is State.WARNING  # warningOnRetry
    d.plan(d.result("wdir", State.WARNING))
    assert d.execution.state is State.WARNING
