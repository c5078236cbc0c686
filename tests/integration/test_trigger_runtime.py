"""The trigger runtime over a real SQLite store, ticked with given `now`s (no waiting):
contexts follow deploys, dates fire once, recovery after a stop, stopAfter, conditions,
disabled flows and triggers (backfills: test_backfill_runtime.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lanner.config import Config
from lanner.engine.execution import Execution
from lanner.model.flow import Flow
from lanner.model.states import State
from lanner.plugin import TaskRegistry
from lanner.runtime.schedule import SCHEDULE_TYPE
from lanner.runtime.triggers import TriggerRuntime, set_trigger_disabled
from lanner.runtime.triggertypes import Evaluation, Firing
from lanner.store import open_store
from lanner.store.base import Store, TriggerContext
from tests.support.trigger_store import store_fixture  # noqa: F401 (fixture)

T0 = datetime(2025, 1, 6, 12, 0, 0, tzinfo=UTC)  # a Monday
S = timedelta(seconds=1)
KEY = ("company.team", "tick", "every2")


def _flow(trigger_extra: str = "", *, cron: str = "*/2 * * * * *", flow_extra: str = "") -> str:
    return f"""id: tick
namespace: company.team
{flow_extra}
inputs:
  - id: day
    type: STRING
    defaults: none
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
{trigger_extra}
"""


def _runtime(store: Store) -> TriggerRuntime:
    return TriggerRuntime(store, TaskRegistry.from_entry_points(), Config())


def _dates(store: Store) -> list[int]:
    """The fired dates, as seconds after T0, oldest first."""
    out = []
    for e in store.list_executions(limit=1000):
        date = datetime.fromisoformat(str((e.trigger or {})["date"]).replace("Z", "+00:00"))
        out.append(int((date - T0).total_seconds()))
    return sorted(out)


def test_a_deployed_schedule_starts_after_now_and_fires_each_date_once(store: Store) -> None:
    store.deploy_flow("company.team", "tick", _flow())
    rt = _runtime(store)
    assert rt.tick(T0) == 0
    context = store.get_trigger_context(*KEY)
    assert context is not None and context.next_date == T0 + 2 * S
    assert rt.tick(T0 + S) == 0
    assert rt.tick(T0 + 2 * S) == 1
    assert rt.tick(T0 + 2 * S) == 0  # the same date again: nothing
    assert rt.tick(T0 + 4 * S) == 1
    assert _dates(store) == [2, 4]
    execution = store.list_executions(limit=1)[0]
    assert execution.trigger == {
        "id": "every2",
        "type": "io.kestra.plugin.core.trigger.Schedule",
        "date": "2025-01-06T12:00:04Z",
        "next": "2025-01-06T12:00:06Z",
        "previous": "2025-01-06T12:00:02Z",
    }
    assert execution.inputs == {"day": "2025-01-06T12:00:04Z"}
    assert execution.labels["system.correlationId"] == execution.id
    assert store.has_due_events(T0 + 4 * S)  # its Start event: an executor takes it


def test_two_runtimes_on_one_store_create_each_date_once(store: Store, tmp_path: Path) -> None:
    store.deploy_flow("company.team", "tick", _flow())
    other_store = open_store(store.url)
    a, b = _runtime(store), _runtime(other_store)
    a.tick(T0)
    for i in range(1, 21):
        a.tick(T0 + i * S)
        b.tick(T0 + i * S)
    other_store.close()
    assert _dates(store) == list(range(2, 21, 2))
    assert a.fired + b.fired == 10


def test_a_new_revision_keeps_the_state_and_a_new_cron_restarts_it(store: Store) -> None:
    store.deploy_flow("company.team", "tick", _flow())
    rt = _runtime(store)
    rt.tick(T0)
    rt.tick(T0 + 2 * S)
    store.deploy_flow("company.team", "tick", _flow(flow_extra="description: v2"))
    rt.tick(T0 + 3 * S)
    context = store.get_trigger_context(*KEY)
    assert context is not None and context.last_date == T0 + 2 * S
    assert context.next_date == T0 + 4 * S
    store.deploy_flow("company.team", "tick", _flow(cron="*/10 * * * * *"))
    rt.tick(T0 + 5 * S)
    context = store.get_trigger_context(*KEY)
    assert context is not None and context.next_date == T0 + 10 * S


def test_deleting_the_flow_or_the_trigger_removes_the_state(store: Store) -> None:
    store.deploy_flow("company.team", "tick", _flow())
    rt = _runtime(store)
    rt.tick(T0)
    store.delete_flow("company.team", "tick")
    rt.tick(T0 + S)
    assert store.list_trigger_contexts() == []


@pytest.mark.parametrize(
    ("mode", "fired"),
    [("ALL", list(range(2, 31, 2))), ("LAST", [30]), ("NONE", [])],
)
def test_a_restarted_server_recovers_missed_dates_as_the_mode_says(
    store: Store, mode: str, fired: list[int]
) -> None:
    store.deploy_flow("company.team", "tick", _flow(f"    recoverMissedSchedules: {mode}"))
    _runtime(store).tick(T0)  # the first server saw it, then stopped
    restarted = _runtime(store)
    restarted.tick(T0 + 30 * S)  # 30 s later
    assert _dates(store) == fired
    context = store.get_trigger_context(*KEY)
    assert context is not None and context.next_date == T0 + 32 * S


def test_late_maximum_delay_skips_what_is_too_late(store: Store) -> None:
    store.deploy_flow("company.team", "tick", _flow("    lateMaximumDelay: PT5S"))
    _runtime(store).tick(T0)
    _runtime(store).tick(T0 + 30 * S)
    assert _dates(store) == [26, 28, 30]


def test_disabled_flows_and_triggers_do_not_fire(store: Store) -> None:
    store.deploy_flow("company.team", "tick", _flow(flow_extra="disabled: true"))
    rt = _runtime(store)
    rt.tick(T0)
    rt.tick(T0 + 4 * S)
    store.deploy_flow("company.team", "tick", _flow("    disabled: true"))
    rt.tick(T0 + 8 * S)
    assert _dates(store) == []
    store.deploy_flow("company.team", "tick", _flow())
    rt.tick(T0 + 20 * S)  # enabled again: starts after now, no catching up
    rt.tick(T0 + 22 * S)
    assert _dates(store) == [22]


def test_disable_and_enable_from_the_store(store: Store) -> None:
    store.deploy_flow("company.team", "tick", _flow())
    rt = _runtime(store)
    rt.tick(T0)
    set_trigger_disabled(store, KEY, True, T0)
    rt.tick(T0 + 2 * S)
    assert _dates(store) == []
    set_trigger_disabled(store, KEY, False, T0 + 3 * S)
    rt.tick(T0 + 4 * S)  # enabled again: starts after now, no catching up
    assert _dates(store) == []
    rt.tick(T0 + 6 * S)
    assert _dates(store) == [6]


def test_stop_after_disables_the_trigger(store: Store) -> None:
    store.deploy_flow("company.team", "tick", _flow("    stopAfter: [FAILED]"))
    rt = _runtime(store)
    rt.tick(T0)
    rt.tick(T0 + 2 * S)
    rt.tick(T0 + 4 * S)
    # The first one fails while the second still runs: the trigger stops.
    first = min(store.list_executions(), key=lambda e: str((e.trigger or {})["date"]))
    _set_state(store, first, State.FAILED)
    rt.tick(T0 + 5 * S)
    context = store.get_trigger_context(*KEY)
    assert context is not None and context.disabled
    rt.tick(T0 + 6 * S)
    assert _dates(store) == [2, 4]
    set_trigger_disabled(store, KEY, False, T0 + 7 * S)
    rt.tick(T0 + 7 * S)  # enabled again: the old failure no longer counts
    rt.tick(T0 + 8 * S)
    assert _dates(store) == [2, 4, 8]


def _set_state(store: Store, execution: Execution, state: State) -> None:
    from dataclasses import replace

    from lanner.store.base import CycleWrite

    with store.executor_tx() as tx:
        current = tx.load(execution.id)
        assert current is not None
        tx.write(
            CycleWrite(
                execution=replace(current, state=state, version=current.version + 1),
                expected_version=current.version,
            )
        )


def test_conditions_skip_the_dates_they_reject(store: Store) -> None:
    weekend = """    conditions:
      - type: io.kestra.plugin.core.condition.Not
        conditions:
          - type: io.kestra.plugin.core.condition.Weekend
      - type: io.kestra.plugin.core.condition.Expression
        expression: "{{ trigger.date | date('ss') != '04' }}"
