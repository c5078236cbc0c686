"""Flow-level validation (SPEC §1.1, §1.4): every top-level property accepted in its
Kestra 1.3 form, every flow-wide rule with a valid and an invalid example, and
where each problem is reported (file, line, column, YAML path, task)."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.errors import FlowValidationError
from lanner.model.flow import RESERVED_FLOW_IDS
from tests.unit.model.flowtools import (
    FAIL,
    IF,
    LOG,
    PARALLEL,
    RETURN,
    SEED_DIR,
    SEQUENTIAL,
    SWITCH,
    flow_data,
    load,
    log,
    messages,
    one_problem,
    problems,
)

SCHEDULE = "io.kestra.plugin.core.trigger.Schedule"

# --- every top-level property, as a Kestra 1.3 user writes it ---------------------------------

TOP_LEVEL_VALID: list[tuple[str, dict[str, Any]]] = [
    ("id with dots and dashes", {"id": "my.flow-1_x"}),
    ("id of 100 characters", {"id": "f" * 100}),
    ("namespace", {"namespace": "company.team-a.sub_1"}),
    ("revision", {"revision": 3}),
    ("description", {"description": "# Title\n\nSome **markdown**."}),
    ("labels as a map", {"labels": {"team": "data", "env": "prod", "cost-center": 42}}),
    (
        "labels as a list",
        {"labels": [{"key": "team", "value": "data"}, {"key": "env", "value": "prod"}]},
    ),
    ("system.readOnly label", {"labels": {"system.readOnly": "true"}}),
    ("unicode label key", {"labels": {"équipe": "données"}}),
    (
        "inputs",
        {
            "inputs": [
                {"id": "name", "type": "STRING", "defaults": "world"},
                {"id": "count", "type": "INT", "required": False},
                {"id": "my-input", "type": "STRING", "defaults": "x"},
            ]
        },
    ),
    ("variables", {"variables": {"greeting": "hello {{ inputs.name }}", "n": 3, "l": [1]}}),
    (
        "outputs",
        {
            "outputs": [
                {"id": "result", "type": "STRING", "value": "{{ outputs.hello }}"},
                {"id": "out.with-dash", "value": "x", "required": False, "displayName": "X"},
            ]
        },
    ),
    ("errors", {"errors": [log("on_error")]}),
    ("finally", {"finally": [log("cleanup")]}),
    ("afterExecution", {"afterExecution": [log("notify")]}),
    (
        "listeners",
        {
            "listeners": [
                {
                    "description": "deprecated",
                    "conditions": [
                        {
                            "type": "io.kestra.plugin.core.condition.ExecutionStatus",
                            "in": ["FAILED"],
                        }
                    ],
                    "tasks": [log("listen")],
                }
            ]
        },
    ),
    (
        "triggers",
        {
            "triggers": [
                {"id": "daily", "type": SCHEDULE, "cron": "0 9 * * *"},
                {"id": "hook", "type": "io.kestra.plugin.core.trigger.Webhook", "key": "abc"},
            ]
        },
    ),
    (
        "pluginDefaults",
        {"pluginDefaults": [{"type": LOG, "forced": False, "values": {"level": "WARN"}}]},
    ),
    ("taskDefaults (old name)", {"taskDefaults": [{"type": LOG, "values": {"level": "WARN"}}]}),
    ("concurrency", {"concurrency": {"limit": 1}}),
    ("concurrency with behavior", {"concurrency": {"limit": 2, "behavior": "CANCEL"}}),
    ("retry", {"retry": {"type": "constant", "interval": "PT1S", "maxAttempts": 3}}),
    (
        "sla",
        {
            "sla": [
                {"id": "max", "type": "MAX_DURATION", "behavior": "FAIL", "duration": "PT1H"},
                {
                    "id": "assert",
                    "type": "EXECUTION_ASSERTION",
                    "behavior": "NONE",
                    "assert": "{{ true }}",
                    "labels": {"sla": "missed"},
                },
            ]
        },
    ),
    ("disabled", {"disabled": True}),
]


@pytest.mark.parametrize(("name", "top"), TOP_LEVEL_VALID, ids=[n for n, _ in TOP_LEVEL_VALID])
def test_top_level_property_accepted(name: str, top: dict[str, Any]) -> None:
    flow = load(flow_data(**top))
    assert flow.id == top.get("id", "my_flow")


def test_top_level_values_are_kept() -> None:
    flow = load(
        flow_data(
            revision=2,
            labels=[{"key": "team", "value": "data"}, {"key": "flag", "value": True}],
            variables={"x": "{{ not rendered }}"},
            taskDefaults=[{"type": LOG, "values": {"level": "WARN"}}],
            concurrency={"limit": 1},
            disabled=True,
            **{"finally": [log("cleanup")]},
        )
    )
    assert flow.revision == 2
    assert flow.labels == {"team": "data", "flag": "true"}
    assert flow.variables == {"x": "{{ not rendered }}"}
    assert flow.pluginDefaults is not None and flow.pluginDefaults[0].type == LOG
    assert flow.concurrency is not None and flow.concurrency.behavior == "QUEUE"
    assert flow.disabled is True
    assert [t.id for t in flow.finally_ or ()] == ["cleanup"]


TOP_LEVEL_INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    # (case, top-level override, YAML path, message fragment)
    ("missing id", {"id": ...}, "id", "missing required property 'id'"),
    ("missing namespace", {"namespace": ...}, "namespace", "missing required property 'namespace'"),
    ("missing tasks", {"tasks": ...}, "tasks", "missing required property 'tasks'"),
    ("empty tasks", {"tasks": []}, "tasks", "must not be empty"),
    ("id with a space", {"id": "my flow"}, "id", "must match"),
    ("id starting with a dash", {"id": "-flow"}, "id", "must match"),
    ("id too long", {"id": "f" * 101}, "id", "at most 100"),
    ("empty id", {"id": ""}, "id", "at least 1"),
    ("namespace in upper case", {"namespace": "Company.team"}, "namespace", "lower case"),
    ("namespace starting with a dot", {"namespace": ".company"}, "namespace", "must match"),
    ("namespace too long", {"namespace": "n" * 151}, "namespace", "at most 150"),
    ("revision 0", {"revision": 0}, "revision", "greater than or equal to 1"),
    ("description not a string", {"description": ["a"]}, "description", "valid string"),
    ("variables not a map", {"variables": ["a"]}, "variables", "dictionary"),
    ("label key in upper case", {"labels": {"Team": "a"}}, "labels", "lower-case letter"),
    ("label key with a space", {"labels": {"my team": "a"}}, "labels", "lower-case letter"),
    ("empty label value", {"labels": {"team": ""}}, "labels", "non-empty value"),
    ("system label", {"labels": {"system.correlationId": "x"}}, "labels", "system labels"),
    (
        "system label in list form",
        {"labels": [{"key": "system.username", "value": "me"}]},
        "labels",
        "system labels",
    ),
    ("label list item without value", {"labels": [{"key": "team"}]}, "labels", "key` and `value"),
    ("concurrency limit 0", {"concurrency": {"limit": 0}}, "concurrency.limit", "greater than"),
    ("concurrency without limit", {"concurrency": {}}, "concurrency.limit", "missing"),
    (
        "concurrency behavior",
        {"concurrency": {"limit": 1, "behavior": "DROP"}},
        "concurrency.behavior",
        "QUEUE",
    ),
    (
        "sla type",
        {"sla": [{"id": "s", "type": "MAX_TIME", "behavior": "FAIL"}]},
        "sla[0].type",
        "MAX_DURATION",
    ),
    ("check without message", {"checks": [{"condition": "x"}]}, "checks[0].message", "missing"),
    ("disabled not a boolean", {"disabled": "maybe"}, "disabled", "boolean"),
    (
        "pluginDefaults without type",
        {"pluginDefaults": [{"values": {"a": 1}}]},
        "pluginDefaults[0].type",
        "missing",
    ),
    (
        "pluginDefaults and taskDefaults",
        {"pluginDefaults": [{"type": LOG}], "taskDefaults": [{"type": LOG}]},
        "",
        "not both",
    ),
    (
        "listener without tasks",
        {"listeners": [{"tasks": []}]},
        "listeners[0].tasks",
        "must not be empty",
    ),
    ("output without value", {"outputs": [{"id": "o"}]}, "outputs[0].value", "missing"),
    ("output id pattern", {"outputs": [{"id": "-o", "value": 1}]}, "outputs[0].id", "must match"),
    (
        "unknown top-level property",
        {"namespaces": "x"},
        "namespaces",
        "unknown property 'namespaces'; did you mean 'namespace'?",
    ),
    ("unknown property without suggestion", {"owner": "me"}, "owner", "unknown property 'owner'"),
    (
        "retry with an unknown type",
        {"retry": {"type": "linear", "interval": "PT1S"}},
        "retry",
        "unknown retry type 'linear'",
    ),
]


@pytest.mark.parametrize(
    ("case", "top", "path", "fragment"), TOP_LEVEL_INVALID, ids=[c[0] for c in TOP_LEVEL_INVALID]
)
def test_top_level_rule_rejected(case: str, top: dict[str, Any], path: str, fragment: str) -> None:
    problem = one_problem(flow_data(**top))
    assert problem.path == path
    assert fragment in problem.message
    assert problem.file == "flow.yml" and problem.line is not None


@pytest.mark.parametrize("reserved", sorted(RESERVED_FLOW_IDS))
def test_reserved_flow_ids(reserved: str) -> None:
    problem = one_problem(flow_data(id=reserved))
    assert problem.path == "id"
    assert "reserved" in problem.message
    # The same word is fine as a namespace part or inside a longer id.
    load(flow_data(id=f"{reserved}_flow", namespace=f"company.{reserved}"))


@pytest.mark.parametrize("name", ["Pause", "KILL", "execution"])
def test_words_close_to_reserved_ids_are_accepted(name: str) -> None:
    load(flow_data(id=name))


# --- task ids unique across the whole flow (rule 2) ------------------------------------------


def _seq(task_id: str, *children: dict[str, Any], **blocks: Any) -> dict[str, Any]:
    return {"id": task_id, "type": SEQUENTIAL, "tasks": list(children), **blocks}


DUPLICATE_TASK_IDS: list[tuple[str, dict[str, Any], str]] = [
    ("in tasks", flow_data([log("a"), log("a")]), "tasks[1].id"),
    ("tasks and errors", flow_data([log("a")], errors=[log("a")]), "errors[0].id"),
    (
        "tasks and finally",
        flow_data([log("a")], **{"finally": [log("a")]}),
        "finally[0].id",
    ),
    (
        "tasks and afterExecution",
        flow_data([log("a")], afterExecution=[log("a")]),
        "afterExecution[0].id",
    ),
    (
        "tasks and listeners",
        flow_data([log("a")], listeners=[{"tasks": [log("a")]}]),
        "listeners[0].tasks[0].id",
    ),
    ("nested child", flow_data([log("a"), _seq("s", log("a"))]), "tasks[1].tasks[0].id"),
    ("flowable and its child", flow_data([_seq("s", log("s"))]), "tasks[0].tasks[0].id"),
    (
        "flowable's local errors",
        flow_data([_seq("s", log("a"), errors=[log("a")])]),
        "tasks[0].errors[0].id",
    ),
    (
        "If then and else",
        flow_data(
            [{"id": "i", "type": IF, "condition": "x", "then": [log("a")], "else": [log("a")]}]
        ),
        "tasks[0].else[0].id",
    ),
    (
        "Switch cases and defaults",
        flow_data(
            [
                {
                    "id": "sw",
                    "type": SWITCH,
                    "value": "x",
                    "cases": {"A": [log("a")], "B": [log("b")]},
                    "defaults": [log("b")],
                }
            ]
        ),
        "tasks[0].defaults[0].id",
    ),
    (
        "deep in afterExecution",
        flow_data([log("a")], afterExecution=[_seq("s", _seq("t", log("a")))]),
        "afterExecution[0].tasks[0].tasks[0].id",
    ),
]


@pytest.mark.parametrize(
    ("case", "data", "path"), DUPLICATE_TASK_IDS, ids=[c[0] for c in DUPLICATE_TASK_IDS]
)
def test_duplicate_task_ids_anywhere(case: str, data: dict[str, Any], path: str) -> None:
    problem = one_problem(data)
    assert problem.path == path
    assert "Duplicate task id with name [" in problem.message
    assert problem.task_id is not None and problem.task_type is not None


def test_unique_task_ids_across_every_block() -> None:
    load(
        flow_data(
            [log("a"), _seq("s", log("b"), errors=[log("c")], **{"finally": [log("d")]})],
            errors=[log("e")],
            afterExecution=[log("f")],
            listeners=[{"tasks": [log("g")]}],
            **{"finally": [log("h")]},
        )
    )


def test_task_and_trigger_may_share_an_id() -> None:
    load(flow_data([log("daily")], triggers=[{"id": "daily", "type": SCHEDULE, "cron": "@daily"}]))


def test_duplicate_trigger_ids() -> None:
    trigger = {"id": "daily", "type": SCHEDULE, "cron": "@daily"}
    problem = one_problem(flow_data(triggers=[trigger, dict(trigger)]))
    assert problem.path == "triggers[1].id"
    assert "Duplicate trigger id 'daily'" in problem.message


@pytest.mark.parametrize("bad_id", ["my.trigger", "-t", "with space"])
def test_trigger_id_pattern(bad_id: str) -> None:
    problem = one_problem(flow_data(triggers=[{"id": bad_id, "type": SCHEDULE, "cron": "@daily"}]))
    assert problem.path == "triggers[0].id"


def test_duplicate_output_ids() -> None:
    outputs = [{"id": "o", "value": 1}, {"id": "p", "value": 2}, {"id": "o", "value": 3}]
    problem = one_problem(flow_data(outputs=outputs))
    assert problem.path == "outputs[2].id"
    assert "duplicate output id 'o'" in problem.message


def test_duplicate_input_ids() -> None:
    inputs = [{"id": "x", "type": "STRING"}, {"id": "x", "type": "INT"}]
    problem = one_problem(flow_data(inputs=inputs))
    assert problem.path == "inputs[1].id"


# --- hyphenated ids in dot notation (rule 9) -------------------------------------------------

HYPHEN_INVALID = [
    "{{ inputs.my-input }}",
    "Hello {{ inputs.my-input | upper }}!",
    "{{ outputs.my-task.value }}",
    "{{ outputs.my-task['value'] }}",
    "{% if inputs.my-flag %}yes{% endif %}",
    "{{inputs.my-input}}",
]
HYPHEN_VALID = [
    "{{ inputs['my-input'] }}",
    "{{ outputs['my-task'].value }}",
    "{{ outputs['my-task']['value'] }}",
    "{{ inputs.my_input }}",
    "{{ inputs.a - inputs.b }}",
    "inputs.my-input is not an expression here",
    "{{ vars.my-var }}",
]


@pytest.mark.parametrize("message", HYPHEN_INVALID)
def test_hyphenated_id_in_dot_notation_rejected(message: str) -> None:
    problem = one_problem(flow_data([log("show", message)]))
    assert problem.path == "tasks[0].message"
    assert "dot notation" in problem.message and "['my-" in problem.message
    assert (problem.task_id, problem.task_type) == ("show", LOG)


@pytest.mark.parametrize("message", HYPHEN_VALID)
def test_bracket_notation_accepted(message: str) -> None:
    load(flow_data([log("show", message)]))


@pytest.mark.parametrize(
    ("where", "data", "path"),
    [
        (
            "runIf",
            flow_data([log("a", runIf="{{ inputs.my-flag }}")]),
            "tasks[0].runIf",
        ),
        (
            "If condition in errors",
            flow_data(
                errors=[
                    {
                        "id": "i",
                        "type": IF,
                        "condition": "{{ outputs.my-t.x }}",
                        "then": [log("x")],
                    }
                ]
            ),
            "errors[0].condition",
        ),
        (
            "nested child of afterExecution",
            flow_data(afterExecution=[_seq("s", log("n", "{{ inputs.my-in }}"))]),
            "afterExecution[0].tasks[0].message",
        ),
        (
            "flow output",
            flow_data(outputs=[{"id": "o", "value": "{{ outputs.my-task.value }}"}]),
            "outputs[0].value",
        ),
        (
            "list element",
            flow_data([{**log("a"), "message": ["ok", "{{ inputs.my-in }}"]}]),
            "tasks[0].message[1]",
        ),
    ],
)
def test_hyphenated_reference_found_everywhere(where: str, data: dict[str, Any], path: str) -> None:
    problem = one_problem(data)
    assert problem.path == path
    assert "dot notation" in problem.message


# --- flowables that must have children (rule 10) --------------------------------------------


@pytest.mark.parametrize(
    ("task", "prop"),
    [
        ({"id": "s", "type": SEQUENTIAL, "tasks": []}, "tasks"),
        ({"id": "p", "type": PARALLEL, "tasks": []}, "tasks"),
        ({"id": "i", "type": IF, "condition": "x", "then": []}, "then"),
        ({"id": "s", "type": SEQUENTIAL}, "tasks"),
        ({"id": "i", "type": IF, "condition": "x"}, "then"),
    ],
)
def test_flowable_without_children_rejected(task: dict[str, Any], prop: str) -> None:
    problem = one_problem(flow_data([task]))
    assert problem.path == f"tasks[0].{prop}"
    assert problem.task_id == task["id"] and problem.task_type == task["type"]


# --- where problems are reported --------------------------------------------------------------

LOCATED = """\
id: located
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: hi
  - id: second
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: inner
        type: io.kestra.plugin.core.log.Log
        message: hi
        retry:
          type: constant
          interval: PT1S
          maxAttempts: 0
  - id: third
    type: io.kestra.plugin.core.log.Log
    message: hi
    retry:
      type: constant
      interval: PT1S
      maxAttempts: -2
