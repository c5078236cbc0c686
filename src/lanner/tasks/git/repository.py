"""A working copy of one branch for the Push and Sync tasks: fetched shallow, created
when the remote has no such branch, committed and pushed, its staged changes as
Kestra's diff rows (docs/tasks-git.md)."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lanner.errors import InputError
from lanner.ion.writer import write_values
from lanner.plugin import TaskContext
from lanner.tasks.git.command import Git


@contextmanager
def workspace(ctx: TaskContext) -> Iterator[Path]:
    """A fresh folder for one task's working copy, inside its working directory (so the
    attempt's cleanup covers a crash), removed when the task is done with it: two git
    tasks of one WorkingDirectory never meet each other's copy."""
    where = Path(tempfile.mkdtemp(prefix=".lanner-git-", dir=ctx.working_directory()))
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def checkout_branch(git: Git, url: str, branch: str, where: Path) -> bool:
    """A working copy of `branch` of `url` at `where` (the tip only); a new, empty branch
    when the remote has none of that name. Whether the branch existed."""
    where.mkdir(parents=True, exist_ok=True)
    git.run(["init", "--quiet"], where)
    git.run(["remote", "add", "origin", url], where)
    found = git.run(["ls-remote", "--heads", "origin", branch], where, quiet=True)
    exists = any(line.endswith(f"refs/heads/{branch}") for line in found)
    if exists:
        git.run(["fetch", "--quiet", "--depth", "1", "origin", branch], where)
        git.run(["checkout", "--quiet", "-b", branch, "FETCH_HEAD"], where)
    else:
        git.run(["checkout", "--quiet", "--orphan", branch], where)
    return exists


def staged_diff(git: Git, where: Path) -> list[dict[str, Any]]:
    """One row per staged file: `file`, `additions` ("+N"), `deletions` ("-N") and
    `changes` (git counts a changed line as one deletion and one addition: "0")."""
    rows = []
    for line in git.run(["diff", "--cached", "--numstat", "--no-renames"], where, quiet=True):
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        added, deleted, path = parts
        rows.append(
            {
                "file": path,
                "additions": "+" + (added if added != "-" else "0"),
                "deletions": "-" + (deleted if deleted != "-" else "0"),
                "changes": "0",
            }
        )
    return rows


def store_rows(ctx: TaskContext, rows: list[dict[str, Any]], name: str) -> str:
    """The rows as an Ion file of this task run; its URI."""
    path = ctx.working_directory() / name
    with path.open("wb") as out:
        write_values(out, rows)
    return ctx.put_file(path)


def commit_and_push(
    git: Git,
    where: Path,
    branch: str,
    message: str,
    author: tuple[str, str],
) -> str | None:
    """Commit what is staged and push it to `branch`; the commit's id, or None when
    nothing is staged (nothing is pushed then, as Kestra)."""
    if not git.run(["diff", "--cached", "--name-only"], where, quiet=True):
        return None
    name, email = author
    git.run(
        [
            "-c",
            f"user.name={name}",
            "-c",
            f"user.email={email}",
            "commit",
            "--quiet",
            "-m",
            message,
        ],
        where,
    )
    commit = git.run(["rev-parse", "HEAD"], where, quiet=True)[-1].strip()
    git.run(["push", "--quiet", "origin", f"HEAD:refs/heads/{branch}"], where)
    return commit


def commit_url(url: str, commit: str | None) -> str | None:
    """Where a forge shows the commit, for an HTTP(S) remote (Kestra's rule); else None."""
    if commit is None or not re.match(r"https?://", url):
        return None
    base = url.removesuffix("/").removesuffix(".git")
    return f"{base}/{'commits' if 'bitbucket.org' in base else 'commit'}/{commit}"


def relative_dir(path: Path, root: Path) -> str:
    """`path`'s folder relative to `root`, `/`-separated ("" at the root)."""
    parent = path.parent.relative_to(root).as_posix()
    return "" if parent == "." else parent


def inside(root: Path, relative: str) -> Path:
    """`relative` under `root`, refused when it leaves it."""
    target = (root / relative).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise InputError(f"gitDirectory {relative!r} leaves the repository")
    return target
