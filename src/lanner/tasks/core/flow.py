"""Flowable task types (SPEC §5.5–§5.12): they run no code of their own.

The executor resolves them inline: it reads their properties and creates
child task runs, as each type's ``behaviour`` declares (docs/architecture.md
"Task behaviour"). Their `errors` and `finally` blocks are local to the
container.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from lanner.model.behaviour import Behaviour, Choice, Order, StateRule, TaskKind
from lanner.model.common import DynamicInt, Text
from lanner.model.task import Task, TaskList
from lanner.plugin import TaskType

# A container of `tasks`, with local `errors` and `finally`, run one after the other.
_SEQUENCE = Behaviour(TaskKind.FLOWABLE, ("tasks",), errors="errors", finally_="finally_")


def _nonempty() -> Any:
    return Field(min_length=1, description="The tasks to run (at least one).")


class _Flowable(Task):
    behaviour: ClassVar[Behaviour] = _SEQUENCE

    errors: TaskList | None = Field(None, description="Tasks run when a child task fails.")
    finally_: TaskList | None = Field(
        None, alias="finally", description="Tasks always run at the end of this task."
    )


class Sequential(_Flowable):
    """Run tasks one after the other."""

    tasks: TaskList = _nonempty()


class Parallel(_Flowable):
    """Run tasks at the same time."""

    behaviour: ClassVar[Behaviour] = replace(
        _SEQUENCE, order=Order.PARALLEL, limit_property="concurrent"
    )

    tasks: TaskList = _nonempty()
    concurrent: DynamicInt = Field(0, description="How many tasks run at once; 0 means all.")


class AllowFailure(_Flowable):
    """Run tasks one after the other; a failure ends this task in WARNING."""

    behaviour: ClassVar[Behaviour] = replace(_SEQUENCE, state_rule=StateRule.FAILED_IS_WARNING)

    tasks: TaskList = _nonempty()


class If(_Flowable):
    """Run `then` when the condition is true, else `else`."""

    behaviour: ClassVar[Behaviour] = replace(
        _SEQUENCE, children=("then", "else_"), choose=Choice.CONDITION, selector="condition"
    )

    condition: Text = Field(description="Rendered and tested for truthiness.")
    then: TaskList = Field(min_length=1, description="Tasks run when the condition is true.")
    else_: TaskList | None = Field(
        None, alias="else", description="Tasks run when the condition is false."
    )


class Switch(_Flowable):
    """Run the tasks of the case equal to the rendered value."""

    behaviour: ClassVar[Behaviour] = replace(
        _SEQUENCE, children=("cases", "defaults"), choose=Choice.CASE, selector="value"
    )

    value: Text = Field(description="Rendered to a string and compared with the case keys.")
    cases: dict[str, TaskList] | None = Field(None, description="Task lists by value.")
    defaults: TaskList | None = Field(None, description="Tasks run when no case matches.")

    @model_validator(mode="after")
    def _some_tasks(self) -> Switch:
        # Kestra's SwitchTaskValidation: a Switch that can run nothing is a mistake.
        if not self.cases and not self.defaults:
            raise ValueError("No task defined, neither cases or default have any tasks")
        return self


OnChildFailure = Literal["CONTINUE", "CANCEL", "FAIL"]


class ForEach(_Flowable):
    """Run a group of tasks for each value."""

    behaviour: ClassVar[Behaviour] = replace(
        _SEQUENCE,
        order=Order.LOOP,
        values="values",
        limit_property="concurrencyLimit",
        child_failure="child_failure",
    )

    values: list[Any] | str = Field(description="A list, or a JSON array as a string.")
    concurrencyLimit: DynamicInt = Field(
        1, description="Value groups running at once; 0 means all."
    )
    tasks: TaskList = _nonempty()
    onChildFailure: OnChildFailure | None = Field(
        None,
        description="When a child fails: CONTINUE (default) lets the value groups in"
        " progress go on; CANCEL or FAIL interrupts every task still running in them,"
        " which ends CANCELLED or FAILED. Groups not started never start after a failure.",
    )
    childFailurePolicy: Literal["CONTINUE", "STOP"] | None = Field(
        None, description="Older name: STOP is onChildFailure CANCEL, CONTINUE is CONTINUE."
    )

    @field_validator("onChildFailure", "childFailurePolicy", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        # Kestra reads these enums whatever their case.
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_policy(self) -> ForEach:
        if self.onChildFailure is not None and self.childFailurePolicy is not None:
            raise ValueError("give onChildFailure or its older name childFailurePolicy, not both")
        return self

    @property
    def child_failure(self) -> OnChildFailure:
        """The effective onChildFailure."""
        if self.childFailurePolicy is not None:
            return "CANCEL" if self.childFailurePolicy == "STOP" else "CONTINUE"
        return self.onChildFailure or "CONTINUE"


class EachSequential(_Flowable):
    """Deprecated: run tasks for each value, one value after the other."""

    behaviour: ClassVar[Behaviour] = replace(_SEQUENCE, order=Order.LOOP, values="value", limit=1)

    value: list[Any] | str = Field(description="A list, or a JSON array as a string.")
    tasks: TaskList = _nonempty()


class EachParallel(_Flowable):
    """Deprecated: run tasks for each value, values at the same time."""

    behaviour: ClassVar[Behaviour] = replace(
        _SEQUENCE, order=Order.LOOP_PARALLEL, values="value", limit_property="concurrent"
    )

    value: list[Any] | str = Field(description="A list, or a JSON array as a string.")
    concurrent: DynamicInt = Field(0, description="Values running at once; 0 means all.")
    tasks: TaskList = _nonempty()


_PREFIX = "io.kestra.plugin.core.flow."
_LEGACY = "io.kestra.core.tasks.flows."

TASK_TYPES = [
    TaskType(_PREFIX + "Sequential", Sequential, (_LEGACY + "Sequential",)),
    TaskType(_PREFIX + "Parallel", Parallel, (_LEGACY + "Parallel",)),
    TaskType(_PREFIX + "AllowFailure", AllowFailure, (_LEGACY + "AllowFailure",)),
    TaskType(_PREFIX + "If", If, (_LEGACY + "If",)),
    TaskType(_PREFIX + "Switch", Switch, (_LEGACY + "Switch",)),
    TaskType(_PREFIX + "ForEach", ForEach, (_LEGACY + "ForEach",)),
    TaskType(_PREFIX + "EachSequential", EachSequential, (_LEGACY + "EachSequential",)),
    TaskType(_PREFIX + "EachParallel", EachParallel, (_LEGACY + "EachParallel",)),
]
