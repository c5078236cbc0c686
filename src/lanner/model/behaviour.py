"""How a task type behaves to the engine: the declaration the planner dispatches on.

Every task class carries one :class:`Behaviour` (``Task.behaviour``, a class
variable). The planner never looks at a task's class or at which properties
it happens to have: it reads where the task runs (`kind`), which properties
hold its child task lists, how those children are ordered and limited, how
the task's own state follows from theirs, and which built-in action the
executor performs for it. A third-party flowable task is a task class with a
behaviour built from these parts. docs/architecture.md "Task behaviour"
describes every field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TaskKind(StrEnum):
    """Where a task runs."""

    RUNNABLE = "runnable"  # on a worker, as a job
    FLOWABLE = "flowable"  # resolved by the executor: it only creates child task runs
    EXECUTION = "execution"  # executed inline by the executor (Exit, Labels, SetVariables, ...)


class Choice(StrEnum):
    """Which child list is a flowable's main list, decided once when it starts."""

    ALL = "all"  # `children[0]`, always
    # `children[0]` when the `selector` property renders truthy, else `children[1]`.
    CONDITION = "condition"
    # `children[0]` is a map of task lists: the entry whose key equals the rendered
    # `selector`; else `children[1]` (the defaults); with neither, the task fails.
    CASE = "case"


class Order(StrEnum):
    """How the task runs of a flowable's main list are created."""

    SEQUENTIAL = "sequential"  # one after the other
    PARALLEL = "parallel"  # all at once, at most `limit` going
    # Per value of `values`, the main list in order; at most `limit` value groups going.
    LOOP = "loop"
    # Every (value, task) pair at once, at most `limit` going.
    LOOP_PARALLEL = "loop-parallel"
    DAG = "dag"  # each child after the children its `dag.depends_on` names (engine/dag.py)
    UNTIL = "until"  # the main list again and again, until `until`'s condition holds


class StateRule(StrEnum):
    """How a flowable's own state follows from its children's."""

    WORST = "worst"  # the worst terminal state of its main-list task runs
    FAILED_IS_WARNING = "failed-is-warning"  # as WORST, but FAILED becomes WARNING


class Action(StrEnum):
    """A built-in action the executor performs for the task, instead of a worker job
    (EXECUTION tasks) or before its children (a FLOWABLE Pause). The action reads the
    task's properties by their documented names (docs/architecture.md)."""

    EXIT = "exit"  # end the execution (or the task runs up to the root) in `state`
    SET_LABELS = "set-labels"  # `labels`: add or replace execution labels
    SET_VARIABLES = "set-variables"  # `variables`, `overwrite`
    UNSET_VARIABLES = "unset-variables"  # `variables`, `ignoreMissing`
    PAUSE = "pause"  # `pauseDuration`, `behavior`, `onResume`; then the main list
    SUBFLOW = "subflow"  # `namespace`, `flowId`, `inputs`, `wait`, ... one child execution


@dataclass(frozen=True)
class Until:
    """LoopUntil, alias WaitFor (engine/until.py): run the main list, then render
    `condition`; while it is false, run it again after `interval`, at most
    `max_iterations` times and for at most `max_duration`. Each field names a property
    of the task (a dotted name reads a property of a property)."""

    condition: str = "condition"
    interval: str = "checkFrequency.interval"
    max_iterations: str = "checkFrequency.maxIterations"
    max_duration: str = "checkFrequency.maxDuration"
    fail_on_max: str = "failOnMaxReached"  # whether reaching a bound fails the task


@dataclass(frozen=True)
class Batches:
    """ForEachItem's `<id>_items` (engine/foreachitem.py): `items` names the property
    rendering to the batch files' URIs; one child execution per batch, as a Subflow
    starts one (`Action.SUBFLOW` reads the same properties)."""

    items: str = "items"


@dataclass(frozen=True)
class DagSpec:
    """Dag (engine/dag.py): each entry of the main list wraps a task (`task`) and names the
    ids of the entries it waits for (`depends_on`)."""

    task: str = "task"
    depends_on: str = "dependsOn"


