"""SPEC §7.2: Flow trigger conditions, one table row per rule (time conditions included)."""

from __future__ import annotations

import pytest

from lanner.errors import FlowValidationError
from lanner.model.states import State
from tests.unit.engine.flowtrigger_support import (
    COND,
    FLOW_TRIGGER,
    evaluate,
    fired,
    listener,
    upstream,
)

# -- conditions (§7.2): one row per rule ------------------------------------------------

CONDITION_CASES = [
    # (name, condition YAML, upstream kwargs, fires)
    ("status_in", "type: {c}ExecutionStatus\nin: [FAILED, WARNING]", {"state": "WARNING"}, True),
    ("status_in_miss", "type: {c}ExecutionStatus\nin: [FAILED]", {"state": "SUCCESS"}, False),
    ("status_not_in", "type: {c}ExecutionStatus\nnotIn: [SUCCESS]", {"state": "SUCCESS"}, False),
    (
        "status_in_and_not_in",
        "type: {c}ExecutionStatus\nin: [FAILED, KILLED]\nnotIn: [KILLED]",
        {"state": "KILLED"},
        False,
    ),
    ("flow", "type: {c}ExecutionFlow\nnamespace: company.team\nflowId: extract", {}, True),
    ("flow_other", "type: {c}ExecutionFlow\nnamespace: company.team\nflowId: load", {}, False),
    ("namespace_equals", "type: {c}ExecutionNamespace\nnamespace: company.team", {}, True),
    ("namespace_equals_miss", "type: {c}ExecutionNamespace\nnamespace: company", {}, False),
    (
        "namespace_prefix",
        "type: {c}ExecutionNamespace\nnamespace: company\ncomparison: PREFIX",
        {},
        True,
    ),
    (
        "namespace_prefix_shortcut",
        "type: {c}ExecutionNamespace\nnamespace: comp\nprefix: true",
        {},
        True,
    ),
    (
        "namespace_suffix",
        "type: {c}ExecutionNamespace\nnamespace: .team\ncomparison: SUFFIX",
        {},
        True,
    ),
    (
        "namespace_suffix_miss",
        "type: {c}ExecutionNamespace\nnamespace: company\ncomparison: SUFFIX",
        {},
        False,
    ),
    (
        "expression_true",
        "type: {c}Expression\nexpression: \"{{{{ execution.state == 'SUCCESS' }}}}\"",
        {},
        True,
    ),
    (
        "expression_false",
        "type: {c}Expression\nexpression: \"{{{{ flow.id == 'load' }}}}\"",
        {},
        False,
    ),
    # The Expression rule differs from runIf: only blank or `false` is false (§6.5).
    ("expression_zero_is_true", 'type: {c}Expression\nexpression: "{{{{ 0 }}}}"', {}, True),
    ("expression_False_is_true", 'type: {c}Expression\nexpression: "False"', {}, True),
    ("expression_blank_is_false", "type: {c}Expression\nexpression: \"{{{{ '  ' }}}}\"", {}, False),
    ("expression_padded_false", 'type: {c}Expression\nexpression: " {{{{ false }}}} "', {}, False),
    (
        "expression_sees_upstream_labels",
        "type: {c}Expression\nexpression: \"{{{{ labels.team == 'data' }}}}\"",
        {"labels": {"team": "data"}},
        True,
    ),
    (
        "expression_sees_upstream_task_outputs",
        'type: {c}Expression\nexpression: "{{{{ outputs.count.value > 3 }}}}"',
        {"task_outputs": {"count": {"value": 5}}},
        True,
    ),
    (
        "labels",
        "type: {c}ExecutionLabels\nlabels:\n  team: data",
        {"labels": {"team": "data", "x": "1"}},
        True,
    ),
    (
        "labels_miss",
        "type: {c}ExecutionLabels\nlabels:\n  team: data",
        {"labels": {"team": "ops"}},
        False,
    ),
    (
        "outputs",
        'type: {c}ExecutionOutputs\nexpression: "{{{{ trigger.outputs.rows > 10 }}}}"',
        {"outputs": {"rows": 11}},
        True,
    ),
    (
        "outputs_absent_is_false",
        'type: {c}ExecutionOutputs\nexpression: "true"',
        {},
        False,
    ),
    (
        "not",
        "type: {c}Not\nconditions:\n  - type: {c}ExecutionStatus\n    in: [FAILED]",
        {},
        True,
    ),
    (
        "not_any",
        "type: {c}Not\nconditions:\n"
        "  - type: {c}ExecutionStatus\n    in: [FAILED]\n"
        "  - type: {c}ExecutionFlow\n    namespace: company.team\n    flowId: extract",
        {},
        False,
    ),
    (
        "or",
        "type: {c}Or\nconditions:\n"
        "  - type: {c}ExecutionStatus\n    in: [FAILED]\n"
        "  - type: {c}ExecutionNamespace\n    namespace: company.team",
        {},
        True,
    ),
    (
        "or_none",
        "type: {c}Or\nconditions:\n"
        "  - type: {c}ExecutionStatus\n    in: [FAILED]\n"
        "  - type: {c}ExecutionNamespace\n    namespace: other",
        {},
        False,
    ),
    (
        "legacy_alias",
        "type: io.kestra.core.models.conditions.types.ExecutionFlowCondition\n"
        "namespace: company.team\nflowId: extract",
        {},
        True,
    ),
]


