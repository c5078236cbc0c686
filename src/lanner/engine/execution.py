"""Executions and task runs as the planner sees them: frozen values.

An Execution holds its task runs by id plus an index of children per
(parent task run, phase), so that the planner never scans the whole
execution to find a container's children.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from lanner.model.states import State

ROOT = ""  # the parent key of the flow's own task lists
BASE = "attemptsBeforeRestart"  # memo key: attempts that the retry policy no longer counts

T = TypeVar("T")


def evolve(obj: T, **changes: Any) -> T:
    """`dataclasses.replace` for the frozen values of this module, without re-running
    `__init__`: the planner makes many small copies per cycle."""
    copier = _COPIERS.get(obj.__class__)
    if copier is None:
        copier = _COPIERS[obj.__class__] = _copier(obj.__class__)
    copy: T = copier(obj, changes)  # not cast(): a call more, on a hot path
    return copy


_COPIERS: dict[type, Callable[[Any, dict[str, Any]], Any]] = {}
_new = object.__new__
_set = object.__setattr__


def _copier(cls: type) -> Callable[[Any, dict[str, Any]], Any]:
    """A function that copies a `cls` and sets `changes` on the copy.

    The values copied most (TaskRun, Execution) keep their fields in a `__dict__`: a
    copy is then one dict copy in C, where a slotted value needs a call per slot (3
    times the cost for a TaskRun). Slotted ones are written out slot by slot through the
    slots' own descriptors (as dataclasses writes its __init__)."""
    fields = frozenset(f.name for f in dataclasses.fields(cls))
    names: tuple[str, ...] | None = cls.__dict__.get("__slots__")
    if names is None:
        # fast_init's __init__ puts every field, and nothing else, in `__dict__`: there a
        # name that is no field adds a key, which a count finds without a set per copy.
        size = len(fields) if cls.__dict__.get("__init__") in _FAST_INITS else -1

        def copy_dict(obj: Any, changes: dict[str, Any]) -> Any:
            values = obj.__dict__.copy()
            values.update(changes)
            if len(values) != size and not changes.keys() <= fields:
                raise TypeError(f"{cls.__name__} has no field {sorted(changes.keys() - fields)}")
            new: Any = _new(cls)
            _set(new, "__dict__", values)
            return new

        return copy_dict
    setters = {name: cls.__dict__[name].__set__ for name in names}
    scope: dict[str, Any] = {"_new": _new, "_cls": cls, "_setters": setters}
    lines = ["def copy(obj, changes):", "    new = _new(_cls)"]
    for i, name in enumerate(names):
        scope[f"_set{i}"] = setters[name]
        lines.append(f"    _set{i}(new, obj.{name})")
    lines += ["    for name, value in changes.items():", "        _setters[name](new, value)"]
    lines.append("    return new")
    exec("\n".join(lines), scope)  # its text is made of slot names only
    copier: Callable[[Any, dict[str, Any]], Any] = scope["copy"]
    return copier


def fast_init(cls: type[T]) -> type[T]:
    """Give a frozen dataclass an `__init__` that sets its fields in one go (its whole
    `__dict__`, or each slot through its descriptor) instead of dataclasses' one
    `object.__setattr__` per field, 5 times the cost for a TaskRun: the planner builds
    a TaskRun per task run, and History values several times per task run. Same
    parameters, defaults and default factories as the generated one."""
    scope: dict[str, Any] = {"_set": _set, "_MISSING": dataclasses.MISSING}
    params, values = [], []
    slotted = "__slots__" in cls.__dict__
    for i, f in enumerate(dataclasses.fields(cls)):  # type: ignore[arg-type]
        if f.default is not dataclasses.MISSING:
            scope[f"_d{i}"] = f.default
            params.append(f"{f.name}=_d{i}")
            values.append(f.name)
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"_f{i}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            values.append(f"_f{i}() if {f.name} is _MISSING else {f.name}")
        else:
            params.append(f.name)
            values.append(f.name)
        if slotted:
            scope[f"_s{i}"] = cls.__dict__[f.name].__set__
    lines = [f"def __init__(self, {', '.join(params)}):"]
    if slotted:
        lines += [f"    _s{i}(self, {v})" for i, v in enumerate(values)]
    else:
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        pairs = ", ".join(f"{n!r}: {v}" for n, v in zip(names, values, strict=True))
        lines.append(f"    _set(self, '__dict__', {{{pairs}}})")
    exec("\n".join(lines), scope)  # its text is made of field names only
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[method-assign]
    _FAST_INITS.add(init)
    return cls


