"""io.kestra.plugin.mqtt.* tasks against the machine's Mosquitto (topics of each test's own)."""

from __future__ import annotations

import threading
import time

import pytest

from lanner.model.states import State
from lanner.plugin import Outcome
from lanner.storage import LocalStorage
from lanner.tasks.mqtt.model import Publish, Subscribe
from lanner.tasks.mqtt.tasks import run_publish, run_subscribe
from tests.support.broker_tasks import ctx_fixture, make, storage_fixture, stored_rows  # noqa: F401
from tests.support.mosquitto import Mosquitto, mosquitto_fixture  # noqa: F401 (fixture)
from tests.support.task_context import LocalTaskContext


@pytest.mark.parametrize("version", ["V5", "V3"])
def test_publish_reaches_a_subscriber(
    mosquitto: Mosquitto, ctx: LocalTaskContext, storage: LocalStorage, version: str
) -> None:
    topic = mosquitto.topic("sensors/cpu")
    subscribe = make(
        Subscribe,
        server=mosquitto.server,
        clientId=f"sub-{version}",
        mqttVersion=version,
        topic=mosquitto.prefix + "/sensors/#",
        maxRecords=3,
        maxDuration="PT20S",
    )
    result: list[Outcome] = []
    subscriber = threading.Thread(target=lambda: result.append(run_subscribe(subscribe, ctx)))
    subscriber.start()
    time.sleep(0.5)  # subscribed
    publish = make(
        Publish,
        server=mosquitto.server,
        clientId=f"pub-{version}",
        mqttVersion=version,
        topic=topic,
        serdeType="JSON",
        **{"from": [{"type": "sensors", "value": 1.23}, "{{ inputs.who }}", 3]},
    )
    out = run_publish(publish, ctx)
    assert out.state is State.SUCCESS, out.error
    assert out.outputs == {"messagesCount": 3}
    subscriber.join(30)
    outcome = result[0]
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["messagesCount"] == 3
    rows = stored_rows(storage, outcome.outputs["uri"])
    assert [r["payload"] for r in rows] == [{"type": "sensors", "value": 1.23}, "Ada", 3]
    assert {r["topic"] for r in rows} == {topic}


def test_an_unreachable_broker_fails_the_task(ctx: LocalTaskContext) -> None:
    from tests.support.ports import free_port

    port = free_port()
    publish = make(
        Publish,
        server=f"tcp://127.0.0.1:{port}",
        clientId="x",
        topic="t",
        serdeType="STRING",
        **{"from": "hello"},
    )
    outcome = run_publish(publish, ctx)
    assert outcome.state is State.FAILED
    assert f"MQTT broker 127.0.0.1:{port}" in str(outcome.error)
