"""SPEC §5.10, §4.2: the Subflow task, and messages between parent and child executions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lanner.engine.events import (
    Deliver,
    Kill,
    Restart,
    Start,
    StartSubflow,
    SubflowEnded,
    TaskResult,
    TimeoutDue,
)
from lanner.engine.execution import evolve
from lanner.model.states import State
from tests.unit.engine.support import Driver, history

SUBFLOW = """
labels:
  team: data
tasks:
  - id: call
    type: Subflow
    namespace: "{{ flow.namespace }}.child"
    flowId: child
    revision: 3
    inputs:
      n: "{{ 1 + 1 }}"
    labels:
      env: test
  - id: after
    type: Log
    message: "{{ outputs.call.outputs.result ?? 'none' }} {{ outputs.call.state ?? '' }}"
"""


def started(body: str = SUBFLOW) -> tuple[Driver, StartSubflow]:
    d = Driver.of(body)
    d.plan(Start())
    return d, d.of_type(StartSubflow)[-1]


def ended(d: Driver, cmd: StartSubflow, state: State, **outputs: object) -> SubflowEnded:
    return SubflowEnded(cmd.task_run_id, cmd.attempt, cmd.execution_id, state, outputs)


def test_subflow_start_emits_start_subflow() -> None:
    d, cmd = started()
    run = d.run("call")
    assert cmd == StartSubflow(
        task_run_id=run.id,
        attempt=1,
        execution_id=cmd.execution_id,
        namespace="tests.child",
        flow_id="child",
        revision=3,
        inputs={"n": "2"},
        labels={"env": "test", "system.correlationId": d.execution.id},
        parent_execution_id=d.execution.id,
    )
    assert run.state is State.RUNNING
    assert run.outputs == {"executionId": cmd.execution_id}
    assert d.dispatched() == []


def test_subflow_child_id_is_deterministic() -> None:
    _, first = started()
    _, second = started()
    assert first.execution_id == second.execution_id
    d = Driver.of(SUBFLOW)
    assert first.execution_id != d.execution.id


def test_subflow_labels_inherited_and_correlation_kept() -> None:
    d = Driver.of("""
        labels:
          team: data
        tasks:
          - id: call
            type: Subflow
            namespace: a
            flowId: b
            inheritLabels: true
            labels:
              - key: team
                value: ops
        """)
    d.execution = evolve(
        d.execution, labels={"team": "data", "x": "1", "system.correlationId": "root"}
    )
    d.plan(Start())
    [cmd] = d.of_type(StartSubflow)
    assert cmd.labels == {"team": "ops", "x": "1", "system.correlationId": "root"}


def test_subflow_wait_false_succeeds_at_once() -> None:
    d, cmd = started("""
        tasks:
          - id: call
            type: Subflow
            namespace: a
            flowId: b
            wait: false
        """)
    run = d.run("call")
    assert run.state is State.SUCCESS
    assert run.outputs == {"executionId": cmd.execution_id}
    assert d.execution.state is State.SUCCESS
    d.plan(ended(d, cmd, State.FAILED))  # nobody waits for it
    assert d.run("call").state is State.SUCCESS


GUESS_STATE = [
    # child state, transmitFailed, allowFailure, allowWarning, task run state
    (State.SUCCESS, True, False, False, State.SUCCESS),
    (State.FAILED, True, False, False, State.FAILED),
    (State.FAILED, False, False, False, State.SUCCESS),
    (State.FAILED, True, True, False, State.WARNING),
    (State.FAILED, True, True, True, State.SUCCESS),
    (State.WARNING, True, False, False, State.WARNING),
    (State.WARNING, True, False, True, State.SUCCESS),
    (State.KILLED, True, True, False, State.KILLED),
    (State.KILLED, False, False, False, State.SUCCESS),
    (State.CANCELLED, True, False, False, State.SUCCESS),
]


@pytest.mark.parametrize(("child", "transmit", "allow_f", "allow_w", "expected"), GUESS_STATE)
def test_subflow_wait_state_follows_guess_state(
    child: State, transmit: bool, allow_f: bool, allow_w: bool, expected: State
) -> None:
    d, cmd = started(f"""
        tasks:
          - id: call
            type: Subflow
            namespace: a
            flowId: b
            transmitFailed: {str(transmit).lower()}
            allowFailure: {str(allow_f).lower()}
            allowWarning: {str(allow_w).lower()}
        """)
    d.plan(ended(d, cmd, child, result=7))
    run = d.run("call")
    assert run.state is expected
    assert run.outputs == {
        "executionId": cmd.execution_id,
        "state": child.value,
        "outputs": {"result": 7},
    }


@pytest.mark.parametrize(("child", "transmit", "allow_f", "allow_w", "expected"), GUESS_STATE)
def test_a_subflow_whose_child_makes_it_fail_or_warn_says_so_in_its_log(
    child: State, transmit: bool, allow_f: bool, allow_w: bool, expected: State
) -> None:
    # Kestra 1.x (Subflow.createSubflowExecutionResult): ERROR when the task run ends
    # FAILED, WARN when it ends WARNING, nothing otherwise.
    d, cmd = started(f"""
        tasks:
          - id: call
            type: Subflow
            namespace: a
            flowId: b
            transmitFailed: {str(transmit).lower()}
            allowFailure: {str(allow_f).lower()}
            allowWarning: {str(allow_w).lower()}
        """)
    d.plan(ended(d, cmd, child))
    lines = [(x.level, x.task_id, x.message) for x in d.logs() if x.level in {"ERROR", "WARN"}]
    level = {State.FAILED: "ERROR", State.WARNING: "WARN"}.get(expected)
    if level is None:
        assert lines == []
    else:
        message = f"Subflow execution {cmd.execution_id} ends in {expected.value} state"
        assert lines == [(level, "call", message)]


def test_subflow_outputs_reach_next_task() -> None:
    d, cmd = started()
    d.plan(ended(d, cmd, State.SUCCESS, result="ok"))
    assert d.dispatch_of("after").properties["message"] == "ok SUCCESS"


def test_subflow_ended_stale_or_duplicate_is_ignored() -> None:
    d, cmd = started()
    d.plan(SubflowEnded(cmd.task_run_id, cmd.attempt, "other-child", State.FAILED, {}))
    assert d.run("call").state is State.RUNNING
    d.plan(ended(d, cmd, State.SUCCESS))
    once = d.run("call")
    d.plan(ended(d, cmd, State.FAILED))
    assert d.run("call") == once


RETRY = """
tasks:
  - id: call
    type: Subflow
    namespace: a
    flowId: b
    retry:
      type: constant
      interval: PT1S
      maxAttempts: 2
