"""Flow-level `listeners` (docs/semantics.md "Listeners"), with the shapes of Kestra's
own test flows (listeners*.yaml, after-execution-listener.yaml)."""

from __future__ import annotations

import pytest

from lanner.engine.events import Kill, Restart, Start
from lanner.engine.execution import Phase
from lanner.errors import LannerError
from lanner.model.states import State
from tests.unit.engine.support import Driver, failed, load, order, run

COND = "io.kestra.plugin.core.condition."

LISTENERS = f"""
inputs:
  - id: string
    type: STRING
listeners:
  - conditions:
      - type: {COND}ExecutionStatus
        in: [FAILED]
    tasks:
      - id: execution-failed-listener
        type: Log
        message: "{{{{ task.id }}}}"
  - conditions:
      - type: {COND}ExecutionStatus
        in: [SUCCESS]
    tasks:
      - id: execution-success-listener
        type: Return
        format: "{{{{ execution.id }}}} {{{{ execution.state }}}}"
tasks:
  - id: parent-seq
    type: Switch
    value: "{{{{ inputs.string }}}}"
    cases:
      OK:
        - id: ok
          type: Return
          format: ok
      KO:
        - id: ko
          type: Fail
"""


@pytest.mark.parametrize(
    ("value", "state", "tasks"),
    [
        ("OK", State.SUCCESS, ["parent-seq", "ok", "execution-success-listener"]),
        ("KO", State.FAILED, ["parent-seq", "ko", "execution-failed-listener"]),
    ],
)
def test_only_the_matching_listener_runs(value: str, state: State, tasks: list[str]) -> None:
    sim = run(LISTENERS, inputs={"string": value})
    assert sim.execution.state is state
    assert order(sim) == tasks
    listener = sim.execution.ordered_task_runs()[-1]
    assert listener.parent_id is None and listener.phase is Phase.AFTER
    if value == "OK":  # the listener sees the terminal execution
        assert listener.outputs == {"value": f"{sim.execution.id} SUCCESS"}


def test_listeners_run_in_order_then_after_execution() -> None:
    sim = run(
        """
        listeners:
          - tasks:
              - id: l1
                type: Log
                message: "{{ execution.state }}"
          - tasks:
              - id: l2
                type: Log
                message: l2
        tasks:
          - id: first
            type: Log
            message: first
        afterExecution:
          - id: end
            type: Log
            message: "{{ execution.state }}"
        """
    )
    assert order(sim) == ["first", "l1", "l2", "end"]
    assert sim.messages("l1") == ["SUCCESS"]
    assert sim.messages("end") == ["SUCCESS"]
    assert sim.execution.finalized_at is not None


def test_a_failing_listener_changes_nothing_and_the_next_one_runs() -> None:
    sim = run(
        """
        listeners:
          - tasks:
              - id: ko
                type: Fail
          - tasks:
              - id: l2
                type: Return
                format: l2
        tasks:
          - id: first
            type: Return
            format: first
        """
    )
    assert sim.execution.state is State.SUCCESS
    assert sim.states() == [("first", "SUCCESS"), ("ko", "FAILED"), ("l2", "SUCCESS")]


def test_a_flowable_listener_task_runs_its_children() -> None:
    sim = run(
        """
        inputs:
          - id: string
            type: STRING
        listeners:
          - tasks:
              - id: parent-seq
                type: Switch
                value: "{{ inputs.string }}"
                cases:
                  execution:
                    - id: execution-success-listener
                      type: Return
                      format: "{{ execution.id }}"
        tasks:
          - id: first
            type: Return
            format: first
        """,
        inputs={"string": "execution"},
    )
    assert order(sim) == ["first", "parent-seq", "execution-success-listener"]
    assert sim.execution.state is State.SUCCESS


