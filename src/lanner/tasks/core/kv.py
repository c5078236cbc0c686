"""`io.kestra.plugin.core.kv.*`: set, get, delete, list and purge KV pairs (docs/kv.md).

Each task reaches the KV store through its context's ``kv`` member. The
namespace defaults to the flow's. ``Get`` reads the flow's namespace, then
its parents, nearest first, when it reads the flow's own namespace, as
Kestra's does; an explicit other namespace is read alone. Set has no
outputs; Get gives ``value``, Delete ``deleted``, GetKeys ``keys`` and
PurgeKV ``size`` (how many pairs it deleted).
"""

from __future__ import annotations

import fnmatch
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from lanner.errors import InputError, NotFoundError
from lanner.model.common import DurationLike, DynamicBool, Model, Text, is_dynamic
from lanner.model.kvtypes import KVType, lineage
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import KVAccess, Outcome, TaskContext, TaskType

_PREFIX = "io.kestra.plugin.core.kv."
_TYPES = [t.value for t in KVType]


def _check_kv_type(value: str) -> str:
    if value in _TYPES or is_dynamic(value):
        return value
    raise ValueError(f"kvType must be one of {', '.join(_TYPES)} (got '{value}')")


KVTypeName = Annotated[
    str,
    AfterValidator(_check_kv_type),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "enum": _TYPES}, {"type": "string", "pattern": r"\{\{|\{%"}]}
    ),
]


def flag(value: bool | str) -> bool:
    """A DynamicBool after rendering (the worker validates rendered properties again)."""
    if isinstance(value, bool):
        return value
    raise InputError(f"expected true or false, got {str(value)[:40]!r}")


class _KVTask(Task):
    namespace: Text | None = Field(
        None, description="The namespace of the pair; by default the flow's namespace."
    )

    def target(self, kv: KVAccess) -> str:
        return self.namespace or kv.namespace


class SetKV(_KVTask):
    """Create or replace a key-value pair."""

    type: str
    key: Text = Field(description="The key to set.")
    value: Any = Field(description="The value; parsed as `kvType` when given.")
    kvType: KVTypeName | None = Field(
        None,
        description="STRING, NUMBER, BOOLEAN, DATETIME, DATE, DURATION or JSON; by default"
        " the type of the value (a rendered text is a STRING).",
    )
    kvDescription: Text | None = Field(None, description="A description of the pair.")
    overwrite: DynamicBool = Field(
        True, description="Replace an existing value; false fails the task when the key exists."
    )
    ttl: DurationLike | None = Field(
        None, description="How long the pair lives (ISO-8601 duration); by default for ever."
    )

    @model_validator(mode="after")
    def _value_given(self) -> SetKV:
        if self.value is None:
            raise ValueError("value is required (a KV value cannot be null)")
        return self


def run_set(task: SetKV, ctx: TaskContext) -> Outcome:
    kv = ctx.kv
    namespace = task.target(kv)
    kv_type = None if task.kvType is None else KVType(task.kvType)
    entry = kv.set(
        namespace,
        task.key,
        task.value,
        kv_type=kv_type,
        ttl=task.ttl,
        overwrite=flag(task.overwrite),
        description=task.kvDescription,
    )
    ctx.log("DEBUG", f"Set the {entry.type.value} pair '{entry.key}' in the namespace {namespace}")
    return Outcome()


class GetKV(_KVTask):
    """Read the value of a key."""

    type: str
    key: Text = Field(description="The key to read.")
    errorOnMissing: DynamicBool = Field(
        False, description="Fail the task when the key is missing (else `value` is null)."
    )


def run_get(task: GetKV, ctx: TaskContext) -> Outcome:
    kv = ctx.kv
    namespace = task.target(kv)
    searched = lineage(namespace) if namespace == kv.namespace else [namespace]
    for candidate in searched:
        entry = kv.get(candidate, task.key)
        if entry is not None:
            return Outcome(outputs={"value": entry.value})
    if flag(task.errorOnMissing):
        raise NotFoundError(f"the key '{task.key}' does not exist in the namespace '{namespace}'")
    return Outcome(outputs={"value": None})


