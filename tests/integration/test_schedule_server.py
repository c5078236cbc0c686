"""Schedules fired by real `lanner server` processes (docs/triggers.md): on time, once per
date with two servers on one PostgreSQL database, and missed dates recovered after a
restart as `recoverMissedSchedules` says."""

from __future__ import annotations

import itertools
import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lanner.engine.execution import Execution
from lanner.model.states import State
from tests.support.cluster import Cluster, Proc
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401 (fixture)


def _flow(flow_id: str, extra: str = "", cron: str = "* * * * * *") -> str:
    return f"""id: {flow_id}
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.date }}}}"
triggers:
  - id: sched
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "{cron}"
    withSeconds: true
{extra}
"""


def _deploy(cluster: Cluster, flow_id: str, extra: str = "", cron: str = "* * * * * *") -> None:
    path = cluster.home / f"{flow_id}.yml"
    path.write_text(_flow(flow_id, extra, cron))
    cluster.deploy(path)


def _date(execution: Execution) -> datetime:
    return datetime.fromisoformat(str((execution.trigger or {})["date"]).replace("Z", "+00:00"))


def _fired(cluster: Cluster, flow_id: str) -> list[Execution]:
    found = cluster.store.list_executions(flow_id=flow_id, limit=10_000)
    return sorted(found, key=_date)


def _stop(proc: Proc) -> None:
    proc.signal(signal.SIGTERM)
    assert proc.popen.wait(60) == 0, proc.output()


@pytest.fixture
def sqlite_cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(f"sqlite://{tmp_path / 'lanner.db'}", tmp_path / "home")
    try:
        yield c
    finally:
        c.close()


def test_a_seconds_schedule_fires_within_a_second_of_its_dates(sqlite_cluster: Cluster) -> None:
    c = sqlite_cluster
    _deploy(c, "tick")
    server = c.spawn("server", "--threads", "2")
    c.wait_for(lambda: len(_fired(c, "tick")) >= 4, 60, "four scheduled executions")
    _stop(server)
    fired = _fired(c, "tick")
    dates = [_date(e) for e in fired]
    assert len(set(dates)) == len(dates)
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(dates))
    delays = [(e.histories[0].date - _date(e)).total_seconds() for e in fired]
    assert all(0 <= d < 1.0 for d in delays), delays
    finished = c.wait_finalized([e.id for e in fired])
    assert {e.state for e in finished} == {State.SUCCESS}
    listed = c.cli("triggers", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"triggerId": "sched"' in listed.stdout


def test_a_restarted_server_recovers_missed_dates_per_mode(sqlite_cluster: Cluster) -> None:
    c = sqlite_cluster
    for mode in ("ALL", "LAST", "NONE"):
        _deploy(c, mode.lower(), f"    recoverMissedSchedules: {mode}")
    server = c.spawn("server", "--threads", "2")
    c.wait_for(
        lambda: all(_fired(c, m) for m in ("all", "last", "none")), 60, "a date of each flow"
    )
    _stop(server)
    stopped = {m: _date(_fired(c, m)[-1]) for m in ("all", "last", "none")}
    time.sleep(8)  # longer than MISSED_AFTER (5 s): these dates are missed
    server = c.spawn("server", "--threads", "2")
    c.wait_for(lambda: c.store.list_processes(), 60, "the restarted server")
    restarted = datetime.now(stopped["all"].tzinfo)
    c.wait_for(
        lambda: all(_date(_fired(c, m)[-1]) > restarted for m in ("all", "last", "none")),
        60,
        "a date after the restart",
    )
    _stop(server)

    def gap(flow_id: str) -> list[datetime]:
        """Dates fired after the last one before the stop, up to the restart."""
        cut = restarted - timedelta(seconds=5)
        return [d for d in map(_date, _fired(c, flow_id)) if stopped[flow_id] < d <= cut]

    all_dates = [_date(e) for e in _fired(c, "all")]
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(all_dates))
    assert len(gap("all")) >= 3
    assert len(gap("last")) <= 1  # the last missed date only (it may be newer than the cut)
    last_dates = [_date(e) for e in _fired(c, "last")]
    assert any(b - a > timedelta(seconds=3) for a, b in itertools.pairwise(last_dates))
    assert gap("none") == []


@pytest.mark.postgres
def test_two_servers_on_one_postgresql_create_each_date_once(
    postgres_server: PostgresServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    c = Cluster(postgres_server.new_database(), tmp_path / "home")
    try:
        c.store.migrate()
        _deploy(c, "tick")
        servers = [c.spawn("server", "--threads", "1") for _ in range(2)]
        c.wait_for(lambda: len(c.store.list_processes()) == 2, 60, "both servers")
        c.wait_for(lambda: len(_fired(c, "tick")) >= 8, 60, "eight dates")
        for server in servers:
            _stop(server)
        dates = [_date(e) for e in _fired(c, "tick")]
        assert Counter(dates).most_common(1)[0][1] == 1
        assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(dates))
    finally:
        c.close()


def test_the_triggers_cli_lists_disables_enables_and_backfills(sqlite_cluster: Cluster) -> None:
    c = sqlite_cluster
    _deploy(c, "daily", cron="0 0 6 * * *")
    server = c.spawn("server", "--threads", "1")
    c.wait_for(lambda: c.store.list_trigger_contexts(), 60, "the trigger's context")
    _stop(server)
    listed = c.cli("triggers", "list")
    assert listed.returncode == 0 and "company.team.daily.sched  Schedule  enabled" in listed.stdout
    assert c.cli("triggers", "disable", "company.team", "daily", "sched").returncode == 0
    context = c.store.get_trigger_context("company.team", "daily", "sched")
    assert context is not None and context.disabled
    assert c.cli("triggers", "enable", "company.team", "daily", "sched").returncode == 0
    missing = c.cli("triggers", "disable", "company.team", "daily", "nope")
    assert missing.returncode != 0 and "not found" in missing.stderr
    args = ("company.team", "daily", "sched", "--start", "2025-01-01T00:00:00Z")
    # The CLI stores the backfill on the trigger; a running server creates its executions.
    done = c.cli("triggers", "backfill", *args, "--end", "2025-01-03T12:00:00Z", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["currentDate"] == "2025-01-01T00:00:00Z"
    paused = c.cli("triggers", "backfill", "company.team", "daily", "sched", "--pause")
    assert paused.returncode == 0 and "paused" in paused.stdout, paused.stderr
    resumed = c.cli("triggers", "backfill", "company.team", "daily", "sched", "--resume")
    assert resumed.returncode == 0 and "running" in resumed.stdout, resumed.stderr
    server = c.spawn("server", "--threads", "1")
    c.wait_for(lambda: len(_fired(c, "daily")) == 3, 60, "the backfill's three dates")
    _stop(server)
    assert [(e.trigger or {})["date"] for e in _fired(c, "daily")] == [
        "2025-01-01T06:00:00Z",
        "2025-01-02T06:00:00Z",
        "2025-01-03T06:00:00Z",
    ]
    gone = c.cli("triggers", "backfill", "company.team", "daily", "sched", "--delete")
    assert gone.returncode != 0 and "no backfill" in gone.stderr
    future = c.cli("triggers", "backfill", *args, "--end", "2999-01-01T00:00:00Z")
    assert future.returncode != 0 and "future" in future.stderr
