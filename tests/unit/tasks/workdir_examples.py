"""Validation examples of WorkingDirectory and LocalFiles, for
tests/unit/model/test_task_validation.py's tables (kept here, beside their tests)."""

from __future__ import annotations

from typing import Any

WORKDIR = "io.kestra.plugin.core.flow.WorkingDirectory"
LOCAL_FILES = "io.kestra.plugin.core.storage.LocalFiles"
_LOG = "io.kestra.plugin.core.log.Log"
_SHELL = "io.kestra.plugin.scripts.shell.Commands"
URI = "kestra:///company/team/f/executions/E/tasks/t/TR/a.csv"


def _shell(task_id: str = "sh", **extra: Any) -> dict[str, Any]:
    return {"id": task_id, "type": _SHELL, "commands": ["ls"], **extra}


VALID: dict[str, list[dict[str, Any]]] = {
    WORKDIR: [
        {"tasks": [_shell()]},
        {
            "tasks": [_shell("a"), {"id": "b", "type": _LOG, "message": "{{ outputs.a.vars }}"}],
            "inputFiles": {"a.sql": "select 1", "b.csv": URI},
            "outputFiles": ["*.csv", "out/**"],
            "namespaceFiles": {"enabled": True, "include": ["queries/**"]},
            "timeout": "PT5M",
            "allowFailure": True,
        },
        {"tasks": [_shell(timeout="PT1S", allowFailure=True)], "inputFiles": "{{ inputs.files }}"},
        {
            "tasks": [_shell("a")],
            "errors": [_shell("e", allowFailure=True)],
            "finally": [{"id": "f", "type": _LOG, "message": "{{ workingDir }}"}],
            "cache": {"patterns": ["node_modules/**", "*.txt"], "ttl": "PT1H"},
        },
        {"tasks": [_shell()], "cache": {"patterns": [".venv/**"]}},
        {
            "tasks": [_shell(retry={"type": "constant", "interval": "PT1S", "maxAttempts": 2})],
            "finally": [
                _shell(
                    "f",
                    retry={
                        "type": "exponential",
                        "interval": "PT1S",
                        "maxInterval": "PT5S",
                        "maxDuration": "PT1M",
                    },
                )
            ],
        },
    ],
    LOCAL_FILES: [
        {"inputs": {"query.sql": "select 1", "data.csv": "{{ outputs.t.uri }}"}},
        {"outputs": ["*.csv"]},
        {"inputs": "{{ inputs.map }}", "outputs": ["a.txt", "b/**"]},
    ],
}

INVALID: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    WORKDIR: [
        ({"tasks": []}, "tasks", "at least 1"),
        ({"tasks": [_shell()], "cache": {"ttl": "PT1H"}}, "cache.patterns", "missing required"),
        ({"tasks": [_shell()], "cache": {"patterns": []}}, "cache.patterns", "at least 1"),
        (
            {"tasks": [_shell()], "cache": {"patterns": ["../up/*"]}},
            "cache.patterns",
            "inside the working directory",
        ),
        (
            {"tasks": [_shell()], "cache": {"patterns": ["a"], "ttl": "{{ inputs.ttl }}"}},
            "cache.ttl",
            "not rendered",
        ),
        ({"tasks": [_shell()], "cache": {"pattern": ["a"]}}, "cache.pattern", "unknown property"),
        (
            {
                "tasks": [_shell()],
                "errors": [
                    {
                        "id": "p",
                        "type": "io.kestra.plugin.core.flow.Sequential",
                        "tasks": [_shell("in")],
                    }
                ],
            },
            "errors",
            "cannot run in a WorkingDirectory",
        ),
        (
            {
                "tasks": [
                    {
                        "id": "par",
                        "type": "io.kestra.plugin.core.flow.Parallel",
                        "tasks": [_shell()],
                    }
                ]
            },
            "tasks",
            "cannot run in a WorkingDirectory",
        ),
        ({"tasks": [_shell()], "outputFile": ["a"]}, "outputFile", "unknown property"),
    ],
    LOCAL_FILES: [
        ({"inputs": ["a.txt"]}, "inputs", ""),
        ({"output": ["a.txt"]}, "output", "unknown property"),
    ],
}
