"""The brokers' batch triggers survive a SIGKILLed `lanner server` between consuming and
committing, and between committing and acknowledging (crash points
poll.before_commit / poll.after_commit), against the machine's Redis and RabbitMQ:

- Redis list: the popped elements wait in the trigger's in-flight list, under the
  batch's id; the next server starts their execution (none lost). Killed after
  the commit, the batch handed out again gets the same execution id and starts
  nothing more (exactly one execution either way).
- AMQP with message ids: the unacknowledged messages go back to the queue; the
  batch delivered again gets the same execution id, so a kill after the commit
  starts nothing more (exactly one execution either way).
- NATS JetStream: the same, once the consumer's ack wait has passed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cluster import Cluster, sqlite_cluster_fixture  # noqa: F401 (fixture)
from tests.support.nats_server import NatsServer, nats_server_fixture  # noqa: F401 (fixture)
from tests.support.rabbitmq import Rabbit, rabbit_fixture  # noqa: F401 (fixture)
from tests.support.redis_server import RedisServer, redis_server_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

ELEMENTS = 50


def _counts(c: Cluster) -> list[int]:
    found = c.store.list_executions(flow_id="batch", limit=100)
    return [int((e.trigger or {})["count"]) for e in found]


def _deploy(c: Cluster, trigger: str) -> None:
    path = c.home / "batch.yml"
    path.write_text(
        f"""id: batch
namespace: crash.test
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.count }}}}"
triggers:
  - id: watch
    interval: PT1S
    maxRecords: 1000
    maxDuration: PT2S
{trigger}
"""
    )
    c.deploy(path)


def _killed(c: Cluster, point: str) -> Any:
    server = c.spawn("server", "--threads", "1", "--port", "0", crash_at=point)
    c.wait_for(lambda: not server.alive(), 90, f"the kill at {point}")
    return server


@pytest.mark.timeout(240)
@pytest.mark.parametrize("point", ["poll.before_commit", "poll.after_commit"])
def test_redis_batch_runs_once(cluster: Cluster, redis_server: RedisServer, point: str) -> None:
    c = cluster
    key = redis_server.key("jobs")
    _deploy(
        c,
        f"    type: io.kestra.plugin.redis.list.Trigger\n    url: {redis_server.url}\n"
        f"    key: {key}\n",
    )
    redis_server.client.rpush(key, *range(ELEMENTS))
    _killed(c, point)
    inflight = f"{key}:lanner-inflight:crash.test.batch.watch"
    assert redis_server.client.llen(inflight) == ELEMENTS
    assert redis_server.client.get(inflight + ":batch")  # the batch's id, kept beside
    assert redis_server.client.llen(key) == 0
    assert _counts(c) == ([] if point == "poll.before_commit" else [ELEMENTS])
    c.spawn("server", "--threads", "1", "--port", "0")
    # The batch handed out again has its batch id again: one execution either way.
    c.wait_for(lambda: not redis_server.client.keys(key + "*"), 90, "the lists emptied")
    assert _counts(c) == [ELEMENTS]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("point", ["poll.before_commit", "poll.after_commit"])
def test_amqp_batch_with_ids_runs_once(cluster: Cluster, rabbit: Rabbit, point: str) -> None:
    c = cluster
    _deploy(
        c,
        f"    type: io.kestra.plugin.amqp.Trigger\n    host: {rabbit.host}\n"
        f"    port: {rabbit.port}\n    queue: {rabbit.queue}\n",
    )
    rabbit.publish([str(i) for i in range(ELEMENTS)])
    _killed(c, point)
    assert _counts(c) == ([] if point == "poll.before_commit" else [ELEMENTS])
    c.spawn("server", "--threads", "1", "--port", "0")
    c.wait_for(lambda: rabbit.depth() == 0 and _counts(c) == [ELEMENTS], 90, "one execution")
    # Later evaluations find nothing more.
    assert _counts(c) == [ELEMENTS]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("point", ["poll.before_commit", "poll.after_commit"])
def test_nats_batch_runs_once(cluster: Cluster, nats_server: NatsServer, point: str) -> None:
    """Not acknowledged by the killed server: JetStream delivers the batch again after
    the consumer's ack wait (30 s), with its stream sequences, so its execution id."""
    c = cluster
    subject = nats_server.subject("orders")
    durable = f"crash-{nats_server.stream}"
    _deploy(
        c,
        f"    type: io.kestra.plugin.nats.Trigger\n    url: {nats_server.url}\n"
        f"    subject: {subject}\n    durableId: {durable}\n    pollDuration: PT0.5S\n",
    )
    nats_server.publish(subject, [str(i) for i in range(ELEMENTS)])
    _killed(c, point)
    assert _counts(c) == ([] if point == "poll.before_commit" else [ELEMENTS])
    c.spawn("server", "--threads", "1", "--port", "0")
    c.wait_for(lambda: nats_server.pending(durable) == 0, 120, "every message acknowledged")
    assert _counts(c) == [ELEMENTS]
