"""A git Clone inside a WorkingDirectory, through the real `lanner run`: the next task
of the WorkingDirectory reads the cloned files (docs/tasks-git.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.cli import logs, run_json, write_flow
from tests.unit.tasks.test_git_clone import commit, git


def test_clone_then_read_the_files_in_one_working_directory(
    tmp_path: Path, env: dict[str, str]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    commit(work, "hello.txt", "hello from git")
    bare = tmp_path / "repo.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    flow = write_flow(
        tmp_path,
        f"""
        id: git_wdir
        namespace: company.team
        tasks:
          - id: wdir
            type: io.kestra.plugin.core.flow.WorkingDirectory
            tasks:
              - id: clone
                type: io.kestra.plugin.git.Clone
                url: file://{bare}
                directory: repo
              - id: read
                type: io.kestra.plugin.scripts.shell.Commands
                taskRunner:
                  type: io.kestra.plugin.core.runner.Process
                commands:
                  - cat repo/hello.txt
        """,
    )
    execution = run_json(flow, env)
    runs: dict[str, Any] = {r["taskId"]: r for r in execution["taskRunList"]}
    assert execution["state"]["current"] == "SUCCESS", runs
    assert runs["clone"]["outputs"]["directory"].endswith("/repo")
    assert any(m == "hello from git" for _, _, m in logs(execution["id"], env))
