"""SPEC §7.1, §7.2, §7.4, §6.2 `trigger.*`: the Flow trigger without windows.

Conditions are in test_flow_trigger_conditions.py, windowed ones
(`preconditions`, MultipleCondition) in test_flow_trigger_windows.py.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lanner.engine.events import Dispatch, Start
from lanner.engine.execution import History, Phase, new_execution_id
from lanner.engine.flowtrigger import evaluate_flow_triggers
from lanner.engine.variables import execution_variables
from lanner.expr import Scope
from lanner.model.states import State
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
