"""`io.kestra.plugin.git.PushFlows` and `io.kestra.plugin.git.SyncFlows`: deployed flows
to a git branch and back (docs/tasks-git.md).

PushFlows writes the flows of `sourceNamespace` (the flow's by default; those below it
too with `includeChildNamespaces`, in sub-folders) matching `flows` (globs of flow ids,
all by default) as `<gitDirectory>/<sub/folders>/<id>.yml`, with `namespace:` rewritten
to `targetNamespace` when given and any `revision:` line dropped; files of
`gitDirectory` no flow wrote any more are removed (those matching `flows`, when given).
It commits and pushes to `branch` (created when missing) unless `dryRun`; output
`flows` is the staged diff (Ion, one row per file), `commitId` and `commitURL`.

SyncFlows reads `<gitDirectory>/*.yml` (and sub-folders, as child namespaces of
`targetNamespace`, with `includeChildNamespaces`), rewrites each `namespace:` line to
where the file sits, validates every flow first (one invalid flow fails the task, and
nothing is deployed), then deploys them; with `delete`, deployed flows of the
namespace(s) that git does not have are deleted (never the flow running the task).
Output `flows`: one row per flow, `gitPath`, `syncState` (ADDED, UPDATED, UNCHANGED,
DELETED), `flowId`, `namespace`, `revision`. `dryRun` only computes the rows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from lanner.errors import InputError
from lanner.model.common import DynamicBool, Text
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.storage.namespacefiles import matches
from lanner.tasks.core.kv import flag
from lanner.tasks.git import repository
from lanner.tasks.git.clone import GitTask

_NAMESPACE_LINE = re.compile(r"(?m)^namespace:[ \t]*(.*)$")
_REVISION_LINE = re.compile(r"(?m)^revision:\s*\d+\n?")


class PushFlows(GitTask):
    """Commit and push deployed flows to a git branch."""

    branch: Text = Field("main", description="The branch to push to; created when missing.")
    gitDirectory: Text = Field("_flows", description="The folder of the flows in the repository.")
    sourceNamespace: Text | None = Field(None, description="The namespace; the flow's by default.")
    targetNamespace: Text | None = Field(None, description="Written as the flows' namespace.")
    flows: Text | list[Text] | None = Field(None, description="Globs of flow ids; all by default.")
    includeChildNamespaces: DynamicBool = Field(False, description="Push child namespaces too.")
    commitMessage: Text | None = Field(None, description="The commit message.")
    dryRun: DynamicBool = Field(
        False, description="Compute the diff only; commit and push nothing."
    )
    authorName: Text | None = Field(None, description="The commit author; `username` by default.")
    authorEmail: Text | None = Field(None, description="The commit author's email.")


def _globs(value: str | list[str] | None) -> list[str] | None:
    return None if value is None else [value] if isinstance(value, str) else list(value)


def author(task: PushFlows) -> tuple[str, str]:
    """Kestra's author (authorName, else username), else Lanner's own identity."""
    name = task.authorName or task.username or "Lanner"
    return name, task.authorEmail or "lanner@localhost"


def run_push_flows(task: PushFlows, ctx: TaskContext) -> Outcome:
    source_ns = task.sourceNamespace or ctx.namespace
    target_ns = task.targetNamespace or source_ns
    globs = _globs(task.flows)
    with task.git(ctx) as git, repository.workspace(ctx) as where:
        repository.checkout_branch(git, task.url, task.branch, where)
        base = repository.inside(where, task.gitDirectory)
        wanted: dict[Path, str] = {}
        for flow in ctx.instance.flows(source_ns, flag(task.includeChildNamespaces)):
            if globs is not None and not matches(flow.id, globs):
                continue
            sub = flow.namespace[len(source_ns) + 1 :].replace(".", "/")
            source = _REVISION_LINE.sub("", flow.source)
            if target_ns != source_ns:
                namespace = target_ns + flow.namespace[len(source_ns) :]
                source = _NAMESPACE_LINE.sub(f"namespace: {namespace}", source, count=1)
            wanted[base / sub / f"{flow.id}.yml"] = source
        if base.exists():
            for old in base.rglob("*"):
                if not old.is_file() or old in wanted or ".git" in old.relative_to(where).parts:
                    continue
                if globs is None or matches(old.stem, globs):
                    old.unlink()
        for path, source in wanted.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source)
        git.run(["add", "--all", "--", str(base.relative_to(where))], where)
        rows = repository.staged_diff(git, where)
        diff = repository.store_rows(ctx, rows, "flows-diff.ion")
        commit = None
        if flag(task.dryRun):
            ctx.log("INFO", f"Dry run: {len(rows)} file(s) would change; nothing pushed")
        else:
            message = task.commitMessage or f"Add flows from {source_ns} namespace"
            commit = repository.commit_and_push(git, where, task.branch, message, author(task))
            ctx.log("INFO", f"Pushed {commit} to {task.branch}" if commit else "No changes to push")
    return Outcome(
        outputs={
            "commitId": commit,
            "commitURL": repository.commit_url(task.url, commit),
            "flows": diff,
        }
    )


def _flow_sources(task: SyncFlows, base: Path, children: bool) -> list[tuple[str, str]]:
    """(git path, source with its namespace line rewritten) of each flow file."""
    found = sorted(base.rglob("*") if children else base.glob("*"))
    sources = []
    for path in found:
        if path.suffix not in (".yml", ".yaml") or not path.is_file() or ".git" in path.parts:
            continue
        sub = repository.relative_dir(path, base)
        namespace = task.targetNamespace + ("." + sub.replace("/", ".") if sub else "")
        text = _NAMESPACE_LINE.sub(f"namespace: {namespace}", path.read_text(), count=1)
        git_path = f"{task.gitDirectory.strip('/')}/{path.relative_to(base).as_posix()}"
        sources.append((git_path.lstrip("/"), text.rstrip() + "\n"))
    return sources


class SyncFlows(GitTask):
    """Deploy the flows of a git branch."""

    branch: Text = Field("main", description="The branch to read.")
    gitDirectory: Text = Field("_flows", description="The folder of the flows in the repository.")
    targetNamespace: Text = Field(description="The namespace the flows are deployed to.")
    includeChildNamespaces: DynamicBool = Field(
        False, description="Sub-folders are child namespaces."
    )
    delete: DynamicBool = Field(False, description="Delete deployed flows that git does not have.")
    dryRun: DynamicBool = Field(False, description="Compute the changes only; deploy nothing.")
    ignoreInvalidFlows: bool = Field(
        False, description="Not supported here: an invalid flow in git fails the task."
    )

    @field_validator("ignoreInvalidFlows")
    @classmethod
    def _no_ignore(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "not supported here: Lanner validates every flow of the branch before it"
                " deploys any, and an invalid one fails the task"
            )
        return value


def run_sync_flows(task: SyncFlows, ctx: TaskContext) -> Outcome:
    children = flag(task.includeChildNamespaces)
    dry = flag(task.dryRun)
    with task.git(ctx) as git, repository.workspace(ctx) as where:
        if not repository.checkout_branch(git, task.url, task.branch, where):
            raise InputError(f"the branch {task.branch} does not exist in {task.url}")
        sources = _flow_sources(task, repository.inside(where, task.gitDirectory), children)
    instance = ctx.instance
    checked = [(git_path, instance.deploy_flow(text, dry_run=True)) for git_path, text in sources]
    before = {(f.namespace, f.id): f for f in instance.flows(task.targetNamespace, children)}
    rows: list[dict[str, Any]] = []
    for git_path, flow in checked:
        existed = (flow.namespace, flow.id) in before
        done = flow if dry else instance.deploy_flow(flow.source)
        state = "UPDATED" if done.changed else "UNCHANGED"
        rows.append(
            {
                "gitPath": git_path,
                "syncState": state if existed else "ADDED",
                "flowId": done.id,
                "namespace": done.namespace,
                "revision": done.revision if not dry or existed else 1,
            }
        )
    if flag(task.delete):
        synced = {(flow.namespace, flow.id) for _, flow in checked}
        for key, flow in sorted(before.items()):
            if key in synced or key == (ctx.namespace, ctx.flow_id):
                continue
            if not dry:
                instance.delete_flow(*key)
            rows.append(
                {
                    "syncState": "DELETED",
                    "flowId": flow.id,
                    "namespace": flow.namespace,
                    "revision": flow.revision,
                }
            )
    uri = repository.store_rows(ctx, rows, "flows-sync.ion")
    ctx.log("INFO", f"{'Would sync' if dry else 'Synced'} {len(rows)} flow(s) from {task.branch}")
    return Outcome(outputs={"flows": uri})


TASK_TYPES: list[TaskType] = [
    TaskType("io.kestra.plugin.git.PushFlows", PushFlows, run=run_push_flows),
    TaskType("io.kestra.plugin.git.SyncFlows", SyncFlows, run=run_sync_flows),
]
