"""Running a CLI task: the tool's settings become files and environment variables,
the tool is looked up on PATH, then the commands run as a shell script task does
(tasks/scripts/run.py: environment allow-list, logs, outputFiles, exit code)."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.clis.model import AnsibleCLI, AwsCLI, DbtCLI, GCloudCLI, _CliTask
from lanner.tasks.core.log import as_text
from lanner.tasks.scripts.environment import script_env
from lanner.tasks.scripts.model import ShellCommands, _ScriptTask
from lanner.tasks.scripts.run import run_script


def _text(ctx: TaskContext, value: str | None) -> str | None:
    return None if value is None else as_text(ctx.render(value))


def tool_env(task: _CliTask, ctx: TaskContext, working_dir: Path) -> dict[str, str]:
    """The environment variables (and files) the tool's own properties stand for."""
    env: dict[str, str] = {}
    if isinstance(task, AnsibleCLI) and task.ansibleConfig is not None:
        path = working_dir / "ansible.cfg"
        path.write_text(_text(ctx, task.ansibleConfig) or "", encoding="utf-8")
        env["ANSIBLE_CONFIG"] = str(path)
    elif isinstance(task, DbtCLI):
        if task.profiles is not None:
            (working_dir / "profiles.yml").write_text(
                _text(ctx, task.profiles) or "", encoding="utf-8"
            )
            env["DBT_PROFILES_DIR"] = str(working_dir)
        if task.projectDir is not None:
            env["DBT_PROJECT_DIR"] = str(working_dir / (_text(ctx, task.projectDir) or "."))
    elif isinstance(task, AwsCLI):
        for name, value in (
            ("AWS_ACCESS_KEY_ID", task.accessKeyId),
            ("AWS_SECRET_ACCESS_KEY", task.secretKeyId),
            ("AWS_SESSION_TOKEN", task.sessionToken),
            ("AWS_DEFAULT_REGION", task.region),
            ("AWS_REGION", task.region),
            ("AWS_ENDPOINT_URL", task.endpointOverride),
        ):
            rendered = _text(ctx, value)
            if rendered:
                env[name] = rendered
    elif isinstance(task, GCloudCLI):
        if task.serviceAccount is not None:
            path = working_dir / ".gcloud-service-account.json"
            path.write_text(_text(ctx, task.serviceAccount) or "", encoding="utf-8")
            path.chmod(0o600)
            env["GOOGLE_APPLICATION_CREDENTIALS"] = str(path)
            env["CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"] = str(path)
        if (project := _text(ctx, task.projectId)) is not None:
            env["CLOUDSDK_CORE_PROJECT"] = project
    return env


def tools_needed(task: _CliTask) -> list[str]:
    """The tools the commands start with (of the task's family), else the task's tool."""
    family = set(task.family) | {task.tool}
    found: list[str] = []
    for command in task.commands:
        try:
            words = shlex.split(command)
        except ValueError:
            words = command.split()
        if words and words[0] in family and words[0] not in found:
            found.append(words[0])
    return found or [task.tool]


def missing_tool(
    tools: list[str], own: dict[str, str], working_dir: Path, hint: str, task: str = ""
) -> Outcome | None:
    """A FAILED outcome naming the first of `tools` not found on the task's PATH."""
    path = script_env(own, working_dir)["PATH"]
    for tool in tools:
        found = (working_dir / tool).is_file() if "/" in tool else shutil.which(tool, path=path)
        if not found:
            where = "in the working directory" if "/" in tool else f"on PATH ({path})"
            runs = f"; {task} runs it as a local process" if task else ""
            return Outcome(
                State.FAILED,
                error=f"'{tool}' is not {where}: {hint}, or set PATH in the task's env{runs}",
                error_type="ToolNotFound",
            )
    return None


def run_commands(
    task: _ScriptTask,
    ctx: TaskContext,
    commands: list[str],
    env: dict[str, str],
    *,
    shell_fail_fast: bool | str | None = None,
) -> Outcome:
    """`commands` run as a shell Commands task with the script properties of `task`."""
    fields = {
        name: getattr(task, name)
        for name in ShellCommands.model_fields
        if name in type(task).model_fields
    }
    fields["type"] = task.type
    fields["commands"] = commands
    fields["env"] = env
    if shell_fail_fast is not None:
        fields["failFast"] = shell_fail_fast
    shell = ShellCommands.model_construct(**fields)
    return run_script(shell, ctx)


def run_cli(task: _CliTask, ctx: TaskContext) -> Outcome:
    working_dir = ctx.working_directory()
    own = {**tool_env(task, ctx, working_dir), **(task.env or {})}
    error = missing_tool(
        tools_needed(task), own, working_dir, task.install_hint, type(task).__name__
    )
    if error is not None:
        return error
    outcome = run_commands(task, ctx, list(task.commands), own)
    if isinstance(task, DbtCLI) and outcome.state is State.SUCCESS:
        from lanner.tasks.clis.dbt import keep_dbt_artifacts

        return keep_dbt_artifacts(task, ctx, working_dir, outcome)
    return outcome
