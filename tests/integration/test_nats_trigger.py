"""io.kestra.plugin.nats.RealtimeTrigger in the trigger runtime, over a real SQLite store
and the machine's NATS JetStream (a stream of each test's own): one execution per
message, and a message delivered again (never acknowledged) starts nothing twice."""

from __future__ import annotations

from lanner.config import Config
from lanner.plugin import TaskRegistry
from lanner.runtime.realtime import message_execution_id
from lanner.runtime.triggers import TriggerRuntime
from lanner.store.base import Store
from tests.support.nats_server import NatsServer, nats_server_fixture  # noqa: F401 (fixture)
from tests.support.trigger_store import store_fixture, wait_until  # noqa: F401 (fixture)


def _flow(nats_server: NatsServer) -> str:
    return f"""id: events
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.data }}}}"
triggers:
  - id: watch
    type: io.kestra.plugin.nats.core.RealtimeTrigger
    url: {nats_server.url}
    subject: {nats_server.prefix}.>
    durableId: natsTrigger
    deliverPolicy: All
"""


def test_one_execution_per_message_each_once(store: Store, nats_server: NatsServer) -> None:
    nats_server.publish(nats_server.subject("a"), [f"m{i}" for i in range(15)])
    store.deploy_flow("company.team", "events", _flow(nats_server))
    rt = TriggerRuntime(store, TaskRegistry.from_entry_points(), Config())
    try:
        rt.tick()
        wait_until(lambda: rt.fired == 15, "15 executions")
        wait_until(lambda: nats_server.pending("natsTrigger") == 0, "every message acknowledged")
        executions = store.list_executions(flow_id="events", limit=100)
        assert sorted(str((e.trigger or {})["data"]) for e in executions) == sorted(
            f"m{i}" for i in range(15)
        )
        first = executions[0].trigger or {}
        assert first["subject"] == nats_server.subject("a")
        assert first["type"] == "io.kestra.plugin.nats.RealtimeTrigger"
        assert first["timestamp"].endswith("Z")
    finally:
        rt.close()


def test_a_message_delivered_again_keeps_its_execution_id() -> None:
    key = ("company.team", "events", "watch")
    seen = "stream:7:2025-01-06T12:00:00.123456+00:00"
    assert message_execution_id(key, seen) == message_execution_id(key, seen)
    assert message_execution_id(key, seen) != message_execution_id(key, seen.replace("7", "8", 1))
    assert message_execution_id(key, None) != message_execution_id(key, None)
