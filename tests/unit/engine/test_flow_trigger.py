"""SPEC §7.1, §7.2, §7.4, §6.2 `trigger.*`: the Flow trigger without windows.

Windowed conditions (`preconditions`, MultipleCondition) are in
test_flow_trigger_windows.py.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lanner.engine.events import Dispatch, Start
from lanner.engine.flowtrigger import evaluate_flow_triggers
from lanner.engine.model import History, Phase, new_execution_id
from lanner.engine.states import State
from lanner.engine.variables import execution_variables
from lanner.expr import Scope
from lanner.model.triggers import DEFAULT_FLOW_TRIGGER_STATES
from tests.unit.engine.flowtrigger_support import (
    COND,
    FLOW_TRIGGER,
    LOG,
    T0,
    engine,
    evaluate,
    fired,
    listener,
    load,
    upstream,
)
from tests.unit.engine.support import Driver

ON_ANY = f"""
- id: on_any
  type: {FLOW_TRIGGER}
"""


# -- which flows and triggers are looked at (§7.1) ------------------------------------


def test_flow_never_triggers_itself() -> None:
    own = listener(ON_ANY, flow_id="extract", extra="")
    same_id_other_ns = listener(ON_ANY, flow_id="extract")
    up = upstream(namespace="company.ops", flow_id="extract")
    assert fired(evaluate(up, own)) == []
    # The same flow id in another namespace is another flow.
    assert fired(evaluate(upstream(flow_id="extract"), same_id_other_ns)) == ["extract:on_any"]


def test_disabled_flow_and_disabled_trigger_are_ignored() -> None:
    disabled_flow = listener(ON_ANY, flow_id="off", extra="disabled: true")
    disabled_trigger = listener(
        f"""
        - id: off
          type: {FLOW_TRIGGER}
          disabled: true
        - id: on
          type: {FLOW_TRIGGER}
        """,
        flow_id="half",
    )
    assert fired(evaluate(upstream(), disabled_flow, disabled_trigger)) == ["half:on"]


def test_other_trigger_types_are_ignored() -> None:
    flow = listener(
        """
        - id: nightly
          type: io.kestra.plugin.core.trigger.Schedule
          cron: "0 2 * * *"
        """
    )
    assert fired(evaluate(upstream(), flow)) == []


# -- the `states` filter (§7.1) -----------------------------------------------------------


@pytest.mark.parametrize("state", list(State))
def test_default_states_are_terminal_states_and_paused(state: State) -> None:
    outcome = evaluate(upstream(state), listener(ON_ANY))
    expected = state.value in DEFAULT_FLOW_TRIGGER_STATES
    assert bool(outcome.executions) is expected
    if state in (State.CREATED, State.RUNNING, State.KILLING, State.QUEUED):
        assert not outcome.executions


def test_created_never_matches_even_when_listed_through_not_in() -> None:
    # CREATED cannot be listed in `states` (validation); an ExecutionStatus notIn
    # does not make it match either: the state filter comes first.
    flow = listener(
        f"""
        - id: t
          type: {FLOW_TRIGGER}
          states: [RUNNING, SUCCESS]
          conditions:
            - type: {COND}ExecutionStatus
              notIn: [FAILED]
        """
    )
    assert fired(evaluate(upstream(State.CREATED), flow)) == []
    assert fired(evaluate(upstream(State.RUNNING), flow)) == ["downstream:t"]


def test_states_filter_comes_first() -> None:
    flow = listener(
        f"""
        - id: on_failure
          type: {FLOW_TRIGGER}
          states: [FAILED]
        """
    )
    assert fired(evaluate(upstream(State.SUCCESS), flow)) == []
    assert fired(evaluate(upstream(State.FAILED), flow)) == ["downstream:on_failure"]


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
def test_condition_a_flow_trigger_cannot_evaluate_warns_and_does_not_fire(condition: str) -> None:
    flow = listener(
        f"""
        - id: t
          type: {FLOW_TRIGGER}
          conditions:
            - type: {COND}{condition}
        """
    )
    outcome = evaluate(upstream(), flow)
    assert outcome.executions == ()
    assert f"{condition} condition cannot be evaluated" in outcome.warnings[0][2]


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


# -- the created execution (§7.4) -----------------------------------------------------------

SHAPED = f"""
id: report
namespace: company.ops
labels:
  owner: ops
  team: flow-label
variables:
  greeting: "hello {{{{ trigger.flowId }}}}"
triggers:
  - id: after_extract
    type: {FLOW_TRIGGER}
    labels:
      team: trigger-label
      source: "{{{{ trigger.flowId }}}}"
tasks:
  - id: hello
    type: {LOG}
    message: hi
