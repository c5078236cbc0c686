"""The Flow: every top-level property of a Kestra 1.3 flow (SPEC §1.1)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import ConfigDict, Field, create_model, field_validator, model_validator

from lanner.model.common import (
    FLOW_ID_RE,
    INPUT_ID_RE,
    NAMESPACE_RE,
    DurationLike,
    Model,
    is_label_key,
)
from lanner.model.task import Retry, Task, TaskList
from lanner.model.unsupported import unsupported

if TYPE_CHECKING:
    # Resolved by complete_flow_model(): the input, trigger and condition models
    # (about a quarter of a cold `lanner run`) load only for flows that use them.
    from lanner.model.inputs import Input
    from lanner.model.triggers import Condition, Trigger

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

    _not_supported = unsupported("ref")

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
    """A service level the execution must meet (Kestra's `sla`, docs/semantics.md "SLA").

    MAX_DURATION: violated when the execution still runs `duration` after it started.
    EXECUTION_ASSERTION: violated when `assert` renders falsy while the execution runs.
    On a violation `labels` are added to the execution and `behavior` applies.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": "MAX_DURATION"}}},
                    "then": {"required": ["duration"], "not": {"required": ["assert"]}},
                    "else": {"required": ["assert"], "not": {"required": ["duration"]}},
                }
            ]
        }
    )

    id: str = Field(min_length=1)
    type: Literal["MAX_DURATION", "EXECUTION_ASSERTION"]
    behavior: Literal["FAIL", "CANCEL", "NONE"]
    labels: dict[str, str] | None = None
    duration: DurationLike | None = None
    assert_: str | None = Field(None, alias="assert", min_length=1)

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, v: Any) -> Any:
        from lanner.model.conditions import label_map

        v = label_map(v)
        if isinstance(v, dict):
            return {k: str(x).lower() if isinstance(x, bool) else str(x) for k, x in v.items()}
        return v

    @model_validator(mode="after")
    def _fields_for_type(self) -> Sla:
        if self.type == "MAX_DURATION":
            if self.duration is None:
                raise ValueError("a MAX_DURATION SLA needs `duration`")
            if self.assert_ is not None:
                raise ValueError("`assert` belongs to an EXECUTION_ASSERTION SLA, not MAX_DURATION")
        else:
            if self.assert_ is None:
                raise ValueError("an EXECUTION_ASSERTION SLA needs `assert`")
            if self.duration is not None:
                raise ValueError(
                    "`duration` belongs to a MAX_DURATION SLA, not EXECUTION_ASSERTION"
                )
        return self


class Check(Model):
    condition: str
    message: str
    style: Literal["SUCCESS", "INFO", "WARNING", "ERROR"] | None = None
    behavior: Literal["BLOCK_EXECUTION", "FAIL_EXECUTION", "CREATE_EXECUTION"] | None = None


# Conditions a listener cannot evaluate against its own execution: no holiday
# calendar is shipped, and a MultipleCondition's window spans other executions.
_NOT_FOR_LISTENERS = ("PublicHoliday", "MultipleCondition")


def _listener_condition(condition: Any) -> None:
    from lanner.model.conditions import Not, Or, canonical_condition_type

    name = canonical_condition_type(condition).rsplit(".", 1)[-1]
    if name in _NOT_FOR_LISTENERS:
        raise ValueError(f"a {name} condition is not supported here (listeners)")
    if isinstance(condition, Not | Or):
        for child in condition.conditions:
            _listener_condition(child)


_REF_NAME = re.compile(r"(?:^|__)([A-Za-z0-9]+)(?:-\w+)?$")


def _listener_schema(schema: dict[str, Any]) -> None:
    """`lanner schema` offers a listener only the condition types it accepts."""

    def model_name(ref: dict[str, Any]) -> str:
        # "#/$defs/PublicHoliday", or pydantic's interim "...__PublicHoliday-Input__1"
        found = _REF_NAME.search(str(ref.get("$ref", "")).rsplit("/", 1)[-1])
        return found.group(1) if found else ""

    conditions = schema.get("properties", {}).get("conditions", {})
    for option in conditions.get("anyOf", []):
        one_of = option.get("items", {}).get("oneOf")
        if one_of is not None:
            option["items"]["oneOf"] = [
                ref for ref in one_of if model_name(ref) not in _NOT_FOR_LISTENERS
            ]


class _LateNames(Model):
    """A model whose annotations name the input, trigger or condition models, which
    load late (complete_flow_model). Pydantic rebuilds a deferred model through
    `model_rebuild` on first use, so any use (validation, schema, a direct
    `Flow.model_validate`) resolves them; the lean subclasses of validate_flow,
    which narrow those parts to None, do not."""

    @classmethod
    def model_rebuild(
        cls,
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        if cls is Flow or cls is Listener:
            complete_flow_model()
        return super().model_rebuild(
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,
            _types_namespace=_types_namespace,
        )


class Listener(_LateNames):
    """Deprecated in Kestra: when the conditions match the terminal execution, the tasks
    run after it, before `afterExecution` (docs/semantics.md "Listeners")."""

    model_config = ConfigDict(json_schema_extra=_listener_schema)

    description: str | None = None
    conditions: tuple[Condition, ...] | None = None
    tasks: TaskList = Field(min_length=1)

    @field_validator("conditions")
    @classmethod
    def _evaluable(cls, v: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        for condition in v or ():
            _listener_condition(condition)
        return v


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


class Flow(_LateNames):
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

    _not_supported = unsupported("checks", "deleted", "tenantId", "workerGroup")

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


# The parts of a flow whose validators are large (unions of many input, trigger and
# condition models) and that most flows leave out. A flow without some of them is
# validated by a subclass of Flow whose schema lacks them, built on first use: a
# `lanner run` of a small flow then never builds them (a third of its start-up).
_LARGE_PARTS = ("inputs", "triggers", "listeners", "sla")
_WITHOUT: dict[frozenset[str], type[Flow]] = {}


def complete_flow_model() -> None:
    """Resolve the annotations of Flow (and Listener) that name the input, trigger and
    condition models, importing them. Needed before Flow's own schema is used: its
    validation with any of the large parts, its JSON schema, its field annotations.
    A flow without them is validated by a subclass that never names them."""
    if "Trigger" in globals():
        return
    from lanner.model.inputs import Input
    from lanner.model.triggers import Condition, Trigger

    # Pydantic resolves a deferred model's annotations in its module's namespace.
    globals().update(Input=Input, Trigger=Trigger, Condition=Condition)


def validate_flow(data: Mapping[str, Any]) -> Flow:
    """`Flow.model_validate(data)`, building only the validators of the parts it has.

    The same rules and the same errors: the subclass only narrows absent parts to
    None (what Flow gives them anyway), and its result is copied into a Flow."""
    absent = frozenset(part for part in _LARGE_PARTS if data.get(part) is None)
    if len(absent) < len(_LARGE_PARTS):
        complete_flow_model()
    if not absent:
        return Flow.model_validate(data)
    model = _WITHOUT.get(absent)
    if model is None:
        fields: dict[str, Any] = {part: (None, None) for part in sorted(absent)}
        model = _WITHOUT[absent] = cast("type[Flow]", create_model("Flow", __base__=Flow, **fields))
    lean = model.model_validate(data)
    return Flow.model_construct(lean.model_fields_set, **dict(lean))
