"""Validation examples of the flowables of docs/flowables.md (LoopUntil/WaitFor, ...),
for tests/unit/model/test_task_validation.py's tables."""

from __future__ import annotations

from typing import Any

FLOW = "io.kestra.plugin.core.flow."


def _log(task_id: str = "child") -> dict[str, Any]:
    return {"id": task_id, "type": "io.kestra.plugin.core.log.Log", "message": "x"}


VALID: dict[str, list[dict[str, Any]]] = {
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
