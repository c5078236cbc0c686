"""Running a script task: working directory, environment, the process, its outputs.

Under the Process runner the commands (`beforeCommands`, then the task's
`commands` or the command that runs its `script`, written to a file in the
working directory) go to `interpreter` (`/bin/sh -c` by default) as one
text (each `kestra://` URI in them replaced by the path of a copy of its
file), after `set -e` when `failFast` and the interpreter is a POSIX shell.
Python tasks run in the cached virtual environment of their requirements
(venvs.py), `python` and `pip` first on PATH.

The outcome follows the exit code only, as in Kestra since 0.23: a non-zero
one FAILED ("Command failed with exit code N"), else SUCCESS, whatever the
script wrote to stderr or logged (`warningOnStdErr` is deprecated there and
has no effect). Outputs: `exitCode`, `vars` (the script's Kestra.outputs),
`outputFiles` (name -> kestra:// URI, when the task declares some) and
`metrics` (when the script sent some).
"""

from __future__ import annotations

import json
import secrets
import shlex
from pathlib import Path
from typing import Any

from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.scripts.docker import docker_refusal
from lanner.tasks.scripts.environment import script_env
from lanner.tasks.scripts.files import (
    input_files_map,
    localize_storage_uris,
    store_output_files,
    write_input_files,
    write_namespace_files,
)
from lanner.tasks.scripts.messages import ScriptMessages
from lanner.tasks.scripts.model import (
    DOCKER_RUNNER,
    PROCESS_RUNNER,
    NodeCommands,
    NodeScript,
    PythonCommands,
    PythonScript,
    ShellCommands,
    ShellScript,
    _PythonTask,
    _ScriptTask,
)
from lanner.tasks.scripts.process import run_process
from lanner.tasks.scripts.venvs import ensure_venv

# Where `executionContext: true` writes the execution's metadata (Kestra's file name).
CONTEXT_FILE = ".kestra-execution-context.json"
_POSIX_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash"}


def run_script(task: _ScriptTask, ctx: TaskContext) -> Outcome:
    if task.runner_type() == DOCKER_RUNNER:
        return Outcome(State.FAILED, error=docker_refusal(), error_type="TaskRunnerUnavailable")
    if task.taskRunner is not None and task.taskRunner.model_extra:
        names = ", ".join(sorted(task.taskRunner.model_extra))
        ctx.log(
            "WARN", f"taskRunner options {names} are ignored by the {PROCESS_RUNNER} task runner"
        )
    if task.docker:
        names = ", ".join(sorted(task.docker))
        ctx.log("WARN", f"docker options {names} are ignored by the {PROCESS_RUNNER} task runner")
    if task.containerImage:
        ctx.log(
            "WARN",
            f"containerImage '{task.containerImage}' is ignored: the {PROCESS_RUNNER} task"
            " runner runs the script as a local process",
        )
    working_dir = ctx.working_directory()
    # Namespace files first: inputFiles of the same name win, as in Kestra.
    if task.namespaceFiles is not None:
        write_namespace_files(task.namespaceFiles, working_dir, ctx)
    write_input_files(input_files_map(task.inputFiles), working_dir, ctx)
    bin_first: Path | None = None
    venv: Path | None = None
    if isinstance(task, _PythonTask):
        venv = ensure_venv(
            list(task.dependencies or ()),
            ctx.log,
            lambda: ctx.cancelled,
            extra_key=[c for c in task.beforeCommands or () if "pip" in c and "install" in c],
        )
        bin_first = venv / "bin"
    env = script_env(task.env, working_dir, bin_first=bin_first, virtual_env=venv)
    if task.executionContext in (True, "true"):
        path = working_dir / CONTEXT_FILE
        path.write_text(json.dumps(ctx.execution_context(), default=str), encoding="utf-8")
        # The library reads it from the current directory, or from this variable.
        env.setdefault("KESTRA_EXECUTION_CONTEXT_FILE", str(path))
    lines = localize_storage_uris(
        [*(task.beforeCommands or ()), *_main_commands(task, working_dir)], working_dir, ctx
    )
    interpreter = list(task.interpreter)
    if task.failFast is True and Path(interpreter[0]).name in _POSIX_SHELLS:
        lines.insert(0, "set -e")
    messages = ScriptMessages(ctx)
    result = run_process(
        [*interpreter, "\n".join(lines)], working_dir, env, messages, lambda: ctx.cancelled
    )
    if result.stopped:
        return Outcome(State.KILLED)
    outputs: dict[str, Any] = {"exitCode": result.exit_code, "vars": messages.vars}
    if messages.metrics:
        outputs["metrics"] = messages.metrics
    if result.exit_code != 0:
        return Outcome(
            State.FAILED,
            outputs,
            error=f"Command failed with exit code {result.exit_code}",
            error_type="ScriptFailed",
        )
    if task.outputFiles:
        outputs["outputFiles"] = store_output_files(list(task.outputFiles), working_dir, ctx)
    return Outcome(State.SUCCESS, outputs)


def _main_commands(task: _ScriptTask, working_dir: Path) -> list[str]:
    if isinstance(task, PythonCommands | ShellCommands | NodeCommands):
        return list(task.commands)
    assert isinstance(task, PythonScript | ShellScript | NodeScript)
    launcher, suffix = {
        PythonScript: ("python", ".py"),
        ShellScript: (task.interpreter[0], ".sh"),
        NodeScript: ("node", ".js"),
    }[type(task)]
    path = working_dir / f"script-{secrets.token_hex(4)}{suffix}"
    path.write_text(task.script, encoding="utf-8")
    return [f"{shlex.quote(launcher)} {shlex.quote(path.name)}"]