"""


def test_problem_carries_file_line_column_path_and_task() -> None:
    found = problems(LOCATED, file="flows/located.yml")
    assert [(p.path, p.line, p.column) for p in found] == [
        ("tasks[1].tasks[0].retry.maxAttempts", 16, 11),
        ("tasks[2].retry.maxAttempts", 23, 7),
    ]
    inner, third = found
    assert inner.file == "flows/located.yml"
    assert (inner.task_id, inner.task_type) == ("inner", LOG)
    assert (third.task_id, third.task_type) == ("third", LOG)
    assert "maxAttempts must be at least 1" in third.message
    assert third.render().startswith(
        "flows/located.yml:23:7: tasks[2].retry.maxAttempts: task 'third' "
        "(io.kestra.plugin.core.log.Log): maxAttempts must be at least 1"
    )


def test_error_message_lists_every_problem() -> None:
    with pytest.raises(FlowValidationError) as exc:
        load(LOCATED, file="located.yml")
    lines = exc.value.message.splitlines()
    assert lines[0] == "Invalid Flow located.yml: 2 problem(s)"
    assert lines[1].startswith("  located.yml:16:11: ")
    assert lines[2].startswith("  located.yml:23:7: ")
    assert exc.value.file == "located.yml"


FIVE_MISTAKES = """\
id: kill
namespace: company.team
triggers:
  - id: t
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "@daily"
  - id: t
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "@hourly"
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    mesage: hi
  - id: b
    type: io.kestra.plugin.core.log.Logg
    message: hi
  - id: a
    type: io.kestra.plugin.core.execution.Fail
