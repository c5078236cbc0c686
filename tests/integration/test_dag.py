"""Dag end to end (docs/flowables.md): `lanner run` and `lanner validate`."""

from __future__ import annotations

from tests.support.cli import FLOWS, lanner, logs, run_json


def test_dag_runs_each_task_after_its_dependencies(env: dict[str, str]) -> None:
    execution = run_json("dag.yml", env)
    assert execution["state"]["current"] == "SUCCESS"
    order = [r["taskId"] for r in execution["taskRunList"]]
    assert order[:2] == ["build", "compile"]
    assert sorted(order[2:4]) == ["docs", "test"] and order[4] == "publish"
    assert ("publish", "INFO", "publish v1 and docs") in logs(execution["id"], env)


def test_dag_cycles_and_unknown_ids_are_rejected_with_their_place(env: dict[str, str]) -> None:
    path = FLOWS / "invalid" / "dag_cycle.yml"
    for command in ("validate", "run"):
        proc = lanner(command, str(path), env=env)
        assert proc.returncode == 2, proc.stderr
        assert f"{path}:16:24: tasks[0].tasks[1].dependsOn[1]: task 'build'" in proc.stderr
        assert "Not existing task id in dependency: 'missing'" in proc.stderr
        assert f"{path}:11:9: tasks[0].tasks[0].dependsOn: task 'build'" in proc.stderr
        assert "Cyclic dependency detected: a -> b -> a" in proc.stderr
