"""Validation examples of the flowables of docs/flowables.md (LoopUntil/WaitFor, ...),
for tests/unit/model/test_task_validation.py's tables."""

from __future__ import annotations

from typing import Any

FLOW = "io.kestra.plugin.core.flow."


def _log(task_id: str = "child") -> dict[str, Any]:
    return {"id": task_id, "type": "io.kestra.plugin.core.log.Log", "message": "x"}


def _entry(task_id: str, *depends: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"task": _log(task_id)}
    if depends:
        entry["dependsOn"] = list(depends)
    return entry


_CHILD = {"namespace": "company.team", "flowId": "child"}

VALID: dict[str, list[dict[str, Any]]] = {
    FLOW + "ForEachItem": [
        {"items": "{{ outputs.extract.uri }}", **_CHILD, "inputs": {"f": "{{ taskrun.items }}"}},
        {
            "items": "{{ inputs.file }}",
            "batch": {"rows": "{{ inputs.n }}", "separator": ";"},
            **_CHILD,
            "revision": 2,
            "wait": False,
            "transmitFailed": False,
            "labels": {"team": "data"},
            "inheritLabels": True,
            "scheduleDate": "{{ now() }}",
            "restartBehavior": "RETRY_FAILED",
        },
        {"items": "{{ inputs.file }}", "batch": {"partitions": 4}, **_CHILD},
        {"items": "{{ inputs.file }}", "batch": {"bytes": "10KB"}, **_CHILD},
        {"items": "{{ inputs.file }}", **_CHILD, "restartBehavior": "NEW_EXECUTION"},
    ],
    FLOW + "ForEachItem$ForEachItemExecutable": [
        {"items": "{{ outputs.split.uris }}", **_CHILD, "inputs": {"f": "{{ taskrun.items }}"}},
    ],
    FLOW + "ForEachItem$ForEachItemMergeOutputs": [
        {"batches": "{{ outputs.each_items.batches }}"},
    ],
    FLOW + "Dag": [
        {"tasks": [_entry("a"), _entry("b", "a"), _entry("c", "a"), _entry("d", "b", "c")]},
        {"tasks": [_entry("a")], "concurrent": 2, "errors": [_log("e")], "finally": [_log("f")]},
        {"tasks": [_entry("a"), _entry("b")], "concurrent": "{{ inputs.width }}"},
    ],
    FLOW + "LoopUntil": [
        {"condition": "{{ outputs.child.value == '4' }}", "tasks": [_log()]},
        {
            "condition": "{{ true }}",
            "tasks": [_log(), _log("other")],
            "checkFrequency": {"interval": "PT5S", "maxIterations": 10, "maxDuration": "PT1H"},
            "failOnMaxReached": True,
            "errors": [_log("e")],
            "finally": [_log("f")],
        },
        {
            "condition": "false",
            "tasks": [_log()],
            "checkFrequency": {"maxIterations": "{{ inputs.n }}", "interval": "{{ vars.every }}"},
            "failOnMaxReached": "{{ inputs.strict }}",
        },
    ],
}

INVALID: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    FLOW + "ForEachItem": [
        ({**_CHILD}, "items", "missing required property"),
        ({"items": "x", "flowId": "child"}, "namespace", "missing required property"),
        (
            {"items": "x", **_CHILD, "batch": {"rows": 2, "partitions": 3}},
            "batch",
            "give at most one of rows, bytes or partitions",
        ),
        (
            {"items": "x", **_CHILD, "batch": {"lines": 2}},
            "batch.lines",
            "unknown property 'lines'",
        ),
        ({"items": "x", **_CHILD, "generated": []}, "generated", "Lanner makes its three tasks"),
        ({"items": "x", **_CHILD, "restartBehavior": "AGAIN"}, "restartBehavior", "RETRY_FAILED"),
    ],
    FLOW + "ForEachItem$ForEachItemExecutable": [
        ({**_CHILD}, "items", "missing required property"),
    ],
    FLOW + "ForEachItem$ForEachItemMergeOutputs": [
        ({}, "batches", "missing required property"),
    ],
    FLOW + "Dag": [
        ({"tasks": []}, "tasks", "must not be empty"),
        (
            {"tasks": [_entry("a"), _entry("b", "a", "nope")]},
            "tasks[1].dependsOn[1]",
            "Not existing task id in dependency: 'nope'",
        ),
        (
            {"tasks": [_entry("a", "c"), _entry("b", "a"), _entry("c", "b")]},
            "tasks[0].dependsOn",
            "Cyclic dependency detected: a -> c -> b -> a",
        ),
        ({"tasks": [_entry("a", "a")]}, "tasks[0].dependsOn", "Cyclic dependency detected"),
        ({"tasks": [{"task": _log("a"), "needs": ["b"]}]}, "tasks[0].needs", "unknown property"),
        ({"tasks": [{"dependsOn": []}]}, "tasks[0].task", "missing required property 'task'"),
        ({"tasks": [_entry("a")], "concurrent": "x"}, "concurrent", "integer"),
    ],
    FLOW + "LoopUntil": [
        ({"tasks": [_log()]}, "condition", "missing required property 'condition'"),
        ({"condition": "x", "tasks": []}, "tasks", "must not be empty"),
        (
            {"condition": "x", "tasks": [_log()], "checkFrequency": {"interval": "5 seconds"}},
            "checkFrequency.interval",
            "duration",
        ),
        (
            {"condition": "x", "tasks": [_log()], "checkFrequency": {"maxIteration": 3}},
            "checkFrequency.maxIteration",
            "unknown",
        ),
        (
            {"condition": "x", "tasks": [_log()], "checkFrequency": {"maxIterations": "many"}},
            "checkFrequency.maxIterations",
            "integer",
        ),
    ],
}
