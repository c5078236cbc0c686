"""`io.kestra.plugin.core.state.Set`, `Get`, `Delete`: Kestra's deprecated state store,
kept on Lanner's KV store (docs/tasks-core.md).

Kestra keeps a state as a JSON file in internal storage, per flow (or per namespace
with ``namespace: true``), per ``name``, and per ``taskrun.value`` unless
``taskrunValue: false``. Lanner keeps the same map as a JSON pair of the KV store, in
the flow's namespace, under the key

    states_<flowId>_<name>      (``namespace: false``, the default)
    states__<name>              (``namespace: true``: shared by the namespace's flows)

followed by ``_`` and 16 hex digits of the SHA-256 of the task run's value when the
task run has one (inside a ForEach) and ``taskrunValue`` is true. So a state is seen,
listed and deleted with ``lanner kv`` as any pair. ``name`` must be KV-key text
(letters, digits, ``.``, ``-``, ``_``). Set merges its ``data`` into the state (maps
deeply, as Kestra's ``MapUtils.merge``), Get reads it, Delete removes it. Like Kestra's,
Set is not safe under concurrent executions of the flow: the last write wins.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from lanner.errors import InputError, NotFoundError
from lanner.model.common import DynamicBool, Text
from lanner.model.kvtypes import KVType
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.kv import flag

_PREFIX = "io.kestra.plugin.core.state."
_LEGACY = "io.kestra.core.tasks.states."


class _StateTask(Task):
    type: str
    name: Text = Field("default", description="The name of the state.")
    namespace: DynamicBool = Field(
        False, description="Share the state between the flows of the namespace."
    )
    taskrunValue: DynamicBool = Field(
        True, description="Keep one state per `taskrun.value` (in a ForEach)."
    )


def state_key(task: _StateTask, ctx: TaskContext) -> str:
    """The KV key of the state this task names (see the module docstring)."""
    scope = "" if flag(task.namespace) else ctx.flow_id
    key = f"states_{scope}_{task.name}"
    if flag(task.taskrunValue):
        value = ctx.instance.task_run_value(ctx.execution_id, ctx.task_run_id)
        if value is not None:
            key += "_" + hashlib.sha256(value.encode()).hexdigest()[:16]
    return key


def _read(ctx: TaskContext, key: str) -> dict[str, Any] | None:
    entry = ctx.kv.get(ctx.kv.namespace, key)
    if entry is None:
        return None
    if not isinstance(entry.value, dict):
        raise InputError(f"the KV pair '{key}' is not a state (a JSON map)")
    return dict(entry.value)


def merge(current: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """`update` over `current`: maps present in both are merged, anything else replaced."""
    merged = dict(current)
    for key, value in update.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = merge(old, value)
        else:
            merged[key] = value
    return merged


class SetState(_StateTask):
    """Merge values into a state."""

    data: dict[str, Any] = Field(default_factory=dict, description="The values to merge in.")


def run_set(task: SetState, ctx: TaskContext) -> Outcome:
    key = state_key(task, ctx)
    data = merge(_read(ctx, key) or {}, task.data)
    ctx.kv.set(ctx.kv.namespace, key, data, kv_type=KVType.JSON)
    return Outcome(outputs={"count": len(data), "key": key})


class GetState(_StateTask):
    """Read a state."""

    errorOnMissing: DynamicBool = Field(False, description="Fail when the state does not exist.")


def run_get(task: GetState, ctx: TaskContext) -> Outcome:
    key = state_key(task, ctx)
    data = _read(ctx, key)
    if data is None:
        if flag(task.errorOnMissing):
            raise NotFoundError(f"the state '{task.name}' does not exist (KV key '{key}')")
        data = {}
    return Outcome(outputs={"count": len(data), "data": data})


class DeleteState(_StateTask):
    """Delete a state."""

    errorOnMissing: DynamicBool = Field(False, description="Fail when the state does not exist.")


def run_delete(task: DeleteState, ctx: TaskContext) -> Outcome:
    key = state_key(task, ctx)
    deleted = ctx.kv.delete(ctx.kv.namespace, key)
    if not deleted and flag(task.errorOnMissing):
        raise NotFoundError(f"the state '{task.name}' does not exist (KV key '{key}')")
    return Outcome(outputs={"deleted": deleted})


TASK_TYPES: list[TaskType] = [
    TaskType(_PREFIX + "Set", SetState, (_LEGACY + "Set",), run_set),
    TaskType(_PREFIX + "Get", GetState, (_LEGACY + "Get",), run_get),
    TaskType(_PREFIX + "Delete", DeleteState, (_LEGACY + "Delete",), run_delete),
]
