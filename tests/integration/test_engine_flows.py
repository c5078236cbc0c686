"""Issue 7 §6 behaviours through the real CLI: our own small flows of
`tests/integration/flows/` run with `lanner run` on a throw-away SQLite store."""

from __future__ import annotations

import pytest

from tests.support.cli import FLOWS, lanner, logs, run_json
from tests.support.cluster import Cluster


def test_first_errors_task_sees_the_failed_task_error_logs(env: dict[str, str]) -> None:
    execution = run_json("error_logs.yml", env)
    assert execution["state"]["current"] == "FAILED"
    alert = [m for t, _, m in logs(execution["id"], env) if t == "alert"]
    assert alert == ["1 error(s); first from fails: disk is full"]


@pytest.mark.parametrize(
    ("name", "where", "message"),
    [
        (
            "subflow_calls_itself.yml",
            ":10:5: tasks[1].flowId: task 'again'",
            "Recursive call to flow [tests.engine.countdown]",
        ),
        (
            "switch_without_tasks.yml",
            ":4:5: tasks[0]: task 'route'",
            "No task defined, neither cases or default have any tasks",
        ),
    ],
)
def test_flows_kestra_rejects_are_rejected_with_their_place(
    env: dict[str, str], name: str, where: str, message: str
) -> None:
    path = FLOWS / "invalid" / name
    for command in ("validate", "run"):
        proc = lanner(command, str(path), env=env)
        assert proc.returncode == 2, proc.stderr
        assert f"{path}{where}" in proc.stderr and message in proc.stderr


def test_current_each_output_reads_the_sibling_of_the_same_iteration(
    env: dict[str, str],
) -> None:
    execution = run_json("current_each_output.yml", env)
    assert execution["state"]["current"] == "SUCCESS"
    consumed = sorted(m for t, _, m in logs(execution["id"], env) if t == "consume")
    assert consumed == ["a: made for a", "b: made for b"]


def test_foreach_stop_cancels_the_other_groups_then_runs_errors_and_finally(
    env: dict[str, str],
) -> None:
    execution = run_json("foreach_stop.yml", env, "--input", "failed=true")
    runs = [(r["taskId"], r.get("value"), r["state"]["current"]) for r in execution["taskRunList"]]
    assert execution["state"]["current"] == "FAILED"
    assert sorted(runs) == [
        ("a1", None, "SUCCESS"),
        ("e1", None, "SUCCESS"),
        ("each", None, "FAILED"),
        ("if", "1", "CANCELLED"),
        ("if", "2", "FAILED"),
        ("if", "3", "CANCELLED"),
        ("ko", None, "FAILED"),
        # The 60-second sleeps of the other groups were interrupted, not waited for.
        ("wait", None, "CANCELLED"),
        ("wait", None, "CANCELLED"),
    ]
    warned = [m for _, level, m in logs(execution["id"], env) if level == "WARN"]
    assert "Task terminated because sibling task 'ko' failed." in warned


def test_foreach_stop_without_a_failure_runs_every_group(env: dict[str, str]) -> None:
    execution = run_json("foreach_stop.yml", env)
    assert execution["state"]["current"] == "SUCCESS"
    states = sorted((r["taskId"], r["state"]["current"]) for r in execution["taskRunList"])
    assert (
        states
        == [("a1", "SUCCESS"), ("each", "SUCCESS")]
        + [("if", "SUCCESS")] * 3
        + [("wait", "SUCCESS")] * 3
    )


def test_error_logs_reach_the_errors_task_from_a_worker_of_another_process(
    cluster: Cluster,
) -> None:
    """An executor and a worker in two processes (SQLite and PostgreSQL): the failed
    task's ERROR line is written by the worker, read by the executor from the store."""
    cluster.deploy(FLOWS / "error_logs.yml")
    cluster.spawn("executor")
    cluster.spawn("worker")
    execution_id = cluster.start("tests.engine", "error_logs")
    [final] = cluster.wait_finalized([execution_id])
    assert final.state.value == "FAILED"
    alert = [r.message for r in cluster.store.get_logs(execution_id) if r.task_id == "alert"]
    assert alert == ["1 error(s); first from fails: disk is full"]
