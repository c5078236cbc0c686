"""SPEC §7.3: Flow trigger `preconditions` and the legacy MultipleCondition, accumulated
across upstream executions in a time window kept through the trigger state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest

from lanner.engine.flowwindow import WindowSpec, bounds, deep_merge
from lanner.errors import FlowValidationError
from lanner.model.conditions import TimeWindowType
from lanner.model.states import State
from tests.unit.engine.flowtrigger_support import (
    COND,
    FLOW_TRIGGER,
    T0,
    WindowStore,
    evaluate,
    fired,
    listener,
    upstream,
)

KEY = ("company.ops", "downstream", "both")


def both(window: str = "", *, reset: str = "", extra: str = "") -> str:
    """A trigger waiting for `extract` and `load` of company.team to succeed."""
    return f"""
    - id: both
      type: {FLOW_TRIGGER}
      {extra}
      preconditions:
        id: extract_and_load
        {reset}
        {window}
        flows:
          - namespace: company.team
            flowId: extract
            states: [SUCCESS]
          - namespace: company.team
            flowId: load
            states: [SUCCESS]
    """


def test_preconditions_fire_when_every_flow_is_satisfied_in_the_window() -> None:
    store = WindowStore()
    flow = listener(both())
    first = evaluate(upstream(outputs={"a": {"x": 1, "y": 1}}), flow, store=store)
    assert first.executions == ()
    # The first result is kept as plain JSON.
    [(key, state)] = first.state_updates
    assert key == KEY
    assert state is not None
    json.dumps(state)
    window = state["windows"]["preconditions:extract_and_load"]
    assert window["start"] == "2026-03-02T00:00:00.000000Z"  # PT1D: from midnight
    assert window["end"] == "2026-03-03T00:00:00.000000Z"
    assert list(window["results"]) == ["flows[0]"]
    # Another execution of the same flow adds nothing new.
    assert fired(evaluate(upstream(), flow, store=store, now=T0 + timedelta(minutes=1))) == []
    # A failed `load` does not count; a successful one completes the window.
    load_failed = upstream(State.FAILED, flow_id="load")
    assert fired(evaluate(load_failed, flow, store=store, now=T0 + timedelta(hours=1))) == []
    load_ok = upstream(flow_id="load", outputs={"a": {"y": 2}, "b": True})
    outcome = evaluate(load_ok, flow, store=store, now=T0 + timedelta(hours=2))
    assert fired(outcome) == ["downstream:both"]
    [created] = outcome.executions
    assert created.trigger is not None
    # Outputs of every matched execution are deep-merged, the latest winning.
    assert created.trigger["outputs"] == {"a": {"x": 1, "y": 2}, "b": True}
    # The firing execution is the one the trigger variables describe.
    assert created.trigger["flowId"] == "load"
    # resetOnSuccess (default true): the window is gone.
    assert outcome.state_updates == ((KEY, None),)
    assert store.states == {}


def test_preconditions_reset_on_success_false_keeps_firing() -> None:
    store = WindowStore()
    flow = listener(both(reset="resetOnSuccess: false"))
    evaluate(upstream(), flow, store=store)
    assert fired(evaluate(upstream(flow_id="load"), flow, store=store)) == ["downstream:both"]
    assert KEY in store.states
    # Every later execution satisfying one of the preconditions fires again ...
    later = upstream(exec_id="again", at=T0 + timedelta(minutes=5))
    assert fired(evaluate(later, flow, store=store, now=T0 + timedelta(minutes=5))) == [
        "downstream:both"
    ]
    # ... but one that satisfies none of them does not.
    other = upstream(flow_id="unrelated")
    assert fired(evaluate(other, flow, store=store, now=T0 + timedelta(minutes=6))) == []


def test_preconditions_window_expiry_starts_a_new_window() -> None:
    store = WindowStore()
    flow = listener(both("timeWindow:\n          window: PT1H"))
    evaluate(upstream(), flow, store=store, now=T0)  # window 10:00-11:00
    late = T0 + timedelta(minutes=40)  # 11:10, a new window
    outcome = evaluate(upstream(flow_id="load"), flow, store=store, now=late)
    assert outcome.executions == ()
    state = store.states[KEY]["windows"]["preconditions:extract_and_load"]
    assert state["start"] == "2026-03-02T11:00:00.000000Z"
    assert list(state["results"]) == ["flows[1]"]


def test_preconditions_sliding_window_forgets_each_result_after_the_window() -> None:
    store = WindowStore()
    flow = listener(both("timeWindow:\n          type: SLIDING_WINDOW\n          window: PT1H"))
    evaluate(upstream(), flow, store=store, now=T0)
    # 50 minutes later: extract's result is still live.
    outcome = evaluate(upstream(flow_id="load"), flow, store=store, now=T0 + timedelta(minutes=50))
    assert fired(outcome) == ["downstream:both"]
    # Again, but load comes 61 minutes after extract: too late.
    evaluate(upstream(), flow, store=store, now=T0 + timedelta(hours=3))
    late = T0 + timedelta(hours=4, minutes=1)
    assert fired(evaluate(upstream(flow_id="load"), flow, store=store, now=late)) == []
    window = store.states[KEY]["windows"]["preconditions:extract_and_load"]
    assert "start" not in window
    assert list(window["results"]) == ["flows[1]"]


def test_preconditions_daily_deadline() -> None:
    store = WindowStore()
    flow = listener(
        both("timeWindow:\n          type: DAILY_TIME_DEADLINE\n          deadline: '12:00:00'")
    )
    evaluate(upstream(), flow, store=store, now=T0)  # 10:30
    outcome = evaluate(upstream(flow_id="load"), flow, store=store, now=T0 + timedelta(hours=1))
    assert fired(outcome) == ["downstream:both"]
    # After the deadline nothing is recorded at all.
    after = T0 + timedelta(hours=2)
    assert evaluate(upstream(), flow, store=store, now=after).state_updates == ()
    assert store.states == {}


def test_preconditions_daily_time_window() -> None:
    store = WindowStore()
    flow = listener(
        both(
            "timeWindow:\n          type: DAILY_TIME_WINDOW\n"
            "          startTime: '11:00:00'\n          endTime: '13:00:00'"
        )
    )
    assert evaluate(upstream(), flow, store=store, now=T0).state_updates == ()  # 10:30
    evaluate(upstream(), flow, store=store, now=T0 + timedelta(hours=1))
    # The next day's window does not see yesterday's result.
    next_day = T0 + timedelta(days=1, hours=1)
    assert fired(evaluate(upstream(flow_id="load"), flow, store=store, now=next_day)) == []
    same_day = T0 + timedelta(hours=2)
    store2 = WindowStore()
    evaluate(upstream(), flow, store=store2, now=T0 + timedelta(hours=1))
    assert fired(evaluate(upstream(flow_id="load"), flow, store=store2, now=same_day)) == [
        "downstream:both"
    ]


def test_preconditions_flow_entry_rules() -> None:
    flow = listener(
        f"""
        - id: any_in_namespace
          type: {FLOW_TRIGGER}
          preconditions:
            id: ns
            flows:
              - namespace: company.team
                labels:
                  env: prod
        """
    )
    # No flowId: any flow of the namespace; no states: any state the trigger listens to.
    assert fired(evaluate(upstream(State.FAILED, labels={"env": "prod"}), flow)) == [
        "downstream:any_in_namespace"
    ]
    assert fired(evaluate(upstream(labels={"env": "dev"}), flow)) == []
    assert fired(evaluate(upstream(namespace="company.team.sub"), flow)) == []
    # The trigger's `states` filter still comes first (RUNNING is not a default state).
    assert fired(evaluate(upstream(State.RUNNING, labels={"env": "prod"}), flow)) == []


WHERE = f"""
- id: filtered
  type: {FLOW_TRIGGER}
  preconditions:
    id: where
    where:
      - id: team_flows
        filters:
          - field: NAMESPACE
            type: STARTS_WITH
            value: company.
          - field: FLOW_ID
            type: REGEX
            value: "ex.*t"
      - id: failed_or_big
        operand: OR
        filters:
          - field: STATE
            type: EQUAL_TO
            value: FAILED
          - field: EXPRESSION
            type: IS_TRUE
            value: "{{{{ (outputs.count.value ?? 0) > 100 }}}}"
