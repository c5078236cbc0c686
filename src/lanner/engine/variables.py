"""The variables a template sees (SPEC §6.2), built from the execution.

`outputs` and `tasks` are computed lazily, on first access within one
render, because most templates never read them and building them walks
every task run of the execution.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from lanner.engine.execution import Execution, TaskRun
from lanner.model.flow import Flow
from lanner.model.inputvalues import nest_inputs
from lanner.model.task import Task

# Lanner's one tenant (its API's `/api/v1/main/...`), as Kestra 1.x names its default one.
TENANT = "main"

# `{{ workingDir }}` (Kestra's variable: the task's working directory) renders, at
# dispatch, to this mark: the directory is made on the worker, which puts its path in
# place of the mark before the task runs (with_working_dir).
WORKING_DIR_MARK = "@lanner:workingDir@"


def with_working_dir(value: Any, directory: Callable[[], object]) -> Any:
    """`value` (rendered properties) with the working-directory mark replaced by the
    path of `directory()`, which is called only when the mark is there; `value` itself
    when it holds none."""
    if isinstance(value, str):
        if WORKING_DIR_MARK not in value:
            return value
        return value.replace(WORKING_DIR_MARK, str(directory()))
    if isinstance(value, dict):
        items = {k: with_working_dir(v, directory) for k, v in value.items()}
        return value if all(items[k] is v for k, v in value.items()) else items
    if isinstance(value, list):
        listed = [with_working_dir(v, directory) for v in value]
        return value if all(a is b for a, b in zip(listed, value, strict=True)) else listed
    return value


# What a script's `executionContext: true` writes (runtime, tasks/scripts): the
# execution's metadata, not the environment, the working directory or secrets.
CONTEXT_KEYS = (
    "flow",
    "execution",
    "task",
    "taskrun",
    "inputs",
    "outputs",
    "labels",
    "vars",
    "trigger",
    "parents",
    "parent",
)


def context_data(variables: Mapping[str, Any]) -> dict[str, Any]:
    """The CONTEXT_KEYS of a template's variables, as plain dicts and lists."""
    return {k: _plain(variables[k]) for k in CONTEXT_KEYS if k in variables}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@functools.lru_cache(maxsize=4096)
def iso(date: datetime) -> str:
    # Cached: an execution's JSON repeats each date (a state's history, its attempt's,
    # its start and end); isoformat is cheaper than strftime, with the same text.
    return date.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class _Lazy(Mapping[str, Any]):
    def __init__(self, build: Any) -> None:
        self._build = build
        self._data: dict[str, Any] | None = None

    def _get(self) -> dict[str, Any]:
        if self._data is None:
            self._data = self._build()
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __contains__(self, key: object) -> bool:
        return key in self._get()


def _loop_values(execution: Execution, run: TaskRun) -> list[str]:
    """The loop values of a task run and its ancestors, outermost first."""
    values: list[str] = []
    current: TaskRun | None = run
    while current is not None:
        if current.value is not None:
            values.append(current.value)
        current = execution.task_runs.get(current.parent_id) if current.parent_id else None
    return list(reversed(values))


def _nest(target: dict[str, Any], keys: list[str], leaf: str, value: Any) -> None:
    node = target.setdefault(leaf, {})
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value


def build_outputs(execution: Execution) -> dict[str, Any]:
    """`outputs.<taskId>.<prop>`, nested by loop value inside loops: `outputs.x['v'].prop`."""
    out: dict[str, Any] = {}
    for run in execution.ordered_task_runs():
        if run.outputs is None:
            continue
        values = _loop_values(execution, run)
        if values:
            _nest(out, values, run.task_id, dict(run.outputs))
        else:
            out[run.task_id] = dict(run.outputs)
    return out


def build_task_states(execution: Execution) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for run in execution.ordered_task_runs():
        values = _loop_values(execution, run)
        if values:
            _nest(out, values, run.task_id, {"state": run.state.value})
        else:
            out[run.task_id] = {"state": run.state.value}
    return out


def error_log(
    execution: Execution,
    task_id: str | None,
    task_run_id: str | None,
    attempt: int | None,
    timestamp: datetime,
    message: str,
) -> dict[str, Any]:
    """One entry of `errorLogs()`: an ERROR log line, shaped as Kestra's LogEntry."""
    return {
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "executionId": execution.id,
        "taskId": task_id,
        "taskRunId": task_run_id,
        "attemptNumber": attempt,
        "timestamp": iso(timestamp),
        "level": "ERROR",
        "message": message,
    }


def nested_labels(labels: Mapping[str, str]) -> dict[str, Any]:
    """`labels.a.b` for a label `a.b` (dotted keys become nested maps), plus the flat key."""
    out: dict[str, Any] = {}
    for key, value in labels.items():
        out[key] = value
        if "." in key:
            node = out
            parts = key.split(".")
            for part in parts[:-1]:
                existing = node.get(part)
                if not isinstance(existing, dict):
                    existing = {}
                    node[part] = existing
                node = existing
            node[parts[-1]] = value
    return out


def execution_variables(
    flow: Flow, execution: Execution, envs: Mapping[str, str] | None = None
) -> dict[str, Any]:
    ex: dict[str, Any] = {
        "id": execution.id,
        "state": execution.state.value,
        "startDate": iso(execution.start_date),
        "originalId": execution.origin_id,
    }
    if execution.outputs is not None:
        ex["outputs"] = dict(execution.outputs)
    variables: dict[str, Any] = {
        "flow": {
            "id": flow.id,
            "namespace": flow.namespace,
            "revision": execution.flow_revision,
            "tenantId": TENANT,
        },
        "execution": ex,
        # Stored by dotted id (`request.name`); shown nested, as Kestra stores them.
        "inputs": nest_inputs(execution.inputs),
        "vars": dict(execution.variables),
        "labels": nested_labels(execution.labels),
        "outputs": _Lazy(lambda: build_outputs(execution)),
        "tasks": _Lazy(lambda: build_task_states(execution)),
        "envs": dict(envs or {}),
    }
    if execution.trigger is not None:
        variables["trigger"] = dict(execution.trigger)
    if execution.error is not None:
        variables["error"] = {
            "taskId": execution.error.task_id,
            "message": execution.error.message,
            "type": execution.error.type,
        }
    return variables


def task_variables(
    base: dict[str, Any], execution: Execution, run: TaskRun, task: Task
) -> dict[str, Any]:
    """Add `task`, `taskrun`, `parents` and `parent` for one task run."""
    taskrun: dict[str, Any] = {
        "id": run.id,
        "startDate": iso(run.start_date),
        "attemptsCount": len(run.attempts),
    }
    if run.parent_id:
        taskrun["parentId"] = run.parent_id
    if run.value is not None:
        taskrun["value"] = run.value
    if run.iteration is not None:
        taskrun["iteration"] = run.iteration
    parents: list[dict[str, Any]] = []
    current = execution.task_runs.get(run.parent_id) if run.parent_id else None
    while current is not None:
        if current.value is not None or current.outputs:
            entry: dict[str, Any] = {"taskrun": {"value": current.value}}
            if current.outputs:
                entry["outputs"] = dict(current.outputs)
            parents.append(entry)
        current = execution.task_runs.get(current.parent_id) if current.parent_id else None
    variables = {
        **base,
        "task": {"id": task.id, "type": task.type},
        "taskrun": taskrun,
        "workingDir": WORKING_DIR_MARK,
    }
    if parents:
        variables["parents"] = parents
        variables["parent"] = parents[0]
    return variables
