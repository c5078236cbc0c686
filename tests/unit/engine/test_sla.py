"""Flow-level `sla` (docs/semantics.md "SLA"): MAX_DURATION timers, EXECUTION_ASSERTION
checks, and what FAIL, CANCEL and NONE do to the execution."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest

from lanner.engine.events import Cancel, Deliver, Kill, Restart, SlaDue, Start, StartSubflow, Timer
from lanner.model.states import State
from lanner.runtime.eventcodec import timer_key
from tests.unit.engine.support import T0, Driver, history, load, run

SLEEPY = """
labels:
  team: data
sla:
  - id: too_long
    type: MAX_DURATION
    duration: PT1M
    behavior: {behavior}
    labels:
      sla: miss
tasks:
  - id: first
    type: Log
    message: first
  - id: sleep
    type: Sleep
    duration: PT1H
  - id: never
    type: Log
    message: never
errors:
  - id: on_error
    type: Log
    message: never
finally:
  - id: cleanup
    type: Log
    message: never
afterExecution:
  - id: after
    type: Log
    message: "{{{{ execution.state }}}}"
"""


def _user_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels the flow set (simulate() adds `system.correlationId`, as every run)."""
    return {k: v for k, v in labels.items() if not k.startswith("system.")}


def sleeping(behavior: str) -> Driver:
    """The execution of SLEEPY with `sleep` running."""
    d = Driver.of(SLEEPY.format(behavior=behavior))
    d.plan(Start())
    d.plan(d.result("first"))
    assert d.run("sleep").state is State.SUBMITTED
    return d


def sla_due(d: Driver) -> SlaDue:
    [timer] = [t for t in d.timers() if isinstance(t.event, SlaDue)]
    assert isinstance(timer.event, SlaDue)
    return timer.event


def test_the_timer_is_asked_for_in_the_cycle_that_starts_the_execution() -> None:
    d = Driver.of(SLEEPY.format(behavior="FAIL"))
    decision = d.plan(Start())
    timers = [c for c in decision.commands if isinstance(c, Timer)]
    assert timers == [Timer(T0 + timedelta(minutes=1), SlaDue(0, "too_long", 0))]


@pytest.mark.parametrize(
    ("behavior", "execution", "sleep", "labels"),
    [
        ("FAIL", State.FAILED, State.FAILED, {"team": "data", "sla": "miss"}),
        ("CANCEL", State.CANCELLED, State.CANCELLED, {"team": "data", "sla": "miss"}),
        ("NONE", State.RUNNING, State.SUBMITTED, {"team": "data", "sla": "miss"}),
    ],
)
def test_max_duration_violation_applies_the_behavior(
    behavior: str, execution: State, sleep: State, labels: dict[str, str]
) -> None:
    d = sleeping(behavior)
    d.plan(sla_due(d))
    assert d.execution.state is execution
    assert d.run("sleep").state is sleep
    assert dict(d.execution.labels) == labels
    messages = [line.message for line in d.logs()]
    assert any(m.startswith("SLA 'too_long' violated: execution duration of") for m in messages)
    if behavior == "NONE":
        assert d.cancelled() == []
        for task_id in ("sleep", "never", "cleanup", "after"):
            d.plan(d.result(task_id))
        assert d.execution.state is State.SUCCESS
        return
    # The running job is stopped; errors and finally do not run; afterExecution does.
    assert d.cancelled() == ["sleep"]
    assert d.dispatched() == ["first", "sleep", "after"]
    assert history(d.execution)[-1] == execution.value
    d.plan(d.result("sleep"))  # the stopped job's late result changes nothing
    assert d.run("sleep").state is sleep
    d.plan(d.result("after"))
    assert [t for t, _ in d.states()] == ["first", "sleep", "after"]
    assert d.execution.finalized_at is not None
    assert d.execution.state is execution
    if behavior == "FAIL":
        assert d.execution.error is not None and d.execution.error.type == "SLAViolation"
        assert any(m.startswith("Execution failed due to SLA 'too_long'") for m in messages)


