"""A NATS JetStream realtime trigger survives a SIGKILLed `lanner server` mid-stream:
every message published becomes exactly one execution (the durable consumer hands
out again what was not acknowledged, and a message delivered again keeps its
execution id, derived from its stream sequence, so it starts nothing new)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import Cluster
from tests.support.nats_server import NatsServer, nats_server_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

MESSAGES = 1500


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(f"sqlite://{tmp_path / 'lanner.db'}", tmp_path / "home")
    try:
        yield c
    finally:
        c.close()


def _data(c: Cluster) -> list[int]:
    found = c.store.list_executions(flow_id="events", limit=100_000)
    return [int(str((e.trigger or {})["data"])) for e in found]


@pytest.mark.timeout(240)
def test_sigkill_mid_stream_loses_no_message_and_duplicates_none(
    cluster: Cluster, nats_server: NatsServer
) -> None:
    c = cluster
    subject = nats_server.subject("events")
    path = c.home / "events.yml"
    path.write_text(
        f"""id: events
namespace: crash.test
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.data }}}}"
triggers:
  - id: watch
    type: io.kestra.plugin.nats.RealtimeTrigger
    url: {nats_server.url}
    subject: {subject}
    durableId: crashTest
    deliverPolicy: All
"""
    )
    c.deploy(path)
    server = c.spawn("server", "--threads", "2", "--port", "0")

    def publish() -> None:  # a steady stream, ~1,000 messages a second at most
        for start in range(0, MESSAGES, 50):
            nats_server.publish(subject, [str(i) for i in range(start, start + 50)])
            time.sleep(0.05)

    publisher = threading.Thread(target=publish)
    publisher.start()
    c.wait_for(lambda: len(_data(c)) >= 200, 60, "the first 200 executions")
    server.kill()  # SIGKILL, mid-stream
    stopped_at = len(_data(c))
    publisher.join(60)
    assert stopped_at < MESSAGES, "the stream ended before the kill: nothing was tested"
    c.spawn("server", "--threads", "2", "--port", "0")
    # The dead server's listener lock expires (REALTIME_LOCK), then the new one listens.
    c.wait_for(lambda: len(_data(c)) >= MESSAGES, 120, f"{MESSAGES} executions")
    c.wait_for(lambda: nats_server.pending("crashTest") == 0, 30, "every message acknowledged")
    time.sleep(1.0)
    assert sorted(_data(c)) == list(range(MESSAGES))
