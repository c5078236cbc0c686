"""SPEC §5.3, §5.15, §0 decision 3: Exit, Labels, SetVariables, UnsetVariables —
the task types the executor runs inline."""

from __future__ import annotations

import pytest

from lanner.engine.events import Start
from lanner.model.states import State
from tests.unit.engine.support import Driver, order, run, run_of, state_of

EXIT = """
tasks:
  - id: before
    type: Log
    message: before
  - id: leave
    type: Exit
    state: STATE
  - id: remaining
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


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param("SUCCESS", "SUCCESS", id="C-60-success"),
        pytest.param("WARNING", "WARNING", id="C-60-warning"),
        pytest.param("FAILED", "FAILED", id="C-62-failed"),
        pytest.param("CANCELLED", "CANCELLED", id="C-63-cancelled"),
        pytest.param("CANCELED", "CANCELLED", id="deprecated-CANCELED"),
        pytest.param("KILLED", "KILLED", id="C-61-killed"),
    ],
)
def test_exit_ends_the_execution_with_its_state_C60_C63(state: str, expected: str) -> None:
    """§5.3, §0 decision 3: remaining tasks, errors and finally do not run;
    afterExecution runs and sees the Exit state."""
    sim = run(EXIT.replace("STATE", state))
    assert order(sim) == ["before", "leave", "x"]
    assert state_of(sim, "leave") == expected
    assert sim.execution.state.value == expected
    assert sim.messages("x") == [expected]
    assert sim.execution.finalized_at is not None


def test_exit_killed_goes_through_killing_C61() -> None:
    sim = run(EXIT.replace("STATE", "KILLED"))
    assert [h.state.value for h in sim.execution.histories][-2:] == ["KILLING", "KILLED"]


@pytest.mark.parametrize("state", ["WARNING", "FAILED", "CANCELLED"])
def test_exit_inside_flowable_marks_its_ancestors(state: str) -> None:
    """§5.3: the Exit task run and all its ancestor task runs get the Exit state."""
    sim = run(
        f"""
tasks:
  - id: outer
    type: Sequential
    tasks:
      - id: inner
        type: Sequential
        tasks:
          - id: leave
            type: Exit
            state: {state}
          - id: never
            type: Log
            message: never
  - id: never2
    type: Log
    message: never
"""
    )
    assert sim.states() == [("outer", state), ("inner", state), ("leave", state)]
    assert sim.execution.state.value == state


def test_exit_kills_running_siblings() -> None:
    """Lanner decision: an Exit inside a Parallel kills the siblings still running."""
    d = Driver.of(
        """
        tasks:
          - id: par
            type: Parallel
            tasks:
              - id: slow
                type: Log
                message: slow
              - id: leave
                type: Exit
                state: WARNING
        """
    )
    d.plan(Start())
    assert d.execution.state is State.WARNING
    assert d.run("slow").state is State.KILLED
    assert d.run("par").state is State.WARNING
    assert d.cancelled() == ["slow"]


def test_exit_in_after_execution_only_ends_itself() -> None:
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
        afterExecution:
          - id: leave
            type: Exit
            state: FAILED
          - id: still
            type: Log
            message: "{{ execution.state }}"
        """
    )
    assert sim.execution.state is State.SUCCESS
    assert sim.states() == [("a", "SUCCESS"), ("leave", "FAILED"), ("still", "SUCCESS")]
    assert sim.messages("still") == ["SUCCESS"]


@pytest.mark.parametrize("how", ["exit", "timeout"])
def test_flowable_ended_by_exit_or_timeout_closes_its_attempt(how: str) -> None:
    body = """
        tasks:
          - id: box
            type: Sequential
            timeout: PT1S
            tasks:
              - id: inner
                type: CHILD
        """
    if how == "exit":
        d = Driver.of(body.replace("CHILD", "Exit\n                state: WARNING"))
        d.plan(Start())
    else:
        d = Driver.of(body.replace("CHILD", "Log\n                message: x"))
        d.plan(Start())
        timer = d.timers()[0]
        d.now = timer.at
        d.plan(timer.event)
    box = d.run("box")
    assert box.state.terminated
    assert box.attempts[-1].state is box.state


# -- Labels, SetVariables, UnsetVariables ----------------------------------------------------


def test_labels_are_visible_to_later_tasks() -> None:
    """§5.15: merged into the execution labels, later values override; dotted keys nest."""
    sim = run(
        """
        labels:
          team: data
        tasks:
          - id: l1
            type: Labels
            labels:
              env: "{{ 'prod' }}"
              team: ops
          - id: l2
            type: Labels
            labels:
              - key: app.name
                value: lanner
          - id: l3
            type: Labels
            labels: '{"flag": true}'
          - id: show
            type: Log
            message: "{{ labels.env }} {{ labels.team }} {{ labels.app.name }} {{ labels.flag }}"
        """
    )
    assert sim.messages("show") == ["prod ops lanner true"]
    assert sim.execution.labels == {
        "team": "ops",
        "env": "prod",
        "app.name": "lanner",
        "flag": "true",
        "system.correlationId": sim.execution.id,
    }


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("{system.x: y}", "system labels"),
        ("{empty: ''}", "non-empty"),
    ],
)
def test_invalid_labels_fail_the_task(labels: str, message: str) -> None:
    sim = run(
        f"""
tasks:
  - id: l
    type: Labels
    labels: {labels}
"""
    )
    assert sim.states() == [("l", "FAILED")]
    assert message in sim.messages("l")[0]
    assert sim.execution.state is State.FAILED


def test_set_and_unset_variables_C11() -> None:
    """§5.15 [TEST C-11]: SetVariables / UnsetVariables change `vars.*` for later tasks."""
    sim = run(
        """
        variables:
          base: one
        tasks:
          - id: set
            type: SetVariables
            variables:
              added: "{{ vars.base }}-two"
              base: replaced
          - id: show
            type: Log
            message: "{{ vars.base }} {{ vars.added }}"
          - id: unset
            type: UnsetVariables
            variables: [added]
          - id: show2
            type: Log
            message: "{{ vars.added ?? 'gone' }}"
        """
    )
    assert sim.messages("show") == ["replaced one-two"]
    assert sim.messages("show2") == ["gone"]
    assert sim.execution.variables == {"base": "replaced"}


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (
            "type: SetVariables\n    overwrite: false\n    variables:\n      base: again",
            "overwrite is false",
        ),
        ("type: UnsetVariables\n    variables: [nope]", "not found"),
    ],
)
def test_variable_tasks_fail_on_conflicts(task: str, message: str) -> None:
    sim = run(
        f"""
variables:
  base: one
tasks:
  - id: v
    {task}
"""
    )
    assert sim.states() == [("v", "FAILED")]
    assert message in sim.messages("v")[0]


def test_unset_variables_ignore_missing() -> None:
    sim = run(
        """
        tasks:
          - id: v
            type: UnsetVariables
            ignoreMissing: true
            variables: [nope]
        """
    )
    assert sim.states() == [("v", "SUCCESS")]


def test_inline_tasks_are_never_dispatched() -> None:
    sim = run(
        """
        tasks:
          - id: s
            type: SetVariables
            variables:
              a: 1
          - id: l
            type: Labels
            labels:
              k: v
        """
    )
    assert sim.dispatched == []
    for task_id in ("s", "l"):
        assert [a.state for a in run_of(sim.execution, task_id).attempts] == [State.SUCCESS]
