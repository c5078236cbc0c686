"""The KV store in the runtime, on both backends: kv() read inside the executor's cycle,
the KV tasks on a worker, and the maintenance purge of expired pairs (docs/kv.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from lanner.config import Config
from lanner.engine.execution import Execution, History
from lanner.expr import SecretMasker
from lanner.model.kvtypes import KVEntry, KVType
from lanner.model.states import State
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.maintenance import Maintenance
from lanner.runtime.process import Process
from lanner.runtime.worker import _Context
from lanner.storage import LocalStorage
from lanner.store import open_store
from lanner.store.base import Job

FLOW = """
id: counter
namespace: company.team
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('count', errorOnMissing=false) ?? 0 }}"
  - id: bump
    type: io.kestra.plugin.core.kv.Set
    key: count
    value: "{{ (outputs.read.value | number) + 1 }}"
    kvType: NUMBER
  - id: again
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('count') }} {{ kv('base') }}"
"""


def test_each_execution_reads_what_the_previous_one_wrote(db_url: str, tmp_path: Path) -> None:
    registry = TaskRegistry.from_entry_points()
    store = open_store(db_url)
    now = datetime.now(UTC)
    store.kv_put(KVEntry("company", "base", KVType.STRING, "inherited"), now)
    runtime = Process(store, registry, Config(), alone=True)
    runtime.start()
    try:
        revision, _ = store.deploy_flow("company.team", "counter", FLOW)
        flow = load_flow(FLOW, registry)
        seen = []
        for _ in range(2):
            execution = runtime.create_execution(flow, revision, {})
            final = runtime.wait_finalized(execution.id, timeout=120)
            assert final.state is State.SUCCESS
            runs = {r.task_id: r for r in final.task_runs.values()}
            seen.append((runs["again"].outputs or {})["value"])
        assert seen == ["1 inherited", "2 inherited"]
        entry = store.kv_get("company.team", "count", datetime.now(UTC))
        assert entry is not None and (entry.type, entry.value) == (KVType.NUMBER, 2)
    finally:
        runtime.stop()
        store.close()


def test_maintenance_purges_expired_pairs(db_url: str) -> None:
    store = open_store(db_url)
    now = datetime.now(UTC)
    try:
        store.kv_put(KVEntry("ns", "old", KVType.STRING, "v", expires_at=now), now)
        store.kv_put(KVEntry("ns", "live", KVType.STRING, "v", expires_at=now + timedelta(1)), now)
        store.kv_put(KVEntry("ns", "kept", KVType.STRING, "v"), now)
        Maintenance(store, Config(), "p1", "executor", reaper=True).tick(now)
        assert [k for _, k, _ in store.kv_index()] == ["kept", "live"]
    finally:
        store.close()


def test_a_job_written_without_its_namespace_finds_it_in_the_store(
    db_url: str, tmp_path: Path
) -> None:
    # Jobs written before jobs carried "namespace" still give their task the
    # execution's namespace, read from the store.
    store = open_store(db_url)
    now = datetime.now(UTC)
    try:
        store.create_execution(
            Execution(
                id="e1",
                namespace="company.data",
                flow_id="f",
                flow_revision=1,
                state=State.RUNNING,
                histories=(History(State.CREATED, now),),
            ),
            [],
        )
        job = Job("tr1", "e1", 1, {"taskId": "t", "type": "x"}, "token", 1, now)
        ctx = _Context(job, SecretMasker(), LocalStorage(tmp_path / "storage"), store)
        assert ctx.kv.namespace == "company.data"
        ctx.kv.set(ctx.kv.namespace, "k", "v", overwrite=False)
        ctx.kv.set(ctx.kv.namespace, "k", "v", overwrite=False)  # the same attempt, again
        with_payload = Job("tr2", "e1", 1, {"taskId": "t", "namespace": "other"}, "t2", 1, now)
        assert (
            _Context(
                with_payload, SecretMasker(), LocalStorage(tmp_path / "storage"), store
            ).kv.namespace
            == "other"
        )
    finally:
        store.close()