"""


def test_all_problems_of_a_flow_reported_at_once() -> None:
    found = problems(FIVE_MISTAKES)
    assert len(found) == 5, messages(found)
    by_path = {p.path: p for p in found}
    assert "reserved" in by_path["id"].message
    assert "Duplicate trigger id 't'" in by_path["triggers[1].id"].message
    typo = by_path["tasks[0].mesage"].message
    assert "unknown property 'mesage'; did you mean 'message'? ('message' is required)" in typo
    unknown = by_path["tasks[1].type"]
    assert "did you mean 'io.kestra.plugin.core.log.Log'?" in unknown.message
    assert (unknown.line, unknown.column) == (15, 5)
    dup = by_path["tasks[2].id"]
    assert (dup.line, dup.task_id, dup.task_type) == (17, "a", FAIL)
    assert "first used at line 11" in dup.message
    # Sorted by place in the file.
    assert [p.line for p in found] == sorted(p.line or 0 for p in found)


def test_flow_wide_rules_still_checked_beside_flow_level_errors() -> None:
    data = flow_data(
        namespace="Bad",
        outputs=[{"id": "o", "value": 1}, {"id": "o", "value": 2}],
        inputs=[{"id": "x", "type": "STRING"}, {"id": "x", "type": "STRING"}],
    )
    paths = {p.path for p in problems(data)}
    assert paths == {"namespace", "outputs[1].id", "inputs[1].id"}


# --- YAML itself ------------------------------------------------------------------------------


def test_duplicated_key_reports_both_lines_and_the_rest_of_the_flow() -> None:
    text = (
        "id: dup\n"
        "namespace: company.team\n"
        "tasks:\n"
        "  - id: a\n"
        "    type: io.kestra.plugin.core.log.Log\n"
        "    message: one\n"
        "    message: two\n"
        "  - id: b\n"
        "    type: io.kestra.plugin.core.log.Lg\n"
    )
    found = problems(text)
    assert len(found) == 2, messages(found)
    dup, unknown = found
    assert (dup.path, dup.line, dup.column) == ("tasks[0].message", 7, 5)
    assert "duplicated key 'message' (first defined at line 6)" in dup.message
    assert (dup.task_id, dup.task_type) == ("a", LOG)
    assert unknown.path == "tasks[1].type"


def test_duplicated_top_level_key() -> None:
    text = "id: a\nnamespace: company.team\nid: b\ntasks:\n  - {id: x, type: %s, message: m}\n"
    problem = one_problem(text % LOG)
    assert (problem.path, problem.line, problem.column) == ("id", 3, 1)
    assert "first defined at line 1" in problem.message


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        # An unclosed construct is reported where it opens, not at the end of the file.
        ("id: x\nnamespace: y\ntasks:\n  - id: a\n    type: [unclosed\n", 5, 11),
        ("id: x\nnamespace: y\ntasks:\n\t- id: a\n", 4, 1),
        ("id: x\nnamespace: y\n  bad: indent\n", 3, 6),
        ('id: "x\n', 1, 5),
        ("id: &x a\nnamespace: *y\n", 2, 12),
    ],
    ids=["unclosed flow sequence", "tab", "bad indentation", "unclosed quote", "unknown alias"],
)
def test_invalid_yaml_syntax_has_line_and_column(text: str, line: int, column: int) -> None:
    problem = one_problem(text, file="broken.yml")
    assert problem.message.startswith("invalid YAML: ")
    assert (problem.file, problem.line, problem.column) == ("broken.yml", line, column)
    assert problem.render().startswith(f"broken.yml:{line}:{column}: invalid YAML")


def test_merge_keys_rejected() -> None:
    text = (
        f"id: m\nnamespace: company.team\nx-base: &base {{type: {LOG}, message: hi}}\n"
        "tasks:\n  - <<: *base\n    id: a\n"
    )
    found = [(p.path, p.line) for p in problems(text) if "merge keys" in p.message]
    assert found == [("tasks[0]", 5)]


@pytest.mark.parametrize(
    "text", ["", "# only a comment\n", "- id: a\n- id: b\n", "just a string\n", "42\n"]
)
def test_document_that_is_not_a_mapping(text: str) -> None:
    problem = one_problem(text)
    assert "must be a YAML mapping" in problem.message
    assert problem.line == 1 and problem.file == "flow.yml"


def test_yaml_scalars_keep_their_text() -> None:
    text = (
        "id: dates\nnamespace: company.team\n"
        "variables:\n  when: 2024-01-01\n  at: 2024-01-01T10:00:00Z\n  flag: true\n  n: 3\n"
        f"tasks:\n  - id: a\n    type: {LOG}\n    message: 2024-01-01\n"
    )
    flow = load(text)
    assert flow.variables == {
        "when": "2024-01-01",
        "at": "2024-01-01T10:00:00Z",
        "flag": True,
        "n": 3,
    }
    assert getattr(flow.tasks[0], "message") == "2024-01-01"  # noqa: B009


# --- the seed flows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["alerts_demo.yml", "after_execution_errors.yml", "state_demo.yml"]
)
def test_seed_flows_validate_unchanged(name: str) -> None:
    path = SEED_DIR / name
    flow = load(path.read_text(encoding="utf-8"), file=str(path))
    assert flow.namespace == "company.team"
    assert flow.id == name.removesuffix(".yml")
    assert flow.afterExecution, "every seed flow has an afterExecution block"


def test_seed_flow_task_types() -> None:
    path = SEED_DIR / "after_execution_errors.yml"
    flow = load(path.read_text(encoding="utf-8"))
    assert {t.id: t.type for t in flow.all_tasks()} == {
        "hello": LOG,
        "t2": SEQUENTIAL,
        "t2-t1": "io.kestra.plugin.core.flow.Sleep",
        "t2-t2": FAIL,
        "sendAlert": "io.kestra.plugin.slack.notifications.SlackIncomingWebhook",
    }


def test_return_type_is_reported_for_unknown_property_in_nested_task() -> None:
    data = flow_data([_seq("s", {"id": "r", "type": RETURN, "format": "x", "fromat": "y"})])
    problem = one_problem(data)
    assert problem.path == "tasks[0].tasks[0].fromat"
    assert (problem.task_id, problem.task_type) == ("r", RETURN)
    assert "did you mean 'format'?" in problem.message