@pytest.mark.parametrize(
    ("condition", "up_kwargs", "fires"),
    [pytest.param(c, k, f, id=name) for name, c, k, f in CONDITION_CASES],
)
def test_conditions(condition: str, up_kwargs: dict[str, object], fires: bool) -> None:
    body = condition.format(c=COND).replace("\n", "\n      ")
    flow = listener(f"- id: t\n  type: {FLOW_TRIGGER}\n  conditions:\n    - {body}\n")
    outcome = evaluate(upstream(**up_kwargs), flow)  # type: ignore[arg-type]
    assert bool(outcome.executions) is fires
    assert outcome.warnings == ()


def test_conditions_are_anded() -> None:
    flow = listener(
        f"""
        - id: t
          type: {FLOW_TRIGGER}
          conditions:
            - type: {COND}ExecutionNamespace
              namespace: company
              prefix: true
            - type: {COND}ExecutionStatus
              in: [FAILED]
        """
    )
    assert fired(evaluate(upstream(State.SUCCESS), flow)) == []
    assert fired(evaluate(upstream(State.FAILED), flow)) == ["downstream:t"]
    assert fired(evaluate(upstream(State.FAILED, namespace="other"), flow)) == []


def test_condition_render_error_warns_and_does_not_fire() -> None:
    flow = listener(
        f"""
        - id: t
          type: {FLOW_TRIGGER}
          conditions:
            - type: {COND}Expression
              expression: "{{{{ nothing.here }}}}"
        """
    )
    outcome = evaluate(upstream(), flow)
    assert outcome.executions == ()
    [(ns, fid, message)] = outcome.warnings
    assert (ns, fid) == ("company.ops", "downstream")
    assert "Trigger t of flow company.ops.downstream: conditions[0]" in message
    assert "nothing" in message


@pytest.mark.parametrize("condition", ["PublicHoliday"])
def test_condition_a_flow_trigger_cannot_evaluate_is_rejected(condition: str) -> None:
    # Not accepted and then never met: validation says so at its place.
    with pytest.raises(FlowValidationError) as exc:
        listener(
            f"""
            - id: t
              type: {FLOW_TRIGGER}
              conditions:
                - type: {COND}{condition}
            """
        )
    assert exc.value.problems[0].path == "triggers[0].conditions[0]"
    assert f"'{condition}' is not supported here" in exc.value.problems[0].message


