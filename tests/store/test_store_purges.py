"""The selective purges of PurgeExecutions and PurgeLogs (store/purgesql.py), on every
backend: by namespace prefix, flow, dates, states and levels; finalized executions
only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lanner.model.states import State
from lanner.store.base import LogRecord, Store

_H = dt.timedelta(hours=1)


def _execution(
    store: Store,
    make: Any,
    execution_id: str,
    namespace: str,
    created: dt.datetime,
    state: State = State.SUCCESS,
    flow_id: str = "f",
) -> None:
    finished = state is not State.RUNNING
    execution = make.execution(
        execution_id,
        [make.task_run(f"{execution_id}-t", 0, execution_id=execution_id)],
        state=state,
        created=created,
        namespace=namespace,
        flow_id=flow_id,
        terminal_at=created if finished else None,
        finalized_at=created if finished else None,
    )
    store.create_execution(execution, [make.event(execution_id, kind="Late")])
    store.append_logs(
        [
            LogRecord(execution_id, "t", f"{execution_id}-t", 1, created, level, level.lower())
            for level in ("DEBUG", "INFO", "ERROR")
        ]
    )


def test_select_executions_by_namespace_prefix_flow_dates_and_states(
    store: Store, make: Any, now: dt.datetime
) -> None:
    _execution(store, make, "a", "company", now)
    _execution(store, make, "b", "company.team", now + _H, State.FAILED)
    _execution(store, make, "c", "company_x", now + 2 * _H)  # not below "company"
    _execution(store, make, "d", "company.team", now + 3 * _H, flow_id="g")
    _execution(store, make, "running", "company", now, State.RUNNING)
    end = now + 10 * _H

    def ids(**filters: Any) -> list[str]:
        return [e[0] for e in store.select_executions(before=filters.pop("before", end), **filters)]

    assert ids() == ["a", "b", "c", "d"]  # oldest first, never the running one
    assert ids(namespace="company") == ["a", "b", "d"]
    assert ids(namespace="company.team", flow_id="f") == ["b"]
    assert ids(namespace="company", flow_id="f") == ["a"]  # with flowId: that namespace only
    assert ids(after=now + _H, before=now + 3 * _H) == ["b", "c"]
    assert ids(states=["FAILED", "KILLED"]) == ["b"]
    assert ids(states=[]) == []
    assert store.select_executions(before=now + _H, namespace="company") == [("a", "company", "f")]


def test_delete_executions_rows_logs_or_both(store: Store, make: Any, now: dt.datetime) -> None:
    for execution_id in ("a", "b", "c"):
        _execution(store, make, execution_id, "n", now)
    _execution(store, make, "running", "n", now, State.RUNNING)
    assert store.delete_executions(["a"], rows=False, logs=True) == (0, 3)
    assert store.get_execution("a") is not None and store.get_logs("a") == []
    assert store.delete_executions(["b"], rows=True, logs=False) == (1, 0)
    assert store.get_execution("b") is None
    assert len(store.get_logs("b")) == 3  # kept, as asked
    assert store.delete_executions(["c", "running", "missing"], rows=True, logs=True) == (1, 3)
    assert store.get_execution("running") is not None and len(store.get_logs("running")) == 3
    assert store.delete_executions([], rows=True, logs=True) == (0, 0)


def test_delete_logs_by_dates_levels_and_owner(store: Store, make: Any, now: dt.datetime) -> None:
    _execution(store, make, "a", "company", now)
    _execution(store, make, "b", "company.team", now + _H, flow_id="g")
    _execution(store, make, "c", "other", now + 2 * _H)
    end = now + 10 * _H
    assert store.delete_logs(before=end, namespace="company", levels=["DEBUG"]) == 2
    assert store.delete_logs(before=end, levels=[]) == 0
    assert store.delete_logs(before=end, namespace="company.team", flow_id="g") == 2
    assert [r.level for r in store.get_logs("a")] == ["INFO", "ERROR"]
    assert store.delete_logs(before=now + 2 * _H, after=now) == 2  # a's two lines
    assert store.delete_logs(before=end, execution_id="c", levels=["ERROR"]) == 1
    assert [r.message for r in store.get_logs("c")] == ["debug", "info"]
