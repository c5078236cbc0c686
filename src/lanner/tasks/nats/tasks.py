"""Running the NATS task types (docs/tasks-brokers.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from lanner.ion.reader import read_values
from lanner.ion.writer import write_values
from lanner.model.common import parse_duration
from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.nats import kv
from lanner.tasks.nats.model import Consume, CreateBucket, KvDelete, KvGet, KvPut, Produce
from lanner.tasks.nats.session import (
    MissingClientError,
    NatsError,
    NatsSession,
    consumer_config,
    durable_name,
    message_fields,
    where,
)

NATS = "io.kestra.plugin.nats."


def _failed(message: str) -> Outcome:
    return Outcome(State.FAILED, error=message)


def _messages(task: Produce, ctx: TaskContext) -> Iterator[dict[str, Any]]:
    source = ctx.render(task.from_)
    if isinstance(source, str) and source.startswith("kestra://"):
        with ctx.open_file(source) as stream:
            yield from read_values(stream, source=source)
        return
    if isinstance(source, str):
        source = json.loads(source)
    yield from source if isinstance(source, list) else [source]


def run_produce(task: Produce, ctx: TaskContext) -> Outcome:
    subject = str(ctx.render(task.subject))
    try:
        messages = list(_messages(task, ctx))
        session = NatsSession(task, ctx.render)
    except (MissingClientError, NatsError, ValueError) as exc:
        return _failed(str(exc))
    count = 0
    try:
        for message in messages:
            if ctx.cancelled:
                break
            data = message.get("data") if isinstance(message, dict) else message
            headers = message.get("headers") if isinstance(message, dict) else None
            body = data if isinstance(data, str) else json.dumps(data, default=str)
            session.run(
                session.nc.publish(
                    subject,
                    body.encode(),
                    headers={str(k): str(v) for k, v in (headers or {}).items()} or None,
                )
            )
            count += 1
        session.run(session.nc.flush())
    except Exception as exc:
        return _failed(f"NATS server {where(session.url)}: {exc or type(exc).__name__}")
    finally:
        session.close()
    return Outcome(outputs={"messagesCount": count})


def run_consume(task: Consume, ctx: TaskContext) -> Outcome:
    subject = str(ctx.render(task.subject))
    max_records = int(ctx.render(task.maxRecords)) if task.maxRecords is not None else None
    max_duration = parse_duration(task.maxDuration).total_seconds() if task.maxDuration else None
    poll = parse_duration(task.pollDuration).total_seconds()
    deadline = time.monotonic() + max_duration if max_duration is not None else None
    try:
        session = NatsSession(task, ctx.render)
    except (MissingClientError, NatsError) as exc:
        return _failed(str(exc))
    rows: list[dict[str, Any]] = []
    try:
        seed = f"{ctx.namespace}.{ctx.flow_id}.{ctx.task_id}.{subject}"
        durable = durable_name(task, ctx.render, seed)
        subscription = session.run(
            session.js.pull_subscribe(
                subject, durable=durable, config=consumer_config(task, ctx.render, durable)
            )
        )
        while not ctx.cancelled:
            if max_records is not None and len(rows) >= max_records:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            want = task.batchSize
            if max_records is not None:
                want = min(want, max_records - len(rows))
            wait = poll if deadline is None else max(0.05, min(poll, deadline - time.monotonic()))
            try:
                fetched = session.run(subscription.fetch(want, timeout=wait))
            except TimeoutError:  # nats-py's, or asyncio's from a short wait
                continue
            for message in fetched:
                rows.append(message_fields(message))
                session.run(message.ack_sync())
    except Exception as exc:
        return _failed(f"NATS server {where(session.url)}: {exc or type(exc).__name__}")
    finally:
        session.close()
    path = ctx.working_directory() / "messages.ion"
    with path.open("wb") as out:
        write_values(out, rows)
    return Outcome(outputs={"messagesCount": len(rows), "uri": ctx.put_file(path)})


TASK_TYPES = [
    TaskType(
        name=NATS + "Produce", model=Produce, run=run_produce, aliases=(NATS + "core.Produce",)
    ),
    TaskType(
        name=NATS + "Consume", model=Consume, run=run_consume, aliases=(NATS + "core.Consume",)
    ),
    TaskType(name=NATS + "kv.CreateBucket", model=CreateBucket, run=kv.run_create_bucket),
    TaskType(name=NATS + "kv.Put", model=KvPut, run=kv.run_put),
    TaskType(name=NATS + "kv.Get", model=KvGet, run=kv.run_get),
    TaskType(name=NATS + "kv.Delete", model=KvDelete, run=kv.run_delete),
]