def test_a_violation_stops_every_running_task_run() -> None:
    """The last task run still going takes the SLA's state; the others are KILLED."""
    d = Driver.of(
        """
        sla:
          - id: max
            type: MAX_DURATION
            duration: PT10S
            behavior: CANCEL
        tasks:
          - id: par
            type: Parallel
            tasks:
              - id: p1
                type: Sleep
                duration: PT1H
              - id: p2
                type: Sleep
                duration: PT1H
        """
    )
    d.plan(Start())
    d.plan(sla_due(d))
    assert d.execution.state is State.CANCELLED
    assert d.states() == [("par", "KILLED"), ("p1", "KILLED"), ("p2", "CANCELLED")]
    assert d.cancelled() == ["p1", "p2"]


@pytest.mark.parametrize("behavior", ["FAIL", "CANCEL", "NONE"])
def test_a_timer_after_the_terminal_state_changes_nothing(behavior: str) -> None:
    d = sleeping(behavior)
    for task_id in ("sleep", "never", "cleanup"):
        d.plan(d.result(task_id))
    assert d.execution.state is State.SUCCESS
    before = len(d.logs())
    d.plan(sla_due(d))
    assert d.execution.state is State.SUCCESS
    assert dict(d.execution.labels) == {"team": "data"}
    assert len(d.logs()) == before


@pytest.mark.parametrize("behavior", ["FAIL", "CANCEL", "NONE"])
def test_a_timer_delivered_twice_acts_once(behavior: str) -> None:
    d = sleeping(behavior)
    event = sla_due(d)
    d.plan(event)
    state, labels, cancels = d.execution.state, dict(d.execution.labels), d.of_type(Cancel)
    d.plan(event)
    assert d.execution.state is state
    assert dict(d.execution.labels) == labels
    assert d.of_type(Cancel) == cancels


def test_timers_have_one_dedup_key_per_sla_and_run() -> None:
    keys = {
        timer_key("ex", SlaDue(0, "a", 0)),
        timer_key("ex", SlaDue(1, "a", 0)),
        timer_key("ex", SlaDue(0, "a", 1)),
    }
    assert len(keys) == 3
    assert timer_key("ex", SlaDue(0, "a", 0)) == timer_key("ex", SlaDue(0, "a", 0))


def test_a_restarted_execution_gets_a_new_timer_and_ignores_the_old_one() -> None:
    d = Driver.of(
        """
        sla:
          - id: max
            type: MAX_DURATION
            duration: PT1M
            behavior: FAIL
        tasks:
          - id: a
            type: Log
            message: a
        """
    )
    d.plan(Start())
    old = sla_due(d)
    d.plan(d.result("a", State.FAILED))
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    assert d.execution.state is State.RUNNING
    new = [t.event for t in d.timers() if t.event != old]
    assert new == [SlaDue(0, "max", 1)]
    d.plan(old)  # the first run's deadline
    assert d.execution.state is State.RUNNING
    d.plan(new[0])
    assert d.execution.state is State.FAILED


def test_a_queued_execution_counts_its_waiting_time() -> None:
    d = Driver.of(
        """
        concurrency:
          limit: 1
        sla:
          - id: max
            type: MAX_DURATION
            duration: PT1M
            behavior: CANCEL
        tasks:
          - id: a
            type: Log
            message: a
        """
    )
    d.slots_taken = 1
    d.plan(Start())
    assert d.execution.state is State.QUEUED
    d.plan(sla_due(d))
    assert d.execution.state is State.CANCELLED
    assert d.execution.finalized_at is not None


ASSERTING = """
inputs:
  - id: string
    type: SELECT
    values: [PASS, CANCEL, LABEL]
    defaults: PASS
sla:
  - id: condition
    type: EXECUTION_ASSERTION
    behavior: CANCEL
    assert: "{{ inputs.string != 'CANCEL' }}"
  - id: condition
    type: EXECUTION_ASSERTION
    behavior: NONE
    assert: "{{ inputs.string != 'LABEL' }}"
    labels:
      sla: violated
tasks:
  - id: return
    type: Return
    format: "true"
"""


