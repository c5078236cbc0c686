"""io.kestra.plugin.git.Clone against real local repositories made with the `git`
program (file:// URLs and paths: nothing on the network), docs/tasks-git.md."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lanner.errors import InputError
from lanner.tasks.git.clone import Clone, run_clone
from tests.support.git_http import GitHttpServer
from tests.support.task_context import LocalTaskContext

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit(work: Path, name: str, text: str) -> str:
    (work / name).write_text(text)
    git(work, "add", name)
    git(work, "commit", "-q", "-m", f"add {name}")
    return git(work, "rev-parse", "HEAD")


@pytest.fixture
def origin(tmp_path: Path) -> dict[str, Any]:
    """A bare repository (main: 3 commits, tag v1 on the first; branch dev) and its URL."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    first = commit(work, "a.txt", "one")
    git(work, "tag", "v1")
    commit(work, "b.txt", "two")
    git(work, "checkout", "-q", "-b", "dev")
    commit(work, "dev.txt", "dev")
    git(work, "checkout", "-q", "main")
    last = commit(work, "c.txt", "three")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return {"url": f"file://{bare}", "path": bare, "first": first, "last": last}


def clone(ctx: LocalTaskContext, **props: Any) -> Path:
    task = Clone.model_validate({"id": "clone", "type": "io.kestra.plugin.git.Clone", **props})
    return Path(run_clone(task, ctx).outputs["directory"])


def test_clone_the_default_branch_shallow_into_the_working_directory(
    origin: dict[str, Any],
) -> None:
    ctx = LocalTaskContext()
    where = clone(ctx, url=origin["url"])
    assert where == ctx.working_directory().resolve()
    assert sorted(p.name for p in where.iterdir() if p.name != ".git") == [
        "a.txt",
        "b.txt",
        "c.txt",
    ]
    assert git(where, "rev-parse", "HEAD") == origin["last"]
    assert git(where, "rev-list", "--count", "HEAD") == "1"  # depth 1, as Kestra
    assert any("Cloned" in m for m in ctx.messages("INFO"))
    ctx.close()
    assert not where.exists()  # a standalone Clone's files go with its attempt


def test_clone_a_branch_into_a_directory_with_a_depth(origin: dict[str, Any]) -> None:
    ctx = LocalTaskContext()
    where = clone(ctx, url=str(origin["path"]), branch="dev", directory="src/repo", depth=2)
    assert where == (ctx.working_directory() / "src" / "repo").resolve()
    assert (where / "dev.txt").read_text() == "dev"
    assert git(where, "rev-list", "--count", "HEAD") == "2"


def test_clone_a_tag_and_a_commit(origin: dict[str, Any]) -> None:
    tagged = clone(LocalTaskContext(), url=origin["url"], tag="v1")
    assert git(tagged, "rev-parse", "HEAD") == origin["first"]
    at = clone(LocalTaskContext(), url=origin["url"], commit=origin["first"])
    assert git(at, "rev-parse", "HEAD") == origin["first"]
    assert not (at / "b.txt").exists()


def test_clone_submodules(origin: dict[str, Any], tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q", "-b", "main")
    git(outer, "-c", "protocol.file.allow=always", "submodule", "add", "-q", origin["url"], "lib")
    git(outer, "commit", "-q", "-m", "add lib")
    config = {"protocol.file.allow": "always"}  # git refuses file:// submodules by default
    plain = clone(LocalTaskContext(), url=str(outer), gitConfig=config)
    assert not (plain / "lib" / "a.txt").exists()
    deep = clone(LocalTaskContext(), url=str(outer), gitConfig=config, cloneSubmodules=True)
    assert (deep / "lib" / "c.txt").read_text() == "three"


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        ({"branch": "nope"}, "git clone failed"),
        ({"directory": "../out"}, "outside the working directory"),
        ({"depth": 0}, "depth must be at least 1"),
    ],
)
def test_clone_failures_say_why(
    origin: dict[str, Any], props: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(InputError) as info:
        clone(LocalTaskContext(), url=origin["url"], **props)
    assert fragment in info.value.message


def test_clone_into_a_directory_that_is_not_empty_fails(origin: dict[str, Any]) -> None:
    ctx = LocalTaskContext()
    (ctx.working_directory() / "x").mkdir()
    (ctx.working_directory() / "x" / "f").write_text("")
    with pytest.raises(InputError, match="not empty"):
        clone(ctx, url=origin["url"], directory="x")


def test_clone_over_http_with_username_and_password(origin: dict[str, Any]) -> None:
    secret = "s3cr3t-token"
    with GitHttpServer(origin["path"].parent, "ci", secret) as server:
        url = f"{server.url}/{origin['path'].name}"
        ctx = LocalTaskContext()
        where = clone(ctx, url=url, username="ci", password=secret)
        assert git(where, "rev-parse", "HEAD") == origin["last"]
        # The password reached git through GIT_ASKPASS: not in the URL git keeps.
        assert secret not in git(where, "config", "remote.origin.url")
        assert not any(secret in message for message in ctx.messages())
        with pytest.raises(InputError, match="git clone failed"):
            clone(LocalTaskContext(), url=url, username="ci", password="wrong")
        with pytest.raises(InputError, match="git clone failed"):
            clone(LocalTaskContext(), url=url)  # no credentials: git asks no one
        assert server.failed_logins >= 2
