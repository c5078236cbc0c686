"""A retry with `behavior: CREATE_NEW_EXECUTION` on a real `lanner server`: each
failure is handed to a new execution of the chain, started after the interval, until
`maxAttempts` executions have run (RETRIED, RETRIED, FAILED, as Kestra's RetryCaseTest
asserts); a Subflow parent hears the end of the last one."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

from lanner.engine.execution import Execution
from tests.support.cli import lanner
from tests.support.cluster import Cluster

FLOWS = Path(__file__).parent / "flows"


@pytest.fixture
def server(cluster: Cluster) -> Cluster:
    cluster.deploy(
        FLOWS / "retry_chain.yml",
        FLOWS / "retry_chain_parent.yml",
        FLOWS / "retry_chain_sleepy.yml",
        FLOWS / "retry_chain_sleepy_parent.yml",
    )
    cluster.spawn("server")
    return cluster


def _chain(server: Cluster, first_id: str) -> list[Execution]:
    """The three finished executions of the chain that `first_id` began, oldest first."""

    def three() -> list[Execution] | None:
        found = server.store.list_executions(namespace="control.test", flow_id="retry_chain")
        chain = [e for e in found if e.origin_id == first_id]
        if len(chain) == 3 and all(e.finalized_at for e in chain):
            return sorted(chain, key=lambda e: e.attempt_number)
        return None

    chain: list[Execution] = server.wait_for(three, 90, "three executions of the chain")
    return chain


def test_each_failure_starts_the_next_execution_until_max_attempts(server: Cluster) -> None:
    first_id = server.start("control.test", "retry_chain")
    chain = _chain(server, first_id)
    assert [e.state.value for e in chain] == ["RETRIED", "RETRIED", "FAILED"]
    assert chain[0].id == first_id
    assert [e.attempt_number for e in chain] == [1, 2, 3]
    assert {e.origin_date for e in chain} == {chain[0].start_date}
    for before, after in pairwise(chain):
        assert before.terminal_at is not None
        # CREATED when the failure was committed, RUNNING once the interval elapsed.
        running = next(h.date for h in after.histories if h.state.value == "RUNNING")
        assert (running - before.terminal_at).total_seconds() >= 1.0
    shown = server.cli("executions", "show", chain[2].id)
    assert shown.returncode == 0, shown.stderr
    assert f'"originalId": "{first_id}"' in shown.stdout
    assert '"attemptNumber": 3' in shown.stdout


def test_a_subflow_parent_hears_the_last_execution_of_its_childs_chain(server: Cluster) -> None:
    parent_id = server.start("control.test", "retry_chain_parent")
    [parent] = server.wait_finalized([parent_id], timeout=90)
    assert parent.state.value == "FAILED"
    [call] = [r for r in parent.task_runs.values() if r.task_id == "call"]
    assert call.outputs is not None
    first_child = call.outputs["executionId"]
    chain = _chain(server, first_child)
    assert [e.state.value for e in chain] == ["RETRIED", "RETRIED", "FAILED"]
    assert all(e.parent_execution_id == parent_id for e in chain)


def test_killing_the_parent_kills_the_child_of_the_chain_that_runs(server: Cluster) -> None:
    parent_id = server.start("control.test", "retry_chain_sleepy_parent")

    def second_child_napping() -> Execution | None:
        found = server.store.list_executions(flow_id="retry_chain_sleepy", limit=10)
        for summary in found:
            e = server.store.get_execution(summary.id)
            if e is None or e.attempt_number != 2:
                continue
            if any(r.task_id == "nap" and r.state.value == "RUNNING" for r in e.task_runs.values()):
                return e
        return None

    second = server.wait_for(second_child_napping, 90, "the second child to nap")
    assert server.cli("executions", "kill", parent_id).returncode == 0
    [parent, child] = server.wait_finalized([parent_id, second.id], timeout=90)
    assert parent.state.value == "KILLED"
    assert child.state.value == "KILLED"
    first = server.store.get_execution(second.origin_id)
    assert first is not None and first.state.value == "RETRIED"


def test_lanner_run_follows_the_chain_to_its_last_execution(env: dict[str, str]) -> None:
    proc = lanner("run", str(FLOWS / "retry_chain.yml"), "--json", env=env)
    assert proc.returncode == 1, proc.stderr  # the last one FAILED
    last = json.loads(proc.stdout)
    assert last["state"]["current"] == "FAILED"
    assert last["metadata"]["attemptNumber"] == 3
    first = lanner("executions", "show", last["originalId"], env=env)
    assert first.returncode == 0, first.stderr
    shown = json.loads(first.stdout)
    assert shown["state"]["current"] == "RETRIED"
    assert shown["originalId"] == shown["id"] and shown["metadata"]["attemptNumber"] == 1