@pytest.mark.parametrize(
    ("spec", "attempts", "fires"),
    [
        pytest.param("in: [FAILED]", {"flaky": [State.FAILED, State.SUCCESS]}, True, id="retried"),
        pytest.param("in: [FAILED]", {"flaky": [State.FAILED]}, False, id="not_retried"),
        pytest.param("in: [KILLED]", {"flaky": [State.FAILED, State.SUCCESS]}, False, id="in_miss"),
        pytest.param("notIn: [FAILED]", {"x": [State.FAILED, State.FAILED]}, False, id="not_in"),
    ],
)
def test_has_retry_attempt(spec: str, attempts: dict[str, list[State]], fires: bool) -> None:
    flow = listener(
        f"""
        - id: t
          type: {FLOW_TRIGGER}
          conditions:
            - type: {COND}HasRetryAttempt
              {spec}
        """
    )
    outcome = evaluate(upstream(attempts=attempts), flow)
    assert outcome.warnings == ()
    assert bool(outcome.executions) is fires


# T0 is Monday 2026-03-02 10:30 UTC: time conditions default to the evaluation's `now`.
TIME_CASES = [
    ("weekend", "type: {c}Weekend", False),
    ("weekend_of_a_date", "type: {c}Weekend\ndate: '2026-03-07T09:00:00Z'", True),
    ("day_week", "type: {c}DayWeek\ndayOfWeek: MONDAY", True),
    ("day_week_miss", "type: {c}DayWeek\ndayOfWeek: FRIDAY", False),
    ("day_week_in_month", "type: {c}DayWeekInMonth\ndayOfWeek: MONDAY\ndayInMonth: FIRST", True),
    (
        "day_week_in_month_last",
        "type: {c}DayWeekInMonth\ndayOfWeek: MONDAY\ndayInMonth: LAST\n"
        "date: '2026-03-30T10:00:00Z'",
        True,
    ),
    (
        "day_week_in_month_miss",
        "type: {c}DayWeekInMonth\ndayOfWeek: MONDAY\ndayInMonth: LAST",
        False,
    ),
    ("time_between", "type: {c}TimeBetween\nafter: '10:00:00Z'\nbefore: '11:00:00Z'", True),
    ("time_between_offset", "type: {c}TimeBetween\nafter: '13:00:00+02:00'", False),
    (
        "date_time_between",
        "type: {c}DateTimeBetween\nafter: '2026-03-01T00:00:00Z'\nbefore: '2026-03-03T00:00:00Z'",
        True,
    ),
    ("date_time_between_miss", "type: {c}DateTimeBetween\nbefore: '2026-03-01T00:00:00Z'", False),
    (
        "date_from_upstream",
        'type: {c}DayWeek\ndayOfWeek: MONDAY\ndate: "{{{{ execution.startDate }}}}"',
        True,
    ),
    (
        "nested_in_not",
        "type: {c}Not\nconditions:\n  - type: {c}Weekend",
        True,
    ),
]


@pytest.mark.parametrize(
    ("condition", "fires"),
    [pytest.param(c, f, id=name) for name, c, f in TIME_CASES],
)
def test_time_conditions(condition: str, fires: bool) -> None:
    body = condition.format(c=COND).replace("\n", "\n      ")
    flow = listener(f"- id: t\n  type: {FLOW_TRIGGER}\n  conditions:\n    - {body}\n")
    outcome = evaluate(upstream(), flow)
    assert outcome.warnings == ()
    assert bool(outcome.executions) is fires


def test_time_condition_with_a_date_that_does_not_parse_warns() -> None:
    flow = listener(
        f"""
        - id: t
          type: {FLOW_TRIGGER}
          conditions:
            - type: {COND}DayWeek
              dayOfWeek: MONDAY
              date: "{{{{ 'soon' }}}}"
        """
    )
    outcome = evaluate(upstream(), flow)
    assert outcome.executions == ()
    assert "soon" in outcome.warnings[0][2]
