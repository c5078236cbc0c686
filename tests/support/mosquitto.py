"""The MQTT broker of the MQTT tests: the Mosquitto server at 127.0.0.1:1883 (override
with ``LANNER_TEST_MQTT_HOST`` / ``_PORT``), each test under a topic prefix of its own:
the machine's broker is shared and never restarted.

When it cannot be reached its tests are skipped, except under CI (``CI=true``),
where they fail: .ci/run starts Mosquitto, so a missing broker there is a failure.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

import pytest


@dataclass(frozen=True)
class Mosquitto:
    host: str
    port: int
    prefix: str  # every topic of this test starts with it

    @property
    def server(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def topic(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def publish(self, topic: str, payloads: list[str], qos: int = 1) -> None:
        """Publish with a client of its own, each message acknowledged by the broker."""
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{secrets.token_hex(4)}")
        client.connect(self.host, self.port)
        client.loop_start()
        try:
            for payload in payloads:
                client.publish(topic, payload, qos=qos).wait_for_publish(10)
        finally:
            client.disconnect()
            client.loop_stop()


def mosquitto_unavailable(message: str) -> NoReturn:
    """Skip outside CI; fail in CI, where Mosquitto must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: Mosquitto is required)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(name="mosquitto")
def mosquitto_fixture() -> Iterator[Mosquitto]:
    """Import it as `mosquitto_fixture` and ask for `mosquitto`."""
    try:
        import paho.mqtt.client  # noqa: F401
    except ImportError as exc:
        mosquitto_unavailable(f"paho-mqtt is not installed: {exc}")
    host = os.environ.get("LANNER_TEST_MQTT_HOST", "127.0.0.1")
    port = int(os.environ.get("LANNER_TEST_MQTT_PORT", "1883"))
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        mosquitto_unavailable(f"Mosquitto is not reachable at {host}:{port}: {exc}")
    yield Mosquitto(host, port, f"lanner-test/{secrets.token_hex(6)}")
