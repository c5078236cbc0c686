"""Running the Redis task types (docs/tasks-brokers.md)."""

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
from lanner.tasks.redis.connection import client, decode, encode, guarded
from lanner.tasks.redis.model import (
    ListPop,
    ListPush,
    PubSubPublish,
    StringDelete,
    StringGet,
    StringSet,
)

REDIS = "io.kestra.plugin.redis."


def _bool(ctx: TaskContext, value: Any) -> bool:
    rendered = ctx.render(value)
    return rendered if isinstance(rendered, bool) else str(rendered).strip().lower() == "true"


def _elements(task: ListPush | PubSubPublish, ctx: TaskContext) -> Iterator[Any]:
    source = task.from_
    if isinstance(source, list):
        yield from ctx.render(source)
        return
    text = str(ctx.render(source))
    if text.startswith("kestra://"):
        with ctx.open_file(text) as stream:
            yield from read_values(stream, source=text)
        return
    parsed = json.loads(text)
    yield from parsed if isinstance(parsed, list) else [parsed]


@guarded
def run_list_push(task: ListPush, ctx: TaskContext) -> Outcome:
    key = str(ctx.render(task.key))
    values = [encode(v, task.serdeType) for v in _elements(task, ctx)]
    with client(str(ctx.render(task.url))) as redis:
        pipe = redis.pipeline(transaction=True)
        if _bool(ctx, task.flushKey):
            pipe.delete(key)
        if values:
            pipe.rpush(key, *values)
        pipe.execute()
    return Outcome(outputs={"count": len(values)})


@guarded
def run_list_pop(task: ListPop, ctx: TaskContext) -> Outcome:
    key = str(ctx.render(task.key))
    count = max(1, int(ctx.render(task.count)))
    max_records = int(ctx.render(task.maxRecords)) if task.maxRecords is not None else None
    max_duration = parse_duration(task.maxDuration).total_seconds() if task.maxDuration else None
    deadline = time.monotonic() + max_duration if max_duration is not None else None
    popped: list[Any] = []
    with client(str(ctx.render(task.url))) as redis:
        while not ctx.cancelled:
            want = count if max_records is None else min(count, max_records - len(popped))
            raws = redis.lpop(key, want) or []
            popped.extend(decode(raw, task.serdeType) for raw in raws)
            if max_records is not None and len(popped) >= max_records:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            if not raws:
                ctx.wait(0.1)  # an empty list: look again shortly, until maxDuration
    path = ctx.working_directory() / "elements.ion"
    with path.open("wb") as out:
        write_values(out, popped)
    return Outcome(outputs={"count": len(popped), "uri": ctx.put_file(path)})


@guarded
def run_set(task: StringSet, ctx: TaskContext) -> Outcome:
    key = str(ctx.render(task.key))
    value = encode(ctx.render(task.value), task.serdeType, text_is_json=True)
    o = task.options
    args: dict[str, Any] = {"nx": o.mustNotExist, "xx": o.mustExist, "keepttl": o.keepTtl}
    if o.expirationDuration:
        args["px"] = int(parse_duration(o.expirationDuration).total_seconds() * 1000)
    if o.expirationDate:
        date = datetime.fromisoformat(str(ctx.render(o.expirationDate)).replace("Z", "+00:00"))
        args["pxat"] = int(date.timestamp() * 1000)
    get = _bool(ctx, task.get)
    with client(str(ctx.render(task.url))) as redis:
        old = redis.set(key, value, get=get, **args)
    outputs: dict[str, Any] = {}
    if get:
        outputs["oldValue"] = decode(old, task.serdeType) if isinstance(old, bytes) else None
    return Outcome(outputs=outputs)


@guarded
def run_get(task: StringGet, ctx: TaskContext) -> Outcome:
    key = str(ctx.render(task.key))
    with client(str(ctx.render(task.url))) as redis:
        raw = redis.get(key)
    return Outcome(outputs={"data": decode(raw, task.serdeType)})


@guarded
def run_delete(task: StringDelete, ctx: TaskContext) -> Outcome:
    rendered = ctx.render(task.keys)
    keys = [str(k) for k in (rendered if isinstance(rendered, list) else json.loads(rendered))]
    with client(str(ctx.render(task.url))) as redis:
        deleted = int(redis.delete(*keys)) if keys else 0
    if _bool(ctx, task.failedOnMissing) and deleted < len(keys):
        return Outcome(
            State.FAILED,
            outputs={"count": deleted},
            error=f"{len(keys) - deleted} of the {len(keys)} keys were missing (failedOnMissing)",
        )
    return Outcome(outputs={"count": deleted})


@guarded
def run_publish(task: PubSubPublish, ctx: TaskContext) -> Outcome:
    channel = str(ctx.render(task.channel))
    values = [encode(v, task.serdeType) for v in _elements(task, ctx)]
    with client(str(ctx.render(task.url))) as redis:
        pipe = redis.pipeline(transaction=False)
        for value in values:
            pipe.publish(channel, value)
        pipe.execute()
    # Pub/sub keeps nothing: a value published while nobody subscribes is gone.
    return Outcome(outputs={"count": len(values)})


TASK_TYPES = [
    TaskType(
        name=REDIS + "list.ListPush",
        model=ListPush,
        run=run_list_push,
        aliases=(REDIS + "ListPush",),
    ),
    TaskType(
        name=REDIS + "list.ListPop", model=ListPop, run=run_list_pop, aliases=(REDIS + "ListPop",)
    ),
    TaskType(name=REDIS + "string.Set", model=StringSet, run=run_set, aliases=(REDIS + "Set",)),
    TaskType(name=REDIS + "string.Get", model=StringGet, run=run_get, aliases=(REDIS + "Get",)),
    TaskType(
        name=REDIS + "string.Delete",
        model=StringDelete,
        run=run_delete,
        aliases=(REDIS + "Delete",),
    ),
    TaskType(
        name=REDIS + "pubsub.Publish",
        model=PubSubPublish,
        run=run_publish,
        aliases=(REDIS + "Publish",),
    ),
]