@dataclass(frozen=True)
class Behaviour:
    """What the engine needs to know of a task type; frozen, checked when built.

    Property names are Python attribute names (``finally_``, ``else_``).
    """

    kind: TaskKind = TaskKind.RUNNABLE
    # FLOWABLE: properties holding the main child lists (see `choose`); each holds a
    # task list, or for Choice.CASE's first a map of task lists.
    children: tuple[str, ...] = ()
    choose: Choice = Choice.ALL
    selector: str | None = None  # CONDITION / CASE: the property rendered at start
    errors: str | None = None  # the property of the local `errors` list
    finally_: str | None = None  # the property of the local `finally` list
    order: Order = Order.SEQUENTIAL
    values: str | None = None  # LOOP / LOOP_PARALLEL: the property holding the values
    # How many children (or value groups) go at once: the property, rendered once when
    # the task starts to an integer (0 = all), else the fixed `limit`.
    limit_property: str | None = None
    limit: int = 0
    state_rule: StateRule = StateRule.WORST
    # The property giving, once a child failed, what happens to the others: CONTINUE,
    # CANCEL or FAIL (engine/childfailure.py); none means CONTINUE.
    child_failure: str | None = None
    action: Action | None = None
    # The children run as one job on one worker, in one working directory
    # (WorkingDirectory): the task is RUNNABLE with children, the worker runs them in
    # order and reports each child's start and result (engine/onejob.py).
    one_job: bool = False
    until: Until | None = None  # Order.UNTIL's condition and bounds
    # One child execution per batch (ForEachItem's `<id>_items`); with Action.SUBFLOW.
    batches: Batches | None = None
    dag: DagSpec | None = None  # Order.DAG's entries

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ValueError("invalid task behaviour: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        out: list[str] = []
        has_children = bool(self.children)
        if self.kind is TaskKind.FLOWABLE and not has_children:
            out.append("a flowable needs at least one child list")
        if self.batches is not None and self.action is not Action.SUBFLOW:
            out.append("`batches` goes with Action.SUBFLOW")
        if has_children and self.kind is not TaskKind.FLOWABLE and not self.one_job:
            out.append("only a flowable (or a one_job task) has child lists")
        if self.kind is TaskKind.EXECUTION and self.action is None:
            out.append("an execution task needs an action")
        if self.kind is TaskKind.RUNNABLE and self.action is not None:
            out.append("a runnable task has no action")
        if self.choose is Choice.ALL and len(self.children) > 1:
            out.append("Choice.ALL takes one child list")
        if self.choose is not Choice.ALL and (len(self.children) != 2 or self.selector is None):
            out.append(f"Choice.{self.choose.name} takes two child lists and a selector")
        looping = self.order in (Order.LOOP, Order.LOOP_PARALLEL)
        if looping != (self.values is not None):
            out.append("a values property goes with Order.LOOP or LOOP_PARALLEL, and only then")
        if (self.order is Order.UNTIL) != (self.until is not None):
            out.append("`until` goes with Order.UNTIL, and only then")
        if (self.order is Order.DAG) != (self.dag is not None):
            out.append("`dag` goes with Order.DAG, and only then")
        if self.limit < 0:
            out.append("limit cannot be negative")
        if self.one_job and self.kind is not TaskKind.RUNNABLE:
            out.append("a one_job task is runnable: its children run in its job")
        return out

    @property
    def child_fields(self) -> tuple[str, ...]:
        """Every property holding child tasks: the main lists, then errors and finally."""
        handlers = tuple(p for p in (self.errors, self.finally_) if p is not None)
        return (*self.children, *handlers)


RUNNABLE = Behaviour()
"""The behaviour of a plain worker task (the default)."""

__all__ = [
    "RUNNABLE",
    "Action",
    "Batches",
    "Behaviour",
    "Choice",
    "DagSpec",
    "Order",
    "StateRule",
    "TaskKind",
    "Until",
]
