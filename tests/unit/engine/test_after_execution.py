"""SPEC §3.4, §3.5 (flow outputs): afterExecution and finalization."""

from __future__ import annotations

import pytest

from lanner.engine.events import Start
from lanner.model.states import State
from lanner.plugin import Outcome
from tests.unit.engine.support import Driver, failed, order, run, run_of, runs_of

BRANCHING = """
tasks:
  - id: main
    type: Log
    message: main
afterExecution:
  - id: on_success
    type: Log
    runIf: "{{ execution.state == 'SUCCESS' }}"
    message: success
  - id: on_warning
    type: Log
    runIf: "{{ execution.state == 'WARNING' }}"
    message: warning
  - id: on_failure
    type: Log
    runIf: "{{ execution.state == 'FAILED' }}"
    message: failure
  - id: always
    type: Log
    message: "{{ execution.state }}"
"""


@pytest.mark.parametrize(
    ("outcome", "ran"),
    [
        (Outcome(), "on_success"),
        (Outcome(State.WARNING), "on_warning"),
        (failed(), "on_failure"),
    ],
)
def test_after_execution_run_if_on_the_terminal_state(outcome: Outcome, ran: str) -> None:
    """§3.4: runIf is evaluated with the terminal execution."""
    sim = run(BRANCHING, forced={"main": outcome})
    after = {t: s for t, s in sim.states()[1:]}
    assert after == {
        "on_success": "SUCCESS" if ran == "on_success" else "SKIPPED",
        "on_warning": "SUCCESS" if ran == "on_warning" else "SKIPPED",
        "on_failure": "SUCCESS" if ran == "on_failure" else "SKIPPED",
        "always": "SUCCESS",
    }
    assert sim.messages("always") == [sim.execution.state.value]


def test_after_execution_starts_after_the_terminal_state() -> None:
    """§3.4 [TEST C-1..C-5]: an afterExecution task's start ≥ the execution end."""
    sim = run(BRANCHING)
    ex = sim.execution
    assert ex.terminal_at == ex.histories[-1].date
    for r in runs_of(ex, "on_success") + runs_of(ex, "always"):
        assert r.start_date >= ex.terminal_at


@pytest.mark.parametrize("outcome", [Outcome(), Outcome(State.WARNING), failed()])
def test_after_execution_never_changes_the_state(outcome: Outcome) -> None:
    """§3.4: a failing afterExecution task leaves the terminal state as it is."""
    sim = run(
        """
        tasks:
          - id: main
            type: Log
            message: main
        afterExecution:
          - id: boom
            type: Fail
          - id: boom2
            type: Sequential
            tasks:
              - id: inner
                type: Fail
        """,
        forced={"main": outcome},
    )
    assert sim.execution.state is outcome.state
    assert sim.states()[1:] == [("boom", "FAILED"), ("boom2", "FAILED"), ("inner", "FAILED")]
    assert [h.state for h in sim.execution.histories][-1] is outcome.state


def test_exactly_one_task_run_per_after_execution_task() -> None:
    sim = run(BRANCHING)
    for task_id in ("on_success", "on_warning", "on_failure", "always"):
        assert len(runs_of(sim.execution, task_id)) == 1


def test_after_execution_flowable_with_local_errors() -> None:
    """The seed's after_execution_errors shape: local errors inside afterExecution run,
    the execution stays SUCCESS."""
    sim = run(
        """
        tasks:
          - id: hello
            type: Log
            message: hello
        afterExecution:
          - id: wrap
            type: Sequential
            tasks:
              - id: nap
                type: Sleep
                duration: PT5S
              - id: bad
                type: Fail
            errors:
              - id: alert
                type: Slack
                url: https://hooks.slack.invalid/x
                messageText: "{{ flow.id }} {{ execution.state }} {{ error.taskId }}"
          - id: next
            type: Log
            message: next
        """,
        forced={"alert": Outcome()},
    )
    assert sim.execution.state is State.SUCCESS
    assert order(sim) == ["hello", "wrap", "nap", "bad", "alert", "next"]
    alert = next(d for d in sim.dispatched if d.task_id == "alert")
    assert alert.properties["messageText"] == "t SUCCESS bad"


