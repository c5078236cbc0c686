"""io.kestra.plugin.mqtt.RealtimeTrigger in the trigger runtime, over a real SQLite store
and the machine's Mosquitto (topics of each test's own): one execution per message,
and the messages a dead listener had not acknowledged are sent again to the next."""

from __future__ import annotations

import time
from typing import Any

from lanner.config import Config
from lanner.model.brokers import MqttRealtimeTrigger
from lanner.plugin import TaskRegistry
from lanner.runtime.triggers import TriggerRuntime
from lanner.store.base import Store
from lanner.tasks.mqtt.listener import MqttListener
from tests.support.mosquitto import Mosquitto, mosquitto_fixture  # noqa: F401 (fixture)
from tests.support.trigger_store import store_fixture, wait_until  # noqa: F401 (fixture)


def test_one_execution_per_message(store: Store, mosquitto: Mosquitto) -> None:
    store.deploy_flow(
        "company.team",
        "sensors",
        f"""id: sensors
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.payload }}}}"
triggers:
  - id: realtime
    type: io.kestra.plugin.mqtt.RealtimeTrigger
    server: {mosquitto.server}
    clientId: {mosquitto.prefix.replace("/", "-")}
    topic:
      - {mosquitto.topic("cpu")}
      - {mosquitto.topic("mem")}
    serdeType: JSON
""",
    )
    rt = TriggerRuntime(store, TaskRegistry.from_entry_points(), Config())
    try:
        rt.tick()
        wait_until(lambda: all(r.is_alive() for r in rt.runners.values()), "the listener")
        time.sleep(0.5)  # subscribed
        mosquitto.publish(mosquitto.topic("cpu"), [f'{{"n": {i}}}' for i in range(10)])
        mosquitto.publish(mosquitto.topic("mem"), [f'{{"n": {i}}}' for i in range(10, 20)])
        wait_until(lambda: rt.fired == 20, "20 executions")
        executions = store.list_executions(flow_id="sensors", limit=100)
        assert sorted(e.trigger["payload"]["n"] for e in executions if e.trigger) == list(range(20))
        topics = {e.trigger["topic"] for e in executions if e.trigger}
        assert topics == {mosquitto.topic("cpu"), mosquitto.topic("mem")}
    finally:
        rt.close()


def test_messages_not_acknowledged_by_a_dead_listener_come_again(mosquitto: Mosquitto) -> None:
    trigger = MqttRealtimeTrigger.model_validate(
        {
            "id": "realtime",
            "type": "x",
            "server": mosquitto.server,
            "topic": mosquitto.topic("jobs"),
            "serdeType": "STRING",
        }
    )
    name = f"ns.flow.{mosquitto.prefix}"
    first = MqttListener(trigger, lambda v: v, name)
    time.sleep(0.3)
    mosquitto.publish(mosquitto.topic("jobs"), ["a", "b", "c"])
    got: list[Any] = []
    deadline = time.monotonic() + 10
    while len(got) < 3 and time.monotonic() < deadline:
        got.extend(m.variables["payload"] for m in first.receive(10, 0.2))
    assert got == ["a", "b", "c"]
    # Dies without acknowledging (no DISCONNECT: the connection is just gone).
    first.client.loop_stop()
    first.client.socket().close()
    mosquitto.publish(mosquitto.topic("jobs"), ["d"])  # kept for the session meanwhile
    second = MqttListener(trigger, lambda v: v, name)
    try:
        again: list[Any] = []
        deadline = time.monotonic() + 10
        while len(again) < 4 and time.monotonic() < deadline:
            again.extend(m.variables["payload"] for m in second.receive(10, 0.2))
        assert sorted(again) == ["a", "b", "c", "d"]
        second.ack()
    finally:
        second.close()


def test_topics_a_new_revision_dropped_start_nothing(mosquitto: Mosquitto) -> None:
    base = {"id": "rt", "type": "x", "server": mosquitto.server, "serdeType": "STRING"}
    name = f"ns.flow.{mosquitto.prefix}"
    old = MqttRealtimeTrigger.model_validate({**base, "topic": mosquitto.topic("old")})
    MqttListener(old, lambda v: v, name).close()  # the session subscribes to "old"
    new = MqttRealtimeTrigger.model_validate({**base, "topic": mosquitto.topic("new")})
    listener = MqttListener(new, lambda v: v, name)
    try:
        time.sleep(0.3)
        mosquitto.publish(mosquitto.topic("old"), ["stale"])
        mosquitto.publish(mosquitto.topic("new"), ["fresh"])
        got: list[Any] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not got:
            got.extend(m.variables["payload"] for m in listener.receive(10, 0.2))
        time.sleep(0.3)
        got.extend(m.variables["payload"] for m in listener.receive(10, 0.2))
        assert got == ["fresh"]
    finally:
        listener.close()
