"""A Schedule's backfill walked by the trigger runtime over a real SQLite store, ticked
with given `now`s (docs/triggers.md, Backfill): a few dates per tick, each once, with
the backfill's inputs and labels; paused, resumed and deleted; refused when invalid."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lanner.config import Config
from lanner.errors import InputError
from lanner.model.triggers import Schedule
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime import backfill as backfills
from lanner.runtime.schedule import ScheduleType
from lanner.runtime.triggers import TriggerRuntime
from lanner.store import open_store
from lanner.store.base import Store, TriggerContext

T0 = datetime(2025, 1, 6, 12, 0, 0, tzinfo=UTC)
S = timedelta(seconds=1)
NOW = T0 + timedelta(hours=1)
KEY = ("company.team", "tick", "every2")


def _flow(cron: str = "*/2 * * * * *") -> str:
    return f"""id: tick
namespace: company.team
labels:
  team: data
inputs:
  - id: day
    type: STRING
    defaults: none
  - id: count
    type: INT
    defaults: 1
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: every2
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "{cron}"
    withSeconds: true
    inputs:
      day: "{{{{ trigger.date }}}}"
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite://{tmp_path / 'lanner.db'}")
    opened.migrate()
    opened.deploy_flow("company.team", "tick", _flow())
    yield opened
    opened.close()


def _runtime(store: Store) -> TriggerRuntime:
    rt = TriggerRuntime(store, TaskRegistry.from_entry_points(), Config())
    rt.tick(NOW)  # the trigger's context
    return rt


def _start(store: Store, start: datetime, end: datetime, **kw: object) -> TriggerContext:
    flow = load_flow(_flow(), TaskRegistry.from_entry_points())
    trigger = flow.triggers[0]  # type: ignore[index]
    assert isinstance(trigger, Schedule)
    return backfills.start_backfill(
        store,
        ScheduleType(),
        flow,
        1,
        trigger,
        start,
        end,
        NOW,
        **kw,  # type: ignore[arg-type]
    )


def _backfilled(store: Store) -> list[int]:
    """The backfilled dates, as seconds after T0, oldest first."""
    out = []
    for e in store.list_executions(limit=1000):
        date = datetime.fromisoformat(str((e.trigger or {})["date"]).replace("Z", "+00:00"))
        if date < NOW - timedelta(minutes=1):
            out.append(int((date - T0).total_seconds()))
    return sorted(out)


def _state(store: Store) -> TriggerContext:
    context = store.get_trigger_context(*KEY)
    assert context is not None
    return context


def test_a_backfill_is_walked_a_few_dates_per_tick_each_once(store: Store) -> None:
    rt = _runtime(store)
    saved = _start(
        store,
        T0,
        T0 + 59 * S,
        inputs={"count": 7},
        labels={"run": "b-{{ trigger.date }}", "team": "ops"},
    )
    state = backfills.answer(saved)
    assert state is not None and state["currentDate"] == "2025-01-06T12:00:00Z"
    assert state["labels"] == [
        {"key": "run", "value": "b-{{ trigger.date }}"},
        {"key": "team", "value": "ops"},
    ]
    assert _backfilled(store) == []
    rt.tick(NOW + S)
    assert _backfilled(store) == list(range(0, 20, 2))  # PER_TICK dates
    assert backfills.answer(_state(store))["currentDate"] == "2025-01-06T12:00:20Z"  # type: ignore[index]
    rt.tick(NOW + 2 * S)
    rt.tick(NOW + 3 * S)
    assert _backfilled(store) == list(range(0, 60, 2))
    done = _state(store)
    assert backfills.answer(done) is None  # removed once its end is passed, as Kestra does
    last = backfills.last_answer(done)
    assert last is not None and last["created"] == 30 and last["endedAt"]
    rt.tick(NOW + 4 * S)
    assert len(_backfilled(store)) == 30
    one = next(e for e in store.list_executions(limit=1000) if e.trigger["date"].endswith(":10Z"))  # type: ignore[index]
    assert one.inputs == {"day": "2025-01-06T12:00:10Z", "count": 7}
    assert one.labels["run"] == "b-2025-01-06T12:00:10Z"
    assert one.labels["team"] == "ops"  # the backfill's label over the flow's
    assert one.labels["system.correlationId"] == one.id


def test_the_schedule_keeps_firing_beside_its_backfill(store: Store) -> None:
    rt = _runtime(store)
    _start(store, T0, T0 + 59 * S)
    rt.tick(NOW + 2 * S)
    dates = [(e.trigger or {}).get("date") for e in store.list_executions(limit=1000)]
    own = [d for d in dates if d == "2025-01-06T13:00:02Z"]
    assert len(own) == 1
    assert len(_backfilled(store)) == backfills.PER_TICK


def test_paused_resumed_and_deleted(store: Store) -> None:
    rt = _runtime(store)
    _start(store, T0, T0 + 59 * S)
    rt.tick(NOW + S)
    paused = backfills.set_backfill_paused(store, KEY, True, NOW + S)
    assert backfills.answer(paused)["paused"] is True  # type: ignore[index]
    rt.tick(NOW + 2 * S)
    rt.tick(NOW + 3 * S)
    assert len(_backfilled(store)) == 10
    backfills.set_backfill_paused(store, KEY, False, NOW + 3 * S)
    rt.tick(NOW + 4 * S)
    assert len(_backfilled(store)) == 20
    deleted = backfills.delete_backfill(store, KEY, NOW + 4 * S)
    assert backfills.answer(deleted) is None
    rt.tick(NOW + 5 * S)
    assert len(_backfilled(store)) == 20  # its executions stay
    with pytest.raises(backfills.NoBackfillError):
        backfills.delete_backfill(store, KEY, NOW + 5 * S)
    with pytest.raises(backfills.NoBackfillError):
        backfills.set_backfill_paused(store, KEY, True, NOW + 5 * S)


def test_a_new_cron_keeps_the_backfill(store: Store) -> None:
    rt = _runtime(store)
    _start(store, T0, T0 + 59 * S)
    rt.tick(NOW + S)
    store.deploy_flow("company.team", "tick", _flow("*/10 * * * * *"))
    rt.tick(NOW + 2 * S)  # restarts the context on the new cron
    rt.tick(NOW + 3 * S)
    assert _backfilled(store) == [*range(0, 20, 2), 20, 30, 40, 50]


def test_refused_backfills(store: Store) -> None:
    _runtime(store)
    with pytest.raises(InputError, match="future"):
        _start(store, T0, NOW + timedelta(days=1))
    with pytest.raises(InputError, match="before its start"):
        _start(store, T0, T0 - S)
    with pytest.raises(InputError, match="system labels"):
        backfills.labels_of([{"key": "system.correlationId", "value": "x"}])
    with pytest.raises(InputError, match="count"):
        _start(store, T0, T0 + 9 * S, inputs={"count": "not a number"})
    assert backfills.answer(_state(store)) is None
    _start(store, T0, T0 + 9 * S)
    with pytest.raises(backfills.BackfillRunningError, match="delete it first"):
        _start(store, T0, T0 + 9 * S)


def test_labels_as_kestra_sends_them() -> None:
    assert backfills.labels_of([{"key": "a", "value": "b"}]) == {"a": "b"}
    assert backfills.labels_of({"a": 1}) == {"a": "1"}
    assert backfills.labels_of(None) == {}
