"""A bounded chaos run, and a PostgreSQL restart in the middle of a flow (on a
private cluster, tests/support/private_postgres.py).

Chaos: executions of the seed flows and of a Parallel/retry flow are started
for a while (CHAOS_SECONDS) while executors and workers are SIGKILLed and
started again at random; then the invariant checker looks at every one.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from tests.crash.conftest import FLOWS
from tests.crash.test_crash import EXPECTED, verify
from tests.support.cluster import Cluster, Proc
from tests.support.http_sink import HttpSink
from tests.support.private_postgres import PrivatePostgres
from tests.support.seed import SEED_FLOWS

pytestmark = pytest.mark.slow

CHAOS_SECONDS = float(os.environ.get("LANNER_CHAOS_SECONDS", "60"))
MIX = [
    ("company.team", "alerts_demo"),
    ("company.team", "state_demo"),
    ("company.team", "after_execution_errors"),
    ("crash.test", "parallel_retry"),
    ("crash.test", "parallel_retry"),
    ("crash.test", "chain"),
]


# The chaos run itself, then the time every execution it started takes to finish.
@pytest.mark.timeout(int(CHAOS_SECONDS) + 900)
def test_chaos_kills_and_restarts_lose_nothing(cluster: Cluster, sink: HttpSink) -> None:
    seed = int(os.environ.get("LANNER_CHAOS_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print(f"chaos seed {seed} ({CHAOS_SECONDS} s)")
    cluster.deploy(FLOWS / "chain.yml", FLOWS / "parallel_retry.yml", *SEED_FLOWS)
    live: list[Proc] = [
        cluster.spawn("executor"),
        cluster.spawn("executor"),
        cluster.spawn("worker"),
        cluster.spawn("worker"),
    ]
    ids: list[str] = []
    kills = 0
    end = time.monotonic() + CHAOS_SECONDS
    next_kill = time.monotonic() + rng.uniform(2, 5)
    while time.monotonic() < end:
        ids.append(cluster.start(*rng.choice(MIX)))
        if time.monotonic() >= next_kill:
            victim = rng.choice(live)
            victim.kill()
            live.remove(victim)
            live.append(cluster.spawn(victim.role))
            kills += 1
            next_kill = time.monotonic() + rng.uniform(2, 5)
        time.sleep(0.1)  # pacing the load, not waiting for a result
    print(f"{len(ids)} executions started, {kills} processes killed")
    assert len(ids) >= 200 or CHAOS_SECONDS < 60
    report = verify(cluster, sink, ids)
    assert report.executions == len(ids)


@pytest.mark.postgres
@pytest.mark.timeout(900)  # initdb, a restart and the flows' retries
def test_restarting_postgresql_mid_flow_loses_nothing(
    private_postgres: PrivatePostgres, tmp_path: Path, sink: HttpSink
) -> None:
    # A private cluster: restarting the machine's shared server would break
    # every other test run and program using it.
    url = private_postgres.server.new_database()
    cluster = Cluster(url, tmp_path / "home", sink_url=sink.url)
    try:
        cluster.deploy(FLOWS / "chain.yml", FLOWS / "parallel_retry.yml")
        cluster.spawn("server")
        ids = [cluster.start("crash.test", "chain") for _ in range(4)]
        ids += [cluster.start("crash.test", "parallel_retry") for _ in range(4)]

        def napping() -> bool:
            return any(j.task_id == "nap" for p in cluster.store.list_processes() for j in p.jobs)

        cluster.wait_for(napping, 30, "a task to be running")
        private_postgres.restart()
        report = verify(cluster, sink, ids)
        assert {e.flow_id for e in cluster.wait_finalized(ids)} <= set(EXPECTED)
        print(report)
    finally:
        cluster.close()
