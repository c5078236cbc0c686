"""The Flow: every top-level property of a Kestra 1.3 flow (SPEC §1.1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from lanner.model.common import (
    FLOW_ID_RE,
    INPUT_ID_RE,
    NAMESPACE_RE,
    DurationLike,
    Model,
    is_label_key,
)
from lanner.model.inputs import Input
from lanner.model.task import Retry, Task, TaskList
from lanner.model.triggers import Condition, Trigger
from lanner.model.unsupported import reject

RESERVED_FLOW_IDS = frozenset(
    {
        "pause",
        "resume",
        "force-run",
        "change-status",
        "kill",
        "executions",
        "search",
        "source",
        "disable",
        "enable",
    }
)


class PluginDefault(Model):
    """Default property values for every task whose type equals or starts with `type`."""

    type: str
    forced: bool = False
    values: dict[str, Any] = Field(default_factory=dict)
    ref: str | None = None

    @field_validator("ref")
    @classmethod
    def _not_supported(cls, v: str | None) -> str | None:
        return reject("ref", v)

    def applies_to(self, *type_names: str) -> bool:
        return any(name == self.type or name.startswith(self.type) for name in type_names)


class Concurrency(Model):
    limit: int = Field(ge=1)
    behavior: Literal["QUEUE", "CANCEL", "FAIL"] = "QUEUE"


class FlowOutput(Model):
    id: str
    type: str = "STRING"
    value: Any
    description: str | None = None
    displayName: str | None = None
    required: bool = True

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not INPUT_ID_RE.match(v):
            raise ValueError(f"output id '{v}' must match ^[a-zA-Z0-9][.a-zA-Z0-9_-]*")
        return v


class Sla(Model):
    id: str
    type: Literal["MAX_DURATION", "EXECUTION_ASSERTION"]
    behavior: Literal["FAIL", "CANCEL", "NONE"] = "FAIL"
    labels: dict[str, Any] | list[dict[str, Any]] | None = None
    duration: DurationLike | None = None
    assert_: str | None = Field(None, alias="assert")


class Check(Model):
    condition: str
    message: str
    style: Literal["SUCCESS", "INFO", "WARNING", "ERROR"] | None = None
    behavior: Literal["BLOCK_EXECUTION", "FAIL_EXECUTION", "CREATE_EXECUTION"] | None = None


class Listener(Model):
    """Deprecated: tasks run after the terminal state when the conditions match."""

    description: str | None = None
    conditions: tuple[Condition, ...] | None = None
    tasks: TaskList = Field(min_length=1)


def _labels_as_map(value: Any) -> Any:
    """Kestra accepts labels as a list of {key, value} or as a map; keep a map."""
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for i, item in enumerate(value):
            if not isinstance(item, dict) or set(item) != {"key", "value"}:
                raise ValueError(f"labels[{i}] must be a mapping with exactly `key` and `value`")
            out[str(item["key"])] = item["value"]
        return out
    return value


class Flow(Model):
    """A flow definition."""

    id: str = Field(min_length=1, max_length=100)
    namespace: str = Field(min_length=1, max_length=150)
    revision: int | None = Field(None, ge=1)
    description: str | None = None
    labels: dict[str, str] | None = None
    inputs: tuple[Input, ...] | None = None
    variables: dict[str, Any] | None = None
    outputs: tuple[FlowOutput, ...] | None = None
    tasks: TaskList = Field(min_length=1)
    errors: TaskList | None = None
    finally_: TaskList | None = Field(None, alias="finally")
    afterExecution: TaskList | None = None
    listeners: tuple[Listener, ...] | None = None
    triggers: tuple[Trigger, ...] | None = None
    pluginDefaults: tuple[PluginDefault, ...] | None = None
    concurrency: Concurrency | None = None
    retry: Retry | None = None
    sla: tuple[Sla, ...] | None = None
    checks: tuple[Check, ...] | None = None
    disabled: bool = False
    deleted: bool = False
    tenantId: str | None = None
    workerGroup: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and "taskDefaults" in data:
            if "pluginDefaults" in data:
                raise ValueError("give pluginDefaults or its old name taskDefaults, not both")
            data = {("pluginDefaults" if k == "taskDefaults" else k): v for k, v in data.items()}
        return data

    @field_validator("checks", "deleted", "tenantId", "workerGroup")
    @classmethod
    def _not_supported(cls, v: Any, info: ValidationInfo) -> Any:
        return reject(str(info.field_name), v)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not FLOW_ID_RE.match(v):
            raise ValueError(f"flow id '{v}' must match ^[a-zA-Z0-9][a-zA-Z0-9._-]*")
        if v in RESERVED_FLOW_IDS:
            raise ValueError(
                f"flow id '{v}' is a reserved word ({', '.join(sorted(RESERVED_FLOW_IDS))})"
            )
        return v

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if not NAMESPACE_RE.match(v):
            raise ValueError(
                f"namespace '{v}' must match ^[a-z0-9][a-z0-9._-]* (lower case letters, digits, . _ -)"
            )
        return v

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, v: Any) -> Any:
        v = _labels_as_map(v)
        if isinstance(v, dict):
            for key, value in v.items():
                if not is_label_key(str(key)):
                    raise ValueError(f"label key '{key}' must start with a lower-case letter")
                if key.startswith("system.") and key != "system.readOnly":
                    raise ValueError(f"label key '{key}': system labels cannot be set in a flow")
                if value is None or str(value) == "":
                    raise ValueError(f"label '{key}' must have a non-empty value")
            return {
                str(k): str(val).lower() if isinstance(val, bool) else str(val)
                for k, val in v.items()
            }
        return v

    def task_lists(self) -> Iterator[tuple[str, TaskList]]:
        """The flow's own task lists, with their YAML names."""
        yield "tasks", self.tasks
        if self.errors:
            yield "errors", self.errors
        if self.finally_:
            yield "finally", self.finally_
        if self.afterExecution:
            yield "afterExecution", self.afterExecution
        for i, listener in enumerate(self.listeners or ()):
            yield f"listeners[{i}].tasks", listener.tasks

    def all_tasks(self) -> Iterator[Task]:
        """Every task of the flow, children included, in declaration order."""
        for _, tasks in self.task_lists():
            for task in tasks:
                yield task
                yield from task.descendants()
