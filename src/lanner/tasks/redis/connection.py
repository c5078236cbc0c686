"""A Redis client (redis-py, an optional extra) from a task's or trigger's `url`, and
the value codec of `serdeType`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from lanner.model.brokers import SerdeType

TIMEOUT = 10.0  # seconds, to connect and for each command but the blocking pops


class MissingClientError(RuntimeError):
    """A broker client library that is not installed."""


def need_redis() -> Any:
    try:
        import redis
    except ImportError:
        raise MissingClientError(
            "the Redis client is not installed: install Lanner's `redis` extra"
            " (pip install 'lanner[redis]') or `pip install redis`"
        ) from None
    return redis


def client(url: str, *, blocking: float | None = None) -> Any:
    """A client of `url`; `blocking`: the longest a blocking pop waits (its socket
    timeout must be longer)."""
    redis = need_redis()
    timeout = TIMEOUT if blocking is None else blocking + TIMEOUT
    return redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=timeout)


def where(url: str) -> str:
    """The server of `url`, without the password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or ''}"


def decode(raw: bytes | None, serde: SerdeType) -> Any:
    if raw is None:
        return None
    text = raw.decode("utf-8", errors="replace")
    return json.loads(text) if serde is SerdeType.JSON else text


def encode(value: Any, serde: SerdeType, *, text_is_json: bool = False) -> str:
    """`value` as stored; with JSON and `text_is_json` (Set's `value`), a text must be
    JSON already, as Kestra reads it; a list's elements are values."""
    if serde is SerdeType.JSON:
        if isinstance(value, str) and text_is_json:
            json.loads(value)  # a JSON text is stored as given; anything else is refused
            return value
        return json.dumps(value, separators=(",", ":"), default=str)
    return value if isinstance(value, str) else json.dumps(value, default=str)


def guarded(run: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Redis errors fail the task with the server's address in the message."""
    from lanner.model.states import State
    from lanner.plugin import Outcome

    def wrapped(task: Any, ctx: Any) -> Any:
        try:
            return run(task, ctx)
        except MissingClientError as exc:
            return Outcome(State.FAILED, error=str(exc))
        except json.JSONDecodeError as exc:
            return Outcome(State.FAILED, error=f"not JSON (serdeType: JSON): {exc}")
        except Exception as exc:
            redis = need_redis()
            if isinstance(exc, redis.RedisError):
                url = str(ctx.render(task.url))
                return Outcome(State.FAILED, error=f"Redis {where(url)}: {exc}")
            raise

    return wrapped
