"""io.kestra.plugin.nats.kv.* against the machine's NATS with JetStream, on a bucket of
each test's own (deleted afterwards)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from lanner.model.states import State
from lanner.model.task import Task
from lanner.tasks.nats.kv import run_create_bucket, run_delete, run_get, run_put
from lanner.tasks.nats.model import CreateBucket, KvDelete, KvGet, KvPut
from tests.support.nats_server import NatsServer, nats_server_fixture, run_alone  # noqa: F401 (fixture)
from tests.support.task_context import LocalTaskContext


def make(model: type[Task], **props: Any) -> Any:
    return model.model_validate({"id": "t", "type": "any", **props})


@pytest.fixture
def ctx() -> LocalTaskContext:
    return LocalTaskContext({"inputs": {"who": "Ada"}})


@pytest.fixture
def bucket(nats_server: NatsServer) -> Iterator[str]:
    name = f"kv_{nats_server.stream}"
    yield name

    async def drop() -> None:
        import nats
        from nats.js.errors import NotFoundError

        nc = await nats.connect(nats_server.url)
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_key_value(name)
        await nc.close()

    # On a thread of its own, as every NATS call of the tests (tests/support/nats_server.py).
    run_alone(drop())


def test_create_put_get_delete(nats_server: NatsServer, bucket: str, ctx: LocalTaskContext) -> None:
    url = nats_server.url
    created = run_create_bucket(
        make(
            CreateBucket,
            url=url,
            name=bucket,
            description="for {{ inputs.who }}",
            historyPerKey=2,
            bucketSize=1_048_576,
            valueSize=1024,
            metadata={"team": "{{ inputs.who }}"},
        ),
        ctx,
    )
    assert created.state is State.SUCCESS, created.error
    outputs = dict(created.outputs)
    metadata = outputs.pop("metadata")
    assert outputs == {
        "bucket": bucket,
        "description": "for Ada",
        "history": 2,
        "entryCount": 0,
        "bucketSize": 1_048_576,
        "valueSize": 1024,
    }
    # The machine's server is 2.9, which keeps no stream metadata (2.10+ does): then
    # the task says so in a warning.
    if metadata != {"team": "Ada"}:
        assert metadata == {}
        assert any(level == "WARN" and "2.10" in text for level, text in ctx.logs), ctx.logs
    put = run_put(
        make(KvPut, url=url, bucketName=bucket, values={"a": "{{ inputs.who }}", "b": {"n": 1}}),
        ctx,
    )
    assert put.state is State.SUCCESS, put.error
    assert put.outputs == {"revisions": {"a": 1, "b": 2}}
    # Kestra's older example writes the pairs as a list of one-pair maps.
    again = run_put(make(KvPut, url=url, bucketName=bucket, values=[{"a": [1, 2]}]), ctx)
    assert again.outputs == {"revisions": {"a": 3}}
    got = run_get(make(KvGet, url=url, bucketName=bucket, keys=["a", "b", "missing"]), ctx)
    assert got.state is State.SUCCESS, got.error
    assert got.outputs == {"output": {"a": [1, 2], "b": {"n": 1}}}
    old = run_get(make(KvGet, url=url, bucketName=bucket, keyRevisions={"a": 1}), ctx)
    assert old.outputs == {"output": {"a": "Ada"}}
    deleted = run_delete(make(KvDelete, url=url, bucketName=bucket, keys=["a"]), ctx)
    assert deleted.state is State.SUCCESS, deleted.error
    assert deleted.outputs == {}
    after = run_get(make(KvGet, url=url, bucketName=bucket, keys=["a", "b"]), ctx)
    assert after.outputs == {"output": {"b": {"n": 1}}}


def test_a_missing_bucket_fails_with_the_server(
    nats_server: NatsServer, bucket: str, ctx: LocalTaskContext
) -> None:
    out = run_put(make(KvPut, url=nats_server.url, bucketName=bucket, values={"a": 1}), ctx)
    assert out.state is State.FAILED
    assert out.error is not None and "NATS server 127.0.0.1:4222" in out.error


def test_history_per_key_is_bounded(
    nats_server: NatsServer, bucket: str, ctx: LocalTaskContext
) -> None:
    out = run_create_bucket(
        make(CreateBucket, url=nats_server.url, name=bucket, historyPerKey=65), ctx
    )
    assert out.state is State.FAILED
    assert out.error is not None and "1 to 64" in out.error