def test_listeners_run_on_a_killed_execution() -> None:
    d = Driver.of(
        f"""
        listeners:
          - conditions:
              - type: {COND}ExecutionStatus
                in: [KILLED]
            tasks:
              - id: on_kill
                type: Log
                message: killed
        tasks:
          - id: sleep
            type: Sleep
            duration: PT1H
        """
    )
    d.plan(Start())
    d.plan(Kill())
    assert d.execution.state is State.KILLED
    assert d.dispatched() == ["sleep", "on_kill"]
    d.plan(d.result("on_kill"))
    assert d.execution.finalized_at is not None


def test_conditions_are_evaluated_once_when_the_listener_s_turn_comes() -> None:
    """A Labels task of a listener changes the labels a later listener looks at:
    that one is evaluated after it (as Kestra re-evaluates), never twice."""
    sim = run(
        f"""
        listeners:
          - tasks:
              - id: tag
                type: Labels
                labels:
                  alerted: "yes"
          - conditions:
              - type: {COND}ExecutionLabels
                labels:
                  alerted: "yes"
            tasks:
              - id: after_tag
                type: Log
                message: seen
          - conditions:
              - type: {COND}Expression
                expression: "{{{{ execution.state == 'FAILED' }}}}"
            tasks:
              - id: never
                type: Log
                message: never
        tasks:
          - id: first
            type: Log
            message: first
        """
    )
    assert order(sim) == ["first", "tag", "after_tag"]


def test_a_condition_that_cannot_render_skips_the_listener_with_a_warning() -> None:
    sim = run(
        f"""
        listeners:
          - conditions:
              - type: {COND}Expression
                expression: "{{{{ outputs.missing.value }}}}"
            tasks:
              - id: never
                type: Log
                message: never
        tasks:
          - id: first
            type: Log
            message: first
        """
    )
    assert order(sim) == ["first"]
    assert sim.execution.finalized_at is not None
    warnings = [line.message for line in sim.logs if line.level == "WARN"]
    assert len(warnings) == 1 and warnings[0].startswith("listeners[0].conditions")


def test_a_restart_runs_the_listeners_again() -> None:
    d = Driver.of(
        f"""
        listeners:
          - conditions:
              - type: {COND}ExecutionStatus
                in: [FAILED]
            tasks:
              - id: on_failure
                type: Log
                message: failed
          - conditions:
              - type: {COND}ExecutionStatus
                in: [SUCCESS]
            tasks:
              - id: on_success
                type: Log
                message: ok
        tasks:
          - id: a
            type: Log
            message: a
        """
    )
    d.plan(Start())
    d.plan(d.result("a", State.FAILED))
    d.plan(d.result("on_failure"))
    assert d.execution.finalized_at is not None
    d.plan(Restart())
    d.plan(d.result("a"))
    assert d.execution.state is State.SUCCESS
    d.plan(d.result("on_success"))
    assert d.execution.finalized_at is not None
    assert d.dispatched() == ["a", "on_failure", "a", "on_success"]


def test_a_simulated_failure_runs_the_failed_listener() -> None:
    sim = run(
        f"""
        listeners:
          - conditions:
              - type: {COND}ExecutionStatus
                in: [FAILED]
            tasks:
              - id: alert
                type: Log
                message: "{{{{ execution.state }}}}"
        tasks:
          - id: work
            type: Log
            message: work
        """,
        forced={"work": failed()},
    )
    assert sim.execution.state is State.FAILED
    assert sim.messages("alert") == ["FAILED"]


@pytest.mark.parametrize(
    "condition",
    [
        f"type: {COND}PublicHoliday",
        f"""type: {COND}Not
                conditions:
                  - type: {COND}PublicHoliday""",
        f"""type: {COND}MultipleCondition
                id: multiple
                conditions:
                  a:
                    type: {COND}ExecutionStatus
                    in: [SUCCESS]""",
    ],
)
def test_conditions_a_listener_cannot_evaluate_are_rejected(condition: str) -> None:
    body = f"""
        listeners:
          - conditions:
              - {condition}
            tasks:
              - id: l
                type: Log
                message: l
        tasks:
          - id: a
            type: Log
            message: a
        """
    with pytest.raises(LannerError) as caught:
        load(body)
    assert "not supported here" in str(caught.value)
