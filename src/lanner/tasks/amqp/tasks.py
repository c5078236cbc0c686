"""Running the AMQP task types (docs/tasks-brokers.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from lanner.ion.reader import read_values
from lanner.ion.writer import write_values
from lanner.model.common import parse_duration
from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.amqp.connection import (
    MissingClientError,
    connect,
    encode_body,
    message_fields,
    need_pika,
    where,
)
from lanner.tasks.amqp.model import (
    Consume,
    CreateQueue,
    DeclareExchange,
    OutgoingMessage,
    Publish,
    QueueBind,
)

AMQP = "io.kestra.plugin.amqp."


def _failed(message: str) -> Outcome:
    return Outcome(State.FAILED, error=message)


def _bool(ctx: TaskContext, value: Any) -> bool:
    rendered = ctx.render(value)
    return rendered if isinstance(rendered, bool) else str(rendered).strip().lower() == "true"


def _guarded(run: Any) -> Any:
    """Broker errors fail the task with the broker's address in the message."""

    def guarded(task: Any, ctx: TaskContext) -> Outcome:
        try:
            return run(task, ctx)  # type: ignore[no-any-return]
        except MissingClientError as exc:
            return _failed(str(exc))
        except Exception as exc:
            pika = need_pika()
            if isinstance(exc, pika.exceptions.AMQPError):
                detail = str(exc) or type(exc).__name__
                return _failed(f"AMQP broker {where(task, ctx.render)}: {detail}")
            raise

    return guarded


# ---- Publish


def _messages(task: Publish, ctx: TaskContext) -> Iterator[OutgoingMessage]:
    source = task.from_
    if isinstance(source, str):
        text = str(ctx.render(source))
        if text.startswith("kestra://"):
            with ctx.open_file(text) as stream:
                for value in read_values(stream, source=text):
                    yield OutgoingMessage.model_validate(value)
            return
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(
                "`from` must be a list of messages, a JSON string of them, or a kestra:// URI"
            ) from None
        items = parsed if isinstance(parsed, list) else [parsed]
        for item in items:
            yield OutgoingMessage.model_validate(item)
        return
    yield from source


def _properties(message: OutgoingMessage, ctx: TaskContext) -> Any:
    pika = need_pika()
    m = ctx.render(message.model_dump(exclude={"data"}, exclude_none=True))
    expiration = None
    if "expiration" in m:  # AMQP wants milliseconds, as text
        expiration = str(int(parse_duration(str(m["expiration"])).total_seconds() * 1000))
    timestamp = None
    if "timestamp" in m:
        timestamp = int(
            datetime.fromisoformat(str(m["timestamp"]).replace("Z", "+00:00")).timestamp()
        )
    return pika.BasicProperties(
        headers=m.get("headers"),
        content_type=m.get("contentType"),
        content_encoding=m.get("contentEncoding"),
        delivery_mode=m.get("deliveryMode"),
        priority=m.get("priority"),
        message_id=m.get("messageId"),
        correlation_id=m.get("correlationId"),
        reply_to=m.get("replyTo"),
        expiration=expiration,
        timestamp=timestamp,
        type=m.get("type"),
        user_id=m.get("userId"),
        app_id=m.get("appId"),
    )


@_guarded
def run_publish(task: Publish, ctx: TaskContext) -> Outcome:
    exchange = str(ctx.render(task.exchange))
    routing_key = str(ctx.render(task.routingKey)) if task.routingKey is not None else ""
    try:
        messages = list(_messages(task, ctx))
    except ValueError as exc:
        return _failed(str(exc))
    connection = connect(task, ctx.render)
    count = 0
    try:
        channel = connection.channel()
        channel.confirm_delivery()  # each publish waits for the broker's confirmation
        for message in messages:
            if ctx.cancelled:
                break
            body = encode_body(ctx.render(message.data), task.serdeType)
            channel.basic_publish(exchange, routing_key, body, _properties(message, ctx))
            count += 1
    finally:
        connection.close()
    return Outcome(outputs={"messagesCount": count})


