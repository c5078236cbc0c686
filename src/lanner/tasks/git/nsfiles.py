"""`io.kestra.plugin.git.PushNamespaceFiles` and `io.kestra.plugin.git.SyncNamespaceFiles`:
namespace files to a git branch and back (docs/tasks-git.md).

PushNamespaceFiles writes the files of `namespace` (the flow's by default) matching
`files` (globs, all by default) under `gitDirectory` (`_files`), removes the files of
that folder the namespace no longer has (those matching `files`, when given), and
commits and pushes to `branch` (created when missing) unless `dryRun`. Outputs:
`files` (the staged diff, Ion), `commitId`, `commitURL`.

SyncNamespaceFiles stores every file under `gitDirectory` as the namespace file of its
path there (a `.git` folder aside); with `delete`, namespace files git does not have are
deleted. Output `files`: one row per file, `gitPath`, `kestraPath`, `syncState` (ADDED,
OVERWRITTEN, DELETED; a file is overwritten without comparing, as in Kestra).
`dryRun` only computes the rows.

Both read the namespace's files as an execution may: the namespace must be the flow's
or one above it (docs/storage.md).
"""

from __future__ import annotations

import io
from typing import Any

from pydantic import Field

from lanner.errors import InputError
from lanner.model.common import DynamicBool, Text
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.storage.namespacefiles import matches
from lanner.tasks.core.kv import flag
from lanner.tasks.git import repository
from lanner.tasks.git.clone import GitTask


class PushNamespaceFiles(GitTask):
    """Commit and push namespace files to a git branch."""

    branch: Text = Field("main", description="The branch to push to; created when missing.")
    namespace: Text | None = Field(None, description="The namespace; the flow's by default.")
    files: Text | list[Text] | None = Field(None, description="Globs of paths; all by default.")
    gitDirectory: Text = Field("_files", description="The folder of the files in the repository.")
    commitMessage: Text | None = Field(None, description="The commit message.")
    dryRun: DynamicBool = Field(
        False, description="Compute the diff only; commit and push nothing."
    )
    authorName: Text | None = Field(None, description="The commit author; `username` by default.")
    authorEmail: Text | None = Field(None, description="The commit author's email.")


def run_push_files(task: PushNamespaceFiles, ctx: TaskContext) -> Outcome:
    namespace = task.namespace or ctx.namespace
    globs = (
        None if task.files is None else [task.files] if isinstance(task.files, str) else task.files
    )
    with task.git(ctx) as git, repository.workspace(ctx) as where:
        repository.checkout_branch(git, task.url, task.branch, where)
        base = repository.inside(where, task.gitDirectory)
        found = ctx.namespace_files(namespace, include=globs)
        wanted = {base / f.path: f.uri for f in found}
        if base.exists():
            for old in base.rglob("*"):
                relative = old.relative_to(base).as_posix()
                if not old.is_file() or old in wanted or ".git" in old.relative_to(where).parts:
                    continue
                if globs is None or matches(relative, globs):
                    old.unlink()
        for path, uri in wanted.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with ctx.open_file(uri) as data, path.open("wb") as out:
                while chunk := data.read(1 << 20):
                    out.write(chunk)
        git.run(["add", "--all", "--", str(base.relative_to(where))], where)
        rows = repository.staged_diff(git, where)
        diff = repository.store_rows(ctx, rows, "files-diff.ion")
        commit = None
        if flag(task.dryRun):
            ctx.log("INFO", f"Dry run: {len(rows)} file(s) would change; nothing pushed")
        else:
            message = task.commitMessage or f"Add files from {namespace} namespace"
            name = task.authorName or task.username or "Lanner"
            author = (name, task.authorEmail or "lanner@localhost")
            commit = repository.commit_and_push(git, where, task.branch, message, author)
            ctx.log("INFO", f"Pushed {commit} to {task.branch}" if commit else "No changes to push")
    return Outcome(
        outputs={
            "commitId": commit,
            "commitURL": repository.commit_url(task.url, commit),
            "files": diff,
        }
    )


class SyncNamespaceFiles(GitTask):
    """Store the files of a git branch as namespace files."""

    branch: Text = Field("main", description="The branch to read.")
    namespace: Text | None = Field(None, description="The namespace; the flow's by default.")
    gitDirectory: Text = Field("_files", description="The folder of the files in the repository.")
    delete: DynamicBool = Field(False, description="Delete namespace files git does not have.")
    dryRun: DynamicBool = Field(False, description="Compute the changes only; change nothing.")


def run_sync_files(task: SyncNamespaceFiles, ctx: TaskContext) -> Outcome:
    namespace = task.namespace or ctx.namespace
    dry = flag(task.dryRun)
    existing = {f.path for f in ctx.namespace_files(namespace)}
    in_git: list[tuple[str, bytes]] = []
    with task.git(ctx) as git, repository.workspace(ctx) as where:
        if not repository.checkout_branch(git, task.url, task.branch, where):
            raise InputError(f"the branch {task.branch} does not exist in {task.url}")
        base = repository.inside(where, task.gitDirectory)
        if base.exists():
            for path in sorted(base.rglob("*")):
                if path.is_file() and ".git" not in path.relative_to(where).parts:
                    in_git.append((path.relative_to(base).as_posix(), path.read_bytes()))
    rows: list[dict[str, Any]] = []
    git_dir = task.gitDirectory.strip("/")
    for relative, content in in_git:
        if not dry:
            ctx.put_namespace_file(namespace, relative, io.BytesIO(content))
        rows.append(
            {
                "gitPath": f"{git_dir}/{relative}" if git_dir else relative,
                "kestraPath": "/" + relative,
                "syncState": "OVERWRITTEN" if relative in existing else "ADDED",
            }
        )
    if flag(task.delete):
        kept = {relative for relative, _ in in_git}
        for gone in sorted(existing - kept):
            if not dry:
                ctx.delete_namespace_files(namespace, [gone])
            rows.append({"kestraPath": "/" + gone, "syncState": "DELETED"})
    uri = repository.store_rows(ctx, rows, "files-sync.ion")
    ctx.log("INFO", f"{'Would sync' if dry else 'Synced'} {len(rows)} file(s) to {namespace}")
    return Outcome(outputs={"files": uri})


TASK_TYPES: list[TaskType] = [
    TaskType("io.kestra.plugin.git.PushNamespaceFiles", PushNamespaceFiles, run=run_push_files),
    TaskType("io.kestra.plugin.git.SyncNamespaceFiles", SyncNamespaceFiles, run=run_sync_files),
]
