"""Kestra's dbt command tasks (`io.kestra.plugin.dbt.cli.Build`, `Run`, `Test`, ...): one
dbt command built from properties, run as DbtCLI runs its commands (run.py), and dbt's
`target/run_results.json` and `target/manifest.json` kept as output files."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from lanner.model.common import DynamicBool, DynamicInt, Text
from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.scripts.model import ShellCommands, _ScriptTask

DEFAULT_DBT_PATH = "./bin/dbt"


class DbtCommand(_ScriptTask):
    """The properties every dbt command task has."""

    default_image: ClassVar[str] = "ghcr.io/kestra-io/dbt"
    command: ClassVar[str] = ""

    # dbt's --fail-fast here, not the shell's `set -e` of the script tasks.
    failFast: DynamicBool = Field(False, description="dbt's --fail-fast.")
    warnError: DynamicBool = Field(False, description="dbt's --warn-error.")
    debug: DynamicBool = Field(False, description="dbt's --debug.")
    projectDir: Text | None = Field(
        None, description="The dbt project's folder, relative to the working directory."
    )
    dbtPath: Text = Field(
        DEFAULT_DBT_PATH,
        description="The dbt executable; with the default ./bin/dbt absent from the working"
        " directory, `dbt` on PATH.",
    )
    profiles: Text | None = Field(
        None, description="The content of profiles.yml (written to .profile/ in the working dir)."
    )
    parseRunResults: DynamicBool = Field(
        True, description="Keep target/run_results.json as the output file run_results.json."
    )
    dockerOptions: dict[str, Any] | None = Field(
        None, description="Deprecated Docker options; ignored by the Process runner."
    )


class DbtRunCommand(DbtCommand):
    """A dbt command that selects nodes (build, run, test, seed, snapshot)."""

    thread: DynamicInt | None = Field(None, description="dbt's --threads.")
    fullRefresh: DynamicBool = Field(False, description="dbt's --full-refresh.")
    target: Text | None = Field(None, description="dbt's --target.")
    selector: Text | None = Field(None, description="dbt's --selector (selectors.yml).")
    select: list[Text] | None = Field(None, description="dbt's --select.")
    exclude: list[Text] | None = Field(None, description="dbt's --exclude.")


def _command_task(name: str, command: str, base: type[DbtCommand]) -> type[DbtCommand]:
    """The model of Kestra's dbt task `name`, which runs `dbt <command>`."""
    namespace = {"__doc__": f"Run `dbt {command}`.", "__module__": __name__, "command": command}
    return type(name, (base,), namespace)


# Kestra's class name of each dbt command task, the dbt command it runs, its model's base.
COMMAND_TASKS: dict[str, type[DbtCommand]] = {
    name: _command_task(name, command, base)
    for name, command, base in (
        ("Build", "build", DbtRunCommand),
        ("Run", "run", DbtRunCommand),
        ("Test", "test", DbtRunCommand),
        ("Seed", "seed", DbtRunCommand),
        ("Snapshot", "snapshot", DbtRunCommand),
        ("Compile", "compile", DbtRunCommand),
        ("List", "list", DbtRunCommand),
        ("Deps", "deps", DbtCommand),
        ("Freshness", "source freshness", DbtCommand),
    )
}


def _on(ctx: TaskContext, value: bool | str) -> bool:
    rendered = ctx.render(value)
    return rendered is True or str(rendered).strip().lower() == "true"


def _text(ctx: TaskContext, value: str) -> str:
    return as_text(ctx.render(value)).strip()


def dbt_command_line(task: DbtCommand, ctx: TaskContext, working_dir: Path, dbt: str) -> str:
    words = [dbt]
    for flag, value in (
        ("--debug", task.debug),
        ("--fail-fast", task.failFast),
        ("--warn-error", task.warnError),
    ):
        if _on(ctx, value):
            words.append(flag)
    words += task.command.split()
    words += ["--profiles-dir", str(working_dir / ".profile")]
    if isinstance(task, DbtRunCommand):
        if task.thread is not None:
            words += ["--threads", str(int(_text(ctx, str(task.thread))))]
        if _on(ctx, task.fullRefresh):
            words.append("--full-refresh")
        if task.target is not None:
            words += ["--target", _text(ctx, task.target)]
        if task.selector is not None:
            words += ["--selector", _text(ctx, task.selector)]
        if task.select:
            words += ["--select", *(_text(ctx, s) for s in task.select)]
        if task.exclude:
            words += ["--exclude", *(_text(ctx, s) for s in task.exclude)]
    project = working_dir / (_text(ctx, task.projectDir).lstrip("/") if task.projectDir else "")
    words += ["--project-dir", str(project)]
    return " ".join(shlex.quote(w) for w in words)


def run_dbt_command(task: DbtCommand, ctx: TaskContext) -> Outcome:
    from lanner.tasks.clis.run import missing_tool, run_commands

    working_dir = ctx.working_directory()
    if task.profiles is not None:
        folder = working_dir / ".profile"
        folder.mkdir(exist_ok=True)
        (folder / "profiles.yml").write_text(_text(ctx, task.profiles) + "\n", encoding="utf-8")
    dbt = _text(ctx, task.dbtPath)
    if dbt == DEFAULT_DBT_PATH and not (working_dir / "bin" / "dbt").exists():
        dbt = "dbt"  # Kestra's image has ./bin/dbt; a Process runner finds dbt on PATH
    own = dict(task.env or {})
    if (error := missing_tool([dbt], own, working_dir, "install dbt with its adapter")) is not None:
        return error
    line = dbt_command_line(task, ctx, working_dir, dbt)
    outcome = run_commands(task, ctx, [line], own, shell_fail_fast=True)
    if outcome.state is not State.SUCCESS:
        return outcome
    return keep_dbt_artifacts(task, ctx, working_dir, outcome)


def keep_dbt_artifacts(
    task: DbtCommand | Any, ctx: TaskContext, working_dir: Path, outcome: Outcome
) -> Outcome:
    """dbt's run results and manifest as output files, as Kestra keeps them."""
    base = working_dir
    project = getattr(task, "projectDir", None)
    if project:
        base = working_dir / _text(ctx, project).lstrip("/")
    kept = dict(outcome.outputs.get("outputFiles") or {})
    wanted = ["manifest.json"]
    if _on(ctx, task.parseRunResults):
        wanted.insert(0, "run_results.json")
    for name in wanted:
        path = base / "target" / name
        if path.is_file():
            kept[name] = ctx.put_file(path, name)
    if not kept:
        return outcome
    return replace(outcome, outputs={**outcome.outputs, "outputFiles": kept})


__all__ = ["COMMAND_TASKS", "ShellCommands", "run_dbt_command"]