@pytest.mark.parametrize(
    ("value", "state", "labels", "tasks"),
    [
        ("PASS", State.SUCCESS, {}, ["return"]),
        ("CANCEL", State.CANCELLED, {}, []),  # checked before any task starts
        ("LABEL", State.SUCCESS, {"sla": "violated"}, ["return"]),
    ],
)
def test_kestra_sla_execution_condition(
    value: str, state: State, labels: dict[str, str], tasks: list[str]
) -> None:
    sim = run(ASSERTING, inputs={"string": value})
    assert sim.execution.state is state
    assert _user_labels(sim.execution.labels) == labels
    assert [t for t, _ in sim.states()] == tasks
    violated = [m for m in sim.messages() if m.startswith("SLA 'condition' violated")]
    assert len(violated) == (0 if value == "PASS" else 1)


def test_an_assertion_on_outputs_waits_for_them_then_fails_the_execution() -> None:
    d = Driver.of(
        """
        sla:
          - id: expected
            type: EXECUTION_ASSERTION
            assert: "{{ outputs.a.value == 'expected' }}"
            behavior: FAIL
        tasks:
          - id: a
            type: Return
            format: x
          - id: b
            type: Log
            message: b
        """
    )
    d.plan(Start())  # outputs.a does not exist yet: no violation, no log
    assert d.execution.state is State.RUNNING
    assert d.logs() == []
    d.plan(d.result("a", value="other"))
    assert d.execution.state is State.FAILED
    assert d.dispatched() == ["a"]
    assert d.execution.error is not None
    assert "assertion is false" in d.execution.error.message


def test_the_assertion_is_checked_when_the_execution_ends() -> None:
    """NONE assertions are checked only then; a render error is reported then."""
    sim = run(
        """
        sla:
          - id: final
            type: EXECUTION_ASSERTION
            assert: "{{ outputs.a.value == 'expected' }}"
            behavior: NONE
            labels:
              sla: missed
          - id: broken
            type: EXECUTION_ASSERTION
            assert: "{{ outputs.nothing.value }}"
            behavior: FAIL
        tasks:
          - id: a
            type: Return
            format: other
        """
    )
    assert sim.execution.state is State.SUCCESS
    assert _user_labels(sim.execution.labels) == {"sla": "missed"}
    messages = sim.messages()
    assert sum(m.startswith("SLA 'final' violated") for m in messages) == 1
    assert any(m.startswith("SLA 'broken' ignored") for m in messages)


def test_an_assertion_at_the_end_can_fail_the_execution() -> None:
    sim = run(
        """
        sla:
          - id: final
            type: EXECUTION_ASSERTION
            assert: "{{ outputs.a.value == 'expected' }}"
            behavior: FAIL
        tasks:
          - id: a
            type: Return
            format: other
        afterExecution:
          - id: after
            type: Log
            message: "{{ execution.state }}"
        """
    )
    assert sim.execution.state is State.FAILED
    assert sim.messages("after") == ["FAILED"]


def test_a_killed_execution_is_not_checked() -> None:
    d = Driver.of(
        """
        sla:
          - id: final
            type: EXECUTION_ASSERTION
            assert: "{{ false }}"
            behavior: NONE
            labels:
              sla: missed
        tasks:
          - id: sleep
            type: Sleep
            duration: PT1H
        """
    )
    d.plan(Start())
    d.plan(Kill())
    assert d.execution.state is State.KILLED
    assert dict(d.execution.labels) == {}
    assert not any("violated" in line.message for line in d.logs())


@pytest.mark.parametrize(
    ("sla", "message"),
    [
        ({"id": "s", "type": "MAX_DURATION", "behavior": "FAIL"}, "needs `duration`"),
        ({"id": "s", "type": "EXECUTION_ASSERTION", "behavior": "FAIL"}, "needs `assert`"),
        ({"id": "s", "type": "MAX_DURATION", "duration": "PT1S"}, "behavior"),
        (
            {"id": "s", "type": "MAX_DURATION", "behavior": "FAIL", "duration": "PT1S", "assert": "x"},
            "`assert` belongs to an EXECUTION_ASSERTION",
        ),
        (
            {"id": "s", "type": "MAX_DURATION", "behavior": "NONE", "duration": "PT1S",
             "labels": {"system.sla": "x"}},
            "system labels",
        ),
    ],
)  # fmt: skip
def test_invalid_slas_are_rejected(sla: dict[str, object], message: str) -> None:
    import json

    from lanner.errors import LannerError

    body = f"sla: [{json.dumps(sla)}]\ntasks:\n  - id: a\n    type: Log\n    message: a\n"
    with pytest.raises(LannerError) as caught:
        load(body)
    assert message in str(caught.value)


