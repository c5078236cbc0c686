"""io.kestra.plugin.redis.list.RealtimeTrigger in the trigger runtime, over a real SQLite
store and the machine's Redis (keys of each test's own): one execution per element, and
the elements in flight when a listener dies are handed out again by the next one."""

from __future__ import annotations

from lanner.config import Config
from lanner.model.brokers import RedisListRealtimeTrigger
from lanner.plugin import TaskRegistry
from lanner.runtime.triggers import TriggerRuntime
from lanner.store.base import Store
from lanner.tasks.redis.listener import RedisListListener
from tests.support.redis_server import RedisServer, redis_server_fixture  # noqa: F401 (fixture)
from tests.support.trigger_store import store_fixture, wait_until  # noqa: F401 (fixture)


def test_one_execution_per_element(store: Store, redis_server: RedisServer) -> None:
    key = redis_server.key("jobs")
    store.deploy_flow(
        "company.team",
        "jobs",
        f"""id: jobs
namespace: company.team
tasks:
  - id: echo
    type: io.kestra.plugin.core.log.Log
    message: "Received {{{{ trigger.value }}}}"
triggers:
  - id: watch
    type: io.kestra.plugin.redis.RealtimeTrigger
    url: {redis_server.url}
    key: {key}
    serdeType: JSON
""",
    )
    rt = TriggerRuntime(store, TaskRegistry.from_entry_points(), Config())
    try:
        rt.tick()
        redis_server.client.rpush(key, *[f'{{"n": {i}}}' for i in range(30)])
        wait_until(lambda: rt.fired == 30, "30 executions")
        executions = store.list_executions(flow_id="jobs", limit=100)
        values = sorted(e.trigger["value"]["n"] for e in executions if e.trigger)
        assert values == list(range(30))
        assert executions[0].trigger is not None
        assert executions[0].trigger["type"] == "io.kestra.plugin.redis.list.RealtimeTrigger"
        wait_until(
            lambda: not redis_server.client.keys(key + "*"), "the list and in-flight list gone"
        )
    finally:
        rt.close()


def test_elements_in_flight_are_handed_out_again(redis_server: RedisServer) -> None:
    key = redis_server.key("jobs")
    trigger = RedisListRealtimeTrigger.model_validate(
        {"id": "watch", "type": "x", "url": redis_server.url, "key": key}
    )
    redis_server.client.rpush(key, "a", "b", "c", "d")
    first = RedisListListener(trigger, lambda v: v, "ns.flow.watch")
    got = [m.variables["value"] for m in first.receive(3, 0.1)]
    assert got == ["a", "b", "c"]
    first.close()  # died before its acknowledgement
    second = RedisListListener(trigger, lambda v: v, "ns.flow.watch")
    again = [m.variables["value"] for m in second.receive(10, 0.1)]
    assert again == ["a", "b", "c"]
    more = [m.variables["value"] for m in second.receive(10, 0.1)]
    assert more == ["d"]
    second.ack()
    assert second.receive(10, 0.05) == []
    assert redis_server.client.llen(second.inflight) == 0
    second.close()