"""


@pytest.mark.parametrize(
    ("kwargs", "fires"),
    [
        pytest.param({"state": "FAILED"}, True, id="and_plus_or_by_state"),
        pytest.param({"task_outputs": {"count": {"value": 500}}}, True, id="or_by_expression"),
        pytest.param({"task_outputs": {"count": {"value": 5}}}, False, id="or_neither"),
        pytest.param({"state": "FAILED", "flow_id": "extractor"}, False, id="regex_full_match"),
        pytest.param({"state": "FAILED", "namespace": "other.team"}, False, id="starts_with"),
    ],
)
def test_preconditions_where_filters(kwargs: dict[str, object], fires: bool) -> None:
    outcome = evaluate(upstream(**kwargs), listener(WHERE))  # type: ignore[arg-type]
    assert bool(outcome.executions) is fires
    assert outcome.warnings == ()


FILTER_CASES = [
    ("EQUAL_TO", "value: extract", True),
    ("NOT_EQUAL_TO", "value: extract", False),
    ("IN", "values: [load, extract]", True),
    ("NOT_IN", "values: [load, extract]", False),
    ("STARTS_WITH", "value: ext", True),
    ("ENDS_WITH", "value: act", True),
    ("CONTAINS", "value: tra", True),
    ("REGEX", "value: 'e.*'", True),
    ("REGEX", "value: 'x'", False),
    ("IS_NULL", "", False),
    ("IS_NOT_NULL", "", True),
]


@pytest.mark.parametrize(("ftype", "operand", "fires"), FILTER_CASES)
def test_precondition_filter_types(ftype: str, operand: str, fires: bool) -> None:
    flow = listener(
        f"""
        - id: t
          type: {FLOW_TRIGGER}
          preconditions:
            id: p
            where:
              - id: w
                filters:
                  - field: FLOW_ID
                    type: {ftype}
                    {operand}
        """
    )
    assert bool(evaluate(upstream(), flow).executions) is fires


@pytest.mark.parametrize(
    ("ftype", "expression", "fires"),
    [
        ("IS_TRUE", "{{ 0 }}", True),  # the Expression rule: "0" is true
        ("IS_TRUE", "{{ false }}", False),
        ("IS_FALSE", "{{ false }}", True),
        ("IS_FALSE", "{{ '' }}", True),
        ("IS_NULL", "{{ null }}", True),
        ("IS_NOT_NULL", "{{ 'x' }}", True),
    ],
)
def test_precondition_expression_filter(ftype: str, expression: str, fires: bool) -> None:
    flow = listener(
        f"""
        - id: t
          type: {FLOW_TRIGGER}
          preconditions:
            id: p
            where:
              - id: w
                filters:
                  - field: EXPRESSION
                    type: {ftype}
                    value: "{expression}"
        """
    )
    assert bool(evaluate(upstream(), flow).executions) is fires


def test_precondition_expression_filter_with_a_comparison_type_warns() -> None:
    flow = listener(
        f"""
        - id: t
          type: {FLOW_TRIGGER}
          preconditions:
            id: p
            where:
              - id: w
                filters:
                  - field: EXPRESSION
                    type: EQUAL_TO
                    value: "{{{{ flow.id }}}}"
        """
    )
    outcome = evaluate(upstream(), flow)
    assert outcome.executions == ()
    assert "EXPRESSION filter" in outcome.warnings[0][2]


def test_preconditions_and_conditions_both_apply() -> None:
    store = WindowStore()
    flow = listener(
        both(
            extra=f"conditions:\n        - type: {COND}ExecutionNamespace\n          namespace: nope"
        )
    )
    # The plain condition fails first: nothing is even recorded.
    assert evaluate(upstream(), flow, store=store).state_updates == ()


def test_preconditions_inputs_see_merged_outputs() -> None:
    store = WindowStore()
    flow = listener(
        both(extra='inputs:\n        summary: "{{ trigger.outputs.a }}-{{ trigger.outputs.b }}"'),
        extra="inputs:\n  - id: summary\n    type: STRING",
    )
    evaluate(upstream(outputs={"a": 1}), flow, store=store)
    outcome = evaluate(upstream(flow_id="load", outputs={"b": 2}), flow, store=store)
    [created] = outcome.executions
    assert created.inputs == {"summary": "1-2"}


def test_invalid_window_warns() -> None:
    flow = listener(both("timeWindow:\n          window: \"{{ 'soon' }}\""))
    outcome = evaluate(upstream(), flow)
    assert outcome.executions == () and outcome.state_updates == ()
    assert "timeWindow" in outcome.warnings[0][2]


def test_stored_state_of_an_unknown_version_is_ignored() -> None:
    store = WindowStore({KEY: {"version": 99, "windows": {"x": {}}}})
    flow = listener(both())
    outcome = evaluate(upstream(), flow, store=store)
    assert outcome.executions == ()
    assert store.states[KEY]["version"] == 1


# -- legacy MultipleCondition ---------------------------------------------------------------

MULTIPLE = f"""
- id: legacy
  type: {FLOW_TRIGGER}
  conditions:
    - type: {COND}ExecutionStatus
      in: [SUCCESS]
    - type: io.kestra.core.models.conditions.types.MultipleCondition
      id: both_flows
      window: PT2H
      conditions:
        first:
          type: {COND}ExecutionFlow
          namespace: company.team
          flowId: extract
        second:
          type: {COND}ExecutionFlow
          namespace: company.team
          flowId: load
