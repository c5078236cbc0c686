"""A RabbitMQ realtime trigger survives a SIGKILLed `lanner server` mid-stream: every
message published becomes exactly one execution (at least once from the broker, the
messages delivered again dropped by their message id)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.cluster import Cluster, sqlite_cluster_fixture  # noqa: F401 (fixture)
from tests.support.rabbitmq import Rabbit, rabbit_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

MESSAGES = 1500


def _count(c: Cluster) -> int:
    return len(c.store.list_executions(flow_id="stream", limit=100_000))


@pytest.mark.timeout(240)
def test_sigkill_mid_stream_loses_no_message_and_duplicates_none(
    cluster: Cluster, rabbit: Rabbit
) -> None:
    c = cluster
    path = c.home / "stream.yml"
    path.write_text(
        f"""id: stream
namespace: crash.test
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.data }}}}"
triggers:
  - id: amqp
    type: io.kestra.plugin.amqp.RealtimeTrigger
    host: 127.0.0.1
    port: {rabbit.port}
    queue: {rabbit.queue}
"""
    )
    c.deploy(path)
    server = c.spawn("server", "--threads", "2", "--port", "0")

    def publish() -> None:  # a steady stream, ~1,000 messages a second
        for start in range(0, MESSAGES, 50):
            rabbit.publish_range(start, start + 50)
            time.sleep(0.05)

    publisher = threading.Thread(target=publish)
    publisher.start()
    c.wait_for(lambda: _count(c) >= 200, 60, "the first 200 executions")
    server.kill()  # SIGKILL, mid-stream
    stopped_at = _count(c)
    publisher.join(60)
    assert stopped_at < MESSAGES, "the stream ended before the kill: nothing was tested"
    c.spawn("server", "--threads", "2", "--port", "0")
    # The dead server's listener lock expires (REALTIME_LOCK), then the new one listens.
    c.wait_for(lambda: _count(c) >= MESSAGES, 120, f"{MESSAGES} executions")
    c.wait_for(lambda: rabbit.depth() == 0, 30, "an empty queue")
    time.sleep(1.0)
    executions = c.store.list_executions(flow_id="stream", limit=100_000)
    assert len(executions) == MESSAGES
    data = sorted(int(str((e.trigger or {})["data"])) for e in executions)
    assert data == list(range(MESSAGES))