class DeleteKV(_KVTask):
    """Delete a key-value pair."""

    type: str
    key: Text = Field(description="The key to delete.")
    errorOnMissing: DynamicBool = Field(False, description="Fail the task when the key is missing.")


def run_delete(task: DeleteKV, ctx: TaskContext) -> Outcome:
    kv = ctx.kv
    namespace = task.target(kv)
    deleted = kv.delete(namespace, task.key)
    if not deleted and flag(task.errorOnMissing):
        raise NotFoundError(f"the key '{task.key}' does not exist in the namespace '{namespace}'")
    return Outcome(outputs={"deleted": deleted})


class GetKeys(_KVTask):
    """List the keys of a namespace, optionally those starting with a prefix."""

    type: str
    prefix: Text | None = Field(None, description="Only the keys that start with it.")


def run_get_keys(task: GetKeys, ctx: TaskContext) -> Outcome:
    kv = ctx.kv
    prefix = task.prefix or ""
    keys = [e.key for e in kv.entries(task.target(kv)) if e.key.startswith(prefix)]
    return Outcome(outputs={"keys": keys})


class PurgeBehavior(Model):
    """Kestra's KvPurgeBehavior: `key`, deleting the expired pairs only or every pair."""

    type: Literal["key"] = "key"
    expiredOnly: DynamicBool = True


class PurgeKV(Task):
    """Delete pairs across namespaces: by default the expired ones only."""

    type: str
    namespaces: list[Text] | None = Field(
        None, description="The namespaces to purge; by default every namespace."
    )
    namespacePattern: Text | None = Field(
        None, description="A glob pattern of the namespaces to purge (instead of `namespaces`)."
    )
    includeChildNamespaces: DynamicBool = Field(
        True, description="With `namespaces`, purge their child namespaces too."
    )
    keyPattern: Text | None = Field(None, description="A glob pattern: only the keys matching it.")
    behavior: PurgeBehavior = Field(
        default_factory=PurgeBehavior, description="What to purge: {type: key, expiredOnly}."
    )
    expiredOnly: DynamicBool | None = Field(
        None, description="Deprecated in Kestra: overrides `behavior.expiredOnly` when set."
    )

    @field_validator("namespacePattern")
    @classmethod
    def _one_namespace_filter(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Located at namespacePattern: `namespaces` is declared (so validated) first.
        if value is not None and info.data.get("namespaces") is not None:
            raise ValueError("give either namespaces or namespacePattern, not both")
        return value

    def wanted(self, namespace: str) -> bool:
        if self.namespacePattern is not None:
            return fnmatch.fnmatchcase(namespace, self.namespacePattern)
        if self.namespaces is None:
            return True
        children = flag(self.includeChildNamespaces)
        return any(
            namespace == n or (children and namespace.startswith(n + ".")) for n in self.namespaces
        )


def run_purge_kv(task: PurgeKV, ctx: TaskContext) -> Outcome:
    kv = ctx.kv
    given = task.behavior.expiredOnly if task.expiredOnly is None else task.expiredOnly
    expired_only = flag(given)
    pattern = task.keyPattern
    pairs = [
        (namespace, key)
        for namespace, key, _ in kv.index()
        if task.wanted(namespace) and (pattern is None or fnmatch.fnmatchcase(key, pattern))
    ]
    size = kv.purge(pairs, expired_only=expired_only)
    ctx.log("INFO", f"Purged {size} KV pair{'' if size == 1 else 's'}")
    return Outcome(State.SUCCESS, outputs={"size": size})


TASK_TYPES: list[TaskType] = [
    TaskType(name=_PREFIX + "Set", model=SetKV, run=run_set),
    TaskType(name=_PREFIX + "Get", model=GetKV, run=run_get),
    TaskType(name=_PREFIX + "Delete", model=DeleteKV, run=run_delete),
    TaskType(name=_PREFIX + "GetKeys", model=GetKeys, run=run_get_keys),
    TaskType(name=_PREFIX + "PurgeKV", model=PurgeKV, run=run_purge_kv),
]
