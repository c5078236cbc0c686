"""Executions and task runs as the planner sees them: frozen values.

An Execution holds its task runs by id plus an index of children per
(parent task run, phase), so that the planner never scans the whole
execution to find a container's children.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

from lanner.model.states import State

ROOT = ""  # the parent key of the flow's own task lists
BASE = "attemptsBeforeRestart"  # memo key: attempts that the retry policy no longer counts

T = TypeVar("T")


def evolve(obj: T, **changes: Any) -> T:
    """`dataclasses.replace` for the frozen, slotted values of this module, without
    re-running `__init__`: the planner makes many small copies per cycle."""
    copier = _COPIERS.get(obj.__class__)
    if copier is None:
        copier = _COPIERS[obj.__class__] = _copier(obj.__class__)
    return cast(T, copier(obj, changes))


_COPIERS: dict[type, Callable[[Any, dict[str, Any]], Any]] = {}


def _copier(cls: type) -> Callable[[Any, dict[str, Any]], Any]:
    """A function that copies a `cls` and sets `changes` on the copy, written out slot by
    slot through the slots' own descriptors (as dataclasses writes its __init__): a loop
    of getattr and object.__setattr__ over an Execution's slots cost 3 to 4 times more,
    and the planner copies an Execution several times a cycle."""
    names: tuple[str, ...] = cls.__slots__  # type: ignore[attr-defined]
    setters = {name: cls.__dict__[name].__set__ for name in names}
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_setters": setters}
    lines = ["def copy(obj, changes):", "    new = _new(_cls)"]
    for i, name in enumerate(names):
        scope[f"_set{i}"] = setters[name]
        lines.append(f"    _set{i}(new, obj.{name})")
    lines += ["    for name, value in changes.items():", "        _setters[name](new, value)"]
    lines.append("    return new")
    exec("\n".join(lines), scope)  # its text is made of slot names only
    copier: Callable[[Any, dict[str, Any]], Any] = scope["copy"]
    return copier


class Phase(StrEnum):
    """Which list of its container a task run belongs to."""

    MAIN = "main"  # tasks (or the branch / case / loop body of a flowable)
    ERRORS = "errors"
    FINALLY = "finally"
    AFTER = "after_execution"  # the flow's afterExecution (root only)


@dataclass(frozen=True, slots=True)
class History:
    state: State
    date: datetime


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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
    out = []
    while n:
        n, r = divmod(n, 3844)
        out.append(_PAIRS[r])
    return "".join(reversed(out)).lstrip("0").rjust(22, "0")


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
