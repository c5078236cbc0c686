"""The core tasks that act on the instance, on a real `lanner server` over each backend:
log.Fetch, PurgeLogs, PurgeExecutions, Resume, trigger.Toggle, and the state store tasks
inside a ForEach (docs/tasks-core.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lanner.engine.execution import Execution
from lanner.ion.reader import read_values
from lanner.storage import LocalStorage
from lanner.storage.uris import storage_path
from tests.support.cluster import Cluster

FLOWS = Path(__file__).parent / "coreflows"


@pytest.fixture
def server(cluster: Cluster) -> Cluster:
    cluster.deploy(*sorted(FLOWS.glob("*.yml")))
    cluster.spawn("server")
    return cluster


def outputs(execution: Execution, task_id: str) -> dict[str, Any]:
    run = next(r for r in execution.task_runs.values() if r.task_id == task_id)
    assert run.state.value == "SUCCESS", (run.state, execution.error)
    return dict(run.outputs or {})


def run(server: Cluster, flow_id: str, **inputs: Any) -> Execution:
    [done] = server.wait_finalized([server.start("core.admin", flow_id, inputs)])
    return done


def test_fetch_then_purge_logs_and_executions(server: Cluster) -> None:
    noisy = [run(server, "noisy"), run(server, "noisy")]
    assert all(e.state.value == "SUCCESS" for e in noisy)
    fetched = run(server, "fetcher", target=noisy[0].id)
    out = outputs(fetched, "fetch")
    assert out["size"] == 1
    storage = LocalStorage(server.home / "storage")
    with storage.open(storage_path(out["uri"])) as data:
        [line] = read_values(data)
    assert (line["taskId"], line["level"], line["message"]) == ("warn", "WARN", "careful")
    assert (line["namespace"], line["flowId"], line["executionId"]) == (
        "core.admin",
        "noisy",
        noisy[0].id,
    )

    purger = run(server, "purger")
    assert outputs(purger, "logs") == {"count": 2}  # the WARN line of each noisy run
    counts = outputs(purger, "purge")
    # Both noisy runs and the fetcher (whose Ion file goes too); not the purger itself.
    assert counts["executionsCount"] == 3 and counts["metricsCount"] == 0
    assert counts["storagesCount"] >= 1 and counts["logsCount"] >= 2
    for gone in (*noisy, fetched):
        assert server.store.get_execution(gone.id) is None
        assert server.store.get_logs(gone.id) == []
    assert storage.info(storage_path(out["uri"])) is None
    assert server.store.get_execution(purger.id) is not None


def test_resume_a_paused_execution_from_a_task(server: Cluster) -> None:
    paused = server.start("core.admin", "waits")
    server.wait_for(
        lambda: server.store.get_execution(paused).state.value == "PAUSED",  # type: ignore[union-attr]
        30,
        "the execution to pause",
    )
    resumer = run(server, "resumer", target=paused)
    assert resumer.state.value == "SUCCESS"
    [done] = server.wait_finalized([paused])
    assert done.state.value == "SUCCESS"
    assert "resumed: by a task" in [r.message for r in server.store.get_logs(paused)]
    again = run(server, "resumer", target=paused)  # not PAUSED any more: the task fails
    assert again.state.value == "FAILED"
    assert "not PAUSED" in str(again.error)


def test_resume_finds_the_paused_execution_of_a_flow(server: Cluster) -> None:
    paused = server.start("core.admin", "waits")
    server.wait_for(
        lambda: server.store.get_execution(paused).state.value == "PAUSED",  # type: ignore[union-attr]
        30,
        "the execution to pause",
    )
    assert run(server, "resumer_by_flow").state.value == "SUCCESS"
    [done] = server.wait_finalized([paused])
    assert done.state.value == "SUCCESS"
    assert "resumed: found by its flow" in [r.message for r in server.store.get_logs(paused)]
    nothing = run(server, "resumer_by_flow")  # no PAUSED execution left
    assert nothing.state.value == "FAILED" and "no PAUSED execution" in str(nothing.error)


def test_fetch_reads_its_own_execution_by_default(server: Cluster) -> None:
    done = run(server, "selfie")
    out = outputs(done, "fetch")
    assert out["size"] == 1
    with LocalStorage(server.home / "storage").open(storage_path(out["uri"])) as data:
        [line] = read_values(data)
    assert (line["executionId"], line["message"]) == (done.id, "note this")


def test_toggle_disables_a_trigger(server: Cluster) -> None:
    key = ("core.admin", "scheduled", "yearly")
    server.wait_for(lambda: server.store.get_trigger_context(*key), 30, "the trigger context")
    assert run(server, "toggler").state.value == "SUCCESS"
    context = server.store.get_trigger_context(*key)
    assert context is not None and context.disabled


def test_state_store_keeps_one_state_per_foreach_value(server: Cluster) -> None:
    done = run(server, "stateful")
    assert done.state.value == "SUCCESS", done.error
    pairs = server.store.kv_list("core.admin", datetime.now(UTC))
    states = {e.key: e.value for e in pairs if e.key.startswith("states_stateful_default")}
    assert sorted(v["seen"] for v in states.values()) == ["a", "b"]
    assert all(len(k) == len("states_stateful_default_") + 16 for k in states)
    # Outside the ForEach, with taskrunValue false, the flow's own state is still empty.
    assert outputs(done, "get") == {"count": 0, "data": {}}
    assert outputs(done, "templated") == {"value": "stateful 0"}
