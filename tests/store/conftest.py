"""The store contract suite's fixtures: one fresh store per test, per backend.

Every test in this directory that takes ``store`` (or ``store_url``) runs
against each backend in ``BACKENDS``. Adding PostgreSQL means adding a
``pytest.param("postgres", marks=pytest.mark.postgres)`` and a branch in
``store_url`` that creates a fresh database (or schema) per test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanner.engine.model import ROOT, Attempt, ErrorInfo, Execution, History, Phase, TaskRun
from lanner.engine.states import State
from lanner.store import open_store
from lanner.store.base import LogRecord, NewEvent, NewJob, Store

BACKENDS = [pytest.param("sqlite", id="sqlite")]

NOW = dt.datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=dt.UTC)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty store (another process may open it too)."""
    backend = request.param
    if backend == "sqlite":
        return f"sqlite://{tmp_path / 'lanner.db'}"
    raise AssertionError(f"unknown backend {backend}")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()


class Make:
    """Builders for the values the store takes, with sensible defaults."""

    def execution(
        self,
        execution_id: str = "exec1",
        task_runs: list[TaskRun] | None = None,
        *,
        state: State = State.RUNNING,
        created: dt.datetime = NOW,
        **fields: Any,
    ) -> Execution:
        runs = task_runs or []
        children: dict[tuple[str, Phase], tuple[str, ...]] = {}
        for t in sorted(runs, key=lambda t: t.seq):
            key = (t.parent_id or ROOT, t.phase)
            children[key] = (*children.get(key, ()), t.id)
        return Execution(
            id=execution_id,
            namespace=fields.pop("namespace", "company.team"),
            flow_id=fields.pop("flow_id", "hello"),
            flow_revision=fields.pop("flow_revision", 1),
            state=state,
            histories=(History(State.CREATED, created), History(State.RUNNING, created)),
            task_runs={t.id: t for t in runs},
            children=children,
            **fields,
        )

    def task_run(
        self,
        task_run_id: str,
        seq: int,
        *,
        execution_id: str = "exec1",
        task_id: str | None = None,
        parent_id: str | None = None,
        phase: Phase = Phase.MAIN,
        state: State = State.CREATED,
        **fields: Any,
    ) -> TaskRun:
        return TaskRun(
            id=task_run_id,
            execution_id=execution_id,
            task_id=task_id or task_run_id,
            parent_id=parent_id,
            value=fields.pop("value", None),
            iteration=fields.pop("iteration", None),
            phase=phase,
            seq=seq,
            state=state,
            histories=fields.pop("histories", (History(State.CREATED, NOW),)),
            **fields,
        )

    def every_phase(self, execution_id: str = "exec1") -> list[TaskRun]:
        """Task runs of every phase, with every optional field set somewhere."""
        later = NOW + dt.timedelta(seconds=1, microseconds=7)
        histories = (History(State.CREATED, NOW), History(State.RUNNING, later))
        return [
            self.task_run(
                "each",
                0,
                execution_id=execution_id,
                state=State.RUNNING,
                histories=histories,
                memo={"values": ["a", "b"], "nested": {"n": 1, "none": None}},
            ),
            self.task_run(
                "each-a",
                1,
                execution_id=execution_id,
                task_id="child",
                parent_id="each",
                value="a",
                iteration=0,
                state=State.SUCCESS,
                attempts=(
                    Attempt(State.FAILED, (History(State.RUNNING, NOW),)),
                    Attempt(State.SUCCESS, histories),
                ),
                outputs={"value": "ünïcode ✓", "n": 3, "f": 1.5, "list": [1, None, True]},
            ),
            self.task_run(
                "handler",
                2,
                execution_id=execution_id,
                phase=Phase.ERRORS,
                state=State.FAILED,
                error=ErrorInfo("boom", "TaskFailure", "each-a", "each-a"),
                generation=2,
            ),
            self.task_run("cleanup", 3, execution_id=execution_id, phase=Phase.FINALLY),
            self.task_run("notify", 4, execution_id=execution_id, phase=Phase.AFTER),
            self.task_run(
                "each-b",
                5,
                execution_id=execution_id,
                task_id="child",
                parent_id="each",
                value="b",
                iteration=1,
                phase=Phase.MAIN,
                outputs={},
            ),
        ]

    def event(
        self,
        execution_id: str = "exec1",
        kind: str = "Start",
        *,
        at: dt.datetime = NOW,
        dedup_key: str | None = None,
        **payload: Any,
    ) -> NewEvent:
        return NewEvent(execution_id, kind, payload, at, dedup_key)

    def job(
        self, task_run_id: str, *, attempt: int = 1, execution_id: str = "exec1", at=NOW
    ) -> NewJob:
        return NewJob(task_run_id, execution_id, attempt, {"task": task_run_id}, at)

    def log(self, message: str, *, level: str = "INFO", execution_id: str = "exec1") -> LogRecord:
        return LogRecord(execution_id, "t1", "tr1", 1, NOW, level, message)


@pytest.fixture
def make() -> Make:
    return Make()


@pytest.fixture
def now() -> dt.datetime:
    """The clock of a test: the store never reads a clock for what it is given."""
    return NOW
