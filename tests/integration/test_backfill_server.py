"""A Schedule's backfill walked by real `lanner server` processes (docs/triggers.md,
Backfill): two servers on one PostgreSQL database, one of them SIGKILLed mid-step and
another mid-way, still create each date of the backfill exactly once."""

from __future__ import annotations

import signal
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lanner.runtime import backfill as backfills
from tests.support.cluster import Cluster, Proc
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401 (fixture)

FLOW = """id: daily
namespace: company.team
inputs:
  - id: who
    type: STRING
    defaults: cron
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.who }} {{ trigger.date }}"
triggers:
  - id: sched
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 6 * * *"
"""
KEY = ("company.team", "daily", "sched")
DATES = 91  # 2024-01-01 .. 2024-03-31


def _stop(proc: Proc) -> None:
    proc.signal(signal.SIGTERM)
    assert proc.popen.wait(60) == 0, proc.output()


@pytest.mark.postgres
def test_two_servers_and_kills_create_each_backfilled_date_once(
    postgres_server: PostgresServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    c = Cluster(postgres_server.new_database(), tmp_path / "home")
    try:
        c.store.migrate()
        path = c.home / "daily.yml"
        path.write_text(FLOW)
        c.deploy(path)
        # The first dies the second time it is about to commit a step (nothing of that
        # step is written); the other server makes the rest.
        doomed = c.spawn("server", "--threads", "1", crash_at="backfill.before_commit:2")
        other = c.spawn("server", "--threads", "1")
        c.wait_for(lambda: c.store.get_trigger_context(*KEY), 60, "the trigger's context")
        started = c.cli(
            "triggers",
            "backfill",
            *KEY,
            "--start",
            "2024-01-01T00:00:00Z",
            "--end",
            "2024-03-31T23:00:00Z",
            "--input",
            "who=backfill",
            "--label",
            "batch=q1",
        )
        assert started.returncode == 0, started.stderr
        c.wait_for(lambda: not doomed.alive(), 120, "the crash point")
        assert doomed.popen.returncode == -signal.SIGKILL
        # A third server joins; the second is SIGKILLed whenever it is.
        third = c.spawn("server", "--threads", "1")
        c.wait_for(lambda: len(_backfilled(c)) >= 40, 120, "half of the dates")
        other.kill()

        def finished() -> bool:
            context = c.store.get_trigger_context(*KEY)
            return context is not None and backfills.KEY not in context.data

        c.wait_for(finished, 180, "the backfill's end")
        _stop(third)
        made = _backfilled(c)
        dates = [(e.trigger or {})["date"] for e in made]
        assert Counter(dates).most_common(1)[0][1] == 1
        assert len(dates) == DATES
        first = datetime.fromisoformat("2024-01-01T06:00:00+00:00")
        expected = [first + timedelta(days=i) for i in range(DATES)]
        assert sorted(dates) == [d.strftime("%Y-%m-%dT%H:%M:%SZ") for d in expected]
        assert {e.labels.get("batch") for e in made} == {"q1"}
        assert {e.inputs["who"] for e in made} == {"backfill"}
        context = c.store.get_trigger_context(*KEY)
        assert context is not None
        last = backfills.last_answer(context)
        # `created` counts the committed steps only: the step the kill cut short counts
        # once, made again by the next server.
        assert last is not None and last["created"] == DATES
    finally:
        c.close()


def _backfilled(c: Cluster) -> list:  # type: ignore[type-arg]
    return [
        e
        for e in c.store.list_executions(flow_id="daily", limit=10_000)
        if (e.labels or {}).get("batch") == "q1"
    ]
