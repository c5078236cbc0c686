"""One MQTT client (paho-mqtt, an optional extra) from the properties a flow gives
(model/brokers.py's MqttConnection), and the payload codec of `serdeType`."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from lanner.model.brokers import MqttConnection, MqttSerdeType
from lanner.model.common import parse_duration

CONNECT_TIMEOUT = 10.0  # seconds, when connectionTimeout is not given
SESSION_EXPIRY = 7 * 24 * 3600  # seconds a persistent (MQTT 5) session is kept
DISCONNECT_WAIT = 5.0  # seconds close() waits for its DISCONNECT to be sent


class MissingClientError(RuntimeError):
    """A broker client library that is not installed."""


class MqttError(RuntimeError):
    """The broker refused or could not be reached."""


def need_paho() -> Any:
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        raise MissingClientError(
            "the MQTT client paho-mqtt is not installed: install Lanner's `mqtt` extra"
            " (pip install 'lanner[mqtt]') or `pip install paho-mqtt`"
        ) from None
    return mqtt


def where(props: MqttConnection, render: Callable[[Any], Any]) -> str:
    parts = urlsplit(str(render(props.server)))
    return f"{parts.hostname}:{parts.port or 1883}"


def connect(
    props: MqttConnection,
    render: Callable[[Any], Any],
    *,
    client_id: str,
    persistent: bool = False,
    manual_ack: bool = False,
    on_connect: Callable[[Any], None] | None = None,
    on_message: Callable[[Any], None] | None = None,
) -> Any:
    """A connected client whose network loop runs in paho's thread. `persistent`: the
    broker keeps the session (subscriptions, unacknowledged messages) across
    connections of `client_id`; `on_connect(client)` runs at each (re)connection."""
    mqtt = need_paho()
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    server = urlsplit(str(render(props.server)))
    if server.scheme not in ("tcp", "ssl", "mqtt", "mqtts"):
        raise MqttError(f"server {props.server!r}: use tcp://host:port or ssl://host:port")
    tls = server.scheme in ("ssl", "mqtts")
    v5 = props.mqttVersion == "V5"
    if v5:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=manual_ack,
        )
    else:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
            protocol=mqtt.MQTTv311,
            manual_ack=manual_ack,
        )
    if props.username is not None:
        password = str(render(props.password)) if props.password is not None else None
        client.username_pw_set(str(render(props.username)), password)
    if tls:
        client.tls_set(ca_certs=str(render(props.crt)) if props.crt is not None else None)
    connected = threading.Event()
    refused: list[str] = []

    def connected_cb(c: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            refused.append(str(reason))
        elif on_connect is not None:
            on_connect(c)
        connected.set()

    client.on_connect = connected_cb
    if on_message is not None:
        client.on_message = lambda c, userdata, message: on_message(message)
    timeout = CONNECT_TIMEOUT
    if props.connectionTimeout is not None:
        timeout = parse_duration(props.connectionTimeout).total_seconds()
    kwargs: dict[str, Any] = {}
    if v5:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY if persistent else 0
        kwargs = {"clean_start": not persistent, "properties": properties}
    try:
        client.connect(
            server.hostname or "localhost", server.port or (8883 if tls else 1883), 30, **kwargs
        )
    except OSError as exc:
        raise MqttError(f"MQTT broker {where(props, render)}: {exc}") from None
    client.loop_start()
    if not connected.wait(timeout) or refused:
        client.loop_stop()
        client.disconnect()
        detail = refused[0] if refused else f"no answer in {timeout:g} s"
        raise MqttError(f"MQTT broker {where(props, render)}: {detail}")
    return client


def close(client: Any) -> None:
    # Stop the network loop only once the DISCONNECT is out: the packets queued before
    # it (the PUBACKs of a manual acknowledgement) are then sent, not dropped.
    gone = threading.Event()
    client.on_disconnect = lambda *args: gone.set()
    if client.is_connected():
        client.disconnect()
        gone.wait(DISCONNECT_WAIT)
    else:
        client.disconnect()
    client.loop_stop()


def decode(payload: bytes, serde: MqttSerdeType) -> Any:
    if serde is MqttSerdeType.BYTES:
        return base64.b64encode(payload).decode()
    text = payload.decode("utf-8", errors="replace")
    return json.loads(text) if serde is MqttSerdeType.JSON else text


def encode(value: Any, serde: MqttSerdeType) -> bytes:
    if serde is MqttSerdeType.BYTES:
        return base64.b64decode(str(value))
    if serde is MqttSerdeType.JSON:
        return json.dumps(value, separators=(",", ":"), default=str).encode()
    return (value if isinstance(value, str) else json.dumps(value, default=str)).encode()


def message_fields(message: Any, serde: MqttSerdeType) -> dict[str, Any]:
    """A received message as Kestra's: `topic`, `payload`, `qos`, `retain`, `id`."""
    return {
        "id": message.mid,
        "topic": message.topic,
        "payload": decode(message.payload, serde),
        "qos": message.qos,
        "retain": bool(message.retain),
    }
