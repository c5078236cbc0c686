"""Script tasks are validated at load: every type registers, unsupported properties
are refused with "not supported here" at their place, and a forced plugin default
switches every script task to the Process runner (the recipe of docs/tasks-scripts.md)."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.model.flow import PluginDefault
from lanner.tasks.scripts.model import PROCESS_RUNNER, ShellCommands
from tests.unit.model.flowtools import REGISTRY, flow_data, load, one_problem

P = "io.kestra.plugin.scripts."
DOCKER = "io.kestra.plugin.scripts.runner.docker.Docker"


def script(type_: str = "shell.Commands", **props: Any) -> dict[str, Any]:
    body = {"commands": ["echo hi"]} if type_.endswith("Commands") else {"script": "print(1)"}
    return {"id": "s", "type": P + type_, **body, **props}


@pytest.mark.parametrize(
    "name",
    [
        "python.Script",
        "python.Commands",
        "shell.Script",
        "shell.Commands",
        "node.Script",
        "node.Commands",
    ],
)
def test_every_script_type_is_registered_and_loads(name: str) -> None:
    assert REGISTRY.get(P + name) is not None
    flow = load(
        flow_data(
            [
                script(
                    name,
                    beforeCommands=["echo before"],
                    env={"A": "1"},
                    inputFiles={"a.txt": "x"},
                    outputFiles=["*.txt"],
                    warningOnStdErr=False,
                    containerImage="img",
                    taskRunner={"type": PROCESS_RUNNER},
                    timeout="PT1M",
                    namespaceFiles={"enabled": False},
                )
            ]
        )
    )
    assert flow.tasks[0].type == P + name


@pytest.mark.parametrize(
    ("props", "path", "text"),
    [
        ({"targetOS": "WINDOWS"}, "targetOS", "not supported here"),
        ({"runner": "KUBERNETES"}, "runner", "PROCESS"),
        ({"outputDirectory": True}, "outputDirectory", "not supported here"),
        ({"taskRunner": {"type": "io.kestra.plugin.ee.aws.runner.Batch"}}, "taskRunner", "unknown"),
        ({"namespaceFiles": {"ifExists": "MERGE"}}, "namespaceFiles.ifExists", ""),
        ({"commands": []}, "commands", "at least 1"),
        ({"interpreter": []}, "interpreter", "at least 1"),
        ({"unknownThing": 1}, "unknownThing", "unknown property"),
    ],
)
def test_unsupported_or_bad_properties_are_refused_at_their_place(
    props: dict[str, Any], path: str, text: str
) -> None:
    problem = one_problem(flow_data([script(**props)]))
    assert path in problem.path and text in problem.message, problem.render()
    assert problem.task_id == "s"


@pytest.mark.parametrize(
    ("props", "path"),
    [
        ({"pythonVersion": "3.12"}, "pythonVersion"),
        ({"packageManager": "UV"}, "packageManager"),
        ({"dependencyCacheEnabled": False}, "dependencyCacheEnabled"),
    ],
)
def test_python_only_properties_lanner_does_not_do(props: dict[str, Any], path: str) -> None:
    problem = one_problem(flow_data([script("python.Script", **props)]))
    assert path in problem.path and "not supported here" in problem.message


def test_python_accepts_dependencies_and_a_cache_that_is_on() -> None:
    flow = load(
        flow_data([script("python.Script", dependencies=["pandas"], dependencyCacheEnabled=True)])
    )
    assert flow.tasks[0].type == P + "python.Script"


def test_the_docker_runner_and_its_options_are_accepted_at_load() -> None:
    flow = load(flow_data([script(taskRunner={"type": DOCKER, "pullPolicy": "IF_NOT_PRESENT"})]))
    assert flow.tasks[0].type == P + "shell.Commands"


def test_a_forced_plugin_default_switches_every_script_to_process() -> None:
    recipe = PluginDefault.model_validate(
        {
            "type": "io.kestra.plugin.scripts",
            "forced": True,
            "values": {"taskRunner": {"type": PROCESS_RUNNER}},
        }
    )
    flow = load(
        flow_data([script(taskRunner={"type": DOCKER, "pullPolicy": "NEVER"})]),
        defaults=[recipe],
    )
    task = flow.tasks[0]
    assert isinstance(task, ShellCommands)
    assert task.taskRunner is not None and task.taskRunner.type == PROCESS_RUNNER
