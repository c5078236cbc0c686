"""A git Clone over SSH through the real `lanner run`, the key and its passphrase from
secrets: the next task of the WorkingDirectory reads the clone, and neither the key nor
the passphrase is anywhere in the store's files or the execution's logs."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import logs, run_json, write_flow
from tests.support.git_ssh import GitSshServer, new_key, pem_private
from tests.unit.tasks.test_git_clone import commit, git

PASSPHRASE = "correct horse battery staple"


def _secret(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


@pytest.mark.skipif(
    shutil.which("ssh") is None and os.environ.get("CI") != "true",
    reason="the ssh program is not installed",
)
def test_clone_over_ssh_from_secrets_leaves_no_key_behind(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = tmp_path / "served"
    root.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    commit(work, "hello.txt", "hello from ssh")
    git(root, "clone", "-q", "--bare", str(work), str(root / "repo.git"))
    key = new_key("ecdsa-sha2-nistp256")
    private = pem_private(key, PASSPHRASE)
    with GitSshServer(root, [key]) as server:
        flow = write_flow(
            tmp_path,
            f"""
            id: git_ssh
            namespace: company.team
            tasks:
              - id: wdir
                type: io.kestra.plugin.core.flow.WorkingDirectory
                tasks:
                  - id: clone
                    type: io.kestra.plugin.git.Clone
                    url: {server.url("repo.git")}
                    privateKey: "{{{{ secret('GIT_SSH_KEY') }}}}"
                    passphrase: "{{{{ secret('GIT_SSH_PASSPHRASE') }}}}"
                    directory: repo
                  - id: read
                    type: io.kestra.plugin.scripts.shell.Commands
                    taskRunner:
                      type: io.kestra.plugin.core.runner.Process
                    commands:
                      - cat repo/hello.txt
            """,
        )
        env = {
            **env,
            "SECRET_GIT_SSH_KEY": _secret(private),
            "SECRET_GIT_SSH_PASSPHRASE": _secret(PASSPHRASE),
        }
        execution = run_json(flow, env)
    runs: dict[str, Any] = {r["taskId"]: r for r in execution["taskRunList"]}
    assert execution["state"]["current"] == "SUCCESS", runs
    lines = logs(execution["id"], env)
    assert any(m == "hello from ssh" for _, _, m in lines)
    # The key's body lines and the passphrase: in no log line, in no file of the store.
    body = [line.encode() for line in private.splitlines()[1:-1] if len(line) > 40]
    assert body
    secrets = [PASSPHRASE.encode(), *body]
    assert all(s.decode() not in m for s in secrets for _, _, m in lines)
    stored = [p for p in tmp_path.iterdir() if p.name.startswith("lanner.db")]
    stored += [p for p in (tmp_path / "home").rglob("*") if p.is_file()]
    assert stored
    for path in stored:
        data = path.read_bytes()
        assert not any(s in data for s in secrets), path
