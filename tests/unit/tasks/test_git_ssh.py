"""The git tasks over SSH with `privateKey` (docs/tasks-git.md), against a real SSH server
on 127.0.0.1 (tests/support/git_ssh.py: asyncssh running git-upload-pack and
git-receive-pack on local bare repositories) and the worker's own `ssh` program:
clone and push with OpenSSH and PEM keys, with and without a passphrase, both URL forms;
a key the server does not know and a wrong passphrase fail with a clear message; the key
file is gone when the task is done."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanner.errors import InputError
from lanner.plugin import TaskRegistry
from lanner.runtime.instanceaccess import StoreInstance
from lanner.storage import LocalStorage
from lanner.store import open_store
from lanner.store.base import Store
from lanner.tasks.git.clone import Clone, run_clone
from lanner.tasks.git.flows import PushFlows, SyncFlows, run_push_flows, run_sync_flows
from tests.support.git_ssh import GitSshServer, new_key, openssh_private, pem_private
from tests.support.task_context import LocalTaskContext
from tests.unit.tasks.test_git_clone import commit, git

pytestmark = pytest.mark.skipif(
    shutil.which("ssh") is None and os.environ.get("CI") != "true",
    reason="the ssh program is not installed",
)

KEY = new_key()
PEM_KEY = new_key("ecdsa-sha2-nistp256")  # what Kestra's docs generate: ecdsa, -m PEM
REGISTRY = TaskRegistry.from_entry_points()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitSshServer]:
    root = tmp_path / "served"
    root.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    commit(work, "hello.txt", "hello over ssh")
    git(root, "clone", "-q", "--bare", str(work), str(root / "origin.git"))
    git(root, "init", "-q", "--bare", "-b", "main", str(root / "flows.git"))
    with GitSshServer(root, [KEY, PEM_KEY]) as running:
        yield running


def _clone(ctx: LocalTaskContext, **props: Any) -> dict[str, Any]:
    task = Clone.model_validate({"id": "clone", "type": "io.kestra.plugin.git.Clone", **props})
    return dict(run_clone(task, ctx).outputs)


def _git_temp_dirs() -> set[str]:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("lanner-git-")}


def test_clone_over_ssh_with_an_openssh_key(server: GitSshServer) -> None:
    before = _git_temp_dirs()
    ctx = LocalTaskContext()
    key = openssh_private(KEY)
    out = _clone(ctx, url=server.url("origin.git"), privateKey=key, directory="repo")
    assert (Path(out["directory"]) / "hello.txt").read_text() == "hello over ssh"
    assert "git-upload-pack" in server.commands
    assert _git_temp_dirs() == before  # the key's folder is removed
    assert all(key.strip() not in message for _, message in ctx.logs)


def test_clone_with_a_pem_key_and_its_passphrase_through_the_scp_like_url(
    server: GitSshServer,
) -> None:
    ctx = LocalTaskContext()
    out = _clone(
        ctx,
        url=server.scp_url("origin.git"),
        privateKey=pem_private(PEM_KEY, "s3cret"),
        passphrase="s3cret",
    )
    assert (Path(out["directory"]) / "hello.txt").exists()


def test_a_key_the_server_does_not_know_fails_clearly(server: GitSshServer) -> None:
    with pytest.raises(InputError) as failed:
        _clone(
            LocalTaskContext(), url=server.url("origin.git"), privateKey=openssh_private(new_key())
        )
    message = failed.value.message
    assert "git clone failed" in message
    assert "Permission denied (publickey" in message
    assert "the SSH server refused the privateKey" in message
    assert server.commands == []


def test_a_wrong_passphrase_fails_clearly(server: GitSshServer) -> None:
    with pytest.raises(InputError) as failed:
        _clone(
            LocalTaskContext(),
            url=server.url("origin.git"),
            privateKey=openssh_private(KEY, "right"),
            passphrase="wrong",
        )
    assert "or its passphrase is wrong" in failed.value.message
    assert server.commands == []


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite://{tmp_path / 'lanner.db'}")
    yield s
    s.close()


def test_push_then_sync_flows_over_ssh(server: GitSshServer, store: Store, tmp_path: Path) -> None:
    store.migrate()
    store.deploy_flow(
        "ops",
        "hello",
        "id: hello\nnamespace: ops\ntasks:\n  - id: say\n"
        "    type: io.kestra.plugin.core.log.Log\n    message: hi\n",
    )
    storage = LocalStorage(tmp_path / "storage")
    ctx = LocalTaskContext(
        namespace="ops",
        flow_id="gitops",
        storage=storage,
        instance=StoreInstance(store, storage, REGISTRY),
    )
    task = PushFlows.model_validate(
        {
            "id": "push",
            "type": "io.kestra.plugin.git.PushFlows",
            "url": server.url("flows.git"),
            "privateKey": openssh_private(KEY, "pw"),
            "passphrase": "pw",
        }
    )
    out = run_push_flows(task, ctx).outputs
    assert out["commitId"] is not None
    assert "git-receive-pack" in server.commands
    pushed = subprocess.run(
        ["git", "--git-dir", str(server.root / "flows.git"), "show", "main:_flows/hello.yml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "id: hello" in pushed

    sync = SyncFlows.model_validate(
        {
            "id": "sync",
            "type": "io.kestra.plugin.git.SyncFlows",
            "url": server.scp_url("flows.git"),
            "privateKey": openssh_private(KEY),
            "targetNamespace": "prod",
        }
    )
    run_sync_flows(sync, ctx)
    assert store.get_flow("prod", "hello") is not None
