"""The store contract suite's fixtures: one fresh store per test, per backend.

Every test in this directory that takes ``store`` (or ``store_url``) runs
against each backend in ``BACKENDS``: SQLite (a new file per test) and
PostgreSQL (one new database per test session, ``lanner_test_<random>``,
emptied before each test and dropped at the end).

PostgreSQL is found through ``LANNER_TEST_POSTGRES`` (a URL of a database to
connect to for CREATE DATABASE; default
``postgresql://postgres@127.0.0.1:5432/postgres``). When it cannot be reached,
its tests are skipped, except under CI (``CI=true``), where they fail: a
service missing in CI is a failure, never a silent skip.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanner.engine.execution import ROOT, Attempt, ErrorInfo, Execution, History, Phase, TaskRun
from lanner.model.states import State
from lanner.store import open_store
from lanner.store.base import LogRecord, NewEvent, NewJob, Store
from tests.support.postgres import postgres_db, postgres_server  # noqa: F401 (fixtures)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

# Contract tests that pin down a behaviour only one backend has, with the
# reason and the test that states the other backend's behaviour instead.
SQLITE_ONLY = {
    "test_a_claim_waits_for_the_writer_instead_of_failing": (
        "SQLite's single writer makes a claim wait for an open executor cycle; PostgreSQL"
        " claims never wait (MVCC): see test_postgres_store.py::"
        "test_a_claim_during_an_open_cycle_neither_waits_nor_fails"
    ),
}

NOW = dt.datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=dt.UTC)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Not a skip: these tests state SQLite's own semantics and have no PostgreSQL
    # variant, so the PostgreSQL parametrization is not collected at all (a skip
    # in CI would read as a missing service).
    dropped = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        name = getattr(item, "originalname", item.name)
        if (
            callspec is not None
            and name in SQLITE_ONLY
            and callspec.params.get("store_url") == "postgres"
        ):
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in dropped]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty store (another process may open it too)."""
    backend = request.param
    if backend == "sqlite":
        return f"sqlite://{tmp_path / 'lanner.db'}"
    if backend == "postgres":
        url: str = request.getfixturevalue("postgres_db")
        request.getfixturevalue("postgres_server").empty(url)
        return url
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
        self,
        task_run_id: str,
        *,
        attempt: int = 1,
        execution_id: str = "exec1",
        at: dt.datetime = NOW,
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