"""


def test_created_execution_shape() -> None:
    flow = load(SHAPED)
    up = upstream(
        State.WARNING,
        labels={"team": "data", "system.correlationId": "root-123"},
        outputs={"rows": 3},
    )
    [created] = evaluate(up, flow).executions
    seed = f"flow-trigger|{up.id}|2|company.ops|report|after_extract"
    assert created.id == new_execution_id(seed)
    assert (created.namespace, created.flow_id, created.flow_revision) == (
        "company.ops",
        "report",
        7,
    )
    assert created.state is State.CREATED
    assert created.histories == (History(State.CREATED, T0),)
    assert created.labels == {
        "owner": "ops",
        "team": "trigger-label",
        "source": "extract",
        "system.correlationId": "root-123",
    }
    # Flow variables are copied raw: they are rendered where they are used.
    assert created.variables == {"greeting": "hello {{ trigger.flowId }}"}
    assert created.inputs == {}
    assert created.trigger == {
        "id": "after_extract",
        "type": FLOW_TRIGGER,
        "executionId": up.id,
        "namespace": "company.team",
        "flowId": "extract",
        "flowRevision": 3,
        "state": "WARNING",
        "executionLabels": {"team": "data"},
        "outputs": {"rows": 3},
    }
    assert created.parent_execution_id is None


def test_correlation_id_is_the_upstream_id_when_it_has_none() -> None:
    up = upstream(labels={"a.b": "c"})
    [created] = evaluate(up, listener(ON_ANY)).executions
    assert created.labels["system.correlationId"] == up.id
    # Dotted label keys are also nested, as `labels` are for tasks.
    assert created.trigger is not None
    assert created.trigger["executionLabels"] == {"a.b": "c", "a": {"b": "c"}}


def test_legacy_trigger_type_name_is_reported_canonically() -> None:
    flow = listener(
        """
        - id: legacy
          type: io.kestra.core.models.triggers.types.Flow
        """
    )
    [created] = evaluate(upstream(), flow).executions
    assert created.trigger is not None and created.trigger["type"] == FLOW_TRIGGER


def test_same_transition_gives_the_same_id_a_later_transition_a_new_one() -> None:
    flow = listener(ON_ANY)
    paused = upstream(State.PAUSED)
    first = evaluate(paused, flow).executions[0].id
    again = evaluate(paused, flow).executions[0].id
    # RUNNING again, then PAUSED again: the new PAUSED is a later history entry.
    later = paused.to(State.RUNNING, T0 + timedelta(seconds=5)).to(
        State.PAUSED, T0 + timedelta(seconds=6)
    )
    second = evaluate(later, flow).executions[0].id
    assert first == again
    assert second != first


def test_two_triggers_of_one_flow_create_two_executions_with_distinct_ids() -> None:
    flow = listener(
        f"""
        - id: one
          type: {FLOW_TRIGGER}
        - id: two
          type: {FLOW_TRIGGER}
        """
    )
    outcome = evaluate(upstream(), flow)
    assert fired(outcome) == ["downstream:one", "downstream:two"]
    assert len({e.id for e in outcome.executions}) == 2


# -- inputs (§7.4, §6.6) ---------------------------------------------------------------

WITH_INPUTS = f"""
id: transform
namespace: company.ops
inputs:
  - id: date
    type: STRING
  - id: rows
    type: INT
  - id: mode
    type: STRING
    defaults: full
  - id: origin
    type: STRING
    required: false
triggers:
  - id: after_extract
    type: {FLOW_TRIGGER}
    inputs:
      date: "{{{{ outputs.only.value }}}}"
      rows: "{{{{ trigger.outputs.rows }}}}"
      origin: "{{{{ flow.namespace }}}}.{{{{ flow.id }}}} {{{{ execution.state }}}} {{{{ trigger.executionId }}}}"
