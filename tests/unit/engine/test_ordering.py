"""SPEC §3.1, §3.2, §3.5, §3.7: main-list ordering and the final state."""

from __future__ import annotations

import pytest

from lanner.engine.events import Start
from lanner.model.flow import Flow
from lanner.model.states import State, final_state
from lanner.model.validate import load_flow
from lanner.plugin import Outcome
from lanner.testing import Forced
from tests.support.seed import SEED_DIR as SEED
from tests.unit.engine.support import Driver, ok, order, registry, run, state_of

THREE_LOGS = """
tasks:
  - id: a
    type: Log
    message: a
  - id: b
    type: Log
    message: b
  - id: c
    type: Log
    message: c
"""


def test_main_tasks_run_strictly_sequentially() -> None:
    """§3.2.1: a task starts only when the previous one is terminal."""
    d = Driver.of(THREE_LOGS)
    d.plan(Start())
    assert d.dispatched() == ["a"]
    assert [t for t, _ in d.states()] == ["a"]
    d.plan()  # nothing new without a result
    assert d.dispatched() == ["a"]
    d.plan(d.result("a"))
    assert d.dispatched() == ["a", "b"]
    d.plan(d.result("b"))
    d.plan(d.result("c"))
    assert d.execution.state is State.SUCCESS
    assert d.states() == [("a", "SUCCESS"), ("b", "SUCCESS"), ("c", "SUCCESS")]


def test_failed_task_stops_the_main_list_C19() -> None:
    """§3.2.3 [TEST C-19]: the task after a FAILED one is never created."""
    sim = run(
        """
        tasks:
          - id: bad
            type: Fail
          - id: ok
            type: Log
            message: never
        finally:
          - id: fin
            type: Log
            message: fin
        """
    )
    assert sim.states() == [("bad", "FAILED"), ("fin", "SUCCESS")]
    assert sim.execution.state is State.FAILED


@pytest.mark.parametrize(
    ("first", "forced", "expected_first", "expected_state"),
    [
        pytest.param(
            "type: Log\n    message: x",
            {"a": Outcome(State.WARNING)},
            "WARNING",
            "WARNING",
            id="warning",
        ),
        pytest.param(
            "type: Log\n    message: x\n    runIf: 'false'", {}, "SKIPPED", "SUCCESS", id="skipped"
        ),
        pytest.param(
            "type: Fail\n    allowFailure: true", {}, "WARNING", "WARNING", id="allow-failure"
        ),
    ],
)
def test_warning_and_skipped_let_the_next_task_start(
    first: str, forced: dict[str, Forced], expected_first: str, expected_state: str
) -> None:
    """§3.2.2: WARNING and SKIPPED are terminal without failure: the next task starts."""
    sim = run(
        f"""
tasks:
  - id: a
    {first}
  - id: b
    type: Log
    message: next
""",
        forced=forced,
    )
    assert sim.states() == [("a", expected_first), ("b", "SUCCESS")]
    assert sim.execution.state.value == expected_state


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        pytest.param(["SUCCESS", "SUCCESS"], "SUCCESS", id="all-success"),
        pytest.param(["SUCCESS", "WARNING"], "WARNING", id="warning"),
        pytest.param(["SUCCESS", "CANCELLED"], "CANCELLED", id="cancelled-never-success"),
        pytest.param(["CANCELLED", "WARNING"], "CANCELLED", id="cancelled-over-warning"),
        pytest.param(["CANCELLED", "FAILED"], "FAILED", id="failed-over-cancelled"),
        pytest.param(["KILLED", "FAILED"], "KILLED", id="killed-over-failed"),
        pytest.param(["WARNING", "KILLED"], "KILLED", id="killed-over-warning"),
        pytest.param(["SKIPPED", "SUCCESS"], "SUCCESS", id="skipped-counts-as-success"),
    ],
)
def test_final_state_priority_decision_6(outcomes: list[str], expected: str) -> None:
    """§0 decision 6: KILLED > FAILED > CANCELLED > WARNING > PAUSED > SUCCESS,
    over the root `tasks` task runs (forced outcomes of runnable tasks)."""
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
          - id: b
            type: Log
            message: b
        """,
        forced={"a": Outcome(State(outcomes[0])), "b": Outcome(State(outcomes[1]))},
    )
    assert [s for _, s in sim.states()] == outcomes
    assert sim.execution.state.value == expected


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], State.SUCCESS),
        ([State.SUCCESS, State.SKIPPED, State.RETRIED], State.SUCCESS),
        ([State.PAUSED, State.SUCCESS], State.PAUSED),
        ([State.PAUSED, State.WARNING], State.WARNING),
        ([State.WARNING, State.CANCELLED], State.CANCELLED),
        ([State.CANCELLED, State.FAILED], State.FAILED),
        ([State.FAILED, State.KILLED], State.KILLED),
    ],
)
def test_final_state_function_priority(states: list[State], expected: State) -> None:
    assert final_state(states) is expected


def test_final_state_ignores_errors_and_finally() -> None:
    """§3.5: candidate task runs are the root `tasks` only."""
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
        finally:
          - id: f
            type: Log
            message: f
        """,
        forced={"f": Outcome(State.WARNING)},
    )
    assert sim.states() == [("a", "SUCCESS"), ("f", "WARNING")]
    assert sim.execution.state is State.SUCCESS