def test_a_paused_execution_that_waits_too_long_fails() -> None:
    """An approval that never comes: the Pause task run takes the SLA's state."""
    d = Driver.of(
        """
        sla:
          - id: approval
            type: MAX_DURATION
            duration: PT1H
            behavior: FAIL
        tasks:
          - id: wait
            type: Pause
          - id: never
            type: Log
            message: never
        """
    )
    d.plan(Start())
    assert d.execution.state is State.PAUSED
    d.plan(sla_due(d))
    assert d.execution.state is State.FAILED
    assert d.states() == [("wait", "FAILED")]
    assert d.execution.finalized_at is not None


def test_a_retrying_task_run_is_stopped_and_its_retry_dropped() -> None:
    d = Driver.of(
        """
        sla:
          - id: max
            type: MAX_DURATION
            duration: PT1M
            behavior: CANCEL
        tasks:
          - id: flaky
            type: Log
            message: x
            retry:
              type: constant
              interval: PT10M
              maxAttempts: 5
        """
    )
    d.plan(Start())
    d.plan(d.result("flaky", State.FAILED))
    assert d.execution.state is State.RETRYING
    [retry] = [t.event for t in d.timers() if not isinstance(t.event, SlaDue)]
    d.plan(sla_due(d))
    assert d.execution.state is State.CANCELLED
    assert d.run("flaky").state is State.CANCELLED
    d.plan(retry)  # the retry delay ends after the violation: nothing runs again
    assert d.dispatched() == ["flaky"]
    assert d.execution.state is State.CANCELLED


def test_a_violation_kills_the_child_execution_of_a_waiting_subflow() -> None:
    d = Driver.of(
        """
        sla:
          - id: max
            type: MAX_DURATION
            duration: PT1M
            behavior: FAIL
        tasks:
          - id: call
            type: Subflow
            namespace: tests
            flowId: child
        """
    )
    d.plan(Start())
    [start] = d.of_type(StartSubflow)
    d.plan(sla_due(d))
    assert d.execution.state is State.FAILED
    assert d.run("call").state is State.FAILED
    assert [(c.execution_id, c.event) for c in d.of_type(Deliver)] == [(start.execution_id, Kill())]


def test_a_scheduled_execution_is_watched_from_its_start_not_its_creation() -> None:
    d = Driver.of(SLEEPY.format(behavior="NONE"))  # created at T0
    d.now = T0 + timedelta(minutes=10)  # a scheduled Subflow child starts later
    d.plan(Start())
    [timer] = [t for t in d.timers() if isinstance(t.event, SlaDue)]
    assert timer.at == T0 + timedelta(minutes=11)
    d.now = timer.at + timedelta(milliseconds=250)
    d.plan(timer.event)
    assert any(
        line.message.endswith(
            "execution duration of PT1M0.25S exceeds the maximum duration of PT1M"
        )
        for line in d.logs()
    ), [line.message for line in d.logs()]


@pytest.mark.parametrize(
    ("duration", "timers", "logged"),
    [("\"{{ 'PT2M' }}\"", [T0 + timedelta(minutes=2)], False), ("\"{{ 'soon' }}\"", [], True)],
)
def test_a_duration_expression_is_rendered_when_the_timer_is_set(
    duration: str, timers: list[object], logged: bool
) -> None:
    d = Driver.of(
        f"""
        sla:
          - id: max
            type: MAX_DURATION
            duration: {duration}
            behavior: FAIL
        tasks:
          - id: a
            type: Log
            message: a
        """
    )
    d.plan(Start())
    assert [t.at for t in d.timers()] == timers
    assert any(line.message.startswith("SLA 'max' ignored") for line in d.logs()) is logged
