"""The planner's shortcuts in a pass change no decision: every cycle of the
scenarios below is planned again by a reference cycle without them, on a copy
of the same execution, and both decisions must be equal.

The shortcuts (engine/planner.py, engine/cycle.py): the root list is not looked
at again after a put that keeps a going root task run going, nor after its own
creation of a task run; a wide pass looks only at the task runs it can act on
(`wide_pass`), not at every going one in `seq` order; a flowable's summary and
the root's going count come from `active` and `failed_lists`, and a Parallel's
tasks without a task run are kept with its list (`unstarted`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest

from lanner.engine import sla
from lanner.engine.containers import Summary, parallel_next
from lanner.engine.cycle import _root_going
from lanner.engine.events import Decision, Event, Start
from lanner.engine.execution import Execution, Phase, TaskRun, evolve
from lanner.engine.planner import PlanContext, Planner, _Cycle
from lanner.model.states import State
from lanner.model.task import Task
from tests.unit.engine import (
    test_after_execution,
    test_child_failure,
    test_dag_rules,
    test_flowables,
    test_handlers,
    test_kill_timeout,
    test_ordering,
    test_pause,
    test_properties,
    test_restart,
    test_retries,
    test_run_if_allow_failure,
    test_subflow,
)
from tests.unit.engine.support import Driver
from tests.unit.engine.test_cycle import _scenarios

MODULES = (
    test_flowables,
    test_handlers,
    test_pause,
    test_subflow,
    test_child_failure,
    test_restart,
    test_properties,
    test_dag_rules,
    test_ordering,
    test_retries,
    test_kill_timeout,
    test_after_execution,
    test_run_if_allow_failure,
)


class _Reference(_Cycle):
    """The cycle as it was before the shortcuts."""

    def __init__(self, planner: Planner, execution: Execution, ctx: PlanContext) -> None:
        super().__init__(planner, execution, ctx)
        self._root_going = _root_going(self._runs, self._active)  # from every going run

    def summary(self, key: tuple[str, Phase], ids: Sequence[str]) -> Summary:
        return Summary.of([self.runs[i] for i in ids])

    def unstarted(self, run_id: str, ids: Sequence[str], main: tuple[Task, ...]) -> list[Task]:
        return parallel_next(main, [self.runs[i] for i in ids], 0)

    def put(self, run: TaskRun) -> None:
        super().put(run)
        if run.parent_id is None:
            self._root_dirty = True  # every change of a root task run

    def root_step(self) -> None:
        before = len(self.runs)
        super().root_step()
        if len(self.runs) != before:
            self._root_dirty = True  # its own creation of a task run, as any other

    def wide_pass(self) -> None:
        runs = self.runs
        for run_id in sorted(self.active, key=lambda i: runs[i].seq):
            self.look(runs[run_id])


def _reference_plan(
    planner: Planner, execution: Execution, events: Iterable[Event], context: PlanContext
) -> Decision:
    cycle = _Reference(planner, execution, context)  # consume=False: a copy
    for event in events:
        cycle.apply(event)
    if planner.index.flow.sla:
        sla.check_running(cycle)
    cycle.settle()
    return cycle.decision()


def _same(a: Decision, b: Decision) -> list[str]:
    out = []
    ea, eb = a.execution, b.execution
    if ea != eb:
        out.append("execution")
    if {k: tuple(v) for k, v in ea.children.items()} != {
        k: tuple(v) for k, v in eb.children.items()
    }:
        out.append("children")
    if ea.active != eb.active or ea.failed_lists != eb.failed_lists:
        out.append("active or failed_lists")
    if a.commands != b.commands:
        out.append(f"commands {a.commands} != {b.commands}")
    if a.changed != b.changed or a.deleted != b.deleted:
        out.append("changed or deleted")
    return out


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    plan = Planner.plan
    references: dict[int, Planner] = {}

    def comparing(
        self: Planner,
        execution: Execution,
        events: Iterable[Event],
        context: PlanContext,
        **kwargs: Any,
    ) -> Decision:
        events = list(events)
        # Its own planner: loop cursors are per planner (an acceleration, but kept apart).
        # Checked by its flow: a planner's id may be reused once it is gone.
        ref = references.get(id(self))
        if ref is None or ref.index is not self.index:
            ref = references[id(self)] = Planner(self.index, self.engine)
        expected = _reference_plan(ref, execution, events, context)
        decision = plan(self, execution, events, context, **kwargs)
        problems = _same(expected, decision)
        assert problems == [], f"cycle {len(seen)}: {problems}"
        seen.append(1)
        return decision

    monkeypatch.setattr(Planner, "plan", comparing)
    return seen


@pytest.mark.parametrize("scenario", list(_scenarios(MODULES)))
def test_the_shortcuts_decide_as_the_reference(
    scenario: Callable[[], None], compared: list[int]
) -> None:
    scenario()
    assert compared, "the scenario planned nothing"


PARALLEL = """
tasks:
  - id: p
    type: Parallel
    tasks:
      - id: a
        type: Log
        message: a
      - id: b
        type: Log
        message: b
      - id: c
        type: Log
        message: c
"""


def _starts_in_one_pass(cycle_class: type[_Cycle]) -> list[str]:
    """The task runs one pass starts when the start of `a` makes `b`, which the pass
    could pass over when it began, CREATED again before its turn."""
    d = Driver.of(PARALLEL)
    d.plan(Start())
    started: list[str] = []

    class Probe(cycle_class):  # type: ignore[valid-type,misc]
        def start(self, run: TaskRun) -> None:
            started.append(run.task_id)
            if run.task_id == "a":
                b = d.run("b")
                self.put(evolve(b, state=State.CREATED))
            super().start(run)

    cycle = Probe(d.planner, d.execution, PlanContext(now=d.now))
    for task_id in ("a", "c"):
        cycle.put(evolve(d.run(task_id), state=State.CREATED))
    cycle.begin_pass()
    cycle.step()
    return started


def test_a_task_run_changed_before_its_turn_is_looked_at_in_it() -> None:
    assert _starts_in_one_pass(_Cycle) == ["a", "b", "c"]
    assert _starts_in_one_pass(_Reference) == ["a", "b", "c"]


def test_evolve_refuses_a_name_that_is_no_field() -> None:
    d = Driver.of(PARALLEL)
    d.plan(Start())
    run = d.run("a")
    assert evolve(run, seq=7).seq == 7
    with pytest.raises(TypeError, match="no field"):
        evolve(run, sq=7)
    with pytest.raises(TypeError, match="no field"):
        evolve(d.execution, stat=State.FAILED)