_FAST_INITS: set[Callable[..., None]] = set()


class Phase(StrEnum):
    """Which list of its container a task run belongs to."""

    MAIN = "main"  # tasks (or the branch / case / loop body of a flowable)
    ERRORS = "errors"
    FINALLY = "finally"
    AFTER = "after_execution"  # the flow's afterExecution (root only)


@fast_init
@dataclass(frozen=True, slots=True)
class History:
    state: State
    date: datetime


@fast_init
@dataclass(frozen=True, slots=True)
class Attempt:
    state: State
    histories: tuple[History, ...]

    def to(self, state: State, now: datetime) -> Attempt:
        if state is self.state:
            return self
        return Attempt(state, (*self.histories, History(state, now)))


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What failed, for `{{ error.* }}` in handlers (Lanner extension)."""

    message: str
    type: str = "TaskFailure"
    task_id: str | None = None
    task_run_id: str | None = None


# Not slotted, as Execution: see _copier.
@fast_init
@dataclass(frozen=True)
class TaskRun:
    id: str
    execution_id: str
    task_id: str
    parent_id: str | None
    value: str | None
    iteration: int | None
    phase: Phase
    seq: int  # creation order in the execution
    state: State
    histories: tuple[History, ...]
    attempts: tuple[Attempt, ...] = ()
    outputs: Mapping[str, Any] | None = None
    error: ErrorInfo | None = None
    # Executor-private memory of a flowable: resolved ForEach values, the If
    # branch taken, ... so that the same decision is taken on every pass.
    memo: Mapping[str, Any] | None = None
    generation: int = 0  # bumped when a handler task run is deleted and created again

    def to(self, state: State, now: datetime) -> TaskRun:
        if state is self.state:
            return self
        return evolve(self, state=state, histories=(*self.histories, History(state, now)))

    @property
    def start_date(self) -> datetime:
        return self.histories[0].date


@fast_init
@dataclass(frozen=True)
class Execution:
    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    state: State
    histories: tuple[History, ...]
    inputs: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, Any] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    trigger: Mapping[str, Any] | None = None
    task_runs: Mapping[str, TaskRun] = field(default_factory=dict)
    # (parent id or ROOT, phase) -> task run ids in creation order. Derived from
    # task_runs (parent, phase, seq), so not compared; a list where the planner
    # appends to it in place (engine/cycle.py), a tuple as the store reads it.
    children: Mapping[tuple[str, Phase], Sequence[str]] = field(default_factory=dict, compare=False)
    error: ErrorInfo | None = None
    terminal_at: datetime | None = None
    finalized_at: datetime | None = None
    secret_inputs: frozenset[str] = frozenset()
    parent_execution_id: str | None = None
    parent_task_run_id: str | None = None
    parent_attempt: int | None = None
    # Kestra's `originalId` and `metadata`: the first execution of a chain of replays
    # and CREATE_NEW_EXECUTION retries (None: this one), the chain's attempt number,
    # and the first one's creation date (None: this one's).
    original_id: str | None = None
    attempt_number: int = 1
    original_created_date: datetime | None = None
    version: int = 0
    # Ids of the task runs not terminated yet: derived from task_runs, kept by
    # the planner so that a cycle does not scan every task run (None: unknown).
    active: frozenset[str] | None = field(default=None, compare=False)
    # The (parent, phase) lists holding a FAILED task run, kept the same way.
    failed_lists: frozenset[tuple[str, Phase]] | None = field(default=None, compare=False)

    def to(self, state: State, now: datetime) -> Execution:
        if state is self.state:
            return self
        return evolve(self, state=state, histories=(*self.histories, History(state, now)))

    @property
    def start_date(self) -> datetime:
        return self.histories[0].date

    @property
    def origin_id(self) -> str:
        """Kestra's `originalId`: the first execution of its chain of replays and retries."""
        return self.original_id or self.id

    @property
    def origin_date(self) -> datetime:
        """Kestra's `metadata.originalCreatedDate`."""
        return self.original_created_date or self.histories[0].date

    def next_attempt(self) -> dict[str, Any]:
        """The chain fields of a replay or a CREATE_NEW_EXECUTION retry of this execution."""
        return {
            "original_id": self.origin_id,
            "attempt_number": self.attempt_number + 1,
            "original_created_date": self.origin_date,
        }

    def runs_of(self, parent_id: str | None, phase: Phase) -> list[TaskRun]:
        ids = self.children.get((parent_id or ROOT, phase), ())
        runs = self.task_runs
        return [runs[i] for i in ids if i in runs]

    def ordered_task_runs(self) -> list[TaskRun]:
        return sorted(self.task_runs.values(), key=lambda t: t.seq)