"""


def test_subflow_retry_starts_new_child() -> None:
    d, first = started(RETRY)
    d.plan(ended(d, first, State.FAILED))
    assert d.run("call").state is State.RETRYING
    [timer] = d.timers()
    d.plan(timer.event)
    second = d.of_type(StartSubflow)[-1]
    assert second.attempt == 2
    assert second.execution_id != first.execution_id
    d.plan(ended(d, first, State.SUCCESS))  # the first child, late: ignored
    assert d.run("call").state is State.RUNNING
    d.plan(ended(d, second, State.SUCCESS))
    assert d.run("call").state is State.SUCCESS
    assert len(d.run("call").attempts) == 2


def test_subflow_start_failure_from_runtime_fails_task_run() -> None:
    d, cmd = started()
    d.plan(TaskResult(cmd.task_run_id, 1, State.FAILED, error="flow a.b not found"))
    run = d.run("call")
    assert run.state is State.FAILED
    assert run.error is not None and run.error.message == "flow a.b not found"
    assert d.of_type(Deliver) == []  # no child to kill
    assert d.execution.state is State.FAILED


def test_a_subflow_that_cannot_start_logs_why_on_its_task_run() -> None:
    d, cmd = started()
    d.plan(TaskResult(cmd.task_run_id, 1, State.FAILED, error="flow a.b not found"))
    [line] = [x for x in d.logs() if x.level == "ERROR"]
    assert (line.task_id, line.message) == ("call", "flow a.b not found")


def test_subflow_kill_of_parent_kills_child() -> None:
    d, cmd = started()
    d.plan(Kill())
    assert d.run("call").state is State.KILLED
    assert d.execution.state is State.KILLED
    [deliver] = d.of_type(Deliver)
    assert deliver.execution_id == cmd.execution_id
    assert deliver.event == Kill()
    d.plan(ended(d, cmd, State.KILLED))  # the child's end, after the parent's
    assert d.run("call").state is State.KILLED


def test_subflow_timeout_kills_child_and_fails() -> None:
    d, cmd = started("""
        tasks:
          - id: call
            type: Subflow
            namespace: a
            flowId: b
            timeout: PT5M
        """)
    [timer] = d.timers()
    assert timer.event == TimeoutDue(cmd.task_run_id, 1)
    d.plan(timer.event)
    assert d.run("call").state is State.FAILED
    assert [c.execution_id for c in d.of_type(Deliver)] == [cmd.execution_id]
    assert d.execution.state is State.FAILED


def test_subflow_stopped_by_failing_sibling_kills_child() -> None:
    d = Driver.of("""
        tasks:
          - id: par
            type: Parallel
            tasks:
              - id: call
                type: Subflow
                namespace: a
                flowId: b
              - id: boom
                type: Fail
        """)
    d.plan(Start())
    [cmd] = d.of_type(StartSubflow)
    d.plan(d.result("boom", State.FAILED))
    assert d.run("call").state is State.FAILED
    assert [c.event for c in d.of_type(Deliver)] == [Kill()]
    assert d.of_type(Deliver)[0].execution_id == cmd.execution_id


def test_finalized_child_tells_parent() -> None:
    d = Driver.of("""
        tasks:
          - id: a
            type: Return
            format: "42"
        outputs:
          - id: answer
            type: INT
            value: "{{ outputs.a.value }}"
        afterExecution:
          - id: x
            type: Log
            message: done
        """)
    d.execution = evolve(
        d.execution, parent_execution_id="parent", parent_task_run_id="tr", parent_attempt=2
    )
    d.plan(Start())
    d.plan(d.result("a", value="42"))
    assert d.execution.state is State.SUCCESS
    assert d.of_type(Deliver) == []  # not before afterExecution is done
    d.plan(d.result("x"))
    [deliver] = d.of_type(Deliver)
    assert deliver.execution_id == "parent"
    assert deliver.event == SubflowEnded("tr", 2, d.execution.id, State.SUCCESS, {"answer": 42})
    d.plan()
    assert len(d.of_type(Deliver)) == 1


def test_execution_without_parent_tells_nobody() -> None:
    d = Driver.of("""
        tasks:
          - id: a
            type: Log
            message: a
        """)
    d.plan(Start())
    d.plan(d.result("a"))
    assert d.execution.finalized_at is not None
    assert d.of_type(Deliver) == []
    assert history(d.execution) == ["CREATED", "RUNNING", "SUCCESS"]


def test_subflow_render_error_fails_attempt() -> None:
    d = Driver.of("""
        tasks:
          - id: call
            type: Subflow
            namespace: a
            flowId: "{{ nope.missing }}"
        """)
    d.plan(Start())
    run = d.run("call")
    assert run.state is State.FAILED
    assert d.of_type(StartSubflow) == []
    assert [a.state for a in run.attempts] == [State.FAILED]


def test_subflow_restarted_starts_new_child() -> None:
    d, first = started(
        SUBFLOW.replace(
            "    flowId: child\n", "    flowId: child\n    restartBehavior: NEW_EXECUTION\n"
        )
    )
    d.plan(ended(d, first, State.FAILED))
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    second = d.of_type(StartSubflow)[-1]
    assert second.attempt == 2 and second.execution_id != first.execution_id
    assert d.of_type(Deliver) == []
    d.plan(ended(d, second, State.SUCCESS, result="ok"))
    assert d.run("call").state is State.SUCCESS


def test_subflow_timeout_is_a_failed_attempt_retried() -> None:
    d, first = started("""
        tasks:
          - id: call
            type: Subflow
            namespace: a
            flowId: b
            timeout: PT5M
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 2
        """)
    d.plan(d.timers()[-1].event)
    assert d.run("call").state is State.RETRYING
    assert [c.execution_id for c in d.of_type(Deliver)] == [first.execution_id]
    d.plan(d.timers()[-1].event)  # RetryDue
    second = d.of_type(StartSubflow)[-1]
    assert second.attempt == 2
    d.plan(ended(d, second, State.SUCCESS))
    assert d.run("call").state is State.SUCCESS


def test_subflow_schedule_date_is_rendered_into_the_start() -> None:
    d, cmd = started("""
        tasks:
          - id: call
            type: Subflow
            namespace: tests.child
            flowId: child
            scheduleDate: "{{ '2042-04-02T06:20:42+02:00' }}"
        """)
    assert cmd.schedule_date == datetime(2042, 4, 2, 4, 20, 42, tzinfo=UTC)
    assert d.run("call").state is State.RUNNING


def test_subflow_schedule_date_without_a_zone_fails_the_attempt() -> None:
    d = Driver.of("""
        tasks:
          - id: call
            type: Subflow
            namespace: tests.child
            flowId: child
            scheduleDate: 2042-04-02T04:20:42
        """)
    d.plan(Start())
    run = d.run("call")
    assert run.state is State.FAILED
    assert d.of_type(StartSubflow) == []
    assert run.error is not None and "with a time zone" in run.error.message


def test_subflow_restart_retry_failed_restarts_the_failed_child() -> None:
    """RETRY_FAILED (Kestra's default): the parent's restart restarts the child it
    started, waits for it again, and takes its end for the new attempt."""
    d, first = started()
    d.plan(ended(d, first, State.FAILED))
    d.plan(Restart())
    assert len(d.of_type(StartSubflow)) == 1  # no new child
    [restart] = [c for c in d.of_type(Deliver) if isinstance(c.event, Restart)]
    assert restart.execution_id == first.execution_id
    run = d.run("call")
    assert run.state is State.RUNNING and len(run.attempts) == 2
    # The restarted child names the attempt that started it.
    d.plan(ended(d, first, State.SUCCESS, result="ok"))
    run = d.run("call")
    assert run.state is State.SUCCESS
    assert [a.state for a in run.attempts] == [State.FAILED, State.SUCCESS]
    assert run.outputs is not None and run.outputs["executionId"] == first.execution_id


def test_subflow_restart_retry_failed_starts_a_child_when_none_ended_failed() -> None:
    """A child the parent never heard end FAILED or KILLED (killed by the Subflow's
    timeout, here) cannot be restarted: a new child is started."""
    d, first = started("""
        tasks:
          - id: call
            type: Subflow
            namespace: a
            flowId: b
            timeout: PT5M
        """)
    d.plan(d.timers()[-1].event)  # the timeout kills the child
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    second = d.of_type(StartSubflow)[-1]
    assert second.attempt == 2 and second.execution_id != first.execution_id


def test_a_restart_reaching_a_child_that_ended_well_tells_the_parent_again() -> None:
    """The child was restarted by hand and ended SUCCESS before its parent was
    restarted with RETRY_FAILED: the parent must not wait for ever."""
    d = Driver.of("""
        tasks:
          - id: a
            type: Log
            message: a
        """)
    d.execution = evolve(
        d.execution, parent_execution_id="parent", parent_task_run_id="tr", parent_attempt=1
    )
    d.plan(Start())
    d.plan(d.result("a"))
    [first] = d.of_type(Deliver)
    d.plan(Restart())
    again = d.of_type(Deliver)[-1]
    assert again.event == first.event and again.dedup_key != first.dedup_key
    assert d.execution.state is State.SUCCESS
