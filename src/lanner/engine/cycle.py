"""One planning cycle's bookkeeping: the execution being planned, its task runs,
the lists they sit in, and the counts kept so that a pass costs little.

:class:`Cycle` is the one home of that state. Its collections are read-only
views (``runs``, ``children``, ``active``, ``failed_lists``, ``commands``); its
methods are the only way to change them, and each leaves these invariants
true (:func:`invariant_problems` checks 1-5, ``tests/unit/engine/test_cycle.py``
tests them over real executions):

1. ``active`` holds exactly the ids of the task runs not terminated.
2. ``failed_lists`` holds exactly the task lists ``(parent id or ROOT, phase)``
   that hold a FAILED task run.
3. ``root_going`` counts the task runs of the root's main list not terminated.
4. ``children`` lists every task run once, under ``(parent id or ROOT, phase)``,
   in creation order, and lists no other id.
5. The ``seq`` of the task runs are ``0 .. len(runs) - 1``.
6. A deleted task run is gone from ``runs`` and from ``changed``.

The planning operations the rule modules (pause, subflow, restart, sla, ...)
call are declared here as abstract methods and carried out by the planner
(``engine/planner.py``), so that no rule module imports the planner.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from heapq import heappush
from typing import Any, Final

from lanner.engine.events import Command, Decision, Deliver, Kill, LogLine, TaskResult
from lanner.engine.execution import (
    ROOT,
    ErrorInfo,
    Execution,
    Phase,
    TaskRun,
    evolve,
    fast_init,
)
from lanner.engine.flowindex import FlowIndex
from lanner.expr import ExpressionEngine, Scope
from lanner.expr.scope import FileReader, FlowHistory, KVLookup
from lanner.model.loglevel import kept
from lanner.model.states import State
from lanner.model.task import Task


@fast_init  # built for every cycle
@dataclass(frozen=True)
class PlanContext:
    """Everything the planner reads besides the flow and the execution."""

    now: datetime
    seed: int = 0
    secrets: Callable[[str], str] | None = None
    on_secret: Callable[[str], None] | None = None
    # What `errorLogs()` returns besides the ERROR lines the cycle itself writes: the
    # execution's ERROR logs in the store and those of the results the cycle applies
    # (variables.error_log entries, oldest first). A value, read before the cycle.
    error_logs: Sequence[Mapping[str, Any]] = ()
    envs: Mapping[str, str] = field(default_factory=dict)
    # How many other executions of the flow hold a concurrency slot (SPEC §2.4): a
    # value read before the cycle, in its transaction, when `control.counts_slots`
    # says the cycle may need it. None: not counted, so no limit applies.
    slots_taken: int | None = None
    # What `kv()` reads (docs/kv.md): a read-only lookup the runtime builds for the
    # cycle, never a store. None: `kv()` fails the render ("not available here").
    kv: KVLookup | None = None
    # What consecutiveFailures() and flowRecovered() read: a read-only lookup of the
    # flow's past executions the runtime builds for the cycle. None: not available.
    flow_history: FlowHistory | None = None
    # The internal-storage files the execution may read (read(), fileSize(), ...).
    files: FileReader | None = None


def child_kills(run: TaskRun) -> list[Deliver]:
    """The kills for the child executions `run` started and has not heard the end of: a
    Subflow's one child, a ForEachItem's children (engine/foreachitem.py)."""
    memo = run.memo or {}
    child = memo.get("child")
    if child:
        return [Deliver(str(child), Kill(), f"kill:{child}")]
    children = memo.get("children") or {}
    # A batch is known by its first child; `current` names a later one that runs it now.
    current = memo.get("current") or {}
    return [
        Deliver(current.get(c, c), Kill(), f"kill:{current.get(c, c)}")
        for c, ended in children.items()
        if ended is None
    ]


class Cycle(ABC):
    """The state of one cycle of the planner and the only way to change it."""

    # A wide pass in progress (planner.wide_pass): the heap of (seq, id) still to look
    # at, the ids going when it began, and the seq of the one looked at now. Set on the
    # instance by the pass; these defaults cost a cycle nothing to set up.
    _visit: list[tuple[int, str]] | None = None
    _visit_ids: Set[str] = frozenset()
    _visit_seq = -1

    def __init__(
        self, index: FlowIndex, execution: Execution, ctx: PlanContext, consume: bool = False
    ) -> None:
        self.index = index
        self.ctx = ctx
        self.now = ctx.now
        self._ex = execution
        # The task-run map the cycle started from (a loop cursor's validity check).
        self.input_runs: Final[Mapping[str, TaskRun]] = execution.task_runs
        runs = execution.task_runs
        self._runs: dict[str, TaskRun] = runs if consume and isinstance(runs, dict) else dict(runs)
        # A loop appends its task runs one by one: each list grows in place (O(1)
        # amortised per task run, not a new tuple each time). Given up (`consume`),
        # the execution's lists are the cycle's to grow; otherwise each is copied,
        # as the task-run map is, so that the caller's execution stays as it was.
        children = execution.children
        self._children: dict[tuple[str, Phase], Sequence[str]] = (
            children
            if consume and isinstance(children, dict)
            else {key: list(ids) for key, ids in children.items()}
        )
        known = execution.active
        self._active: set[str] = (
            set(known)
            if known is not None
            else {i for i, r in self._runs.items() if not r.state.terminated}
        )
        failed = execution.failed_lists
        self._failed_lists: set[tuple[str, Phase]] = (
            set(failed) if failed is not None else _failed_lists(self._runs.values())
        )
        # The going task runs of the root's main list (invariants 1 and 4), counted in C:
        # a generator over every going task run cost a wide Parallel's cycle 100 steps.
        self._root_going = len(self._active.intersection(self._children.get(ROOT_MAIN, ())))
        self._commands: list[Command] = []
        self._root_dirty = True
        self._touched: set[str] = set()  # flowables to look at again
        self._changed: set[str] = set()
        self._deleted: set[str] = set()  # task runs removed by a restart
        self._dirty = False
        # Read-only views of the same objects: reading costs an attribute lookup only.
        self.runs: Final[Mapping[str, TaskRun]] = self._runs
        self.children: Final[Mapping[tuple[str, Phase], Sequence[str]]] = self._children
        self.active: Final[Set[str]] = self._active
        self.failed_lists: Final[Set[tuple[str, Phase]]] = self._failed_lists
        self.commands: Final[Sequence[Command]] = self._commands

    # -- reading ----------------------------------------------------------------------------
    @property
    def ex(self) -> Execution:
        return self._ex

    @property
    def root_going(self) -> int:
        """How many task runs of the root's main list are not terminated."""
        return self._root_going

    @property
    def dirty(self) -> bool:
        """Whether anything changed since the current pass began."""
        return self._dirty

    def runs_of(self, parent: str | None, phase: Phase) -> list[TaskRun]:
        return [self._runs[i] for i in self._children.get((parent or ROOT, phase), ())]

    def top_phase(self, run: TaskRun) -> Phase:
        while run.parent_id:
            run = self._runs[run.parent_id]
        return run.phase

    def snapshot(self) -> Execution:
        return evolve(
            self._ex, task_runs=self._runs, children=self._children, active=None, failed_lists=None
        )

    def decision(self) -> Decision:
        execution = evolve(
            self._ex,
            task_runs=self._runs,
            children=self._children,
            active=frozenset(self._active),
            failed_lists=frozenset(self._failed_lists),
        )
        return Decision(
            execution, tuple(self._commands), frozenset(self._changed), frozenset(self._deleted)
        )

    # -- changing ---------------------------------------------------------------------------
    def put(self, run: TaskRun) -> None:
        """Store a new version of a task run (invariants 1-3)."""
        run_id = run.id
        old = self._runs.get(run_id)
        self._runs[run_id] = run
        self._changed.add(run_id)
        state = run.state
        if state is State.FAILED:
            self._failed_lists.add((run.parent_id or ROOT, run.phase))
        parent_id = run.parent_id
        if parent_id is None:
            going = not state.terminated
            was = old is not None and not old.state.terminated
            # The root list's look reads which of its task runs are terminated (and how),
            # never which state a going one is in: SUBMITTED -> RUNNING changes nothing
            # it decides (a dispatch, a start of every root task run of a chain).
            if not (going and was):
                self._root_dirty = True
            if run.phase is Phase.MAIN:
                self._root_going += going - was
        else:
            self._touched.add(parent_id)
        self._touched.add(run_id)
        visit = self._visit
        if visit is not None:  # a wide pass goes on: what this changed is looked at in turn
            ids = self._visit_ids
            after = self._visit_seq
            if run_id in ids and run.seq > after:
                heappush(visit, (run.seq, run_id))
            if parent_id is not None and parent_id in ids:
                parent_seq = self._runs[parent_id].seq
                if parent_seq > after:
                    heappush(visit, (parent_seq, parent_id))
        if state.terminated:
            if run.memo is not None and run.memo.get("waiting") and run_id in self._active:
                self.kill_child(run)  # stopped while its child execution runs
            self._active.discard(run_id)
        else:
            self._active.add(run_id)
        self._dirty = True

    def add(self, run: TaskRun) -> None:
        """A new task run, last of its list (invariants 4 and 5: `seq` is the next)."""
        key = (run.parent_id or ROOT, run.phase)
        ids = self._children.get(key)
        if ids is None:
            self._children[key] = [run.id]
        elif isinstance(ids, list):
            ids.append(run.id)
        else:  # a tuple, as the store reads it: a list of this cycle's from now on
            self._children[key] = [*ids, run.id]
        self.put(run)

    def set_ex(self, state: State) -> None:
        if state is not self._ex.state:
            self._ex = self._ex.to(state, self.now)
            self._dirty = True
            self._root_dirty = True

    def update_execution(self, **changes: Any) -> None:
        """Other fields of the execution (labels, variables, error, outputs, dates)."""
        self._ex = evolve(self._ex, **changes)

    def emit(self, command: Command) -> None:
        self._commands.append(command)

    def kill_child(self, run: TaskRun) -> None:
        """`run` was stopped while its child execution still runs: the child is killed."""
        self._commands.extend(child_kills(run))

    def log(self, level: str, message: str, run: TaskRun | None = None) -> None:
        task = self.index.tasks.get(run.task_id) if run is not None else None
        if task is not None and not kept(level, task.task.logLevel):
            return
        attempt = len(run.attempts) if run and run.attempts else None
        self._commands.append(
            LogLine(level, message, run.id if run else None, run.task_id if run else None, attempt)
        )

    def mark_dirty(self) -> None:
        """Something the next pass may depend on changed outside the task runs."""
        self._dirty = True

    def begin_pass(self) -> None:
        self._dirty = False

    def take_root_dirty(self) -> bool:
        """Whether the root list needs a look (a root task run or the state changed)."""
        dirty, self._root_dirty = self._root_dirty, False
        return dirty

    def take_touched(self, run_id: str) -> bool:
        """Whether the flowable `run_id` or one of its task runs changed since its last look."""
        if run_id in self._touched:
            self._touched.discard(run_id)
            return True
        return False

    def delete(self, doomed: Iterable[str]) -> None:
        """Remove task runs (a restart's handler task runs, with their descendants), then
        renumber `seq` (invariant 5) and count again (invariants 2 and 3)."""
        gone = set(doomed)
        if not gone:
            return
        for run_id in gone:
            del self._runs[run_id]
            self._active.discard(run_id)
            self._changed.discard(run_id)
            self._touched.discard(run_id)
            self._deleted.add(run_id)
        for key, ids in list(self._children.items()):
            kept_ids = [i for i in ids if i not in gone]
            if len(kept_ids) != len(ids):
                if kept_ids:
                    self._children[key] = kept_ids
                else:
                    del self._children[key]
        # New task runs take `seq = len(runs)`: renumber so that it stays unique.
        for seq, run in enumerate(sorted(self._runs.values(), key=lambda r: r.seq)):
            if run.seq != seq:
                self._runs[run.id] = evolve(run, seq=seq)
                self._changed.add(run.id)
        self.recount()

    def recount(self) -> None:
        """Count `failed_lists` and `root_going` again from the task runs: after a restart
        moved FAILED task runs out of FAILED, which `put` does not track."""
        self._failed_lists.clear()
        self._failed_lists.update(_failed_lists(self._runs.values()))
        self._root_going = _root_going(self._runs, self._active)

    def problems(self) -> list[str]:
        """The invariants this state breaks; none, unless there is a bug."""
        return invariant_problems(
            self._runs, self._children, self._active, self._failed_lists, self._root_going
        )

    # -- planning operations, carried out by the planner --------------------------------------
    @property
    @abstractmethod
    def engine(self) -> ExpressionEngine: ...

    @abstractmethod
    def scope(self, run: TaskRun | None, salt: str = "") -> Scope: ...

    @abstractmethod
    def render(self, value: Any, run: TaskRun | None) -> Any: ...

    @abstractmethod
    def on_result(self, ev: TaskResult) -> None:
        """A task run's attempt ended (its retry policy, allowFailure, allowWarning apply)."""

    @abstractmethod
    def finish(
        self,
        run: TaskRun,
        state: State,
        *,
        outputs: Mapping[str, Any] | None = None,
        error: ErrorInfo | None = None,
    ) -> None: ...

    @abstractmethod
    def resolve(
        self, run: TaskRun, task: Task, state: State, cause: ErrorInfo | None = None
    ) -> None: ...

    @abstractmethod
    def with_closed_attempt(self, run: TaskRun, state: State) -> TaskRun: ...

    @abstractmethod
    def stop_descendants(self, parent: TaskRun, state: State) -> None: ...

    @abstractmethod
    def kill_all(self) -> None: ...

    @abstractmethod
    def end(self, state: State) -> None: ...

    @abstractmethod
    def any_retrying(self) -> bool: ...

    @abstractmethod
    def timeout_seconds(self, run: TaskRun, task: Task) -> float | None: ...

    @abstractmethod
    def forget_loop(self, run_id: str) -> None:
        """The loop `run_id` may have incomplete value groups again (a restart)."""


