"""Execution search in SQL: every condition, the order, paging and the total, on both
backends (the API's filters are tested over HTTP in tests/api/test_executions_api.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lanner.model.states import State
from lanner.store.base import Store
from lanner.store.search import (
    AnyTextCondition,
    Condition,
    DateCondition,
    ExecutionSearch,
    LabelCondition,
    StateCondition,
    TextCondition,
)


@pytest.fixture
def seeded(store: Store, make: Any, now: dt.datetime) -> Store:
    rows: list[tuple[str, str, str, State, dict[str, str]]] = [
        ("e0", "company.team", "hello", State.SUCCESS, {"env": "prod"}),
        ("e1", "company.team.sub", "Hello_2", State.FAILED, {"env": "dev", "team": "a"}),
        ("e2", "company.teamx", "other", State.RUNNING, {}),
        ("e3", "acme", "hello", State.SUCCESS, {"env": "prod", "team": "b"}),
        ("e4", "company.team", "50%_off", State.KILLED, {"team": "a"}),
    ]
    for i, (eid, ns, flow, state, labels) in enumerate(rows):
        created = now + dt.timedelta(minutes=i)
        ended = created + dt.timedelta(seconds=10 * (5 - i)) if state.terminated else None
        store.create_execution(
            make.execution(
                eid,
                created=created,
                namespace=ns,
                flow_id=flow,
                state=state,
                labels=labels,
                terminal_at=ended,
            ),
            [],
        )
    return store


def ids(store: Store, *conditions: Condition, **options: Any) -> list[str]:
    page = store.search_executions(ExecutionSearch(tuple(conditions), **options))
    return [e.id for e in page.executions]


def test_no_condition_is_the_most_recent_first_with_the_total(seeded: Store) -> None:
    page = seeded.search_executions(ExecutionSearch(limit=2))
    assert [e.id for e in page.executions] == ["e4", "e3"]
    assert page.total == 5
    assert all(not e.task_runs for e in page.executions)
    assert ids(seeded, limit=2, offset=4) == ["e0"]
    assert seeded.search_executions(ExecutionSearch(count=False)).total == 0


@pytest.mark.parametrize(
    ("operation", "values", "expected"),
    [
        ("EQUALS", ("company.team",), ["e4", "e0"]),
        ("NOT_EQUALS", ("company.team",), ["e3", "e2", "e1"]),
        ("IN", ("acme", "company.teamx"), ["e3", "e2"]),
        ("NOT_IN", ("acme", "company.teamx"), ["e4", "e1", "e0"]),
        ("PREFIX", ("company.team",), ["e4", "e1", "e0"]),
        ("STARTS_WITH", ("company.team",), ["e4", "e2", "e1", "e0"]),
        ("STARTS_WITH", ("Company",), []),
        ("ENDS_WITH", ("sub",), ["e1"]),
        ("ENDS_WITH", ("a.very.long.suffix.x",), []),
        ("CONTAINS", ("TEAM.S",), ["e1"]),
        ("REGEX", (r"^co.*x$",), ["e2"]),
    ],
)
def test_text_operations(
    seeded: Store, operation: str, values: tuple[str, ...], expected: list[str]
) -> None:
    assert ids(seeded, TextCondition("namespace", operation, values)) == expected


def test_like_wildcards_in_values_are_text(seeded: Store) -> None:
    assert ids(seeded, TextCondition("flow_id", "CONTAINS", ("%_",))) == ["e4"]
    assert ids(seeded, TextCondition("flow_id", "CONTAINS", ("o_2",))) == ["e1"]
    assert ids(seeded, AnyTextCondition("HELLO")) == ["e3", "e1", "e0"]
    assert ids(seeded, AnyTextCondition("e2")) == ["e2"]


def test_states_labels_and_dates(seeded: Store, now: dt.datetime) -> None:
    success = frozenset({"SUCCESS", "KILLED"})
    assert ids(seeded, StateCondition(success)) == ["e4", "e3", "e0"]
    assert ids(seeded, StateCondition(success, negated=True)) == ["e2", "e1"]
    assert ids(seeded, LabelCondition((("env", "prod"),))) == ["e3", "e0"]
    assert ids(seeded, LabelCondition((("env", "prod"), ("team", "b")))) == ["e3"]
    # Negated: an execution without the label does not have that value either.
    assert ids(seeded, LabelCondition((("env", "prod"),), negated=True)) == ["e4", "e2", "e1"]
    after = now + dt.timedelta(minutes=2)
    assert ids(seeded, DateCondition("start_date", "GREATER_THAN_OR_EQUAL_TO", after)) == [
        "e4",
        "e3",
        "e2",
    ]
    assert ids(seeded, DateCondition("start_date", "LESS_THAN", after)) == ["e1", "e0"]
    # An execution that has not ended has no end date: no comparison holds.
    assert ids(seeded, DateCondition("end_date", "NOT_EQUALS", now)) == ["e4", "e3", "e1", "e0"]
    both = (TextCondition("flow_id", "EQUALS", ("hello",)), StateCondition(frozenset({"SUCCESS"})))
    assert ids(seeded, *both) == ["e3", "e0"]


def test_sort_orders(seeded: Store) -> None:
    assert ids(seeded, sort=(("start_date", False),)) == ["e0", "e1", "e2", "e3", "e4"]
    assert ids(seeded, sort=(("namespace", False), ("start_date", True))) == [
        "e3",
        "e4",
        "e0",
        "e1",
        "e2",
    ]
    # Not ended (no end date) sorts first ascending, last descending, on both databases.
    assert ids(seeded, sort=(("end_date", False),)) == ["e2", "e0", "e1", "e3", "e4"]
    assert ids(seeded, sort=(("end_date", True),)) == ["e4", "e3", "e1", "e0", "e2"]
    assert ids(seeded, sort=(("state", False), ("id", False))) == ["e1", "e4", "e2", "e0", "e3"]


def test_task_runs_of_the_page_on_request(store: Store, make: Any, now: dt.datetime) -> None:
    for i in range(3):
        created = now + dt.timedelta(seconds=i)
        store.create_execution(
            make.execution(f"e{i}", make.every_phase(f"e{i}"), created=created), []
        )
    page = store.search_executions(ExecutionSearch(limit=2, task_runs=True))
    assert [e.id for e in page.executions] == ["e2", "e1"]
    for e in page.executions:
        assert e == store.get_execution(e.id)
