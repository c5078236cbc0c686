"""Kestra properties that Lanner parses but does not implement.

The project's rule: nothing is accepted and silently ignored. A property
either does what Kestra documents, or validation rejects it, at its place in
the file, with "not supported here" and the reason. The models declare
:func:`unsupported` field validators (which call :func:`reject`), run by
pydantic only for a property the flow sets; `ALLOWED` holds the values that
are what Lanner does anyway (``logToFile: false``), which stay accepted.
:func:`unsupported_fields` finds them again for the JSON Schema, which
offers such a property only with its accepted values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import ValidationInfo, field_validator

T = TypeVar("T")
_MARK = "__lanner_unsupported__"

REASONS: dict[str, str] = {
    # Task properties (SPEC §1.2).
    "logToFile": "task logs are always stored with the execution",
    "workerGroup": "worker groups are a Kestra Enterprise feature; any Lanner worker runs any task",
    "taskCache": "Lanner does not cache task outputs",
    "version": "Lanner has one version of each task and trigger type",
    "pluginDefaultsRef": "plugin defaults apply by type; named plugin defaults are not implemented",
    "assets": "Lanner does not track assets",
    # Flow properties (SPEC §1.1).
    "checks": "flow checks are not evaluated; an execution is created without them",
    "tenantId": "Lanner has no tenants",
    "deleted": "a flow is deleted with `lanner flows delete`, not in its source",
    "ref": "named plugin defaults are not implemented",
    # Subflow (SPEC §5.10).
    "outputs": "Subflow `outputs` is deprecated since Kestra 0.15 (and off by default there);"
    " declare `outputs` on the child flow and read `outputs.<task>.outputs`",
}

# Task types Kestra has that Lanner refuses by name, with the reason (validation says it
# at the task's `type`, instead of "unknown task type").
UNSUPPORTED_TYPES: dict[str, str] = {
    "io.kestra.plugin.core.flow.Template": "a Template task runs a template of Kestra's"
    " templates resource, which is off by default since Kestra 0.11 and removed in 2.0;"
    " use a Subflow",
}
UNSUPPORTED_TYPES["io.kestra.core.tasks.flows.Template"] = UNSUPPORTED_TYPES[
    "io.kestra.plugin.core.flow.Template"
]

ALLOWED: dict[str, frozenset[Any]] = {
    "logToFile": frozenset({False}),
    "deleted": frozenset({False}),
    # A trigger starts its executions whatever runs already (Kestra's `allowConcurrent:
    # true`), and a failed evaluation is logged and tried again (`failOnTriggerError:
    # false`); the other values are rejected with the trigger's reason.
    "allowConcurrent": frozenset({True}),
    "failOnTriggerError": frozenset({False}),
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


def unsupported(*fields: str, reasons: Mapping[str, str] | None = None) -> Any:
    """A model's field validator rejecting `fields` (:func:`reject`); `reasons`
    replaces the reason of some of them."""

    def check(cls: type, value: Any, info: ValidationInfo) -> Any:
        name = str(info.field_name)
        return reject(name, value, (reasons or {}).get(name))

    setattr(check, _MARK, dict(reasons or {}))
    return field_validator(*fields)(classmethod(check))


def unsupported_fields(cls: type) -> dict[str, tuple[frozenset[Any], str]]:
    """The fields of a model declared with :func:`unsupported`: (accepted values, reason)."""
    decorators = getattr(cls, "__pydantic_decorators__", None)
    if decorators is None:
        return {}
    out: dict[str, tuple[frozenset[Any], str]] = {}
    for decorator in decorators.field_validators.values():
        reasons = getattr(decorator.func, _MARK, None)
        if reasons is None:
            continue
        for name in decorator.info.fields:
            reason = reasons.get(name) or REASONS.get(name, "not implemented")
            out[name] = (ALLOWED.get(name, frozenset()), reason)
    return out
