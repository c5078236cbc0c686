"""Task-level validation: the common task properties (SPEC §1.2), retry policies
(§4.4), each core task type's own properties (§5) and every legacy alias we
register (§5.18, §0 decision 7)."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.model.task import ConstantRetry, ExponentialRetry, RandomRetry
from tests.unit.model.flowtools import (
    LOG,
    REGISTRY,
    flow_data,
    load,
    log,
    messages,
    one_problem,
    problems,
)
from tests.unit.tasks import (
    broker_examples,
    coretask_examples,
    flowable_examples,
    integration_examples,
    notify_examples,
    rowfile_examples,
    s3_compress_examples,
    script_examples,
    storage_examples,
    workdir_examples,
)

CORE = "io.kestra.plugin.core."
SLACK = "io.kestra.plugin.slack.notifications.SlackIncomingWebhook"
HOOK = "https://hooks.slack.com/services/T0/B0/XYZ"
SERDES = "io.kestra.plugin.serdes."
FILE = "kestra:///company/team/_files/data.csv"


def child(task_id: str = "child") -> dict[str, Any]:
    return log(task_id, "child")


# Per canonical type: several valid property sets (besides id and type) ...
VALID: dict[str, list[dict[str, Any]]] = {
    CORE + "log.Log": [
        {"message": "Hello {{ inputs.name }}"},
        {"message": ["first", "second {{ 1 + 1 }}"], "level": "WARN"},
        {"message": "x", "level": "{{ inputs.level }}"},
        {"message": 42},
    ],
    CORE + "execution.Fail": [
        {},
        {"errorMessage": "boom"},
        {"condition": "{{ inputs.fail }}", "errorMessage": "failed: {{ inputs.why }}"},
        {"condition": True},
    ],
    CORE + "execution.Exit": [
        {},
        {"state": "SUCCESS"},
        {"state": "WARNING"},
        {"state": "FAILED"},
        {"state": "KILLED"},
        {"state": "CANCELLED"},
        {"state": "CANCELED"},
    ],
    CORE + "flow.Sleep": [
        {"duration": "PT5S"},
        {"duration": "PT0.25S"},
        {"duration": "P1DT2H"},
        {"duration": "{{ inputs.wait }}"},
    ],
    CORE + "flow.Sequential": [
        {"tasks": [child()]},
        {"tasks": [child()], "errors": [child("e")], "finally": [child("f")]},
    ],
    CORE + "flow.Parallel": [
        {"tasks": [child(), child("other")]},
        {"tasks": [child()], "concurrent": 2},
        {"tasks": [child()], "concurrent": "{{ inputs.n }}", "errors": [child("e")]},
    ],
    CORE + "flow.If": [
        {"condition": "{{ inputs.ok }}", "then": [child()]},
        {"condition": True, "then": [child()], "else": [child("no")]},
        {"condition": "x", "then": [child()], "finally": [child("f")]},
    ],
    CORE + "flow.Switch": [
        {"value": "{{ inputs.kind }}", "cases": {"A": [child()], "B": [child("b")]}},
        {"value": 1, "cases": {"1": [child()]}, "defaults": [child("d")]},
        {"value": "x", "defaults": [child()]},
    ],
    CORE + "flow.ForEach": [
        {"values": ["a", "b", 1, {"k": "v"}], "tasks": [child()]},
        {"values": '["a", "b"]', "tasks": [child()], "concurrencyLimit": 0},
        {"values": "{{ outputs.list.values }}", "tasks": [child()], "concurrencyLimit": 3},
    ],
    CORE + "flow.EachSequential": [
        {"value": ["a", "b"], "tasks": [child()]},
        {"value": '["a"]', "tasks": [child()], "errors": [child("e")]},
    ],
    CORE + "flow.EachParallel": [
        {"value": ["a", "b"], "tasks": [child()]},
        {"value": '["a"]', "tasks": [child()], "concurrent": 2},
    ],
    CORE + "flow.AllowFailure": [
        {"tasks": [child()]},
        {"tasks": [child()], "errors": [child("e")], "finally": [child("f")]},
    ],
    CORE + "flow.Pause": [
        {},
        {"pauseDuration": "PT1M", "behavior": "WARN"},
        {"timeout": "PT1H"},
        {"tasks": [child()], "errors": [child("e")], "finally": [child("f")]},
    ],
    CORE + "flow.Subflow": [
        {"namespace": "company.team", "flowId": "child"},
        {
            "namespace": "{{ flow.namespace }}",
            "flowId": "child",
            "revision": 2,
            "inputs": {"n": "{{ inputs.n }}"},
            "labels": {"team": "data"},
            "wait": False,
            "transmitFailed": False,
            "inheritLabels": True,
            "scheduleDate": "{{ now() }}",
            "restartBehavior": "NEW_EXECUTION",
        },
        {"namespace": "a", "flowId": "b", "labels": [{"key": "k", "value": "v"}]},
    ],
    CORE + "debug.Return": [{"format": "{{ 1 + 1 }}"}, {}],
    CORE + "debug.Echo": [{"format": "hello"}, {"format": "x", "level": "DEBUG"}],
    CORE + "output.OutputValues": [
        {"values": {"a": 1, "b": "{{ inputs.x }}", "c": [1, 2], "d": {"e": True}}},
        {},
    ],
    CORE + "execution.Labels": [
        {"labels": {"team": "data", "run": "{{ execution.id }}"}},
        {"labels": [{"key": "team", "value": "data"}]},
        {"labels": '{"team": "data"}'},
    ],
    CORE + "execution.SetVariables": [
        {"variables": {"a": 1, "b": "{{ inputs.x }}"}},
        {"variables": {"a": 1}, "overwrite": False},
    ],
    CORE + "execution.UnsetVariables": [
        {"variables": ["a", "b"]},
        {"variables": ["a"], "ignoreMissing": True},
    ],
    SLACK: [
        {"url": HOOK, "messageText": "Flow {{ flow.id }} failed"},
        {"url": "{{ secret('SLACK_WEBHOOK') }}", "payload": '{"text": "hi"}'},
        {
            "url": HOOK,
            "messageText": "hi",
            "options": {"connectTimeout": "PT5S", "readTimeout": "PT10S", "headers": {"X": "1"}},
        },
    ],
    CORE + "http.Request": [
        {"uri": "https://example.com/api", "method": "POST", "body": '{"a": 1}'},
        {
            "uri": "{{ inputs.url }}",
            "contentType": "multipart/form-data",
            "formData": {"file": "{{ outputs.d.uri }}", "user": "ada"},
            "options": {"auth": {"type": "BASIC", "username": "u", "password": "p"}},
        },
        {"uri": "http://h/x", "encryptBody": True, "options": {"allowedResponseCodes": [200]}},
    ],
    CORE + "http.Download": [
        {"uri": "https://example.com/orders.csv"},
        {"uri": "http://h/x", "failOnEmptyResponse": False, "headers": {"user-agent": "k"}},
    ],
    CORE + "kv.Set": [
        {"key": "orders_file", "value": "{{ outputs.dl.uri }}", "kvType": "STRING"},
        {"key": "n", "value": 42, "ttl": "PT1H", "overwrite": False, "kvDescription": "d"},
        {"key": "{{ inputs.k }}", "value": {"a": 1}, "namespace": "dev", "kvType": "JSON"},
    ],
    CORE + "kv.Get": [{"key": "my_variable", "namespace": "dev", "errorOnMissing": True}],
    CORE + "kv.Delete": [{"key": "my_variable", "errorOnMissing": "{{ inputs.strict }}"}],
    CORE + "kv.GetKeys": [{"prefix": "my_var", "namespace": "dev"}, {}],
    CORE + "kv.PurgeKV": [
        {"expiredOnly": True, "namespaces": ["company"], "includeChildNamespaces": True},
        {"namespacePattern": "comp*", "keyPattern": "AI_*", "behavior": {"expiredOnly": False}},
    ],
    # The serdes tasks (lanner.tasks.serdes; their behaviour: tests/unit/tasks/test_serdes.py).
    SERDES + "csv.CsvToIon": [
        {"from": "{{ outputs.download.uri }}"},
        {"from": FILE, "fieldSeparator": ";", "textDelimiter": "'", "header": False},
        {"from": FILE, "skipRows": 2, "onBadLines": "WARN", "charset": "ISO-8859-1"},
        {"from": FILE, "fieldSeparator": "{{ inputs.sep }}", "maxFieldSize": 1024},
    ],
    SERDES + "csv.IonToCsv": [
        {"from": FILE},
        {"from": FILE, "quoteMode": "NON_NUMERIC", "lineDelimiter": "\r\n", "header": False},
        {"from": FILE, "dateFormat": "dd/MM/yyyy", "timeZoneId": "Europe/Paris"},
    ],
    SERDES + "json.JsonToIon": [{"from": FILE}, {"from": FILE, "newLine": False}],
    SERDES + "json.IonToJson": [
        {"from": FILE},
        {"from": FILE, "newLine": False, "timeZoneId": "UTC", "shouldKeepAnnotations": False},
    ],
}
VALID.update(storage_examples.VALID)

# ... and invalid ones: (properties, YAML path under the task, message fragment).
INVALID: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    CORE + "log.Log": [
        ({}, "message", "missing required property 'message'"),
        ({"message": "x", "level": "LOUD"}, "level", "level must be one of"),
        ({"message": {"a": 1}}, "message", ""),
        ({"message": "x", "levle": "INFO"}, "levle", "did you mean 'level'?"),
    ],
    CORE + "execution.Fail": [
        ({"errorMessage": "x", "reason": "y"}, "reason", "unknown property 'reason'"),
        ({"condition": ["a"]}, "condition", ""),
    ],
    CORE + "execution.Exit": [
        ({"state": "RUNNING"}, "state", "SUCCESS"),
        ({"state": "SUCCESS", "status": "x"}, "status", "unknown property 'status'"),
    ],
    CORE + "flow.Sleep": [
        ({}, "duration", "missing required property 'duration'"),
        ({"duration": "5s"}, "duration", "not an ISO-8601 duration"),
        ({"duration": 5}, "duration", "ISO-8601"),
    ],
    CORE + "flow.Sequential": [
        ({"tasks": []}, "tasks", "must not be empty"),
        ({}, "tasks", "missing required property 'tasks'"),
        ({"tasks": [child()], "concurrent": 2}, "concurrent", "unknown property"),
    ],
    CORE + "flow.Parallel": [
        ({"tasks": []}, "tasks", "must not be empty"),
        ({"tasks": [child()], "concurrent": "many"}, "concurrent", "integer"),
    ],
    CORE + "flow.If": [
        ({"condition": "x", "then": []}, "then", "must not be empty"),
        ({"then": [child()]}, "condition", "missing required property 'condition'"),
        ({"condition": "x", "then": [child()], "otherwise": []}, "otherwise", "unknown"),
    ],
    CORE + "flow.Switch": [
        ({"cases": {"A": [child()]}}, "value", "missing required property 'value'"),
        ({"value": "x", "cases": ["a"]}, "cases", "dictionary"),
    ],
    CORE + "flow.ForEach": [
        ({"tasks": [child()]}, "values", "missing required property 'values'"),
        ({"values": ["a"], "tasks": []}, "tasks", "must not be empty"),
        ({"values": ["a"], "tasks": [child()], "concurrencyLimit": "x"}, "concurrencyLimit", ""),
        ({"value": ["a"], "tasks": [child()]}, "value", "did you mean 'values'?"),
    ],
    CORE + "flow.EachSequential": [
        ({"value": ["a"], "tasks": []}, "tasks", "must not be empty"),
        ({"values": ["a"], "tasks": [child()]}, "values", "did you mean 'value'?"),
    ],
    CORE + "flow.EachParallel": [
        ({"tasks": [child()]}, "value", "missing required property 'value'"),
        ({"value": ["a"], "tasks": [child()], "concurrent": "x"}, "concurrent", "integer"),
    ],
    CORE + "flow.AllowFailure": [
        ({"tasks": []}, "tasks", "must not be empty"),
        ({}, "tasks", "missing"),
    ],
    CORE + "flow.Pause": [
        ({"behavior": "STOP"}, "behavior", "RESUME"),
        ({"pauseDuration": "5 minutes"}, "pauseDuration", "ISO-8601"),
        ({"onResume": [{"id": "x", "type": "NOPE"}]}, "onResume[0]", "NOPE"),
    ],
    CORE + "flow.Subflow": [
        ({"namespace": "a"}, "flowId", "missing required property 'flowId'"),
        ({"namespace": "a", "flowId": "b", "wait": "maybe"}, "wait", "boolean"),
        ({"namespace": "a", "flowId": "b", "restartBehavior": "X"}, "restartBehavior", ""),
    ],
    CORE + "debug.Return": [
        ({"format": "x", "value": "y"}, "value", "unknown property 'value'"),
        ({"format": ["a"]}, "format", ""),
    ],
    CORE + "debug.Echo": [({}, "format", "missing required property 'format'")],
    CORE + "output.OutputValues": [
        ({"values": ["a"]}, "values", "dictionary"),
        ({"value": {"a": 1}}, "value", "did you mean 'values'?"),
    ],
    CORE + "execution.Labels": [
        ({}, "labels", "missing required property 'labels'"),
        ({"labels": 3}, "labels", "a valid dictionary or a valid list or a valid string (got 3)"),
    ],
    CORE + "execution.SetVariables": [
        ({"variables": "a=1"}, "variables", "dictionary"),
        ({"variables": {"a": 1}, "overwrite": "maybe"}, "overwrite", "boolean"),
    ],
    CORE + "execution.UnsetVariables": [
        ({"variables": {"a": 1}}, "variables", "list"),
        ({}, "variables", "missing"),
    ],
    SLACK: [
        ({"messageText": "hi"}, "url", "missing required property 'url'"),
        ({"url": "", "messageText": "hi"}, "url", "at least 1"),
        ({"url": HOOK, "text": "hi"}, "text", "unknown property 'text'"),
        (
            {"url": HOOK, "messageText": "hi", "options": {"readTimeout": "10 seconds"}},
            "options.readTimeout",
            "ISO-8601",
        ),
        (
            {"url": HOOK, "messageText": "hi", "options": {"readTimout": "PT1S"}},
            "options.readTimout",
            "did you mean 'readTimeout'?",
        ),
    ],
    CORE + "http.Request": [
        ({}, "uri", "missing required property 'uri'"),
        ({"uri": "ftp://h/x"}, "uri", "http:// or https://"),
        ({"uri": "http://h", "method": "CONNECT"}, "method", "not supported here"),
        ({"uri": "http://h", "options": {"auth": {"type": "NTLM"}}}, "options.auth", "NTLM"),
    ],
    CORE + "http.Download": [
        ({"uri": "http://h", "failOnEmptyResponse": "maybe"}, "failOnEmptyResponse", ""),
        ({"uri": "http://h", "savAs": "x.csv"}, "savAs", "did you mean 'saveAs'?"),
    ],
    CORE + "kv.Set": [
        ({"value": "v"}, "key", "missing required property 'key'"),
        ({"key": "k", "value": "v", "kvType": "TEXT"}, "kvType", "kvType must be one of"),
        ({"key": "k", "value": "v", "ttl": "1h"}, "ttl", "ISO-8601"),
    ],
    CORE + "kv.Get": [({"key": "k", "errorOnMisssing": True}, "errorOnMisssing", "did you mean")],
    CORE + "kv.Delete": [({}, "key", "missing required property 'key'")],
    CORE + "kv.GetKeys": [({"prefix": ["a"]}, "prefix", "")],
    CORE + "kv.PurgeKV": [
        ({"namespaces": ["a"], "namespacePattern": "a*"}, "namespacePattern", "either"),
        ({"behavior": {"type": "version"}}, "behavior.type", ""),
    ],
    SERDES + "csv.CsvToIon": [
        ({}, "from", "missing required property 'from'"),
        ({"from": FILE, "fieldSeparator": ";;"}, "fieldSeparator", "single character"),
        ({"from": FILE, "charset": "NOPE"}, "charset", "not a charset name"),
        ({"from": FILE, "onBadLines": "IGNORE"}, "onBadLines", "ERROR, WARN, SKIP"),
    ],
    SERDES + "csv.IonToCsv": [
        ({"from": FILE, "quoteMode": "SOMETIMES"}, "quoteMode", "ALWAYS, REQUIRED"),
        ({"from": FILE, "timeZoneId": "Mars/Base"}, "timeZoneId", "time zone"),
    ],
    SERDES + "json.JsonToIon": [({"from": FILE, "newLine": "often"}, "newLine", "true, false")],
    SERDES + "json.IonToJson": [
        ({"from": FILE, "shouldKeepAnnotations": True}, "shouldKeepAnnotations", "not supported"),
    ],
}
INVALID.update(storage_examples.INVALID)

# Task types of other packages keep their examples beside their tests.
VALID |= script_examples.VALID
INVALID |= script_examples.INVALID
VALID |= integration_examples.VALID
INVALID |= integration_examples.INVALID
VALID |= coretask_examples.VALID
INVALID |= coretask_examples.INVALID
VALID |= workdir_examples.VALID
INVALID |= workdir_examples.INVALID
VALID |= s3_compress_examples.VALID
INVALID |= s3_compress_examples.INVALID
VALID |= notify_examples.VALID
INVALID |= notify_examples.INVALID
VALID |= broker_examples.VALID
INVALID |= broker_examples.INVALID
VALID |= flowable_examples.VALID
INVALID |= flowable_examples.INVALID
VALID |= rowfile_examples.VALID
INVALID |= rowfile_examples.INVALID


def _task(type_name: str, props: dict[str, Any], task_id: str = "t") -> dict[str, Any]:
    return {"id": task_id, "type": type_name, **props}


def _cases(table: dict[str, list[Any]]) -> list[tuple[str, Any]]:
    return [(name, case) for name, cases in table.items() for case in cases]


def test_every_registered_type_has_examples() -> None:
    names = {t.name for t in REGISTRY.types()}
    assert not names - set(VALID), f"add VALID examples for {sorted(names - set(VALID))}"
    assert not names - set(INVALID), f"add INVALID examples for {sorted(names - set(INVALID))}"
    assert not set(VALID) - names, f"not registered: {sorted(set(VALID) - names)}"


@pytest.mark.parametrize(("type_name", "props"), _cases(VALID))
def test_task_type_accepts(type_name: str, props: dict[str, Any]) -> None:
    flow = load(flow_data([_task(type_name, props)]))
    task = flow.tasks[0]
    assert type(task) is REGISTRY.get(type_name).model  # type: ignore[union-attr]
    for key, value in props.items():
        if key in ("tasks", "then", "else", "errors", "finally", "cases", "defaults"):
            continue
        attr = {"else": "else_", "finally": "finally_", "from": "from_", "schema": "schema_"}.get(
            key, key
        )
        got = getattr(task, attr)
        if hasattr(got, "model_dump"):
            got = got.model_dump(exclude_unset=True)
        assert got == value or str(got).lower() == str(value).lower()


@pytest.mark.parametrize(("type_name", "case"), _cases(INVALID))
def test_task_type_rejects(type_name: str, case: tuple[dict[str, Any], str, str]) -> None:
    props, rel, fragment = case
    found = problems(flow_data([log("before"), _task(type_name, props, "bad")]))
    paths = [p.path for p in found]
    assert f"tasks[1].{rel}" in paths, messages(found)
    problem = found[paths.index(f"tasks[1].{rel}")]
    assert fragment in problem.message
    assert (problem.task_id, problem.task_type) == ("bad", type_name)
    assert problem.line is not None and problem.column is not None


def test_flowable_children_are_typed_tasks() -> None:
    flow = load(
        flow_data(
            [
                _task(
                    CORE + "flow.Switch",
                    {"value": "x", "cases": {"A": [child("a")]}, "defaults": [child("d")]},
                )
            ]
        )
    )
    switch = flow.tasks[0]
    assert [(where, t.id, t.type) for where, t in switch.children()] == [
        ("cases.A", "a", LOG),
        ("defaults", "d", LOG),
    ]


# --- common task properties (SPEC §1.2) ---------------------------------------------------------

COMMON_VALID: list[dict[str, Any]] = [
    {"description": "what it does"},
    {"disabled": True},
    {"runIf": "{{ inputs.go }}"},
    {"runIf": True},
    {"runIf": False},
    {"allowFailure": True},
    {"allowWarning": True, "allowFailure": True},
    {"timeout": "PT1M"},
    {"timeout": "{{ inputs.timeout }}"},
    {"logLevel": "DEBUG"},
    {"logToFile": False},  # what Lanner does; the rest: test_not_supported.py
    {"retry": {"type": "constant", "interval": "PT1S", "maxAttempts": 3}},
    {"retry": {"type": "constant", "interval": "PT1S", "maxDuration": "PT1M"}},
    {"retry": {"type": "constant", "interval": "PT1S", "maxAttempt": 3}},
    {
        "retry": {
            "type": "exponential",
            "interval": "PT1S",
            "maxInterval": "PT1M",
            "delayFactor": 3,
            "maxAttempts": 5,
            "maxDuration": "PT10M",
            "warningOnRetry": True,
        }
    },
    {"retry": {"type": "random", "minInterval": "PT1S", "maxInterval": "PT5S"}},
    {"retry": {"type": "constant", "interval": "PT1S", "behavior": "RETRY_FAILED_TASK"}},
    {
        "retry": {
            "type": "constant",
            "interval": "PT1S",
            "maxAttempt": 3,
            "behavior": "CREATE_NEW_EXECUTION",
        }
    },
    {"id": "with-dash_and_underscore1"},
    {"id": "x" * 256},
]


@pytest.mark.parametrize("props", COMMON_VALID)
def test_common_task_property_accepted(props: dict[str, Any]) -> None:
    task = load(flow_data([{**log("t"), **props}])).tasks[0]
    if "runIf" in props:
        assert task.runIf == str(props["runIf"]).lower() or task.runIf == props["runIf"]


def test_common_task_defaults() -> None:
    task = load(flow_data([log("t")])).tasks[0]
    assert (task.runIf, task.disabled, task.allowFailure, task.allowWarning) == (
        "true",
        False,
        False,
        False,
    )
    assert task.retry is None and task.timeout is None


COMMON_INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({"id": "a.b"}, "id", "no dots"),
    ({"id": "with space"}, "id", "must match"),
    ({"id": "-lead"}, "id", "must match"),
    ({"id": "x" * 257}, "id", "at most 256"),
    ({"id": ""}, "id", "at least 1"),
    ({"id": ...}, "id", "missing required property 'id'"),
    ({"type": ...}, "", "missing required property 'type'"),
    ({"type": ""}, "", "missing required property 'type'"),
    ({"disabled": "maybe"}, "disabled", "boolean"),
    ({"allowFailure": "sometimes"}, "allowFailure", "boolean"),
    ({"timeout": "5 minutes"}, "timeout", "ISO-8601"),
    ({"timeout": "PT99999999999999999999S"}, "timeout", "longest duration allowed, P36500D"),
    # Kestra types retry durations java.time.Duration: never rendered.
    (
        {"retry": {"type": "constant", "interval": "{{ inputs.wait }}"}},
        "retry.interval",
        "not rendered",
    ),
    (
        {"retry": {"type": "exponential", "interval": "PT1S", "maxInterval": "P99999999D"}},
        "retry.maxInterval",
        "longest duration allowed",
    ),
    ({"logLevel": "LOUD"}, "logLevel", "TRACE"),
    ({"runIf": ["a"]}, "runIf", ""),
    ({"runif": "true"}, "runif", "did you mean 'runIf'?"),
    ({"allowfailure": True}, "allowfailure", "did you mean 'allowFailure'?"),
]


@pytest.mark.parametrize(("props", "rel", "fragment"), COMMON_INVALID)
def test_common_task_property_rejected(props: dict[str, Any], rel: str, fragment: str) -> None:
    task = {k: v for k, v in {**log("t"), **props}.items() if v is not ...}
    problem = one_problem(flow_data([log("first"), task]))
    assert problem.path == ("tasks[1]." + rel).rstrip(".")
    assert fragment in problem.message


@pytest.mark.parametrize(
    ("type_name", "suggestion"),
    [
        ("io.kestra.plugin.core.log.Logg", "io.kestra.plugin.core.log.Log"),
        ("io.kestra.plugin.core.flow.Sequentail", "io.kestra.plugin.core.flow.Sequential"),
        ("io.kestra.core.tasks.flow.Parallel", "io.kestra.plugin.core.flow.Parallel"),
        ("Sleep", "io.kestra.plugin.core.flow.Sleep"),
        ("io.kestra.plugin.gcp.vertexai.CustomJob", None),
    ],
)
def test_unknown_task_type(type_name: str, suggestion: str | None) -> None:
    problem = one_problem(flow_data([{"id": "t", "type": type_name, "message": "x"}]))
    assert problem.path == "tasks[0].type"
    assert problem.message.startswith(f"unknown task type '{type_name}'")
    assert (problem.task_id, problem.task_type) == ("t", type_name)
    if suggestion:
        assert f"did you mean '{suggestion}'?" in problem.message
    else:
        assert "did you mean" not in problem.message


def test_task_that_is_not_a_mapping() -> None:
    problem = one_problem(flow_data([log("a"), "just text"]))
    assert problem.path == "tasks[1]"
    assert "expected a task" in problem.message


# --- retry (SPEC §4.4) -------------------------------------------------------------------------

RETRY_INVALID: list[tuple[dict[str, Any], str, str]] = [
    (
        {"type": "constant", "interval": "PT10M", "maxDuration": "PT1M"},
        "retry",
        "interval must be shorter than maxDuration",
    ),
    (
        {"type": "constant", "interval": "PT1M", "maxDuration": "PT1M"},
        "retry",
        "interval must be shorter than maxDuration",
    ),
    (
        {"type": "exponential", "interval": "PT10M", "maxInterval": "PT1M"},
        "retry",
        "interval must be shorter than maxInterval",
    ),
    (
        {
            "type": "exponential",
            "interval": "PT1M",
            "maxInterval": "PT2M",
            "maxDuration": "PT30S",
        },
        "retry",
        "interval must be shorter than maxDuration",
    ),
    (
        {"type": "random", "minInterval": "PT10S", "maxInterval": "PT5S"},
        "retry",
        "minInterval must be shorter than maxInterval",
    ),
    (
        {"type": "random", "minInterval": "PT1S", "maxInterval": "PT5M", "maxDuration": "PT1M"},
        "retry",
        "maxInterval must be shorter than maxDuration",
    ),
    (
        {"type": "constant", "interval": "PT1S", "maxAttempts": 0},
        "retry.maxAttempts",
        "at least 1",
    ),
    (
        {"type": "constant", "interval": "PT1S", "maxAttempt": 0},
        "retry.maxAttempt",
        "at least 1",
    ),
    (
        {"type": "constant", "interval": "PT1S", "maxAttempt": 2, "maxAttempts": 3},
        "retry",
        "not both",
    ),
    ({"type": "constant"}, "retry.interval", "missing required property 'interval'"),
    ({"type": "exponential", "interval": "PT1S"}, "retry.maxInterval", "missing"),
    ({"type": "random", "maxInterval": "PT1S"}, "retry.minInterval", "missing"),
    ({"type": "linear", "interval": "PT1S"}, "retry", "unknown retry type 'linear'"),
    ({"interval": "PT1S"}, "retry", "type"),
    ({"type": "constant", "interval": "1s"}, "retry.interval", "ISO-8601"),
    ({"type": "constant", "interval": "PT1S", "maxAttempts": "x"}, "retry.maxAttempts", ""),
    ({"type": "constant", "interval": "PT1S", "behavior": "RESTART"}, "retry.behavior", ""),
    (
        {"type": "constant", "interval": "PT1S", "maxInterval": "PT2S"},
        "retry.maxInterval",
        "unknown property",
    ),
]


@pytest.mark.parametrize(("retry", "rel", "fragment"), RETRY_INVALID)
def test_retry_rejected(retry: dict[str, Any], rel: str, fragment: str) -> None:
    found = problems(flow_data([log("a"), log("b", retry=retry)]))
    assert len(found) == 1, messages(found)
    problem = found[0]
    assert problem.path == f"tasks[1].{rel}"
    assert fragment in problem.message
    assert (problem.task_id, problem.task_type) == ("b", LOG)


def test_retry_rejected_at_flow_level_too() -> None:
    problem = one_problem(
        flow_data(retry={"type": "random", "minInterval": "PT10S", "maxInterval": "PT5S"})
    )
    assert problem.path == "retry"
    assert "minInterval must be shorter than maxInterval" in problem.message


def test_retry_models_and_old_name() -> None:
    flow = load(
        flow_data(
            [
                log("c", retry={"type": "constant", "interval": "PT1S", "maxAttempt": 4}),
                log("e", retry={"type": "exponential", "interval": "PT1S", "maxInterval": "PT8S"}),
                log("r", retry={"type": "random", "minInterval": "PT1S", "maxInterval": "PT2S"}),
            ]
        )
    )
    constant, exponential, random = (t.retry for t in flow.tasks)
    assert isinstance(constant, ConstantRetry) and constant.maxAttempts == 4
    assert isinstance(exponential, ExponentialRetry)
    assert isinstance(random, RandomRetry)
    assert exponential.delay(1, 0.0).total_seconds() == 1
    assert exponential.delay(3, 0.0).total_seconds() == 4
    assert exponential.delay(10, 0.0).total_seconds() == 8


# --- Pause and Subflow (SPEC §5.10, §5.11) ---------------------------------------------------


def test_pause_delay_is_the_old_name_of_pause_duration() -> None:
    task: Any = load(flow_data([_task(CORE + "flow.Pause", {"delay": "PT5S"})])).tasks[0]
    assert task.pauseDuration == "PT5S"
    assert task.behavior == "RESUME"


def test_pause_rejects_both_duration_names() -> None:
    props = {"delay": "PT1S", "pauseDuration": "PT1S"}
    found = problems(flow_data([_task(CORE + "flow.Pause", props, "bad")]))
    assert "not both" in messages(found)


def test_pause_on_resume_declares_inputs() -> None:
    props = {"onResume": [{"id": "ok", "type": "BOOLEAN", "defaults": True}]}
    task: Any = load(flow_data([_task(CORE + "flow.Pause", props)])).tasks[0]
    assert [(i.id, i.type, i.defaults) for i in task.onResume] == [("ok", "BOOLEAN", True)]


def test_subflow_defaults() -> None:
    props = {"namespace": "a", "flowId": "b"}
    task: Any = load(flow_data([_task(CORE + "flow.Subflow", props)])).tasks[0]
    assert (task.wait, task.transmitFailed, task.inheritLabels) == (True, True, False)
    assert task.revision is None and task.restartBehavior == "RETRY_FAILED"


# --- legacy aliases (SPEC §5.18) ---------------------------------------------------------------

LEGACY_ALIASES = {
    "io.kestra.core.tasks.log.Log": CORE + "log.Log",
    "io.kestra.core.tasks.executions.Fail": CORE + "execution.Fail",
    "io.kestra.core.tasks.executions.Labels": CORE + "execution.Labels",
    "io.kestra.core.tasks.flows.Sequential": CORE + "flow.Sequential",
    "io.kestra.core.tasks.flows.Parallel": CORE + "flow.Parallel",
    "io.kestra.core.tasks.flows.If": CORE + "flow.If",
    "io.kestra.core.tasks.flows.Switch": CORE + "flow.Switch",
    "io.kestra.core.tasks.flows.AllowFailure": CORE + "flow.AllowFailure",
    "io.kestra.core.tasks.flows.EachSequential": CORE + "flow.EachSequential",
    "io.kestra.core.tasks.flows.EachParallel": CORE + "flow.EachParallel",
    "io.kestra.core.tasks.debugs.Return": CORE + "debug.Return",
    "io.kestra.core.tasks.flows.Pause": CORE + "flow.Pause",
    "io.kestra.core.tasks.flows.Subflow": CORE + "flow.Subflow",
    "io.kestra.core.tasks.flows.Flow": CORE + "flow.Subflow",
    "io.kestra.core.tasks.debugs.Echo": CORE + "debug.Echo",
    "io.kestra.core.tasks.trigger.Toggle": CORE + "trigger.Toggle",
    "io.kestra.plugin.slack.SlackIncomingWebhook": SLACK,
    "io.kestra.plugin.notifications.slack.SlackIncomingWebhook": SLACK,
    "io.kestra.plugin.fs.http.Request": CORE + "http.Request",
    "io.kestra.plugin.fs.http.Download": CORE + "http.Download",
    "io.kestra.core.tasks.http.Request": CORE + "http.Request",
    "io.kestra.core.tasks.http.Download": CORE + "http.Download",
    SERDES + "csv.CsvReader": SERDES + "csv.CsvToIon",
    SERDES + "csv.CsvWriter": SERDES + "csv.IonToCsv",
    SERDES + "json.JsonReader": SERDES + "json.JsonToIon",
    SERDES + "json.JsonWriter": SERDES + "json.IonToJson",
}


@pytest.mark.parametrize(("alias", "canonical"), sorted(LEGACY_ALIASES.items()))
def test_legacy_alias_registered(alias: str, canonical: str) -> None:
    found = REGISTRY.get(alias)
    assert found is not None, f"{alias} is not registered"
    assert found.name == canonical


def _every_name() -> list[tuple[str, str]]:
    return [(name, t.name) for t in REGISTRY.types() for name in (t.name, *t.aliases)]


@pytest.mark.parametrize(("name", "canonical"), _every_name())
def test_every_registered_name_validates(name: str, canonical: str) -> None:
    """Each name and alias of each type, through a flow, resolves to the type's model."""
    props = VALID[canonical][0]
    task = load(flow_data([_task(name, props)])).tasks[0]
    assert type(task) is REGISTRY.get(canonical).model  # type: ignore[union-attr]
    assert task.type == name


def test_sleep_and_output_values_have_no_legacy_alias() -> None:
    for name in ("io.kestra.plugin.core.flow.Sleep", "io.kestra.plugin.core.output.OutputValues"):
        task_type = REGISTRY.get(name)
        assert task_type is not None and task_type.aliases == ()
