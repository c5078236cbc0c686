"""The properties of Kestra's script tasks (`io.kestra.plugin.scripts.{python,shell,node}`).

Every script task shares one set of properties (Kestra's AbstractExecScript):
`beforeCommands`, `env`, `interpreter`, `inputFiles`, `outputFiles`,
`namespaceFiles`, `warningOnStdErr`, `failFast`, `targetOS`, `containerImage`,
`taskRunner`; a `Script` adds `script`, a `Commands` adds `commands`, and the
Python tasks add `dependencies`. Properties Lanner does not implement are
rejected at load with "not supported here" (model/unsupported.py).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from lanner.model.common import DynamicBool, Model, Text
from lanner.model.task import Task
from lanner.model.unsupported import reject, unsupported

PROCESS_RUNNER = "io.kestra.plugin.core.runner.Process"
DOCKER_RUNNER = "io.kestra.plugin.scripts.runner.docker.Docker"
# Older names of the same runners, still found in published flows.
RUNNER_ALIASES = {
    "io.kestra.core.models.tasks.runners.types.ProcessTaskRunner": PROCESS_RUNNER,
    "io.kestra.plugin.scripts.runner.docker.DockerTaskRunner": DOCKER_RUNNER,
}
RUNNER_TYPES = (PROCESS_RUNNER, DOCKER_RUNNER)

_REASONS = {
    "outputDirectory": "write files in the working directory and list them in outputFiles",
    "pythonVersion": "Python tasks run on the Python that runs Lanner",
    "dependencyCacheEnabled": "Lanner always caches the environment of a set of dependencies",
    "packageManager": "Lanner installs dependencies with pip",
}


class TaskRunner(Model):
    """`taskRunner`: where the script runs. Process (Lanner's default) runs it as a
    local process; Docker is accepted, and fails the task when it runs (docs/tasks-scripts.md)."""

    # Docker's own options (image pull policy, volumes, cpu, ...) are accepted with it:
    # the task never runs under Docker here, it fails with the way to switch to Process.
    # Under Process they are ignored with a warning: a forced plugin default that
    # switches a flow's Docker runner to Process is merged into the flow's options.
    model_config = Model.model_config | {"extra": "allow"}

    type: str

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        value = RUNNER_ALIASES.get(value, value)
        if value not in RUNNER_TYPES:
            raise ValueError(
                f"unknown task runner '{value}': use {PROCESS_RUNNER} (or {DOCKER_RUNNER})"
            )
        return value


class NamespaceFiles(Model):
    """`namespaceFiles`: namespace files copied into the working directory before the
    script runs (files.write_namespace_files)."""

    enabled: DynamicBool = True
    include: list[Text] | None = None
    exclude: list[Text] | None = None
    namespaces: list[Text] | None = None
    folderPerNamespace: bool = False
    ifExists: Literal["OVERWRITE", "FAIL", "WARN", "IGNORE"] = "OVERWRITE"


class _ScriptTask(Task):
    """The properties every script task has."""

    # The image Kestra's Docker runner would use; ignored under Process (with a warning).
    default_image: ClassVar[str] = ""

    type: str
    beforeCommands: list[Text] | None = Field(
        None, description="Commands run before the script, in the same shell."
    )
    env: dict[str, Text] | None = Field(
        None, description="Environment variables added to the script's environment."
    )
    interpreter: list[Text] = Field(
        default_factory=lambda: ["/bin/sh", "-c"],
        min_length=1,
        description="The command that runs the commands, given them as its last argument.",
    )
    inputFiles: dict[str, Text] | Text | None = Field(
        None,
        description="Files put in the working directory: a map of file name to content"
        " (inline text or a kestra:// URI), or a JSON string of such a map.",
    )
    outputFiles: list[Text] | None = Field(
        None, description="Globs of working-directory files stored as the task's outputFiles."
    )
    namespaceFiles: NamespaceFiles | None = None
    # Deprecated by Kestra 0.23, where it stopped having an effect: a script's
    # state follows its exit code only. Accepted for the flows that still set it.
    warningOnStdErr: DynamicBool = Field(
        True, description="Deprecated, no effect: the state follows the exit code only."
    )
    failFast: DynamicBool = Field(
        True, description="Stop at the first command that fails (`set -e`)."
    )
    executionContext: DynamicBool = Field(
        False,
        description="Write the execution's metadata to .kestra-execution-context.json in"
        " the working directory, for the kestra library's `from kestra import context`.",
    )
    targetOS: Literal["AUTO", "LINUX", "WINDOWS"] = "AUTO"
    containerImage: Text | None = Field(
        None, description="The Docker image; ignored by the Process runner (with a warning)."
    )
    taskRunner: TaskRunner | None = Field(
        None, description=f"Where the script runs; default {PROCESS_RUNNER}."
    )
    # Before `taskRunner` (Kestra < 0.18): `runner` chose PROCESS or DOCKER, and
    # `docker` held the Docker options. PROCESS runs here; DOCKER is refused when the
    # task runs, as the Docker task runner is; `docker` is ignored under Process.
    runner: Literal["PROCESS", "DOCKER"] | None = Field(
        None, description="Deprecated: use taskRunner. PROCESS runs here; DOCKER is refused."
    )
    docker: dict[str, Any] | None = Field(
        None, description="Deprecated Docker options; ignored by the Process runner."
    )
    outputDirectory: Any = None

    _script_not_supported = unsupported("outputDirectory", reasons=_REASONS)

    def runner_type(self) -> str:
        """The task runner this task asks for: `taskRunner`, else the deprecated
        `runner`, else Lanner's default, Process."""
        if self.taskRunner is not None:
            return self.taskRunner.type
        return DOCKER_RUNNER if self.runner == "DOCKER" else PROCESS_RUNNER

    @field_validator("targetOS")
    @classmethod
    def _posix(cls, value: str) -> str:
        if value == "WINDOWS":
            return reject(
                "targetOS", value, "Lanner runs scripts with a POSIX shell (use AUTO or LINUX)"
            )
        return value


class _PythonTask(_ScriptTask):
    default_image: ClassVar[str] = "python:3.13-slim"

    dependencies: list[Text] | None = Field(
        None,
        description="Requirements installed with pip in the task's cached virtual environment.",
    )
    pythonVersion: Any = None
    dependencyCacheEnabled: Any = None
    packageManager: Any = None

    _python_not_supported = unsupported("pythonVersion", "packageManager", reasons=_REASONS)

    @field_validator("dependencyCacheEnabled")
    @classmethod
    def _cache_on(cls, value: Any) -> Any:
        if value is None or value is True:
            return value  # what Lanner does anyway
        return reject("dependencyCacheEnabled", value, _REASONS["dependencyCacheEnabled"])


class PythonScript(_PythonTask):
    """Run a Python script with `python`, in a cached virtual environment with the kestra library."""

    script: Text = Field(min_length=1, description="The Python script.")


class PythonCommands(_PythonTask):
    """Run commands in a cached virtual environment with the kestra library (`python` first on PATH)."""

    commands: list[Text] = Field(min_length=1, description="The commands to run.")


class ShellScript(_ScriptTask):
    """Run a shell script (with `interpreter`, `/bin/sh -c` by default)."""

    default_image: ClassVar[str] = "ubuntu"
    script: Text = Field(min_length=1, description="The shell script.")


class ShellCommands(_ScriptTask):
    """Run shell commands (with `interpreter`, `/bin/sh -c` by default)."""

    default_image: ClassVar[str] = "ubuntu"
    commands: list[Text] = Field(min_length=1, description="The commands to run.")


class NodeScript(_ScriptTask):
    """Run a Node.js script with `node`."""

    default_image: ClassVar[str] = "node"
    script: Text = Field(min_length=1, description="The JavaScript code.")


class NodeCommands(_ScriptTask):
    """Run commands with `node` on PATH."""

    default_image: ClassVar[str] = "node"
    commands: list[Text] = Field(min_length=1, description="The commands to run.")
