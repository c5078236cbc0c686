"""io.kestra.plugin.git.PushFlows, SyncFlows, PushNamespaceFiles and SyncNamespaceFiles
between a real SQLite store and a real
local bare repository (docs/tasks-git.md)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanner.errors import FlowValidationError
from lanner.ion.reader import read_values
from lanner.plugin import TaskRegistry
from lanner.runtime.instanceaccess import StoreInstance
from lanner.storage import LocalStorage
from lanner.store import open_store
from lanner.store.base import Store
from lanner.tasks.git.flows import PushFlows, SyncFlows, run_push_flows, run_sync_flows
from lanner.tasks.git.nsfiles import (
    PushNamespaceFiles,
    SyncNamespaceFiles,
    run_push_files,
    run_sync_files,
)
from tests.support.task_context import LocalTaskContext
from tests.unit.tasks.test_git_clone import git

REGISTRY = TaskRegistry.from_entry_points()


def flow(namespace: str, flow_id: str, message: str = "hi") -> str:
    return textwrap.dedent(
        f"""\
        id: {flow_id}
        namespace: {namespace}
        tasks:
          - id: say
            type: io.kestra.plugin.core.log.Log
            message: {message}
        """
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite://{tmp_path / 'lanner.db'}")
    yield s
    s.close()


@pytest.fixture
def bare(tmp_path: Path) -> str:
    path = tmp_path / "flows.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(path))
    return f"file://{path}"


def context(store: Store, tmp_path: Path) -> LocalTaskContext:
    storage = LocalStorage(tmp_path / "storage")
    return LocalTaskContext(
        namespace="ops",
        flow_id="gitops",
        storage=storage,
        instance=StoreInstance(store, storage, REGISTRY),
    )


def rows(ctx: LocalTaskContext, uri: str) -> list[dict[str, Any]]:
    with ctx.open_file(uri) as data:
        return list(read_values(data))


def push(store: Store, tmp_path: Path, **props: Any) -> tuple[LocalTaskContext, dict[str, Any]]:
    ctx = context(store, tmp_path)
    task = PushFlows.model_validate({"id": "push", "type": "x", **props})
    return ctx, dict(run_push_flows(task, ctx).outputs)


def sync(store: Store, tmp_path: Path, **props: Any) -> tuple[LocalTaskContext, list[Any]]:
    ctx = context(store, tmp_path)
    task = SyncFlows.model_validate({"id": "sync", "type": "x", **props})
    return ctx, rows(ctx, run_sync_flows(task, ctx).outputs["flows"])


def test_push_flows_then_sync_them_to_another_namespace(
    store: Store, tmp_path: Path, bare: str
) -> None:
    store.deploy_flow("dev", "a", flow("dev", "a"))
    store.deploy_flow("dev.team", "b", flow("dev.team", "b"))
    store.deploy_flow("other", "c", flow("other", "c"))
    ctx, out = push(store, tmp_path, url=bare, sourceNamespace="dev", includeChildNamespaces=True)
    assert out["commitId"] and out["commitURL"] is None  # a file:// remote has no web page
    assert sorted(r["file"] for r in rows(ctx, out["flows"])) == [
        "_flows/a.yml",
        "_flows/team/b.yml",
    ]
    shown = git(
        tmp_path, "--git-dir", bare.removeprefix("file://"), "show", "main:_flows/team/b.yml"
    )
    assert "namespace: dev.team" in shown

    # Again with nothing changed: nothing to commit, nothing pushed.
    _, again = push(
        store, tmp_path / "again", url=bare, sourceNamespace="dev", includeChildNamespaces=True
    )
    assert again["commitId"] is None

    _, synced = sync(
        store, tmp_path / "s", url=bare, targetNamespace="prod", includeChildNamespaces=True
    )
    assert sorted((r["namespace"], r["flowId"], r["syncState"]) for r in synced) == [
        ("prod", "a", "ADDED"),
        ("prod.team", "b", "ADDED"),
    ]
    deployed = store.get_flow("prod.team", "b")
    assert deployed is not None and "namespace: prod.team" in deployed.source


def test_push_flows_to_a_new_branch_with_a_target_namespace_and_dry_run(
    store: Store, tmp_path: Path, bare: str
) -> None:
    store.deploy_flow("dev", "etl_orders", flow("dev", "etl_orders"))
    store.deploy_flow("dev", "report", flow("dev", "report"))
    ctx, dry = push(store, tmp_path, url=bare, sourceNamespace="dev", flows="etl_*", dryRun=True)
    assert dry["commitId"] is None
    assert [r["file"] for r in rows(ctx, dry["flows"])] == ["_flows/etl_orders.yml"]
    assert git(tmp_path, "--git-dir", bare.removeprefix("file://"), "branch", "--list") == ""
    _, out = push(
        store,
        tmp_path / "real",
        url=bare,
        sourceNamespace="dev",
        targetNamespace="prod",
        flows="etl_*",
        branch="release",
        gitDirectory="flows",
        commitMessage="release",
        authorName="ci",
        authorEmail="ci@example.com",
    )
    assert out["commitId"] is not None
    git_dir = bare.removeprefix("file://")
    assert git(tmp_path, "--git-dir", git_dir, "log", "-1", "--format=%an <%ae> %s", "release") == (
        "ci <ci@example.com> release"
    )
    assert "namespace: prod" in git(
        tmp_path, "--git-dir", git_dir, "show", "release:flows/etl_orders.yml"
    )


def test_sync_flows_updates_and_deletes(store: Store, tmp_path: Path, bare: str) -> None:
    store.deploy_flow("src", "keep", flow("src", "keep"))
    store.deploy_flow("src", "change", flow("src", "change", "v2"))
    push(store, tmp_path / "p", url=bare, sourceNamespace="src")
    store.deploy_flow("prod", "change", flow("prod", "change", "v1"))
    store.deploy_flow("prod", "stale", flow("prod", "stale"))
    _, dry = sync(store, tmp_path / "d", url=bare, targetNamespace="prod", delete=True, dryRun=True)
    assert store.get_flow("prod", "stale") is not None  # a dry run changes nothing
    _, synced = sync(store, tmp_path / "s", url=bare, targetNamespace="prod", delete=True)
    states = {r["flowId"]: r["syncState"] for r in synced}
    assert states == {"change": "UPDATED", "keep": "ADDED", "stale": "DELETED"}
    assert {r["flowId"]: r["syncState"] for r in dry} == states
    assert store.get_flow("prod", "stale") is None
    changed = store.get_flow("prod", "change")
    assert changed is not None and changed.revision == 2 and "v2" in changed.source
    _, again = sync(store, tmp_path / "a", url=bare, targetNamespace="prod")
    assert {r["syncState"] for r in again} == {"UNCHANGED"}


def test_sync_flows_deploys_nothing_when_one_flow_is_invalid(
    store: Store, tmp_path: Path, bare: str
) -> None:
    work = tmp_path / "w"
    git(tmp_path, "clone", "-q", bare, str(work))
    (work / "_flows").mkdir()
    (work / "_flows" / "good.yml").write_text(flow("x", "good"))
    (work / "_flows" / "bad.yml").write_text("id: bad\nnamespace: x\ntasks: []\n")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "flows")
    git(work, "push", "-q", "origin", "HEAD:main")
    with pytest.raises(FlowValidationError):
        sync(store, tmp_path / "s", url=bare, targetNamespace="prod")
    assert store.list_flows() == []


# -- namespace files ---------------------------------------------------------------------


def _put(ctx: LocalTaskContext, namespace: str, path: str, text: str) -> None:
    local = ctx.working_directory() / "upload.tmp"
    local.write_text(text)
    with local.open("rb") as data:
        ctx.put_namespace_file(namespace, path, data)


def _files(ctx: LocalTaskContext, namespace: str) -> dict[str, str]:
    found = {}
    for f in ctx.namespace_files(namespace):
        with ctx.open_file(f.uri) as data:
            found[f.path] = data.read().decode()
    return found


def test_push_namespace_files_then_sync_them_back(store: Store, tmp_path: Path, bare: str) -> None:
    ctx = context(store, tmp_path)  # flow ops.gitops
    _put(ctx, "ops", "scripts/etl.py", "print(1)")
    _put(ctx, "ops", "queries/q.sql", "select 1")
    push = PushNamespaceFiles.model_validate(
        {"id": "p", "type": "x", "url": bare, "files": ["scripts/**"]}
    )
    out = run_push_files(push, ctx).outputs
    assert out["commitId"] is not None
    assert [r["file"] for r in rows(ctx, out["files"])] == ["_files/scripts/etl.py"]
    git_dir = bare.removeprefix("file://")
    assert git(tmp_path, "--git-dir", git_dir, "show", "main:_files/scripts/etl.py") == "print(1)"

    # The namespace changes: a new file, one edited, the query gone.
    ctx2 = context(store, tmp_path)  # the same store and storage, a new attempt
    _put(ctx2, "ops", "scripts/etl.py", "print(2)")
    _put(ctx2, "ops", "stale.txt", "old")
    dry = SyncNamespaceFiles.model_validate(
        {"id": "s", "type": "x", "url": bare, "delete": True, "dryRun": True}
    )
    planned = rows(ctx2, run_sync_files(dry, ctx2).outputs["files"])
    assert _files(ctx2, "ops")["scripts/etl.py"] == "print(2)"  # a dry run changes nothing
    sync = SyncNamespaceFiles.model_validate({"id": "s", "type": "x", "url": bare, "delete": True})
    done = rows(ctx2, run_sync_files(sync, ctx2).outputs["files"])
    assert done == planned
    assert sorted((r["kestraPath"], r["syncState"]) for r in done) == [
        ("/queries/q.sql", "DELETED"),
        ("/scripts/etl.py", "OVERWRITTEN"),
        ("/stale.txt", "DELETED"),
    ]
    assert _files(ctx2, "ops") == {"scripts/etl.py": "print(1)"}
