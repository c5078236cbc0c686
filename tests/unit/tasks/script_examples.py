"""Valid and invalid property sets of the script task types, for the table of
tests/unit/model/test_task_validation.py."""

from __future__ import annotations

from typing import Any

P = "io.kestra.plugin.scripts."
PROCESS = "io.kestra.plugin.core.runner.Process"

_COMMON: list[dict[str, Any]] = [
    {"beforeCommands": ["echo a"], "env": {"A": "{{ inputs.a }}"}, "warningOnStdErr": False},
    {"inputFiles": {"a.txt": "x"}, "outputFiles": ["*.csv"], "failFast": False},
    {"taskRunner": {"type": PROCESS}, "containerImage": "img", "targetOS": "LINUX"},
]

VALID: dict[str, list[dict[str, Any]]] = {
    P + "shell.Commands": [{"commands": ["echo hi"], **c} for c in _COMMON],
    P + "shell.Script": [
        {"script": "echo hi", "interpreter": ["/bin/bash", "-c"]},
        {"script": "echo hi", "runner": "PROCESS", "docker": {"image": "ubuntu"}},
    ],
    P + "python.Script": [
        {"script": "print(1)", "dependencies": ["pandas"]},
        {"script": "print(1)", **_COMMON[0]},
        {"script": "from kestra import context", "executionContext": True},
    ],
    P + "python.Commands": [{"commands": ["python -V"], **_COMMON[1]}],
    P + "node.Script": [{"script": "console.log(1)"}],
    P + "node.Commands": [{"commands": ["node -v"], **_COMMON[2]}],
}

INVALID: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    P + "shell.Commands": [
        ({}, "commands", "missing required property 'commands'"),
        ({"commands": ["x"], "targetOS": "WINDOWS"}, "targetOS", "not supported here"),
    ],
    P + "shell.Script": [({"script": "x", "docker": "image"}, "docker", "")],
    P + "python.Script": [({"script": "x", "pythonVersion": "3.12"}, "pythonVersion", "not")],
    P + "python.Commands": [({"commands": ["x"], "runner": "LOCAL"}, "runner", "PROCESS")],
    P + "node.Script": [({}, "script", "missing required property 'script'")],
    P + "node.Commands": [
        (
            {"commands": ["x"], "taskRunner": {"type": "x.Y"}},
            "taskRunner.type",
            "unknown task runner",
        )
    ],
}
