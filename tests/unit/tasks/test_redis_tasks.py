"""io.kestra.plugin.redis.list.* and string.* against the machine's Redis (keys of each
test's own)."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.model.states import State
from lanner.model.task import Task
from lanner.storage import LocalStorage
from lanner.tasks.redis.model import (
    ListPop,
    ListPush,
    PubSubPublish,
    StringDelete,
    StringGet,
    StringSet,
)
from lanner.tasks.redis.tasks import (
    run_delete,
    run_get,
    run_list_pop,
    run_list_push,
    run_publish,
    run_set,
)
from tests.support.broker_tasks import ctx_fixture, make, storage_fixture, stored_rows  # noqa: F401
from tests.support.redis_server import RedisServer, redis_server_fixture  # noqa: F401 (fixture)
from tests.support.task_context import LocalTaskContext


def test_list_push_then_pop_in_order(
    redis_server: RedisServer, ctx: LocalTaskContext, storage: LocalStorage
) -> None:
    key = redis_server.key("list")
    push = make(
        ListPush,
        url=redis_server.url,
        key=key,
        serdeType="JSON",
        **{"from": [{"a": 1}, "{{ inputs.who }}", 3]},
    )
    assert run_list_push(push, ctx).outputs == {"count": 3}
    pop = make(ListPop, url=redis_server.url, key=key, serdeType="JSON", maxRecords=2, count=1)
    outcome = run_list_pop(pop, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["count"] == 2
    assert stored_rows(storage, outcome.outputs["uri"]) == [{"a": 1}, "Ada"]
    assert redis_server.client.lrange(key, 0, -1) == [b"3"]


def test_list_push_flush_key_and_pop_until_max_duration(
    redis_server: RedisServer, ctx: LocalTaskContext
) -> None:
    key = redis_server.key("list")
    redis_server.client.rpush(key, "old")
    push = make(ListPush, url=redis_server.url, key=key, flushKey=True, **{"from": '["x", "y"]'})
    assert run_list_push(push, ctx).outputs == {"count": 2}
    pop = make(ListPop, url=redis_server.url, key=key, maxDuration="PT0.3S")
    outcome = run_list_pop(pop, ctx)
    assert outcome.outputs["count"] == 2


def test_set_get_delete(redis_server: RedisServer, ctx: LocalTaskContext) -> None:
    key = redis_server.key("k")
    url = redis_server.url
    assert run_set(make(StringSet, url=url, key=key, value="v1"), ctx).outputs == {}
    out = run_set(make(StringSet, url=url, key=key, value="v2", get=True), ctx)
    assert out.outputs == {"oldValue": "v1"}
    assert run_get(make(StringGet, url=url, key=key), ctx).outputs == {"data": "v2"}
    nx = make(StringSet, url=url, key=key, value="v3", options={"mustNotExist": True})
    run_set(nx, ctx)
    assert run_get(make(StringGet, url=url, key=key), ctx).outputs == {"data": "v2"}
    ttl = make(
        StringSet,
        url=url,
        key=key,
        value={"a": [1]},
        serdeType="JSON",
        options={"expirationDuration": "PT1H"},
    )
    run_set(ttl, ctx)
    assert 3500 < redis_server.client.ttl(key) <= 3600
    got = run_get(make(StringGet, url=url, key=key, serdeType="JSON"), ctx)
    assert got.outputs == {"data": {"a": [1]}}
    assert run_get(make(StringGet, url=url, key=key + "-none"), ctx).outputs == {"data": None}
    missing = make(StringDelete, url=url, keys=[key, key + "-none"], failedOnMissing=True)
    outcome = run_delete(missing, ctx)
    assert outcome.state is State.FAILED and outcome.outputs == {"count": 1}
    assert "1 of the 2 keys were missing" in str(outcome.error)


def test_json_serde_refuses_text_that_is_not_json(
    redis_server: RedisServer, ctx: LocalTaskContext
) -> None:
    task = make(
        StringSet, url=redis_server.url, key=redis_server.key("k"), value="{oops", serdeType="JSON"
    )
    outcome = run_set(task, ctx)
    assert outcome.state is State.FAILED and "not JSON" in str(outcome.error)


def test_an_unreachable_server_fails_the_task(ctx: LocalTaskContext) -> None:
    from tests.support.ports import free_port

    port = free_port()
    outcome = run_get(make(StringGet, url=f"redis://127.0.0.1:{port}/0", key="k"), ctx)
    assert outcome.state is State.FAILED
    assert f"Redis 127.0.0.1:{port}/0" in str(outcome.error)


@pytest.mark.parametrize(
    ("model", "props", "fragment"),
    [(ListPop, {"url": "redis://h", "key": "k"}, "give maxRecords or maxDuration")],
)
def test_rules_across_properties(model: type[Task], props: dict[str, Any], fragment: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=fragment):
        make(model, **props)


def test_pubsub_publish_reaches_a_subscriber(
    redis_server: RedisServer, ctx: LocalTaskContext
) -> None:
    channel = redis_server.key("news")
    subscriber = redis_server.client.pubsub()
    subscriber.subscribe(channel)
    try:
        assert subscriber.get_message(timeout=5)["type"] == "subscribe"
        task = make(
            PubSubPublish,
            url=redis_server.url,
            channel=channel,
            serdeType="JSON",
            **{"from": ["hello {{ inputs.who }}", {"n": 1}]},
        )
        out = run_publish(task, ctx)
        assert out.state is State.SUCCESS, out.error
        assert out.outputs == {"count": 2}
        got = [subscriber.get_message(timeout=5) for _ in range(2)]
        assert [m["data"] for m in got if m] == [b'"hello Ada"', b'{"n":1}']
    finally:
        subscriber.close()
