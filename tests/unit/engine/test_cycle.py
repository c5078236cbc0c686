"""The cycle's bookkeeping (engine/cycle.py): its invariants hold after every
cycle of real executions -- flowables, retries, Pause, Subflow, child
failures, restarts, and the random flows of the property tests -- and its
methods keep them when they delete and count again."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from lanner.engine.cycle import invariant_problems
from lanner.engine.events import Decision, Event
from lanner.engine.execution import ROOT, Execution, Phase
from lanner.engine.planner import PlanContext, Planner, _Cycle
from lanner.model.states import State
from tests.unit.engine import (
    test_child_failure,
    test_flowables,
    test_handlers,
    test_pause,
    test_properties,
    test_restart,
    test_subflow,
)
from tests.unit.engine.support import Driver

MODULES = (
    test_flowables,
    test_handlers,
    test_pause,
    test_subflow,
    test_child_failure,
    test_restart,
    test_properties,
)


def _scenarios(modules: Iterable[ModuleType]) -> Iterator[Any]:
    for module in modules:
        for name, function in sorted(vars(module).items()):
            if name.startswith("test_") and callable(function):
                # Plain tests only; the property tests take their arguments from hypothesis.
                wrapped = getattr(function, "hypothesis", None)
                if wrapped is not None or not inspect.signature(function).parameters:
                    yield pytest.param(function, id=f"{module.__name__.rsplit('.', 1)[-1]}.{name}")


def _problems(decision: Decision) -> list[str]:
    ex = decision.execution
    assert ex.active is not None and ex.failed_lists is not None
    return invariant_problems(ex.task_runs, ex.children, ex.active, ex.failed_lists)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every plan of the real planner is checked; the list counts the cycles seen."""
    seen: list[int] = []
    plan = Planner.plan

    def checking(self: Planner, *args: Any, **kwargs: Any) -> Decision:
        decision = plan(self, *args, **kwargs)
        problems = _problems(decision)
        assert problems == [], f"cycle {len(seen)}: {problems}"
        seen.append(1)
        return decision

    monkeypatch.setattr(Planner, "plan", checking)
    return seen


@pytest.mark.parametrize("scenario", list(_scenarios(MODULES)))
def test_the_invariants_hold_after_every_cycle(
    scenario: Callable[[], None], checked: list[int]
) -> None:
    scenario()
    assert checked, "the scenario planned nothing"


FLOW = """
tasks:
  - id: loop
    type: ForEach
    values: ["a", "b"]
    tasks:
      - id: work
        type: Log
        message: "{{ taskrun.value }}"
    errors:
      - id: handle
        type: Log
        message: handle
"""


def _cycle(execution: Execution, planner: Planner) -> _Cycle:
    return _Cycle(planner, execution, PlanContext(now=datetime(2026, 1, 2, tzinfo=UTC)))


def test_delete_renumbers_and_counts_again() -> None:
    d = Driver.of(FLOW)
    events: list[Event] = []
    d.plan(*events)
    from lanner.engine.events import Start

    d.plan(Start())
    d.plan(d.result("work"))  # the first value's run
    cycle = _cycle(d.execution, d.planner)
    assert cycle.problems() == []
    doomed = [r.id for r in cycle.runs.values() if r.task_id == "work"][:1]
    cycle.delete(doomed)
    assert cycle.problems() == []
    assert doomed[0] not in cycle.runs
    assert sorted(r.seq for r in cycle.runs.values()) == list(range(len(cycle.runs)))
    assert cycle.decision().deleted == frozenset(doomed)


def test_the_check_sees_a_broken_state() -> None:
    d = Driver.of(FLOW)
    from lanner.engine.events import Start

    d.plan(Start())
    ex = d.execution
    assert ex.active is not None and ex.failed_lists is not None
    runs = dict(ex.task_runs)
    some = next(iter(runs.values()))
    runs[some.id] = some.to(State.FAILED, some.start_date)
    found = invariant_problems(runs, ex.children, ex.active, ex.failed_lists)
    assert [p[:2] for p in found] == ["1:", "2:"]
    found = invariant_problems(
        ex.task_runs, {**ex.children, (ROOT, Phase.ERRORS): (some.id,)}, ex.active, set()
    )
    assert any(p.startswith("4:") for p in found)


LOOP = """
tasks:
  - id: each
    type: ForEach
    values: [a, b, c, d]
    tasks:
      - id: work
        type: Log
        message: "{{ taskrun.value }}"
"""


def test_a_loop_grows_its_list_in_place_only_when_the_execution_is_given_up() -> None:
    """A ForEach adds a task run per value: a given-up execution's list grows in place
    (O(1) amortised, docs/performance.md); a kept one stays as it was."""
    from lanner.engine.events import Start, TaskResult

    d = Driver.of(LOOP)
    d.plan(Start())
    each = d.run("each")
    key = (each.id, Phase.MAIN)
    kept = d.execution
    before = list(kept.children[key])
    context = PlanContext(now=d.now)
    work = d.run("work", "a")
    plain = d.planner.plan(kept, [TaskResult(work.id, 1, State.SUCCESS, {})], context)
    assert list(kept.children[key]) == before  # the caller's execution is untouched
    assert len(plain.execution.children[key]) == len(before) + 1
    grown = plain.execution.children[key]
    ex = plain.execution
    for value in ("b", "c"):
        run = ex.task_runs[grown[-1]]
        assert run.value == value
        ex = d.planner.plan(
            ex, [TaskResult(run.id, 1, State.SUCCESS, {})], context, consume=True
        ).execution
        assert ex.children[key] is grown  # the same list, one id longer
    assert [ex.task_runs[i].value for i in grown] == ["a", "b", "c", "d"]
    assert invariant_problems(ex.task_runs, ex.children, set(ex.active or ()), set()) == []
