"""A user's pause of a running execution (Kestra's pause action, engine/pause.py):
no task run starts while it is PAUSED, those already running end, and a Resume
carries on where it stopped."""

from __future__ import annotations

from lanner.engine.events import Kill, Resume, RetryDue, Start, UserPause
from lanner.model.states import State
from tests.unit.engine.support import Driver, history

SEQUENCE = """
tasks:
  - id: first
    type: Log
    message: one
  - id: second
    type: Log
    message: two
"""

PARALLEL = """
tasks:
  - id: both
    type: Parallel
    tasks:
      - id: a
        type: Log
        message: a
      - id: b
        type: Log
        message: b
  - id: last
    type: Log
    message: last
"""


def test_a_paused_execution_starts_nothing_and_resume_goes_on() -> None:
    d = Driver.of(SEQUENCE)
    d.plan(Start())
    d.plan(UserPause())
    assert d.execution.state is State.PAUSED
    d.plan(d.result("first"))  # the running task run ends
    assert d.run("first").state is State.SUCCESS
    assert d.dispatched() == ["first"]  # and nothing new starts
    assert d.execution.state is State.PAUSED
    assert d.states() == [("first", "SUCCESS")]
    d.plan(Resume({}))
    assert d.execution.state is State.RUNNING
    assert d.dispatched() == ["first", "second"]
    d.plan(d.result("second"))
    assert d.execution.state is State.SUCCESS
    assert history(d.execution) == ["CREATED", "RUNNING", "PAUSED", "RUNNING", "SUCCESS"]
    assert any("paused by a user" in line.message for line in d.logs())


def test_a_flowable_whose_children_ended_during_the_pause_goes_on_after_resume() -> None:
    d = Driver.of(PARALLEL)
    d.plan(Start())
    assert sorted(d.dispatched()) == ["a", "b"]
    d.plan(UserPause())
    d.plan(d.result("a"))
    d.plan(d.result("b"))
    assert d.run("both").state is State.RUNNING  # not looked at while paused
    assert d.execution.state is State.PAUSED
    d.plan(Resume({}))
    assert d.run("both").state is State.SUCCESS
    assert d.dispatched()[-1] == "last"
    d.plan(d.result("last"))
    assert d.execution.state is State.SUCCESS


def test_pause_is_ignored_unless_running_and_twice_is_once() -> None:
    d = Driver.of(SEQUENCE)
    d.plan(UserPause())  # CREATED: not running yet
    assert d.execution.state is State.CREATED
    d.plan(Start())
    d.plan(UserPause())
    first = d.execution
    d.plan(UserPause())
    assert d.execution.histories == first.histories
    d.plan(Resume({}))
    d.plan(d.result("first"))
    d.plan(d.result("second"))
    assert d.execution.state is State.SUCCESS
    d.plan(UserPause())  # ended: nothing to pause
    assert d.execution.state is State.SUCCESS


def test_a_paused_execution_can_be_killed() -> None:
    d = Driver.of(SEQUENCE)
    d.plan(Start())
    d.plan(UserPause())
    d.plan(Kill())
    assert d.execution.state is State.KILLED
    assert d.run("first").state is State.KILLED
    assert d.cancelled() == ["first"]


def test_a_retry_due_during_the_pause_waits_for_the_resume() -> None:
    d = Driver.of(
        """
tasks:
  - id: flaky
    type: Fail
    retry:
      type: constant
      interval: PT1S
      maxAttempts: 3
"""
    )
    d.plan(Start())
    d.plan(d.result("flaky", State.FAILED, error="boom"))
    assert d.execution.state is State.RETRYING
    d.plan(UserPause())
    assert d.execution.state is State.PAUSED
    run = d.run("flaky")
    d.plan(RetryDue(run.id, len(run.attempts)))
    assert d.dispatched() == ["flaky"]  # due, but not started while paused
    d.plan(Resume({}))
    assert d.execution.state is State.RUNNING
    assert d.dispatched() == ["flaky", "flaky"]
    d.plan(d.result("flaky"))
    assert d.execution.state is State.SUCCESS


def test_a_pause_task_still_pauses_and_resumes_as_before() -> None:
    d = Driver.of(
        """
tasks:
  - id: wait
    type: Pause
  - id: after
    type: Log
    message: after
"""
    )
    d.plan(Start())
    assert d.execution.state is State.PAUSED
    d.plan(UserPause())  # already PAUSED: nothing changes
    d.plan(Resume({}))
    assert d.run("wait").state is State.SUCCESS
    assert d.dispatched() == ["after"]