"""
    store.deploy_flow("company.team", "tick", _flow(weekend))
    rt = _runtime(store)
    rt.tick(T0)
    for i in range(1, 7):
        rt.tick(T0 + i * S)
    assert _dates(store) == [2, 6]
    # As in Kestra, next and previous are the nearest dates whose conditions hold.
    six = next(e for e in store.list_executions() if (e.trigger or {})["date"].endswith(":06Z"))
    assert (six.trigger or {})["previous"] == "2025-01-06T12:00:02Z"
    assert (six.trigger or {})["next"] == "2025-01-06T12:00:08Z"


def test_conditions_read_the_schedule_variables(store: Store) -> None:
    only_ten = """    conditions:
      - type: io.kestra.plugin.core.condition.Expression
        expression: "{{ schedule.date | date('ss') == '10' }}"
"""
    store.deploy_flow("company.team", "tick", _flow(only_ten))
    rt = _runtime(store)
    rt.tick(T0)
    for i in range(1, 13):
        rt.tick(T0 + i * S)
    assert _dates(store) == [10]


def test_the_deprecated_schedule_conditions_act_as_conditions(store: Store) -> None:
    only_ten = """    scheduleConditions:
      - type: io.kestra.plugin.core.condition.Expression
        expression: "{{ trigger.date | date('ss') == '10' }}"
