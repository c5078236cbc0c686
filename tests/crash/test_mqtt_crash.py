"""An MQTT realtime trigger survives a SIGKILLed `lanner server` mid-stream: no QoS 1
message is lost (the listener's persistent session keeps what it had not
acknowledged, and what arrives while no server listens). MQTT gives no message id
that outlives a connection, so the messages in flight at the kill may start a
second execution (at least once)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanner.runtime.realtime import BATCH
from tests.support.cluster import Cluster
from tests.support.mosquitto import Mosquitto, mosquitto_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

# Under mosquitto's default max_queued_messages (1000): what is published while no
# server listens must fit in the session the broker keeps.
MESSAGES = 600


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(f"sqlite://{tmp_path / 'lanner.db'}", tmp_path / "home")
    try:
        yield c
    finally:
        c.close()


def _payloads(c: Cluster) -> list[int]:
    found = c.store.list_executions(flow_id="readings", limit=100_000)
    return [int(str((e.trigger or {})["payload"])) for e in found]


def _stream(c: Cluster) -> list[int]:
    return [p for p in _payloads(c) if p >= 0]


@pytest.mark.timeout(240)
def test_sigkill_mid_stream_loses_no_message(cluster: Cluster, mosquitto: Mosquitto) -> None:
    c = cluster
    topic = mosquitto.topic("readings")
    path = c.home / "readings.yml"
    path.write_text(
        f"""id: readings
namespace: crash.test
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.payload }}}}"
triggers:
  - id: watch
    type: io.kestra.plugin.mqtt.RealtimeTrigger
    server: {mosquitto.server}
    topic: {topic}
    qos: 1
"""
    )
    c.deploy(path)
    server = c.spawn("server", "--threads", "2", "--port", "0")

    # The stream starts once the listener has subscribed (opening its persistent
    # session): until then the broker keeps nothing for it, so -1 is sent until it
    # starts an execution.
    def subscribed() -> bool:
        mosquitto.publish(topic, ["-1"])
        time.sleep(0.5)
        return -1 in _payloads(c)

    c.wait_for(subscribed, 60, "the listener's first execution")

    def publish() -> None:  # a steady stream, ~500 messages a second at most
        for start in range(0, MESSAGES, 25):
            mosquitto.publish(topic, [str(i) for i in range(start, start + 25)])
            time.sleep(0.05)

    publisher = threading.Thread(target=publish)
    publisher.start()
    c.wait_for(lambda: len(_stream(c)) >= 100, 60, "the first 100 executions")
    server.kill()  # SIGKILL, mid-stream
    stopped_at = len(_stream(c))
    publisher.join(60)
    assert stopped_at < MESSAGES, "the stream ended before the kill: nothing was tested"
    c.spawn("server", "--threads", "2", "--port", "0")
    c.wait_for(lambda: set(_stream(c)) == set(range(MESSAGES)), 120, "every message's execution")
    time.sleep(1.0)
    counts = Counter(_stream(c))
    assert all(n <= 2 for n in counts.values())
    assert sum(1 for n in counts.values() if n > 1) <= BATCH