"""


def test_inputs_are_rendered_with_the_upstream_context() -> None:
    up = upstream(task_outputs={"only": {"value": "2026-01-01"}}, outputs={"rows": 12})
    [created] = evaluate(up, load(WITH_INPUTS)).executions
    assert created.inputs == {
        "date": "2026-01-01",
        "rows": 12,  # parsed against the declared INT input
        "mode": "full",  # default applied
        "origin": f"company.team.extract SUCCESS {up.id}",
    }


def test_inputs_can_use_secrets() -> None:
    flow = listener(
        f"""
        - id: t
          type: {FLOW_TRIGGER}
          inputs:
            token: "{{{{ secret('API_TOKEN') }}}}"
        """,
        extra="inputs:\n  - id: token\n    type: SECRET",
    )
    [created] = evaluate(upstream(), flow, secrets=lambda key: f"s3cr3t-{key}").executions
    assert created.inputs == {"token": "s3cr3t-API_TOKEN"}
    assert created.secret_inputs == frozenset({"token"})


@pytest.mark.parametrize(
    ("upstream_kwargs", "problem"),
    [
        pytest.param({"outputs": {"rows": 1}}, "only", id="render_error"),
        pytest.param(
            {"task_outputs": {"only": {"value": "d"}}, "outputs": {"rows": "many"}},
            "rows",
            id="does_not_parse",
        ),
    ],
)
def test_invalid_inputs_warn_and_create_nothing(
    upstream_kwargs: dict[str, object], problem: str
) -> None:
    outcome = evaluate(upstream(**upstream_kwargs), load(WITH_INPUTS))  # type: ignore[arg-type]
    assert outcome.executions == ()
    [(ns, fid, message)] = outcome.warnings
    assert (ns, fid) == ("company.ops", "transform")
    assert message.startswith("Failed to trigger flow company.ops.transform: invalid inputs: ")
    assert problem in message


def test_missing_required_input_is_an_invalid_input() -> None:
    flow = listener(ON_ANY, extra="inputs:\n  - id: needed\n    type: STRING")
    outcome = evaluate(upstream(), flow)
    assert outcome.executions == ()
    assert "invalid inputs" in outcome.warnings[0][2]
    assert "needed" in outcome.warnings[0][2]


def test_unknown_input_is_an_invalid_input() -> None:
    flow = listener(
        f"""
        - id: t
          type: {FLOW_TRIGGER}
          inputs:
            nope: 1
        """
    )
    outcome = evaluate(upstream(), flow)
    assert outcome.executions == ()
    assert "unknown input" in outcome.warnings[0][2]


# -- trigger.* in the triggered flow's tasks (§6.2) -----------------------------------------

TRIGGERED = f"""
id: notify
namespace: company.ops
tasks:
  - id: say
    type: {LOG}
    message: "{{{{ trigger.executionId }}}} {{{{ trigger.state }}}} {{{{ trigger.outputs.x }}}} {{{{ trigger.flowId }}}} {{{{ trigger.executionLabels.team }}}}"
  - id: only_on_failure
    type: {LOG}
    runIf: "{{{{ trigger.state == 'FAILED' }}}}"
    message: failed upstream
triggers:
  - id: watch
    type: {FLOW_TRIGGER}
"""


def test_trigger_variables_render_in_the_triggered_flows_tasks() -> None:
    flow = load(TRIGGERED)
    up = upstream(State.FAILED, outputs={"x": 42}, labels={"team": "data"})
    [created] = evaluate(up, flow).executions
    # What every template of the new execution sees (lanner.engine.variables).
    variables = execution_variables(flow, created)
    scope = Scope(variables=variables, now=T0)
    assert engine().render("{{ trigger.executionId }}", scope) == up.id
    assert engine().render("{{ trigger.state }}", scope) == "FAILED"
    assert engine().render("{{ trigger.outputs.x }}", scope) == "42"
    assert engine().render("{{ trigger.namespace }}/{{ trigger.flowRevision }}", scope) == (
        "company.team/3"
    )
    # And through the real planner: the task's properties are rendered with them.
    driver = Driver(flow)
    driver.execution = created
    driver.plan(Start())
    dispatch = driver.dispatch_of("say")
    assert isinstance(dispatch, Dispatch)
    assert dispatch.properties["message"] == f"{up.id} FAILED 42 extract data"


# -- afterExecution never fires a trigger (§3.4, §7.1) ----------------------------------------


def test_after_execution_failure_never_fires_a_failed_listener() -> None:
    on_failed = listener(
        f"""
        - id: on_failed
          type: {FLOW_TRIGGER}
          states: [FAILED]
        """
    )
    # The upstream ended SUCCESS; its afterExecution task then failed. The execution
    # state stays SUCCESS (afterExecution never changes it), so this is all a Flow
    # trigger ever sees of it.
    up = upstream(State.SUCCESS, after_execution={"notify": State.FAILED})
    [after] = up.runs_of(None, Phase.AFTER)
    assert after.state is State.FAILED
    assert evaluate(up, on_failed).executions == ()


# -- determinism ----------------------------------------------------------------------------


def test_same_arguments_give_equal_outcomes() -> None:
    flow = load(WITH_INPUTS)
    up = upstream(task_outputs={"only": {"value": "d"}}, outputs={"rows": 2})
    first = evaluate_flow_triggers(up, [], lambda *_: None, T0, engine())
    assert first == evaluate_flow_triggers(up, [], lambda *_: None, T0, engine())
    one = evaluate(up, flow, listener(ON_ANY))
    two = evaluate(up, flow, listener(ON_ANY))
    assert one == two
    assert len(one.executions) == 2
    # Everything the runtime stores is plain JSON.
    for created in one.executions:
        json.dumps(created.trigger)
        json.dumps(dict(created.labels))


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