def test_worked_example_3_7() -> None:
    """SPEC §3.7, written in our own words: 6 task runs a, b, e1, f1, x1, x2."""
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: "{{ execution.state }}"
          - id: b
            type: Fail
          - id: c
            type: Log
            message: never
        errors:
          - id: e1
            type: Log
            message: "{{ execution.state }}"
        finally:
          - id: f1
            type: Log
            message: "{{ execution.state }}"
        afterExecution:
          - id: x1
            type: Log
            runIf: "{{ execution.state == 'SUCCESS' }}"
            message: ok
          - id: x2
            type: Log
            message: "{{ execution.state }}"
        """
    )
    assert sim.states() == [
        ("a", "SUCCESS"),
        ("b", "FAILED"),
        ("e1", "SUCCESS"),
        ("f1", "SUCCESS"),
        ("x1", "SKIPPED"),
        ("x2", "SUCCESS"),
    ]
    assert sim.execution.state is State.FAILED
    logged = [line.message for line in sim.logs if line.task_id in ("a", "e1", "f1", "x2")]
    assert logged == ["RUNNING", "RUNNING", "RUNNING", "FAILED"]
    assert [h.state for h in sim.execution.histories][-1] is State.FAILED


def test_task_run_ids_are_deterministic() -> None:
    """Simulating the same flow twice gives the same task-run ids (DESIGN: replayable cycles)."""
    body = """
        tasks:
          - id: each
            type: ForEach
            values: [x, y]
            tasks:
              - id: inner
                type: Log
                message: "{{ taskrun.value }}"
          - id: bad
            type: Fail
        errors:
          - id: e
            type: Log
            message: e
        """
    first, second = run(body), run(body)
    assert [r.id for r in first.execution.ordered_task_runs()] == [
        r.id for r in second.execution.ordered_task_runs()
    ]
    assert first.execution.id == second.execution.id
    ids = [r.id for r in first.execution.ordered_task_runs()]
    assert len(ids) == len(set(ids)) == 5


# -- the seed flows, read unchanged ------------------------------------------------------


def _load_seed(name: str) -> Flow:
    return load_flow((SEED / f"{name}.yml").read_text(), registry())


def test_seed_alerts_demo() -> None:
    """Only onFailure is sent; onSuccess is SKIPPED by its runIf."""
    sim = run(
        _load_seed("alerts_demo"),
        forced={"onSuccess": ok(), "onFailure": ok()},
    )
    assert sim.execution.state is State.FAILED
    assert sim.states() == [("fail", "FAILED"), ("onSuccess", "SKIPPED"), ("onFailure", "SUCCESS")]
    assert [d.task_id for d in sim.dispatched] == ["fail", "onFailure"]
    assert (
        sim.dispatched[1].properties["messageText"] == "Oh no, company.team.alerts_demo failed!!!"
    )


def test_seed_after_execution_errors() -> None:
    """A failure inside afterExecution runs its local errors and leaves the state SUCCESS."""
    sim = run(_load_seed("after_execution_errors"), forced={"sendAlert": ok()})
    assert sim.execution.state is State.SUCCESS
    assert state_of(sim, "t2") == "FAILED"
    assert order(sim) == ["hello", "t2", "t2-t1", "t2-t2", "sendAlert"]
    send = next(d for d in sim.dispatched if d.task_id == "sendAlert")
    assert send.properties["messageText"] == (
        f"Flow company.team.after_execution_errors with execution ID {sim.execution.id} failed."
    )
    assert sim.execution.finalized_at is not None


def test_seed_state_demo() -> None:
    """finally logs RUNNING; afterExecution logs FAILED."""
    sim = run(_load_seed("state_demo"))
    assert sim.execution.state is State.FAILED
    logged = [m for line in sim.logs if line.level == "INFO" for m in [line.message]]
    assert logged == ["Execution RUNNING", "Execution RUNNING", "Execution FAILED"]
    assert order(sim) == ["run", "fail", "finally", "afterExecution"]