# ---- Consume


@_guarded
def run_consume(task: Consume, ctx: TaskContext) -> Outcome:
    queue = str(ctx.render(task.queue))
    auto_ack = _bool(ctx, task.autoAck)
    max_records = int(ctx.render(task.maxRecords)) if task.maxRecords is not None else None
    max_duration = parse_duration(task.maxDuration).total_seconds() if task.maxDuration else None
    deadline = time.monotonic() + max_duration if max_duration is not None else None
    path = ctx.working_directory() / "messages.ion"
    received: list[dict[str, Any]] = []
    last_tag: int | None = None
    connection = connect(task, ctx.render)
    try:
        channel = connection.channel()
        if max_records is not None:
            channel.basic_qos(prefetch_count=min(max_records, 1000))
        stream = channel.consume(
            queue, auto_ack=auto_ack, inactivity_timeout=0.2
        )  # yields (None, None, None) after 0.2 s without a message
        for method, properties, body in stream:
            if method is not None:
                received.append(message_fields(properties, body, task.serdeType))
                last_tag = method.delivery_tag
            if ctx.cancelled:
                break
            if max_records is not None and len(received) >= max_records:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
        with path.open("wb") as out:
            write_values(out, received)
        uri = ctx.put_file(path)
        channel.cancel()  # unacknowledged prefetched messages go back to the queue
        if last_tag is not None and not auto_ack:
            channel.basic_ack(delivery_tag=last_tag, multiple=True)
    finally:
        connection.close()
    return Outcome(outputs={"count": len(received), "uri": uri})


# ---- Declarations


def _arguments(ctx: TaskContext, args: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if args is None else dict(ctx.render(args))


@_guarded
def run_create_queue(task: CreateQueue, ctx: TaskContext) -> Outcome:
    name = str(ctx.render(task.name))
    connection = connect(task, ctx.render)
    try:
        connection.channel().queue_declare(
            name,
            durable=_bool(ctx, task.durability),
            exclusive=_bool(ctx, task.exclusive),
            auto_delete=_bool(ctx, task.autoDelete),
            arguments=_arguments(ctx, task.args),
        )
    finally:
        connection.close()
    return Outcome(outputs={"queue": name})


@_guarded
def run_declare_exchange(task: DeclareExchange, ctx: TaskContext) -> Outcome:
    name = str(ctx.render(task.name))
    connection = connect(task, ctx.render)
    try:
        connection.channel().exchange_declare(
            name,
            exchange_type=task.exchangeType.value.lower(),
            durable=_bool(ctx, task.durability),
            auto_delete=_bool(ctx, task.autoDelete),
            internal=_bool(ctx, task.internal),
            arguments=_arguments(ctx, task.args),
        )
    finally:
        connection.close()
    return Outcome(outputs={"exchange": name})


@_guarded
def run_queue_bind(task: QueueBind, ctx: TaskContext) -> Outcome:
    exchange = str(ctx.render(task.exchange))
    queue = str(ctx.render(task.queue))
    key = str(ctx.render(task.routingKey)) if task.routingKey is not None else None
    connection = connect(task, ctx.render)
    try:
        connection.channel().queue_bind(
            queue, exchange, routing_key=key, arguments=_arguments(ctx, task.args)
        )
    finally:
        connection.close()
    return Outcome(outputs={"queue": queue, "exchange": exchange})


TASK_TYPES = [
    TaskType(name=AMQP + "Publish", model=Publish, run=run_publish),
    TaskType(name=AMQP + "Consume", model=Consume, run=run_consume),
    TaskType(name=AMQP + "CreateQueue", model=CreateQueue, run=run_create_queue),
    TaskType(name=AMQP + "DeclareExchange", model=DeclareExchange, run=run_declare_exchange),
    TaskType(name=AMQP + "QueueBind", model=QueueBind, run=run_queue_bind),
]
