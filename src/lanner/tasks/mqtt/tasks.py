"""Running the MQTT task types (docs/tasks-brokers.md)."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

from lanner.ion.reader import read_values
from lanner.ion.writer import write_values
from lanner.model.common import parse_duration
from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.mqtt.connection import (
    MissingClientError,
    MqttError,
    close,
    connect,
    encode,
    message_fields,
)
from lanner.tasks.mqtt.model import Publish, Subscribe

MQTT = "io.kestra.plugin.mqtt."
PUBLISH_TIMEOUT = 30.0  # seconds a message waits for the broker's acknowledgement


def _failed(message: str) -> Outcome:
    return Outcome(State.FAILED, error=message)


def _payloads(task: Publish, ctx: TaskContext) -> Iterator[Any]:
    source = ctx.render(task.from_)
    if isinstance(source, str) and source.startswith("kestra://"):
        with ctx.open_file(source) as stream:
            yield from read_values(stream, source=source)
        return
    yield from source if isinstance(source, list) else [source]


def run_publish(task: Publish, ctx: TaskContext) -> Outcome:
    topic = str(ctx.render(task.topic))
    qos = int(ctx.render(task.qos))
    retain = str(ctx.render(task.retain)).lower() == "true"
    try:
        payloads = [encode(p, task.serdeType) for p in _payloads(task, ctx)]
        client = connect(task, ctx.render, client_id=str(ctx.render(task.clientId)))
    except (MissingClientError, MqttError, ValueError) as exc:
        return _failed(str(exc))
    count = 0
    try:
        for payload in payloads:
            if ctx.cancelled:
                break
            info = client.publish(topic, payload, qos=qos, retain=retain)
            info.wait_for_publish(PUBLISH_TIMEOUT)
            if not info.is_published():
                return _failed(f"MQTT broker did not acknowledge message {count + 1}")
            count += 1
    finally:
        close(client)
    return Outcome(outputs={"messagesCount": count})


def run_subscribe(task: Subscribe, ctx: TaskContext) -> Outcome:
    topics = [str(ctx.render(t)) for t in task.topic]
    qos = int(ctx.render(task.qos))
    max_records = int(ctx.render(task.maxRecords)) if task.maxRecords is not None else None
    max_duration = parse_duration(task.maxDuration).total_seconds() if task.maxDuration else None
    received: queue.Queue[Any] = queue.Queue()

    def subscribe(client: Any) -> None:
        client.subscribe([(t, qos) for t in topics])

    try:
        client = connect(
            task,
            ctx.render,
            client_id=str(ctx.render(task.clientId)),
            on_connect=subscribe,
            on_message=received.put,
        )
    except (MissingClientError, MqttError) as exc:
        return _failed(str(exc))
    rows: list[dict[str, Any]] = []
    deadline = time.monotonic() + max_duration if max_duration is not None else None
    try:
        while not ctx.cancelled:
            if max_records is not None and len(rows) >= max_records:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                message = received.get(timeout=0.1)
            except queue.Empty:
                continue
            rows.append(message_fields(message, task.serdeType))
    finally:
        close(client)
    path = ctx.working_directory() / "messages.ion"
    with path.open("wb") as out:
        write_values(out, rows)
    return Outcome(outputs={"messagesCount": len(rows), "uri": ctx.put_file(path)})


TASK_TYPES = [
    TaskType(name=MQTT + "Publish", model=Publish, run=run_publish),
    TaskType(name=MQTT + "Subscribe", model=Subscribe, run=run_subscribe),
]
