"""Lanner's streak conditions in Flow triggers: ConsecutiveFailures and FlowRecovered,
kept through the trigger state across upstream executions (docs/triggers.md)."""

from __future__ import annotations

import pytest

from lanner.errors import FlowValidationError
from lanner.model.states import State
from tests.unit.engine.flowtrigger_support import (
    COND,
    FLOW_TRIGGER,
    WindowStore,
    evaluate,
    fired,
    listener,
    upstream,
)

STREAK = "io.lanner.condition."


def alerts() -> str:
    return f"""
    - id: third_failure
      type: {FLOW_TRIGGER}
      conditions:
        - type: {COND}ExecutionFlow
          namespace: company.team
          flowId: extract
        - type: {STREAK}ConsecutiveFailures
          count: 3
    - id: recovered
      type: {FLOW_TRIGGER}
      conditions:
        - type: {STREAK}FlowRecovered
    """


def run_states(states: list[str], store: WindowStore) -> list[list[str]]:
    flow = listener(alerts())
    out = []
    for i, state in enumerate(states):
        up = upstream(State(state), exec_id=f"exec{i:02d}xxxxxxxxxxxxxxxxx")
        out.append(fired(evaluate(up, flow, store=store)))
    return out


def test_the_third_failure_in_a_row_fires_once_and_a_success_recovers() -> None:
    store = WindowStore()
    got = run_states(
        ["FAILED", "FAILED", "FAILED", "FAILED", "SUCCESS", "SUCCESS", "FAILED"], store
    )
    assert got == [
        [],
        [],
        ["downstream:third_failure"],
        [],  # the 4th failure: the streak already alerted
        ["downstream:recovered"],
        [],  # still fine: no second recovery
        [],
    ]


def test_a_success_breaks_the_streak() -> None:
    store = WindowStore()
    got = run_states(["FAILED", "FAILED", "SUCCESS", "FAILED", "FAILED"], store)
    assert got == [[], [], ["downstream:recovered"], [], []]


def test_a_replayed_transition_is_not_counted_twice() -> None:
    store = WindowStore()
    flow = listener(alerts())
    up = upstream(State.FAILED, exec_id="sameexecxxxxxxxxxxxxxx")
    for _ in range(3):
        assert fired(evaluate(up, flow, store=store)) == []
    [state] = [v for k, v in store.states.items() if k[2] == "third_failure"]
    assert state["streaks"]["company.team|extract"]["states"] == ["FAILED"]


def test_streaks_are_kept_per_upstream_flow() -> None:
    store = WindowStore()
    flow = listener(
        f"""
        - id: two
          type: {FLOW_TRIGGER}
          conditions:
            - type: {STREAK}ConsecutiveFailures
              count: 2
              states: [FAILED, KILLED]
        """
    )
    a1 = upstream(State.FAILED, flow_id="a", exec_id="a1xxxxxxxxxxxxxxxxxxxx")
    b1 = upstream(State.KILLED, flow_id="b", exec_id="b1xxxxxxxxxxxxxxxxxxxx")
    a2 = upstream(State.KILLED, flow_id="a", exec_id="a2xxxxxxxxxxxxxxxxxxxx")
    assert fired(evaluate(a1, flow, store=store)) == []
    assert fired(evaluate(b1, flow, store=store)) == []
    assert fired(evaluate(a2, flow, store=store)) == ["downstream:two"]


def test_a_running_upstream_is_not_recorded() -> None:
    store = WindowStore()
    flow = listener(alerts())
    outcome = evaluate(upstream(State.RUNNING), flow, store=store)
    assert fired(outcome) == [] and outcome.state_updates == ()


def test_streak_conditions_are_validated() -> None:
    with pytest.raises(FlowValidationError, match="count"):
        listener(
            f"""
            - id: bad
              type: {FLOW_TRIGGER}
              conditions:
                - type: {STREAK}ConsecutiveFailures
                  count: 0
            """
        )
