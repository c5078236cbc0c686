"""Execution control end to end, on a real `lanner server` over each backend:
Pause and resume, Subflow (the parent waits for the child's afterExecution;
a kill reaches the child), restart, flow concurrency, and the Flow trigger
(the seed page's promise included)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lanner.engine.execution import Execution, Phase
from tests.support.cluster import Cluster
from tests.support.seed import SEED_FLOWS

FLOWS = Path(__file__).parent / "flows"


@pytest.fixture
def server(cluster: Cluster) -> Cluster:
    cluster.deploy(*sorted(FLOWS.glob("*.yml")), *SEED_FLOWS)
    cluster.spawn("server")
    return cluster


def runs(execution: Execution) -> dict[str, str]:
    return {r.task_id: r.state.value for r in execution.task_runs.values()}


def logs(cluster: Cluster, execution_id: str) -> list[str]:
    return [r.message for r in cluster.store.get_logs(execution_id)]


def test_pause_waits_for_resume_with_its_onresume_input(server: Cluster) -> None:
    execution_id = server.start("control.test", "pause_me")
    server.wait_for(
        lambda: server.store.get_execution(execution_id).state.value == "PAUSED",  # type: ignore[union-attr]
        30,
        "the execution to pause",
    )
    early = server.cli("executions", "restart", execution_id)
    assert early.returncode == 2
    bad = server.cli("executions", "resume", execution_id, "-i", "reasno=typo")
    assert bad.returncode == 2 and "reason" in bad.stderr
    assert server.cli("executions", "resume", execution_id, "-i", "reason=approved").returncode == 0
    [final] = server.wait_finalized([execution_id])
    assert final.state.value == "SUCCESS" and runs(final) == {"wait": "SUCCESS", "said": "SUCCESS"}
    assert "resumed because approved" in logs(server, execution_id)
    again = server.cli("executions", "resume", execution_id)
    assert again.returncode == 2 and "not PAUSED" in again.stderr


def test_cli_pause_holds_a_running_execution_until_resumed(server: Cluster) -> None:
    # The nap outlasts a CLI process's start on a loaded machine, so the pause
    # always lands while it runs.
    execution_id = server.start("control.test", "child", {"greeting": "hi", "nap": "PT15S"})
    server.wait_for(
        lambda: runs(server.store.get_execution(execution_id)).get("nap") == "RUNNING",  # type: ignore[arg-type]
        30,
        "the nap to run",
    )
    paused = server.cli("executions", "pause", execution_id)
    assert paused.returncode == 0, paused.stderr
    server.wait_for(
        lambda: runs(server.store.get_execution(execution_id)).get("nap") == "SUCCESS",  # type: ignore[arg-type]
        60,
        "the running task to end",
    )
    held = server.store.get_execution(execution_id)
    assert held is not None and held.state.value == "PAUSED" and "answer" not in runs(held)
    again = server.cli("executions", "pause", execution_id)
    assert again.returncode == 2 and "RUNNING" in again.stderr
    assert server.cli("executions", "resume", execution_id).returncode == 0
    [final] = server.wait_finalized([execution_id])
    assert final.state.value == "SUCCESS" and final.outputs == {"answer": "HI"}


def test_cli_replay_from_a_task_run(server: Cluster) -> None:
    execution_id = server.start("control.test", "child", {"greeting": "hi", "nap": "PT0.1S"})
    [done] = server.wait_finalized([execution_id])
    answer = next(r for r in done.task_runs.values() if r.task_id == "answer")
    result = server.cli("executions", "replay", execution_id, "--task-run", answer.id)
    assert result.returncode == 0, result.stderr
    new_id = result.stdout.split()[1]
    [again] = server.wait_finalized([new_id])
    assert again.state.value == "SUCCESS" and again.outputs == {"answer": "HI"}
    nap = next(r for r in again.task_runs.values() if r.task_id == "nap")
    assert len(nap.attempts) == 1 and nap.id != answer.id  # copied, not run again
    unknown = server.cli("executions", "replay", execution_id, "--task-run", "nope")
    assert unknown.returncode == 2 and "not a task run" in unknown.stderr


def test_a_subflow_parent_waits_for_the_child_and_its_after_execution(server: Cluster) -> None:
    parent_id = server.start("control.test", "parent")
    [parent] = server.wait_finalized([parent_id])
    assert parent.state.value == "SUCCESS", runs(parent)
    call = next(r for r in parent.task_runs.values() if r.task_id == "call")
    assert call.outputs is not None
    child_id = call.outputs["executionId"]
    [child] = server.wait_finalized([child_id])
    assert child.parent_execution_id == parent_id
    assert child.labels["system.correlationId"] == parent_id
    answer = f"HELLO FROM {parent_id.upper()}"
    assert call.outputs["outputs"] == {"answer": answer}
    assert call.outputs["state"] == "SUCCESS"
    assert f"child said {answer}" in logs(server, parent_id)
    child_after = next(r for r in child.task_runs.values() if r.phase is Phase.AFTER)
    # The parent's task ended only once the child's afterExecution had.
    assert call.histories[-1].date >= child_after.histories[-1].date
    assert child.finalized_at is not None and call.histories[-1].date >= child.finalized_at


def test_a_scheduled_subflow_child_stays_created_until_its_schedule_date(
    server: Cluster,
) -> None:
    # Far enough ahead that a loaded machine sees the child before its date.
    at = datetime.now(UTC) + timedelta(seconds=10)
    parent_id = server.start("control.test", "scheduled_parent", {"at": at.isoformat()})

    def child() -> Execution | None:
        parent = server.store.get_execution(parent_id)
        for run in parent.task_runs.values() if parent else ():
            if run.task_id == "call" and run.outputs:
                return server.store.get_execution(run.outputs["executionId"])
        return None

    created = server.wait_for(child, 30, "the child execution")
    assert created.state.value == "CREATED" and datetime.now(UTC) < at
    [parent] = server.wait_finalized([parent_id], timeout=60)
    assert parent.state.value == "SUCCESS", runs(parent)
    [ended] = server.wait_finalized([created.id])
    started = next(h.date for h in ended.histories if h.state.value == "RUNNING")
    assert started >= at
    assert ended.histories[0].date < at  # created at once, started at its date


def test_killing_a_parent_kills_its_running_subflow_child(server: Cluster) -> None:
    parent_id = server.start("control.test", "parent", {"nap": "PT30S"})

    def child() -> Execution | None:
        found = server.store.list_executions(namespace="control.test", flow_id="child")
        return found[0] if found and found[0].state.value == "RUNNING" else None

    child_id = server.wait_for(child, 30, "the child to run").id
    assert server.cli("executions", "kill", parent_id).returncode == 0
    parent, child_ex = server.wait_finalized([parent_id, child_id], timeout=30)
    assert parent.state.value == "KILLED" and child_ex.state.value == "KILLED"
    assert runs(parent)["parent_done"] == "SUCCESS"  # afterExecution runs after a kill
    assert runs(child_ex)["child_done"] == "SUCCESS"


def test_restart_runs_the_failed_task_again_and_the_handlers_once_more(server: Cluster) -> None:
    execution_id = server.start("control.test", "flaky")
    [failed] = server.wait_finalized([execution_id])
    assert failed.state.value == "FAILED"
    assert server.cli("executions", "restart", execution_id).returncode == 0

    def restarted() -> Execution | None:
        e = server.store.get_execution(execution_id)
        return e if e is not None and e.finalized_at and e.state.value != "FAILED" else None

    final = server.wait_for(restarted, 30, "the restarted execution to end")
    assert final.state.value == "SUCCESS"
    assert runs(final) == {
        "ok": "SUCCESS",
        "flaky": "SUCCESS",
        "cleanup": "SUCCESS",
        "report": "SUCCESS",
    }
    assert len(final.task_runs) == 4  # the first cleanup and report were discarded
    flaky = next(r for r in final.task_runs.values() if r.task_id == "flaky")
    assert [a.state.value for a in flaky.attempts] == ["FAILED", "SUCCESS"]
    assert logs(server, execution_id).count("ended SUCCESS") == 1
    assert server.cli("executions", "restart", execution_id).returncode == 2


def test_concurrency_queue_runs_one_at_a_time_and_frees_the_slot_after_after_execution(
    server: Cluster,
) -> None:
    ids = [server.start("control.test", "one_at_a_time") for _ in range(3)]
    done = server.wait_finalized(ids, timeout=60)
    assert {e.state.value for e in done} == {"SUCCESS"}
    assert sum("QUEUED" in [h.state.value for h in e.histories] for e in done) >= 1
    running = sorted(
        (next(h.date for h in e.histories if h.state.value == "RUNNING"), e.finalized_at)
        for e in done
    )
    for (_, end), (start, _) in itertools.pairwise(running):
        assert end is not None and start >= end  # never two at once, afterExecution included


def test_concurrency_cancel_cancels_the_extra_execution(server: Cluster) -> None:
    first = server.start("control.test", "cancel_extra")
    server.wait_for(
        lambda: server.store.get_execution(first).state.value == "RUNNING",  # type: ignore[union-attr]
        30,
        "the first to run",
    )
    second = server.start("control.test", "cancel_extra")
    a, b = server.wait_finalized([first, second])
    assert a.state.value == "SUCCESS" and b.state.value == "CANCELLED"
    assert b.task_runs == {}


def test_flow_trigger_fires_once_per_failed_upstream_and_never_for_after_execution(
    server: Cluster,
) -> None:
    failed = server.start("company.team", "alerts_demo")
    quiet = server.start("company.team", "after_execution_errors")
    upstream = server.wait_finalized([failed, quiet], timeout=60)
    assert [e.state.value for e in upstream] == ["FAILED", "SUCCESS"]
    triggered = server.wait_for(
        lambda: server.store.list_executions(namespace="control.listeners"), 30, "the listener"
    )
    [listener] = server.wait_finalized([e.id for e in triggered])
    assert listener.state.value == "SUCCESS"
    assert listener.inputs == {"upstream": f"alerts_demo:{failed}"}
    assert listener.trigger is not None and listener.trigger["executionId"] == failed
    assert f"alerts_demo:{failed} failed (FAILED)" in logs(server, listener.id)
    # after_execution_errors ended SUCCESS although a task of its afterExecution
    # failed: nothing listening for FAILED fired for it (the seed page's promise).
    shown = json.loads(
        server.cli("executions", "list", "--json", "--namespace", "control.listeners").stdout
    )
    assert [e["id"] for e in shown] == [listener.id]
