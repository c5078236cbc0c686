"""`io.kestra.plugin.git.Clone`: clone a repository into the task's working directory.

The clone goes to `directory` inside the attempt's working directory (its root by
default); output `directory` is where it is. A standalone Clone's working directory is
the attempt's own and is removed when the attempt ends: its files are for the tasks of
the same WorkingDirectory (docs/tasks-git.md). `branch` or `tag` is checked out, shallow
to `depth` commits (1 by default, as Kestra); `commit` clones the history (a shallow
clone cannot reach an arbitrary commit) and checks that commit out. `cloneSubmodules`
clones the submodules too. Credentials: `username`/`password` for HTTP(S) URLs, and
`privateKey` (with its `passphrase`) for SSH URLs (`ssh://` or `user@host:path`);
command.py keeps them off the command line.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from lanner.errors import InputError
from lanner.model.common import DynamicBool, DynamicInt, Text, is_dynamic
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.kv import flag
from lanner.tasks.git.command import Git


class GitTask(Task):
    type: str
    url: Text = Field(
        description="The repository's URL: HTTP(S), SSH (ssh://, user@host:path), file:// or a path."
    )
    username: Text | None = Field(None, description="The HTTP(S) user name.")
    password: Text | None = Field(None, description="The HTTP(S) password or access token.")
    privateKey: Text | None = Field(
        None, description="The SSH private key (PEM or OpenSSH) for SSH URLs; use a secret."
    )
    passphrase: Text | None = Field(None, description="The passphrase of `privateKey`.")
    gitConfig: dict[str, Any] | None = Field(
        None, description="git configuration entries for this command (`-c key=value`)."
    )
    noProxy: DynamicBool = Field(False, description="Ignore any configured HTTP proxy.")
    connectTimeout: DynamicInt = Field(
        10000, description="Kestra's default (10000 ms) only: git has no connect timeout."
    )

    @field_validator("privateKey")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not is_dynamic(value) and "PRIVATE KEY-----" not in value:
            raise ValueError(
                "privateKey must be a PEM or OpenSSH private key (-----BEGIN ... PRIVATE"
                " KEY-----), usually {{ secret('GIT_SSH_KEY') }}"
            )
        return value

    @field_validator("passphrase")
    @classmethod
    def _passphrase_of_a_key(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Located at the passphrase: privateKey is declared before it.
        if value is not None and info.data.get("privateKey") is None:
            raise ValueError("passphrase is the privateKey's passphrase: give privateKey too")
        return value

    @field_validator("connectTimeout")
    @classmethod
    def _default_timeout(cls, value: int | str) -> int | str:
        if value != 10000:
            raise ValueError(
                "not supported here: git has no connection timeout of its own;"
                " use the task's `timeout`"
            )
        return value

    def git(self, ctx: TaskContext) -> Git:
        return Git(
            ctx,
            username=self.username,
            password=self.password,
            config=self.gitConfig,
            no_proxy=flag(self.noProxy),
            private_key=self.privateKey,
            passphrase=self.passphrase if self.privateKey is not None else None,
        )


class Clone(GitTask):
    """Clone a git repository into the working directory."""

    directory: Text | None = Field(
        None, description="Where to clone, relative to the working directory; its root by default."
    )
    branch: Text | None = Field(None, description="The branch; the remote's default by default.")
    tag: Text | None = Field(None, description="A tag to check out (instead of a branch).")
    commit: Text | None = Field(None, description="A commit to check out (full history).")
    depth: DynamicInt = Field(1, description="How many commits to fetch (shallow clone).")
    cloneSubmodules: DynamicBool = Field(False, description="Clone the submodules too.")

    @field_validator("tag", "commit")
    @classmethod
    def _one_ref(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Located at the second one given: branch, tag and commit are declared in order.
        if value is not None:
            given = [n for n in ("branch", "tag") if info.data.get(n) is not None]
            if given:
                raise ValueError(f"give one of branch, tag and commit (also got {given[0]})")
        return value


def run_clone(task: Clone, ctx: TaskContext) -> Outcome:
    root = ctx.working_directory().resolve()
    target = (root / (task.directory or ".")).resolve()
    if target != root and root not in target.parents:
        raise InputError(f"directory {task.directory!r} is outside the working directory")
    if target.exists() and any(target.iterdir()):
        raise InputError(f"the directory {task.directory or '.'} is not empty")
    target.mkdir(parents=True, exist_ok=True)
    depth = int(task.depth)
    if depth < 1:
        raise InputError(f"depth must be at least 1 (got {depth})")
    args = ["clone", "--quiet"]
    if task.commit is None:
        # --no-local: a clone of a local path would copy everything, ignoring the depth.
        args += ["--no-local", "--depth", str(depth)]
        ref = task.branch or task.tag
        if ref is not None:
            args += ["--branch", ref]
    if flag(task.cloneSubmodules):
        args += ["--recurse-submodules"]
        if task.commit is None:
            args += ["--shallow-submodules"]
    with task.git(ctx) as git:
        git.run([*args, "--", task.url, str(target)], root)
        if task.commit is not None:
            git.run(["checkout", "--quiet", task.commit], target)
            if flag(task.cloneSubmodules):
                git.run(["submodule", "update", "--init", "--recursive", "--quiet"], target)
        head = git.run(["rev-parse", "HEAD"], target, quiet=True)[-1].strip()
    ctx.log("INFO", f"Cloned {task.url} at {head[:12]} into {target}")
    return Outcome(outputs={"directory": str(target)})


TASK_TYPES: list[TaskType] = [
    TaskType("io.kestra.plugin.git.Clone", Clone, run=run_clone),
]
