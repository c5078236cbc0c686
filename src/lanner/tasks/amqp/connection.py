"""One connection to RabbitMQ with pika (an optional extra), from the properties a
flow gives (model/brokers.py's AmqpConnection), and the message codec shared by
Publish, Consume and the RealtimeTrigger."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from lanner.model.brokers import AmqpConnection, SerdeType

CONNECT_TIMEOUT = 10.0  # seconds


class MissingClientError(RuntimeError):
    """A broker client library that is not installed."""


def need_pika() -> Any:
    try:
        import pika
    except ImportError:
        raise MissingClientError(
            "the AMQP client pika is not installed: install Lanner's `amqp` extra"
            " (pip install 'lanner[amqp]') or `pip install pika`"
        ) from None
    return pika


def parameters(props: AmqpConnection, render: Callable[[Any], Any]) -> Any:
    """pika's connection parameters: `url` (deprecated in Kestra) or host, port, ..."""
    pika = need_pika()
    if props.url is not None and props.host is None:
        params = pika.URLParameters(str(render(props.url)))
    else:
        host = str(render(props.host))
        port = int(render(props.port)) if props.port is not None else 5672
        user = str(render(props.username)) if props.username is not None else "guest"
        password = str(render(props.password)) if props.password is not None else "guest"
        vhost = str(render(props.virtualHost)) if props.virtualHost is not None else "/"
        params = pika.ConnectionParameters(
            host=host,
            port=port,
            virtual_host=vhost,
            credentials=pika.PlainCredentials(user, password),
        )
    params.socket_timeout = CONNECT_TIMEOUT
    params.blocked_connection_timeout = CONNECT_TIMEOUT * 3
    params.connection_attempts = 1
    return params


def connect(props: AmqpConnection, render: Callable[[Any], Any]) -> Any:
    """A pika BlockingConnection (used from one thread)."""
    pika = need_pika()
    return pika.BlockingConnection(parameters(props, render))


def where(props: AmqpConnection, render: Callable[[Any], Any]) -> str:
    """The broker's address for messages, without the password."""
    if props.url is not None and props.host is None:
        text = str(render(props.url))
        return text.split("@", 1)[-1]
    port = render(props.port) if props.port is not None else 5672
    vhost = render(props.virtualHost) if props.virtualHost is not None else "/"
    return f"{render(props.host)}:{port}/{quote(str(vhost), safe='')}"


def decode_body(body: bytes, serde: SerdeType) -> Any:
    text = body.decode("utf-8", errors="replace")
    if serde is SerdeType.JSON:
        return json.loads(text)
    return text


def encode_body(data: Any, serde: SerdeType) -> bytes:
    if serde is SerdeType.JSON or not isinstance(data, str):
        # STRING of a structure: its JSON (Kestra would print a Java map).
        return json.dumps(data, separators=(",", ":"), default=str).encode()
    return data.encode()


# AMQP's basic properties as Kestra's Message names them.
_PROPERTIES = {
    "contentType": "content_type",
    "contentEncoding": "content_encoding",
    "deliveryMode": "delivery_mode",
    "priority": "priority",
    "messageId": "message_id",
    "correlationId": "correlation_id",
    "replyTo": "reply_to",
    "expiration": "expiration",
    "type": "type",
    "userId": "user_id",
    "appId": "app_id",
}


def message_fields(properties: Any, body: bytes, serde: SerdeType) -> dict[str, Any]:
    """A received message as Kestra's Message: `data` and the properties set."""
    fields: dict[str, Any] = {"data": decode_body(body, serde)}
    if properties.headers:
        fields["headers"] = {str(k): _plain(v) for k, v in properties.headers.items()}
    for name, attribute in _PROPERTIES.items():
        value = getattr(properties, attribute, None)
        if value is not None:
            fields[name] = _plain(value)
    if properties.timestamp is not None:
        stamp = datetime.fromtimestamp(int(properties.timestamp), UTC)
        fields["timestamp"] = stamp.isoformat().replace("+00:00", "Z")
    return fields


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
