"""A Redis list realtime trigger survives a SIGKILLed `lanner server` mid-stream: no
element is lost (the in-flight list is handed out again). An element has no id, so
the ones in flight at the kill may start a second execution (at least once)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from lanner.runtime.realtime import BATCH
from tests.support.cluster import Cluster, sqlite_cluster_fixture  # noqa: F401 (fixture)
from tests.support.redis_server import RedisServer, redis_server_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

ELEMENTS = 1500


def _values(c: Cluster) -> list[int]:
    found = c.store.list_executions(flow_id="jobs", limit=100_000)
    return [int(str((e.trigger or {})["value"])) for e in found]


@pytest.mark.timeout(240)
def test_sigkill_mid_stream_loses_no_element(cluster: Cluster, redis_server: RedisServer) -> None:
    c = cluster
    key = redis_server.key("jobs")
    path = c.home / "jobs.yml"
    path.write_text(
        f"""id: jobs
namespace: crash.test
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.value }}}}"
triggers:
  - id: watch
    type: io.kestra.plugin.redis.list.RealtimeTrigger
    url: {redis_server.url}
    key: {key}
"""
    )
    c.deploy(path)
    server = c.spawn("server", "--threads", "2", "--port", "0")

    def push() -> None:  # a steady stream, ~1,000 elements a second
        for start in range(0, ELEMENTS, 50):
            redis_server.client.rpush(key, *range(start, start + 50))
            time.sleep(0.05)

    pusher = threading.Thread(target=push)
    pusher.start()
    c.wait_for(lambda: len(_values(c)) >= 200, 60, "the first 200 executions")
    server.kill()  # SIGKILL, mid-stream
    stopped_at = len(_values(c))
    pusher.join(60)
    assert stopped_at < ELEMENTS, "the stream ended before the kill: nothing was tested"
    c.spawn("server", "--threads", "2", "--port", "0")
    c.wait_for(lambda: set(_values(c)) == set(range(ELEMENTS)), 120, "every element's execution")
    c.wait_for(lambda: not redis_server.client.keys(key + "*"), 30, "the lists emptied")
    counts = Counter(_values(c))
    twice = [v for v, n in counts.items() if n > 1]
    assert len(twice) <= BATCH and all(n == 2 for n in counts.values() if n > 1)
