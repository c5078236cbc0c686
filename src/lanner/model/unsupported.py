"""Kestra properties that Lanner parses but does not implement.

The project's rule: nothing is accepted and silently ignored. A property
either does what Kestra documents, or validation rejects it, at its place in
the file, with "not supported here" and the reason. The models call
:func:`reject` from a field validator, which pydantic runs only for a
property the flow sets; `ALLOWED` holds the values that are what Lanner does
anyway (``logToFile: false``), which stay accepted.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

REASONS: dict[str, str] = {
    # Task properties (SPEC §1.2).
    "logToFile": "task logs are always stored with the execution",
    "workerGroup": "worker groups are a Kestra Enterprise feature; any Lanner worker runs any task",
    "taskCache": "Lanner does not cache task outputs",
    "version": "Lanner has one version of each task and trigger type",
    "pluginDefaultsRef": "plugin defaults apply by type; named plugin defaults are not implemented",
    "assets": "Lanner does not track assets",
    # Retry policies (SPEC §4.4).
    "behavior": "a retry retries the failed task (RETRY_FAILED_TASK);"
    " CREATE_NEW_EXECUTION is not implemented",
    # Flow properties (SPEC §1.1).
    "checks": "flow checks are not evaluated; an execution is created without them",
    "tenantId": "Lanner has no tenants",
    "deleted": "a flow is deleted with `lanner flows delete`, not in its source",
    "ref": "named plugin defaults are not implemented",
    # Subflow (SPEC §5.10).
    "restartBehavior": "a restarted Subflow always starts a new child execution (NEW_EXECUTION)",
    "outputs": "Subflow `outputs` is deprecated since Kestra 0.15 (and off by default there);"
    " declare `outputs` on the child flow and read `outputs.<task>.outputs`",
}

ALLOWED: dict[str, frozenset[Any]] = {
    "logToFile": frozenset({False}),
    "deleted": frozenset({False}),
    "behavior": frozenset({"RETRY_FAILED_TASK"}),
    "restartBehavior": frozenset({"NEW_EXECUTION"}),
}


def reject(name: str, value: T, reason: str | None = None) -> T:
    """`value` unchanged when it is what Lanner does anyway; else ValueError."""
    allowed = ALLOWED.get(name, frozenset())
    if value is None or (_hashable(value) and value in allowed):
        return value
    raise ValueError(f"'{name}' is not supported here: {reason or REASONS[name]}")


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