"""


def test_legacy_multiple_condition() -> None:
    store = WindowStore()
    flow = listener(MULTIPLE)
    key = ("company.ops", "downstream", "legacy")
    assert fired(evaluate(upstream(), flow, store=store)) == []
    window = store.states[key]["windows"]["multiple:both_flows"]
    # PT2H: from the top of the current hour, for two hours (Kestra's alignment).
    assert (window["start"], window["end"]) == (
        "2026-03-02T10:00:00.000000Z",
        "2026-03-02T12:00:00.000000Z",
    )
    # The plain ExecutionStatus condition still gates: a FAILED load is not looked at.
    assert evaluate(upstream(State.FAILED, flow_id="load"), flow, store=store).executions == ()
    later = T0 + timedelta(minutes=80)
    assert fired(evaluate(upstream(flow_id="load"), flow, store=store, now=later)) == [
        "downstream:legacy"
    ]
    assert key not in store.states


def test_a_window_advance_of_zero_is_no_shift() -> None:
    # Kestra's own flows write `windowAdvance: P0D` next to `window: P1D`.
    store = WindowStore()
    flow = listener(MULTIPLE.replace("window: PT2H", "window: PT2H\n      windowAdvance: P0D"))
    outcome = evaluate(upstream(), flow, store=store)
    assert outcome.warnings == ()
    window = store.states[("company.ops", "downstream", "legacy")]["windows"]
    assert window["multiple:both_flows"]["start"] == "2026-03-02T10:00:00.000000Z"


def test_a_negative_window_advance_warns() -> None:
    flow = listener(MULTIPLE.replace("window: PT2H", "window: PT2H\n      windowAdvance: -PT1H"))
    outcome = evaluate(upstream(), flow)
    assert "zero or more" in outcome.warnings[0][2]


# -- window bounds --------------------------------------------------------------------------


def _spec(kind: TimeWindowType, **kw: object) -> WindowSpec:
    return WindowSpec("k", kind, ("a",), frozenset(), **kw)  # type: ignore[arg-type]


AT = datetime(2026, 3, 2, 10, 37, 42, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        pytest.param(
            _spec(TimeWindowType.DURATION_WINDOW), "2026-03-02 00:00", "2026-03-03 00:00", id="P1D"
        ),
        pytest.param(
            _spec(TimeWindowType.DURATION_WINDOW, window=timedelta(hours=1)),
            "2026-03-02 10:00",
            "2026-03-02 11:00",
            id="PT1H",
        ),
        pytest.param(
            _spec(TimeWindowType.DURATION_WINDOW, window=timedelta(minutes=15)),
            "2026-03-02 10:30",
            "2026-03-02 10:45",
            id="PT15M",
        ),
        pytest.param(
            _spec(TimeWindowType.DURATION_WINDOW, window=timedelta(seconds=30)),
            "2026-03-02 10:37:42",
            "2026-03-02 10:38:12",
            id="PT30S",
        ),
        pytest.param(
            _spec(
                TimeWindowType.DURATION_WINDOW,
                window=timedelta(days=1),
                advance=timedelta(hours=-4),
            ),
            "2026-03-01 20:00",
            "2026-03-02 20:00",
            id="P1D_advance",
        ),
        pytest.param(
            _spec(TimeWindowType.DAILY_TIME_DEADLINE, deadline=time(9, 30)),
            "2026-03-02 00:00",
            "2026-03-02 09:30",
            id="deadline",
        ),
        pytest.param(
            _spec(TimeWindowType.DAILY_TIME_WINDOW, start_time=time(8), end_time=time(18)),
            "2026-03-02 08:00",
            "2026-03-02 18:00",
            id="daily_window",
        ),
    ],
)
def test_window_bounds(spec: WindowSpec, start: str, end: str) -> None:
    span = bounds(spec, AT)
    assert span is not None
    expected = (
        datetime.fromisoformat(start).replace(tzinfo=UTC),
        datetime.fromisoformat(end).replace(tzinfo=UTC),
    )
    assert span == expected


def test_sliding_window_has_no_fixed_bounds() -> None:
    assert bounds(_spec(TimeWindowType.SLIDING_WINDOW), AT) is None


def test_deep_merge() -> None:
    assert deep_merge({"a": {"x": 1, "y": [1]}, "b": 1}, {"a": {"y": [2], "z": 3}, "b": {}}) == {
        "a": {"x": 1, "y": [2], "z": 3},
        "b": {},
    }


def test_same_window_state_gives_equal_outcomes() -> None:
    flow = listener(both())
    store = WindowStore()
    evaluate(upstream(), flow, store=store)
    snapshot = dict(store.states)
    one = evaluate(upstream(flow_id="load"), flow, store=WindowStore(dict(snapshot)))
    two = evaluate(upstream(flow_id="load"), flow, store=WindowStore(dict(snapshot)))
    assert one == two
    assert fired(one) == ["downstream:both"]


def test_a_window_inside_not_is_rejected() -> None:
    # Not accepted and then never met: validation says so at its place.
    with pytest.raises(FlowValidationError) as exc:
        listener(
            f"""
            - id: t
              type: {FLOW_TRIGGER}
              conditions:
                - type: {COND}Not
                  conditions:
                    - type: {COND}MultipleCondition
                      id: inner
                      conditions:
                        a:
                          type: {COND}ExecutionStatus
                          in: [FAILED]
            """
        )
    assert exc.value.problems[0].path == "triggers[0].conditions[0].conditions[0]"
    assert "'MultipleCondition' is not supported here" in exc.value.problems[0].message


def test_a_window_that_completes_resets_even_when_inputs_are_invalid() -> None:
    store = WindowStore()
    flow = listener(
        both(extra='inputs:\n        n: "{{ trigger.outputs.missing }}"'),
        extra="inputs:\n  - id: n\n    type: INT",
    )
    evaluate(upstream(), flow, store=store)
    outcome = evaluate(upstream(flow_id="load"), flow, store=store)
    assert outcome.executions == ()
    assert "invalid inputs" in outcome.warnings[0][2]
    assert store.states == {}
