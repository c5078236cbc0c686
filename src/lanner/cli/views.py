"""Executions and logs as Kestra's API shapes them, with secrets masked.

A tainted value (computed from a secret, ``lanner.expr.taint``) shows as
``******`` whole, whether or not this process could decrypt it; a secret
this process knows (its SECRET_* variables, values it decrypted) is masked
inside any other text too (docs/secrets.md)."""

from __future__ import annotations

import os
from typing import Any

from lanner.engine.execution import Attempt, Execution, History, TaskRun
from lanner.engine.variables import iso
from lanner.expr import SecretMasker, env_secrets, taint
from lanner.store.base import LogRecord

MASK = "******"


def display_masker(
    execution: Execution | None = None, masker: SecretMasker | None = None
) -> SecretMasker:
    """A masker that knows every secret this process can resolve: SECRET_* variables
    and the execution's SECRET inputs (SPEC §0 decision 10)."""
    masker = masker or SecretMasker()
    resolve = env_secrets(dict(os.environ))
    for key in os.environ:
        if key.startswith("SECRET_"):
            try:
                masker.add(resolve(key[len("SECRET_") :]))
            except Exception:  # a malformed secret is reported where it is used, not here
                continue
    if execution is not None:
        for key in execution.secret_inputs:
            value = execution.inputs.get(key)
            if isinstance(value, str):
                masker.add(value)
    return masker


def _state(state: Any, histories: tuple[History, ...]) -> dict[str, Any]:
    return {
        "current": state.value,
        "histories": [{"state": h.state.value, "date": iso(h.date)} for h in histories],
    }


def _attempt(attempt: Attempt) -> dict[str, Any]:
    return {"state": _state(attempt.state, attempt.histories)}


def task_run_json(run: TaskRun, masker: SecretMasker) -> dict[str, Any]:
    return {
        "id": run.id,
        "executionId": run.execution_id,
        "taskId": run.task_id,
        "parentTaskRunId": run.parent_id,
        "value": taint.shown(run.value, masker),
        "iteration": run.iteration,
        "state": _state(run.state, run.histories),
        "attempts": [_attempt(a) for a in run.attempts] or None,
        "outputs": taint.shown(dict(run.outputs), masker) if run.outputs is not None else None,
    }


def execution_json(execution: Execution, masker: SecretMasker | None = None) -> dict[str, Any]:
    masker = display_masker(execution, masker)
    inputs = {
        k: (MASK if k in execution.secret_inputs else taint.shown(v, masker))
        for k, v in execution.inputs.items()
    }
    return {
        "id": execution.id,
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "flowRevision": execution.flow_revision,
        "state": _state(execution.state, execution.histories),
        "inputs": inputs,
        "outputs": taint.shown(dict(execution.outputs), masker)
        if execution.outputs is not None
        else None,
        "labels": [
            {"key": taint.mask(k, masker), "value": taint.shown(v, masker)}
            for k, v in execution.labels.items()
        ],
        "variables": taint.shown(dict(execution.variables), masker) or None,
        "trigger": taint.shown(dict(execution.trigger), masker)
        if execution.trigger is not None
        else None,
        "parentId": execution.parent_execution_id,
        "originalId": execution.origin_id,
        "metadata": {
            "attemptNumber": execution.attempt_number,
            "originalCreatedDate": iso(execution.origin_date) if execution.histories else None,
        },
        "taskRunList": [task_run_json(r, masker) for r in execution.ordered_task_runs()],
    }


def log_json(record: LogRecord, masker: SecretMasker) -> dict[str, Any]:
    return {
        "executionId": record.execution_id,
        "taskId": record.task_id,
        "taskRunId": record.task_run_id,
        "attemptNumber": record.attempt,
        "timestamp": iso(record.timestamp),
        "level": record.level,
        "message": taint.mask(record.message, masker),
    }