def test_flow_outputs_rendered_at_the_end_and_visible_to_after_execution_C1() -> None:
    """§3.4, §3.5 [TEST C-1, C-3]: outputs are rendered when the execution ends and read
    by afterExecution as `execution.outputs`; tasks do not see them."""
    sim = run(
        """
        tasks:
          - id: compute
            type: Return
            format: "{{ 6 * 7 }}"
          - id: probe
            type: Log
            message: "{{ execution.outputs is defined }}"
        outputs:
          - id: answer
            type: STRING
            value: "{{ outputs.compute.value }}"
        afterExecution:
          - id: show
            type: Log
            message: "{{ execution.outputs.answer }}"
        """
    )
    assert sim.messages("probe") == ["false"]
    assert sim.messages("show") == ["42"]
    assert sim.execution.outputs == {"answer": "42"}


def test_flow_output_render_failure_fails_the_execution_C76() -> None:
    """§3.5 [TEST C-76]: "Failed to render output values" and the execution FAILED."""
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
        outputs:
          - id: broken
            type: STRING
            value: "{{ outputs.nothing.here }}"
        afterExecution:
          - id: x
            type: Log
            message: "{{ execution.state }}"
        """
    )
    assert sim.execution.state is State.FAILED
    errors = [line.message for line in sim.logs if line.level == "ERROR"]
    assert len(errors) == 1 and errors[0].startswith("Failed to render output values")
    assert sim.messages("x") == ["FAILED"]


def test_flow_output_of_the_wrong_type_fails_the_execution() -> None:
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
        outputs:
          - id: count
            type: INT
            value: "{{ 'not a number' }}"
        """
    )
    assert sim.execution.state is State.FAILED


def test_flow_outputs_not_rendered_when_killed() -> None:
    """Lanner decision: outputs are not rendered on KILLED/CANCELLED."""
    sim = run(
        """
        tasks:
          - id: a
            type: Exit
            state: CANCELLED
        outputs:
          - id: o
            type: STRING
            value: "{{ outputs.nothing.here }}"
        """
    )
    assert sim.execution.state is State.CANCELLED
    assert sim.execution.outputs is None


def test_finalized_only_when_after_execution_is_done_and_terminal_at_set_once() -> None:
    d = Driver.of(
        """
        tasks:
          - id: a
            type: Log
            message: a
        afterExecution:
          - id: x1
            type: Log
            message: x1
          - id: x2
            type: Log
            message: x2
        """
    )
    d.plan(Start())
    assert d.execution.terminal_at is None
    d.plan(d.result("a"))
    assert d.execution.state is State.SUCCESS
    terminal_at = d.execution.terminal_at
    assert terminal_at is not None
    assert d.execution.finalized_at is None
    d.plan(d.result("x1"))
    assert d.execution.finalized_at is None
    assert d.execution.terminal_at == terminal_at
    d.plan(d.result("x2"))
    assert d.execution.finalized_at is not None and d.execution.finalized_at > terminal_at
    assert d.execution.terminal_at == terminal_at
    before = d.execution
    d.plan()
    assert d.execution == before


def test_finalized_with_terminal_state_without_after_execution() -> None:
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
        """
    )
    assert sim.execution.finalized_at == sim.execution.terminal_at


def test_after_execution_children_see_the_terminal_state() -> None:
    sim = run(
        """
        tasks:
          - id: bad
            type: Fail
        afterExecution:
          - id: loop
            type: ForEach
            values: [a]
            tasks:
              - id: show
                type: Log
                message: "{{ execution.state }} {{ taskrun.value }}"
        """
    )
    assert sim.messages("show") == ["FAILED a"]
    assert run_of(sim.execution, "loop").state is State.SUCCESS
