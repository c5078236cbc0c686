"""Running Kestra's NATS Key/Value tasks, `io.kestra.plugin.nats.kv.*`
(docs/tasks-brokers.md, "NATS Key/Value"), with nats-py's KV API.

Values are stored as JSON, as Kestra's tasks store them (`Put` writes each value's
JSON, `Get` parses it back); a value another client stored that is not JSON is
returned as text.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.nats.model import CreateBucket, KvDelete, KvGet, KvPut
from lanner.tasks.nats.session import MissingClientError, NatsError, NatsSession, where


def _keys(ctx: TaskContext, value: Any) -> list[str]:
    rendered = ctx.render(value)
    if isinstance(rendered, str):
        parsed = json.loads(rendered) if rendered.strip().startswith("[") else [rendered]
        return [str(k) for k in parsed]
    return [str(k) for k in rendered]


def _int(ctx: TaskContext, value: Any) -> int:
    return int(ctx.render(value))


def _in_session(
    task: Any, ctx: TaskContext, work: Callable[[NatsSession], dict[str, Any]]
) -> Outcome:
    """Run `work` on a session; a server's refusal fails the task with its address."""
    try:
        session = NatsSession(task, ctx.render)
    except (MissingClientError, NatsError) as exc:
        return Outcome(State.FAILED, error=str(exc))
    try:
        return Outcome(outputs=work(session))
    except (ValueError, TypeError) as exc:  # a property that renders to the wrong thing
        return Outcome(State.FAILED, error=str(exc))
    except Exception as exc:
        detail = str(exc) or type(exc).__name__
        return Outcome(State.FAILED, error=f"NATS server {where(session.url)}: {detail}")
    finally:
        session.close()


def run_create_bucket(task: CreateBucket, ctx: TaskContext) -> Outcome:
    from nats.js import api

    name = str(ctx.render(task.name))
    history = _int(ctx, task.historyPerKey)
    if not 1 <= history <= 64:
        return Outcome(State.FAILED, error=f"historyPerKey must be 1 to 64, got {history}")
    config = api.KeyValueConfig(
        bucket=name,
        description=str(ctx.render(task.description)) if task.description is not None else None,
        history=history,
        max_bytes=_int(ctx, task.bucketSize) if task.bucketSize is not None else None,
        max_value_size=_int(ctx, task.valueSize) if task.valueSize is not None else None,
    )
    metadata = (
        {str(k): str(v) for k, v in ctx.render(task.metadata).items()} if task.metadata else None
    )

    def work(session: NatsSession) -> dict[str, Any]:
        kv = session.run(session.js.create_key_value(config))
        if metadata:
            # nats-py's bucket configuration has no metadata: set it on the bucket's stream.
            info = session.run(session.js.stream_info(f"KV_{name}"))
            merged = {**(info.config.metadata or {}), **metadata}
            session.run(session.js.update_stream(dataclasses.replace(info.config, metadata=merged)))
        status = session.run(kv.status())
        stream = status.stream_info.config
        if metadata and not stream.metadata:
            # A server before 2.10 keeps no stream metadata; Kestra's client says nothing.
            version = session.nc._server_info.get("version", "?")
            ctx.log("WARN", f"the NATS server ({version}) kept no metadata: it needs 2.10+")
        return {
            "bucket": status.bucket,
            "description": stream.description,
            "history": status.history,
            "entryCount": status.values,
            "bucketSize": stream.max_bytes if stream.max_bytes is not None else -1,
            "valueSize": stream.max_msg_size if stream.max_msg_size is not None else -1,
            "metadata": {
                k: v for k, v in (stream.metadata or {}).items() if not k.startswith("_nats")
            },
        }

    return _in_session(task, ctx, work)


def run_put(task: KvPut, ctx: TaskContext) -> Outcome:
    bucket = str(ctx.render(task.bucketName))
    values = ctx.render(task.values)

    def work(session: NatsSession) -> dict[str, Any]:
        kv = session.run(session.js.key_value(bucket))
        revisions: dict[str, int] = {}
        for key, value in values.items():
            body = json.dumps(value, separators=(",", ":"), default=str).encode()
            revisions[str(key)] = session.run(kv.put(str(key), body))
        return {"revisions": revisions}

    return _in_session(task, ctx, work)


def _value(raw: bytes | None) -> Any:
    if raw is None:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run_get(task: KvGet, ctx: TaskContext) -> Outcome:
    from nats.js.errors import KeyDeletedError, KeyNotFoundError

    bucket = str(ctx.render(task.bucketName))
    wanted: list[tuple[str, int | None]]
    if task.keyRevisions is not None:
        wanted = [(str(k), _int(ctx, v)) for k, v in ctx.render(task.keyRevisions).items()]
    else:
        wanted = [(key, None) for key in _keys(ctx, task.keys)]

    def work(session: NatsSession) -> dict[str, Any]:
        kv = session.run(session.js.key_value(bucket))
        found: dict[str, Any] = {}
        for key, revision in wanted:
            try:
                entry = session.run(kv.get(key, revision=revision))
            except (KeyNotFoundError, KeyDeletedError):
                continue  # absent keys are left out, as Kestra leaves them out
            found[key] = _value(entry.value)
        return {"output": found}

    return _in_session(task, ctx, work)


def run_delete(task: KvDelete, ctx: TaskContext) -> Outcome:
    bucket = str(ctx.render(task.bucketName))
    keys = _keys(ctx, task.keys)

    def work(session: NatsSession) -> dict[str, Any]:
        kv = session.run(session.js.key_value(bucket))
        for key in keys:
            session.run(kv.delete(key))
        return {}

    return _in_session(task, ctx, work)