_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_NAMESPACE = uuid.UUID("8f2e3c1a-6b0d-4d59-9a53-1f5b2d7c9e40")


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # two base62 digits at a time
_NAMESPACE_BYTES = _NAMESPACE.bytes


def base62(u: uuid.UUID) -> str:
    """A UUID as Kestra's 22-character base62 id."""
    return _base62(u.int)


def _base62(n: int) -> str:
    """`n` (below 62**22, as every 128-bit UUID is) as 22 base62 digits, zero-padded.

    Unrolled, and split first into two halves below 2**72: divmods of the smaller ints
    cost less, and a loop with a reversed join cost a third more (a task run's id is
    computed for every task run created)."""
    a, b = divmod(n, _HALF)
    a, r0 = divmod(a, 3844)
    a, r1 = divmod(a, 3844)
    a, r2 = divmod(a, 3844)
    a, r3 = divmod(a, 3844)
    b, s0 = divmod(b, 3844)
    b, s1 = divmod(b, 3844)
    b, s2 = divmod(b, 3844)
    b, s3 = divmod(b, 3844)
    b, s4 = divmod(b, 3844)
    p = _PAIRS
    return "".join((p[a], p[r3], p[r2], p[r1], p[r0], p[b], p[s4], p[s3], p[s2], p[s1], p[s0]))


_HALF = 3844**6


def _uuid5_int(name: str) -> int:
    """uuid.uuid5(_NAMESPACE, name).int without building UUID objects (a hot path)."""
    n = int.from_bytes(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    return (n & ~(0xC000 << 48) | (0x8000 << 48)) & ~(0xF000 << 64) | (5 << 76)


def new_execution_id(seed: str | None = None) -> str:
    """A fresh execution id; deterministic when a seed is given (triggers, tests)."""
    return base62(uuid.uuid5(_NAMESPACE, seed) if seed is not None else uuid.uuid4())


def task_run_id(
    execution_id: str,
    parent_id: str | None,
    task_id: str,
    value: str | None,
    iteration: int | None,
    generation: int = 0,
) -> str:
    """Deterministic identity (DESIGN.md): a replayed cycle computes the same rows."""
    key = f"{execution_id}|{parent_id or ''}|{task_id}|{value if value is not None else ''}|{iteration if iteration is not None else ''}|{generation}"
    return _base62(_uuid5_int(key))


def attempt_base(run: TaskRun) -> int:
    """How many attempts the task run had when it was last restarted (engine/restart.py)."""
    memo = run.memo
    return int(memo.get(BASE, 0)) if memo else 0


def generation(execution: Execution) -> int:
    """How many times the execution was restarted: the generation of new handler task runs."""
    return sum(1 for h in execution.histories if h.state is State.RESTARTED)