"""
    store.deploy_flow("company.team", "tick", _flow(only_ten))
    rt = _runtime(store)
    rt.tick(T0)
    for i in range(1, 13):
        rt.tick(T0 + i * S)
    assert _dates(store) == [10]


def test_a_flow_that_no_longer_loads_keeps_its_state(store: Store) -> None:
    store.deploy_flow("company.team", "tick", _flow())
    rt = _runtime(store)
    rt.tick(T0)
    broken = _flow().replace("io.kestra.plugin.core.log.Log", "io.example.Missing")
    store.deploy_flow("company.team", "tick", broken)
    rt.tick(T0 + 2 * S)
    assert store.get_trigger_context(*KEY) is not None
    assert _dates(store) == []


class _CountingPoll:
    """A POLLING trigger type as a plugin writes one: due every 10 s, it records that
    it was evaluated and whether it held the lock then."""

    evaluation = Evaluation.POLLING

    def __init__(self, store: Store) -> None:
        self.store = store
        self.locked_by: list[str | None] = []

    def fingerprint(self, trigger: Any) -> str:
        return "poll"

    def start(self, flow: Flow, trigger: Any, now: datetime) -> TriggerContext:
        return TriggerContext(
            flow.namespace, flow.id, trigger.id, "test.Poll", now + 10 * S, data={"n": 0}
        )

    def evaluate(
        self, flow: Flow, revision: int, trigger: Any, context: TriggerContext, now: datetime
    ) -> Firing:
        found = self.store.get_trigger_context(*context.key)
        self.locked_by.append(found.locked_by if found else None)
        data = {**context.data, "n": int(context.data["n"]) + 1}
        return Firing(replace(context, next_date=now + 10 * S, data=data))


def test_a_polling_type_is_evaluated_under_the_lock_by_one_process(store: Store) -> None:
    store.deploy_flow("company.team", "tick", _flow())
    poll = _CountingPoll(store)
    rt = TriggerRuntime(
        store,
        TaskRegistry.from_entry_points(),
        Config(),
        types={SCHEDULE_TYPE: poll},
        owner="me",
    )
    rt.tick(T0)
    assert store.lock_trigger(*KEY, "someone-else", T0 + 60 * S, T0)
    rt.tick(T0 + 10 * S)  # locked by another process: not evaluated here
    assert poll.locked_by == []
    assert store.unlock_trigger(*KEY, "someone-else")
    rt.tick(T0 + 11 * S)
    assert poll.locked_by == ["me"]
    context = store.get_trigger_context(*KEY)
    assert context is not None
    assert context.data["n"] == 1 and context.locked_by is None
    assert context.next_date == T0 + 21 * S


@pytest.mark.parametrize(("level", "logged"), [(None, True), ("INFO", True), ("ERROR", False)])
def test_the_trigger_log_level_keeps_its_lines_at_or_above_it(
    store: Store, caplog: pytest.LogCaptureFixture, level: str | None, logged: bool
) -> None:
    extra = "" if level is None else f"    logLevel: {level}"
    store.deploy_flow("company.team", "tick", _flow(extra))
    rt = _runtime(store)
    rt.tick(T0)
    with caplog.at_level("INFO", logger="lanner.runtime.triggers"):
        rt.tick(T0 + 2 * S)
    assert any("created execution" in r.getMessage() for r in caplog.records) is logged
    assert _dates(store) == [2]