# The root's lists, as keys of `children` and `failed_lists` (built once: a tuple
# built and hashed per look cost more than some looks).
ROOT_MAIN = (ROOT, Phase.MAIN)
ROOT_ERRORS = (ROOT, Phase.ERRORS)
ROOT_FINALLY = (ROOT, Phase.FINALLY)


def _failed_lists(runs: Iterable[TaskRun]) -> set[tuple[str, Phase]]:
    return {(r.parent_id or ROOT, r.phase) for r in runs if r.state is State.FAILED}


def _root_going(runs: Mapping[str, TaskRun], active: Iterable[str]) -> int:
    return sum(1 for i in active if runs[i].parent_id is None and runs[i].phase is Phase.MAIN)


def invariant_problems(
    runs: Mapping[str, TaskRun],
    children: Mapping[tuple[str, Phase], Sequence[str]],
    active: Set[str],
    failed_lists: Set[tuple[str, Phase]],
    root_going: int | None = None,
) -> list[str]:
    """What breaks invariants 1-5 (the module docstring) in this bookkeeping."""
    out: list[str] = []
    going = {i for i, r in runs.items() if not r.state.terminated}
    if set(active) != going:
        out.append(f"1: active {sorted(active)} != not terminated {sorted(going)}")
    failed = _failed_lists(runs.values())
    if set(failed_lists) != failed:
        out.append(f"2: failed_lists {sorted(failed_lists)} != lists with a FAILED {failed}")
    if root_going is not None and root_going != _root_going(runs, going):
        out.append(f"3: root_going {root_going} != {_root_going(runs, going)}")
    listed = [i for ids in children.values() for i in ids]
    if sorted(listed) != sorted(runs):
        out.append("4: children do not list every task run exactly once")
    for (parent, phase), ids in children.items():
        for i in ids:
            run = runs.get(i)
            if run is not None and ((run.parent_id or ROOT), run.phase) != (parent, phase):
                out.append(f"4: {i} listed under {(parent, phase)}")
        seqs = [runs[i].seq for i in ids if i in runs]
        if seqs != sorted(seqs):
            out.append(f"4: the list {(parent, phase)} is not in creation order")
    if sorted(r.seq for r in runs.values()) != list(range(len(runs))):
        out.append("5: seq is not 0 .. len(runs) - 1")
    return out


__all__ = ["Cycle", "PlanContext", "child_kills", "invariant_problems"]
