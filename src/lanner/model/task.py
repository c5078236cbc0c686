"""The properties every task has (SPEC §1.2), retry policies (§4.4), and
how a task type tells the engine what it is.

A task type's own properties live in its plugin (``lanner.tasks``), as a
subclass of :class:`Task`. What the engine needs to know of it is data: the
class variable ``behaviour`` (lanner.model.behaviour) says where it runs,
which properties hold its child task lists (or, for ``Switch.cases``, a map
of task lists) and how they run, so that validation and the engine can walk
and run any task without knowing its type. ``kind`` and ``child_fields``
are derived from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from lanner.model.behaviour import RUNNABLE, Behaviour
from lanner.model.behaviour import TaskKind as TaskKind  # re-exported: its old home
from lanner.model.common import (
    TASK_ID_RE,
    DurationLike,
    DynamicInt,
    Model,
    StaticDuration,
    Text,
    is_dynamic,
    parse_duration,
)
from lanner.model.unsupported import unsupported


class RetryBehavior(StrEnum):
    RETRY_FAILED_TASK = "RETRY_FAILED_TASK"
    CREATE_NEW_EXECUTION = "CREATE_NEW_EXECUTION"


class _RetryBase(Model):
    maxAttempts: DynamicInt | None = None
    maxDuration: StaticDuration | None = None
    warningOnRetry: bool = False
    behavior: RetryBehavior = RetryBehavior.RETRY_FAILED_TASK

    @model_validator(mode="before")
    @classmethod
    def _old_name(cls, data: Any) -> Any:
        # `maxAttempt` is the pre-0.x name; accept both, never both at once.
        if isinstance(data, dict) and "maxAttempt" in data:
            if "maxAttempts" in data:
                raise ValueError("give maxAttempts or its old name maxAttempt, not both")
            data = {("maxAttempts" if k == "maxAttempt" else k): v for k, v in data.items()}
        return data

    @field_validator("maxAttempts")
    @classmethod
    def _positive(cls, v: int | str | None) -> int | str | None:
        if isinstance(v, int) and v < 1:
            raise ValueError("maxAttempts must be at least 1 (it counts the first attempt)")
        return v

    def _below_max_duration(self, name: str, value: str | None) -> None:
        if value is None or self.maxDuration is None:
            return
        if is_dynamic(value) or is_dynamic(self.maxDuration):
            return
        if parse_duration(value) >= parse_duration(self.maxDuration):
            raise ValueError(f"{name} must be shorter than maxDuration")


class ConstantRetry(_RetryBase):
    type: Literal["constant"]
    interval: StaticDuration

    @model_validator(mode="after")
    def _check(self) -> ConstantRetry:
        self._below_max_duration("interval", self.interval)
        return self

    def delay(self, attempts: int, draw: float) -> timedelta:
        return parse_duration(self.interval)


class ExponentialRetry(_RetryBase):
    type: Literal["exponential"]
    interval: StaticDuration
    maxInterval: StaticDuration
    delayFactor: float | None = None

    @model_validator(mode="after")
    def _check(self) -> ExponentialRetry:
        if self.delayFactor is not None and not (0 < self.delayFactor < float("inf")):
            raise ValueError("delayFactor must be a positive, finite number")
        self._below_max_duration("interval", self.interval)
        if not (is_dynamic(self.interval) or is_dynamic(self.maxInterval)) and parse_duration(
            self.interval
        ) >= parse_duration(self.maxInterval):
            raise ValueError("interval must be shorter than maxInterval")
        return self

    def delay(self, attempts: int, draw: float) -> timedelta:
        factor = self.delayFactor if self.delayFactor is not None else 2.0
        base = parse_duration(self.interval).total_seconds()
        ceiling = parse_duration(self.maxInterval).total_seconds()
        try:
            grown = base * factor ** max(attempts - 1, 0)
        except OverflowError:  # many attempts: the growth passed any float long ago
            grown = ceiling
        return timedelta(seconds=min(grown, ceiling))


class RandomRetry(_RetryBase):
    type: Literal["random"]
    minInterval: StaticDuration
    maxInterval: StaticDuration

    @model_validator(mode="after")
    def _check(self) -> RandomRetry:
        self._below_max_duration("minInterval", self.minInterval)
        self._below_max_duration("maxInterval", self.maxInterval)
        if not (is_dynamic(self.minInterval) or is_dynamic(self.maxInterval)) and parse_duration(
            self.minInterval
        ) >= parse_duration(self.maxInterval):
            raise ValueError("minInterval must be shorter than maxInterval")
        return self

    def delay(self, attempts: int, draw: float) -> timedelta:
        low = parse_duration(self.minInterval).total_seconds()
        high = parse_duration(self.maxInterval).total_seconds()
        return timedelta(seconds=low + (high - low) * draw)


Retry = Annotated[ConstantRetry | ExponentialRetry | RandomRetry, Field(discriminator="type")]


class Task(Model):
    """Common task properties (SPEC §1.2)."""

    behaviour: ClassVar[Behaviour] = RUNNABLE
    # Derived from `behaviour` when the class is made; a subclass declares behaviour only.
    kind: ClassVar[TaskKind] = TaskKind.RUNNABLE
    # Properties holding child tasks: a tuple of tasks, or a map of tuples.
    child_fields: ClassVar[tuple[str, ...]] = ()

    id: Annotated[str, Field(min_length=1, max_length=256)]
    type: str
    description: str | None = None
    disabled: bool = False
    runIf: Text = "true"
    allowFailure: bool = False
    allowWarning: bool = False
    retry: Retry | None = None
    timeout: DurationLike | None = None
    logLevel: Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] | None = None
    logToFile: bool = False
    workerGroup: dict[str, Any] | None = None
    taskCache: dict[str, Any] | None = None
    version: str | None = None
    pluginDefaultsRef: str | None = None
    assets: dict[str, Any] | None = None

    _not_supported = unsupported(
        "logToFile", "workerGroup", "taskCache", "version", "pluginDefaultsRef", "assets"
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        own = cls.__dict__
        if ("kind" in own or "child_fields" in own) and "behaviour" not in own:
            raise TypeError(
                f"task class {cls.__qualname__}: declare `behaviour = Behaviour(...)`"
                " (lanner.model.behaviour), not kind or child_fields"
            )
        behaviour = cls.behaviour
        named = (behaviour.selector, behaviour.values, behaviour.limit_property)
        abstract = cls.__name__.startswith("_")  # a base whose subclasses add the lists
        for name in (*behaviour.child_fields, *(n for n in named if n is not None)):
            if name not in cls.model_fields and not abstract:
                raise TypeError(f"task class {cls.__qualname__}: no property {name!r}")
        cls.kind = behaviour.kind
        cls.child_fields = behaviour.child_fields

    @field_validator("id")
    @classmethod
    def _id_pattern(cls, v: str) -> str:
        if not TASK_ID_RE.match(v):
            raise ValueError(
                f"task id '{v}' must match ^[a-zA-Z0-9][a-zA-Z0-9_-]* "
                "(letters, digits, _ and -; no dots or spaces)"
            )
        return v

    def problems_in_flow(self, namespace: str, flow_id: str) -> list[tuple[str, str]]:
        """(property, message) of what is wrong with this task only in the flow
        `namespace.flow_id` (a Subflow calling that very flow); none by default."""
        return []

    def children(self) -> Iterator[tuple[str, Task]]:
        """Every direct child task, with the property (or `cases.KEY`) it is in."""
        for name in self.child_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, dict):
                for key, tasks in value.items():
                    for t in tasks:
                        yield f"{name}.{key}", t
            else:
                for t in value:
                    yield name, t

    def descendants(self) -> Iterator[Task]:
        for _, child in self.children():
            yield child
            yield from child.descendants()


TaskList = tuple[Task, ...]
"""A list of tasks in a flow: validated one by one through the task registry."""


class InvalidTask(Task):
    """Stands for a task that failed validation, so that the rest of the flow can still be checked."""

    model_config = Model.model_config | {"extra": "allow"}
