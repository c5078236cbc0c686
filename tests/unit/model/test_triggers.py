"""Triggers and conditions (SPEC §1.4 rules 3 and 7, §7): models, flow rules, matching."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from lanner.model.conditions import canonical_condition_type
from lanner.model.triggers import (
    CONDITION_TYPES,
    TRIGGER_TYPES,
    Condition,
    FlowTrigger,
    Schedule,
    Trigger,
    Webhook,
    check_triggers,
    condition_matches,
    flow_trigger_states_match,
)

TRIGGERS: TypeAdapter[list[Any]] = TypeAdapter(list[Trigger])
CONDITIONS: TypeAdapter[list[Any]] = TypeAdapter(list[Condition])

C = "io.kestra.plugin.core.condition."
T = "io.kestra.plugin.core.trigger."


def trigger(**props: Any) -> Any:
    return TRIGGERS.validate_python([props])[0]


def trigger_errors(**props: Any) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as exc:
        TRIGGERS.validate_python([props])
    return [(e["loc"], e["msg"]) for e in exc.value.errors()]


def condition(**props: Any) -> Any:
    return CONDITIONS.validate_python([props])[0]


# --- realistic Kestra examples (from the plugin documentation) ----------------------------

TRIGGER_EXAMPLES: list[tuple[dict[str, Any], type]] = [
    ({"id": "every_15_minutes", "type": T + "Schedule", "cron": "*/15 * * * *"}, Schedule),
    ({"id": "hourly", "type": T + "Schedule", "cron": "@hourly"}, Schedule),
    (
        {
            "id": "schedule",
            "type": T + "Schedule",
            "cron": "0 11 * * 1",
            "timezone": "Europe/Paris",
            "conditions": [
                {
                    "type": C + "DayWeekInMonth",
                    "date": "{{ trigger.date }}",
                    "dayOfWeek": "MONDAY",
                    "dayInMonth": "FIRST",
                }
            ],
        },
        Schedule,
    ),
    (
        {
            "id": "stop_after_failed",
            "type": T + "Schedule",
            "cron": "0 9 * * *",
            "stopAfter": ["FAILED"],
        },
        Schedule,
    ),
    (
        {
            "id": "secs",
            "type": T + "Schedule",
            "cron": "*/5 * * * * *",
            "withSeconds": True,
            "inputs": {"name": "scheduled"},
            "lateMaximumDelay": "PT1H",
            "recoverMissedSchedules": "LAST",
            "labels": {"team": "data"},
        },
        Schedule,
    ),
    (
        {"id": "legacy", "type": "io.kestra.core.models.triggers.types.Schedule", "cron": "@daily"},
        Schedule,
    ),
    (
        {
            "id": "run_after_extract",
            "type": T + "Flow",
            "inputs": {"date": "{{ trigger.outputs.date }}"},
            "preconditions": {
                "id": "flow_trigger",
                "flows": [
                    {"namespace": "company.team", "flowId": "extract", "states": ["SUCCESS"]}
                ],
            },
        },
        FlowTrigger,
    ),
    (
        {
            "id": "alert_on_failure",
            "type": T + "Flow",
            "states": ["FAILED", "WARNING"],
            "conditions": [
                {"type": C + "ExecutionNamespace", "namespace": "company", "comparison": "PREFIX"}
            ],
        },
        FlowTrigger,
    ),
    (
        {
            "id": "silver",
            "type": T + "Flow",
            "preconditions": {
                "id": "bronze_done",
                "flows": [
                    {
                        "namespace": "company.team",
                        "flowId": "bronze_layer",
                        "states": ["SUCCESS"],
                        "labels": {"type": "orchestration"},
                    }
                ],
                "where": [
                    {
                        "id": "filter_on_namespace",
                        "operand": "OR",
                        "filters": [
                            {"field": "NAMESPACE", "type": "STARTS_WITH", "value": "company"},
                            {"field": "STATE", "type": "IN", "values": ["SUCCESS", "WARNING"]},
                        ],
                    }
                ],
                "timeWindow": {"type": "DAILY_TIME_DEADLINE", "deadline": "09:00:00"},
                "resetOnSuccess": False,
            },
        },
        FlowTrigger,
    ),
    ({"id": "legacy_flow", "type": "io.kestra.core.models.triggers.types.Flow"}, FlowTrigger),
    ({"id": "webhook", "type": T + "Webhook", "key": "4wjtkzwVGBM9yKnjm3yv8r"}, Webhook),
    (
        {
            "id": "webhook",
            "type": T + "Webhook",
            "key": "4wjtkzwVGBM9yKnjm3yv8r",
            "wait": True,
            "returnOutputs": True,
            "responseContentType": "text/plain",
            "conditions": [
                {"type": C + "Expression", "expression": "{{ trigger.body.hello == 'world' }}"}
            ],
        },
        Webhook,
    ),
    (
        {"id": "legacy_hook", "type": "io.kestra.core.models.triggers.types.Webhook", "key": "abc"},
        Webhook,
    ),
]


@pytest.mark.parametrize(("props", "model"), TRIGGER_EXAMPLES)
def test_kestra_trigger_example_validates(props: dict[str, Any], model: type) -> None:
    assert isinstance(trigger(**props), model)


CONDITION_EXAMPLES: list[dict[str, Any]] = [
    {"type": C + "ExecutionStatus", "in": ["FAILED", "KILLED"]},
    {"type": C + "ExecutionStatus", "notIn": ["SUCCESS"]},
    {"type": C + "ExecutionFlow", "namespace": "company.team", "flowId": "flow_a"},
    {"type": C + "ExecutionNamespace", "namespace": "company.engineering", "comparison": "PREFIX"},
    {"type": C + "ExecutionNamespace", "namespace": "company", "prefix": True},
    {"type": C + "Expression", "expression": "{{ kv('average_value') < 10 }}"},
    {
        "type": C + "ExecutionOutputs",
        "expression": "{{ trigger.outputs.flow_a_output == 'hello' }}",
    },
    {"type": C + "ExecutionLabels", "labels": {"owner": "john.doe", "env": "prod"}},
    {"type": C + "ExecutionLabels", "labels": [{"key": "owner", "value": "john.doe"}]},
    {
        "type": C + "Not",
        "conditions": [{"type": C + "PublicHoliday", "country": "FR"}, {"type": C + "Weekend"}],
    },
    {
        "type": C + "Or",
        "conditions": [
            {"type": C + "DayWeek", "dayOfWeek": "MONDAY"},
            {"type": C + "DayWeek", "dayOfWeek": "SUNDAY"},
        ],
    },
    {"type": C + "DayWeekInMonth", "dayOfWeek": "MONDAY", "dayInMonth": "FIRST"},
    {"type": C + "DateTimeBetween", "date": "{{ trigger.date }}", "after": "2013-09-08T16:19:12Z"},
    {"type": C + "TimeBetween", "after": "16:00:00+02:00", "before": "20:00:00+02:00"},
    {"type": C + "Weekend"},
    {"type": C + "PublicHoliday", "country": "FR", "subDivision": "FR-A"},
    {"type": C + "HasRetryAttempt", "in": ["FAILED"]},
    {
        "type": C + "MultipleCondition",
        "id": "multiple",
        "sla": {"window": "PT12H"},
        "conditions": {
            "flow-a": {
                "type": C + "ExecutionFlowCondition",
                "namespace": "io.kestra.demo",
                "flowId": "a",
            },
            "flow-b": {"type": C + "ExecutionFlow", "namespace": "io.kestra.demo", "flowId": "b"},
        },
    },
    {"type": C + "FlowNamespaceCondition", "namespace": "company", "prefix": True},
]


@pytest.mark.parametrize("props", CONDITION_EXAMPLES, ids=lambda p: p["type"].rsplit(".", 1)[-1])
def test_kestra_condition_example_validates(props: dict[str, Any]) -> None:
    assert condition(**props).type == props["type"]


# --- aliases and unknown types ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("io.kestra.core.models.conditions.types.ExecutionStatusCondition", C + "ExecutionStatus"),
        ("io.kestra.plugin.core.condition.ExecutionStatusCondition", C + "ExecutionStatus"),
        ("io.kestra.core.models.conditions.types.VariableCondition", C + "Expression"),
        ("io.kestra.plugin.core.condition.ExpressionCondition", C + "Expression"),
        ("io.kestra.core.models.conditions.types.WeekendCondition", C + "Weekend"),
        ("io.kestra.core.models.conditions.types.DayWeekCondition", C + "DayWeek"),
        ("io.kestra.core.models.conditions.types.MultipleCondition", C + "MultipleCondition"),
    ],
)
def test_condition_alias_resolves(alias: str, canonical: str) -> None:
    assert CONDITION_TYPES[alias] is CONDITION_TYPES[canonical]
    examples: dict[str, dict[str, Any]] = {
        C + "ExecutionStatus": {"in": ["FAILED"]},
        C + "Expression": {"expression": "{{ true }}"},
        C + "Weekend": {},
        C + "DayWeek": {"dayOfWeek": "MONDAY"},
        C + "MultipleCondition": {"id": "m", "conditions": {"a": {"type": C + "Weekend"}}},
    }
    parsed = condition(type=alias, **examples[canonical])
    assert isinstance(parsed, CONDITION_TYPES[canonical])
    assert canonical_condition_type(parsed) == canonical


@pytest.mark.parametrize("name", ["Schedule", "Flow", "Webhook"])
def test_trigger_alias_resolves(name: str) -> None:
    assert TRIGGER_TYPES["io.kestra.core.models.triggers.types." + name] is TRIGGER_TYPES[T + name]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"id": "a", "type": T + "Schedul", "cron": "@daily"},
            f"unknown trigger type '{T}Schedul'; did you mean '{T}Schedule'?",
        ),
        (
            {"id": "a", "type": "Cron", "cron": "@daily"},
            # Among the valid types listed (the brokers' realtime triggers too).
            f"{T}Flow, {T}Schedule, {T}Webhook",
        ),
        ({"id": "a", "cron": "@daily"}, "missing required property 'type'"),
    ],
)
def test_unknown_trigger_type_lists_and_suggests(props: dict[str, Any], message: str) -> None:
    assert any(message in msg for _, msg in trigger_errors(**props))


def test_unknown_condition_type_suggests_and_keeps_location() -> None:
    with pytest.raises(ValidationError) as exc:
        trigger(
            id="a",
            type=T + "Flow",
            conditions=[
                {"type": C + "Expression", "expression": "x"},
                {"type": C + "ExecutionStatuss"},
            ],
        )
    (err,) = exc.value.errors()
    assert err["loc"][-2:] == ("conditions", 1)
    assert f"did you mean '{C}ExecutionStatus'?" in err["msg"]


# --- trigger property rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "field", "message"),
    [
        ({"cron": "61 * * * *"}, "cron", "is not a valid cron expression"),
        ({"cron": "* * * * 8"}, "cron", "is not a valid cron expression"),
        ({"cron": "* * * *"}, "cron", "has 4 fields; a cron expression has 5"),
        ({"cron": "*/5 * * * * *"}, "cron", "set withSeconds: true"),
        (
            {"cron": "* * * * *", "withSeconds": True},
            "cron",
            "has 5 fields; a cron expression has 6",
        ),
        ({"cron": "@fortnightly"}, "cron", "unknown cron nickname"),
        (
            {"cron": "@daily", "timezone": "Mars/Olympus"},
            "timezone",
            "is not a time zone identifier",
        ),
        (
            {"cron": "@daily", "recoverMissedSchedules": "SOME"},
            "recoverMissedSchedules",
            "Input should be",
        ),
        ({"cron": "@daily", "lateMaximumDelay": "1h"}, "lateMaximumDelay", "ISO-8601 duration"),
        ({"cron": "@daily", "interval": "PT1H"}, "interval", "not supported here"),
        (
            {"cron": "@daily", "backfill": {"start": "2025-01-01T00:00:00Z"}},
            "backfill",
            "not supported here",
        ),
        ({"cron": "@daily", "labels": {"system.correlationId": "x"}}, "labels", "system labels"),
        ({"cron": "@daily", "stopAfter": ["DONE"]}, "stopAfter", "Input should be"),
    ],
)
def test_schedule_rules(props: dict[str, Any], field: str, message: str) -> None:
    errors = trigger_errors(id="s", type=T + "Schedule", **props)
    assert any(field in loc and message in msg for loc, msg in errors), errors


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"states": ["SUCCESS", "CREATED"]}, "cannot listen to CREATED"),
        ({"preconditions": {"flows": [{"namespace": "a"}]}}, "Field required"),
        ({"preconditions": {"id": "p", "flows": [{"flowId": "a"}]}}, "Field required"),
        (
            {
                "preconditions": {
                    "id": "p",
                    "where": [{"id": "w", "filters": [{"field": "FLOW_ID", "type": "EQUAL_TO"}]}],
                }
            },
            "needs `value`",
        ),
        (
            {
                "preconditions": {
                    "id": "p",
                    "where": [{"id": "w", "filters": [{"field": "STATE", "type": "IN"}]}],
                }
            },
            "needs `values`",
        ),
        (
            {"preconditions": {"id": "p", "timeWindow": {"type": "DAILY_TIME_DEADLINE"}}},
            "needs `deadline`",
        ),
        (
            {
                "preconditions": {
                    "id": "p",
                    "timeWindow": {"type": "DAILY_TIME_WINDOW", "startTime": "06:00:00"},
                }
            },
            "needs `startTime` and `endTime`",
        ),
        ({"preconditions": {"id": "p", "timeWindow": {"type": "WEEKLY"}}}, "Input should be"),
        ({"preconditions": {"id": "p bad"}}, "not a valid preconditions id"),
        ({"allowConcurrent": False}, "'allowConcurrent' is not supported here"),
        ({"failOnTriggerError": True}, "'failOnTriggerError' is not supported here"),
    ],
)
def test_flow_trigger_rules(props: dict[str, Any], message: str) -> None:
    errors = trigger_errors(id="f", type=T + "Flow", **props)
    assert any(message in msg for _, msg in errors), errors


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({}, "Field required"),
        ({"key": "   "}, "key must not be blank"),
        ({"key": "k", "responseContentType": "text/html"}, "Input should be"),
        (
            {
                "key": "k",
                "conditions": [
                    {
                        "type": C + "MultipleCondition",
                        "id": "m",
                        "conditions": {"a": {"type": C + "Weekend"}},
                    }
                ],
            },
            "cannot use a MultipleCondition",
        ),
    ],
)
def test_webhook_rules(props: dict[str, Any], message: str) -> None:
    errors = trigger_errors(id="w", type=T + "Webhook", **props)
    assert any(message in msg for _, msg in errors), errors


@pytest.mark.parametrize(
    ("props", "reason"),
    [
        ({"stopAfter": ["SUCCESS"]}, "keeps no trigger state"),
        ({"allowConcurrent": False}, "concurrency"),
        ({"failOnTriggerError": True}, "no evaluation that can fail"),
        ({"workerGroup": {"key": "gpu"}}, "Enterprise"),
        ({"logToFile": True}, "no logs of its own"),
        ({"version": "1.0"}, "one version"),
        ({"assets": {"inputs": []}}, "assets"),
    ],
)
def test_webhook_rejects_what_its_endpoint_does_not_do(props: dict[str, Any], reason: str) -> None:
    errors = trigger_errors(id="w", type=T + "Webhook", key="k", **props)
    field = next(iter(props))
    assert any(
        field in loc and "not supported here" in msg and reason in msg for loc, msg in errors
    ), errors
    # What Lanner does anyway stays accepted.
    assert isinstance(trigger(id="w", type=T + "Webhook", key="k", logToFile=False), Webhook)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"id": "bad id", "type": T + "Schedule", "cron": "@daily"}, "is not a valid trigger id"),
        (
            {"id": "a", "type": T + "Schedule", "cron": "@daily", "logLevel": "LOUD"},
            "Input should be",
        ),
    ],
)
def test_common_trigger_rules(props: dict[str, Any], message: str) -> None:
    assert any(message in msg for _, msg in trigger_errors(**props))


def test_min_log_level_is_the_old_name_of_log_level() -> None:
    assert (
        trigger(id="a", type=T + "Schedule", cron="@daily", minLogLevel="WARN").logLevel == "WARN"
    )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"type": C + "ExecutionFlow", "namespace": "a"}, "Field required"),
        (
            {"type": C + "ExecutionNamespace", "namespace": "a", "comparison": "CONTAINS"},
            "Input should be",
        ),
        ({"type": C + "ExecutionStatus", "in": ["DONE"]}, "Input should be"),
        ({"type": C + "Not", "conditions": []}, "at least 1 item"),
        ({"type": C + "DayWeek", "dayOfWeek": "FUNDAY"}, "dayOfWeek must be one of"),
        (
            {"type": C + "DayWeekInMonth", "dayOfWeek": "MONDAY", "dayInMonth": "FIFTH"},
            "dayInMonth must be one of",
        ),
        ({"type": C + "TimeBetween", "after": "16:00:00"}, "is not a time with an offset"),
        ({"type": C + "TimeBetween"}, "give `after`, `before` or both"),
        (
            {"type": C + "DateTimeBetween", "before": "2013-09-08T16:19:12"},
            "needs a time zone offset",
        ),
        (
            {"type": C + "ExecutionLabels", "labels": {"Owner": "x"}},
            "must start with a lower-case letter",
        ),
        ({"type": C + "MultipleCondition", "id": "m", "conditions": {}}, "at least 1 item"),
    ],
)
def test_condition_rules(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        condition(**props)
    assert any(message in e["msg"] for e in exc.value.errors()), exc.value.errors()


# --- flow-level rules (SPEC §1.4 rules 3 and 7) --------------------------------------------


def _flow_trigger(tid: str, pre: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"id": tid, "type": T + "Flow"}
    if pre:
        props["preconditions"] = {"id": pre, "flows": [{"namespace": "company"}]}
    return props


@pytest.mark.parametrize(
    ("triggers", "expected"),
    [
        ([_flow_trigger("a"), _flow_trigger("b")], []),
        (
            [_flow_trigger("a"), {"id": "a", "type": T + "Schedule", "cron": "@daily"}],
            [((1, "id"), "Duplicate trigger id 'a' (also triggers[0])")],
        ),
        ([_flow_trigger("a", "p"), _flow_trigger("b", "q")], []),
        (
            [_flow_trigger("a", "p"), _flow_trigger("b", "p")],
            [((1, "preconditions", "id"), "Duplicate preconditions id 'p' (also triggers[0])")],
        ),
    ],
)
def test_check_triggers(triggers: list[dict[str, Any]], expected: list[Any]) -> None:
    assert check_triggers(TRIGGERS.validate_python(triggers)) == expected


# --- matching (SPEC §7.1, §7.2) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("states", "state", "expected"),
    [
        (None, "SUCCESS", True),
        (None, "FAILED", True),
        (None, "WARNING", True),
        (None, "KILLED", True),
        (None, "CANCELLED", True),
        (None, "PAUSED", True),
        (None, "RUNNING", False),
        (None, "CREATED", False),
        (["FAILED"], "FAILED", True),
        (["FAILED"], "SUCCESS", False),
        (["RUNNING"], "RUNNING", True),
    ],
)
def test_flow_trigger_states(states: list[str] | None, state: str, expected: bool) -> None:
    flow = trigger(id="f", type=T + "Flow", **({"states": states} if states else {}))
    assert flow_trigger_states_match(flow, state) is expected


UPSTREAM: dict[str, Any] = {
    "namespace": "company.team.sales",
    "flowId": "extract",
    "state": "FAILED",
    "labels": {"env": "prod", "owner": "john.doe"},
    "outputs": {"status_code": "200"},
}


def _truthy(expression: str) -> bool:
    # Stands in for rendering: the test expressions are literal results.
    return expression.strip() not in ("", "false")


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"type": C + "ExecutionStatus", "in": ["FAILED", "KILLED"]}, True),
        ({"type": C + "ExecutionStatus", "in": ["SUCCESS"]}, False),
        ({"type": C + "ExecutionStatus", "notIn": ["FAILED"]}, False),
        ({"type": C + "ExecutionStatus", "in": ["FAILED"], "notIn": ["SUCCESS"]}, True),
        ({"type": C + "ExecutionStatus"}, True),
        (
            {"type": C + "ExecutionFlow", "namespace": "company.team.sales", "flowId": "extract"},
            True,
        ),
        ({"type": C + "ExecutionFlow", "namespace": "company.team", "flowId": "extract"}, False),
        ({"type": C + "ExecutionFlow", "namespace": "company.team.sales", "flowId": "load"}, False),
        ({"type": C + "ExecutionNamespace", "namespace": "company.team.sales"}, True),
        ({"type": C + "ExecutionNamespace", "namespace": "company"}, False),
        ({"type": C + "ExecutionNamespace", "namespace": "company", "prefix": True}, True),
        ({"type": C + "ExecutionNamespace", "namespace": "company", "comparison": "PREFIX"}, True),
        ({"type": C + "ExecutionNamespace", "namespace": "sales", "comparison": "SUFFIX"}, True),
        (
            {
                "type": C + "ExecutionNamespace",
                "namespace": "company",
                "comparison": "EQUALS",
                "prefix": True,
            },
            False,
        ),
        ({"type": C + "Expression", "expression": "true"}, True),
        ({"type": C + "Expression", "expression": "false"}, False),
        ({"type": C + "Expression", "expression": "0"}, True),
        ({"type": C + "ExecutionOutputs", "expression": "true"}, True),
        ({"type": C + "ExecutionLabels", "labels": {"env": "prod"}}, True),
        ({"type": C + "ExecutionLabels", "labels": {"env": "prod", "owner": "john.doe"}}, True),
        ({"type": C + "ExecutionLabels", "labels": {"env": "dev"}}, False),
        ({"type": C + "ExecutionLabels", "labels": {"team": "x"}}, False),
        (
            {"type": C + "Not", "conditions": [{"type": C + "ExecutionStatus", "in": ["SUCCESS"]}]},
            True,
        ),
        (
            {
                "type": C + "Not",
                "conditions": [
                    {"type": C + "ExecutionStatus", "in": ["SUCCESS"]},
                    {
                        "type": C + "ExecutionFlow",
                        "namespace": "company.team.sales",
                        "flowId": "extract",
                    },
                ],
            },
            False,
        ),
        (
            {
                "type": C + "Or",
                "conditions": [
                    {"type": C + "ExecutionStatus", "in": ["SUCCESS"]},
                    {"type": C + "ExecutionLabels", "labels": {"env": "prod"}},
                ],
            },
            True,
        ),
        (
            {"type": C + "Or", "conditions": [{"type": C + "ExecutionStatus", "in": ["SUCCESS"]}]},
            False,
        ),
        (
            {
                "type": "io.kestra.core.models.conditions.types.ExecutionStatusCondition",
                "in": ["FAILED"],
            },
            True,
        ),
    ],
)
def test_condition_matches(props: dict[str, Any], expected: bool) -> None:
    assert condition_matches(condition(**props), UPSTREAM, _truthy) is expected


def test_execution_outputs_is_false_without_outputs() -> None:
    cond = condition(type=C + "ExecutionOutputs", expression="true")
    assert condition_matches(cond, {**UPSTREAM, "outputs": {}}, _truthy) is False


def test_time_conditions_are_not_matched_against_an_upstream_execution() -> None:
    with pytest.raises(TypeError):
        condition_matches(condition(type=C + "Weekend"), UPSTREAM, _truthy)


_EVERY_KIND: list[dict[str, Any]] = [
    {"type": T + "Schedule", "cron": "@daily"},
    {"type": T + "Flow"},
    {"type": T + "Webhook", "key": "k"},
]


@pytest.mark.parametrize("kind", _EVERY_KIND, ids=lambda k: str(k["type"]).rsplit(".", 1)[-1])
def test_trigger_accepts_the_concurrency_and_error_values_lanner_implements(
    kind: dict[str, Any],
) -> None:
    # Lanner starts a trigger's executions whatever runs already and logs a failed
    # evaluation: Kestra's `allowConcurrent: true` and `failOnTriggerError: false`.
    loaded = trigger(id="t", allowConcurrent=True, failOnTriggerError=False, **kind)
    assert (loaded.allowConcurrent, loaded.failOnTriggerError) == (True, False)


@pytest.mark.parametrize("kind", _EVERY_KIND, ids=lambda k: str(k["type"]).rsplit(".", 1)[-1])
@pytest.mark.parametrize(
    ("props", "field"),
    [({"allowConcurrent": False}, "allowConcurrent"), ({"failOnTriggerError": True}, "failOn")],
)
def test_trigger_rejects_the_concurrency_and_error_values_lanner_does_not_implement(
    kind: dict[str, Any], props: dict[str, Any], field: str
) -> None:
    errors = trigger_errors(id="t", **kind, **props)
    assert any(field in str(loc) and "not supported here" in msg for loc, msg in errors), errors
