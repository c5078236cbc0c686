"""A new execution of a flow: inputs checked and typed, labels and variables
copied from the flow. Used by `lanner run`, `lanner executions start`, the
API and Subflow tasks alike."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lanner.engine.execution import Execution, History, new_execution_id
from lanner.engine.inputrender import input_renderer
from lanner.errors import InputError
from lanner.expr.scope import KVLookup
from lanner.model.flow import Flow
from lanner.model.inputvalues import FileInputs, parse_inputs, secret_input_ids
from lanner.model.states import State
from lanner.runtime import eventcodec
from lanner.store.base import NewEvent

CORRELATION_ID = "system.correlationId"


class DisabledFlowError(InputError):
    """Cannot execute a disabled flow."""


def new_execution(
    flow: Flow,
    revision: int,
    inputs: Mapping[str, Any],
    now: datetime,
    *,
    from_strings: bool = True,
    execution_id: str | None = None,
    labels: Mapping[str, str] | None = None,
    trigger: Mapping[str, Any] | None = None,
    files: FileInputs | None = None,
    kv: KVLookup | None = None,
) -> Execution:
    """The CREATED execution; raises InputValueError for bad inputs (nothing is stored).
    `files` stores FILE inputs (lanner.storage.inputfiles, made for `execution_id`); `kv`
    is what `kv()` reads in the declarations' expressions (lanner.runtime.kvreader)."""
    if flow.disabled:
        raise DisabledFlowError(f"Cannot execute a disabled flow: {flow.namespace}.{flow.id}")
    declared = flow.inputs or ()
    render = input_renderer(flow.namespace, flow.id, revision, now, kv=kv)
    parsed = parse_inputs(declared, inputs, from_strings=from_strings, render=render, files=files)
    execution_id = execution_id or new_execution_id()
    given = {**dict(flow.labels or {}), **dict(labels or {})}
    # As Kestra: every execution is in a correlation, its own unless it was given one.
    given.setdefault(CORRELATION_ID, execution_id)
    return Execution(
        id=execution_id,
        namespace=flow.namespace,
        flow_id=flow.id,
        flow_revision=revision,
        state=State.CREATED,
        histories=(History(State.CREATED, now),),
        inputs=parsed,
        labels=given,
        variables=dict(flow.variables or {}),
        trigger=dict(trigger) if trigger is not None else None,
        secret_inputs=frozenset(secret_input_ids(declared)),
    )


def start_event(execution: Execution, now: datetime) -> NewEvent:
    from lanner.engine.events import Start

    return eventcodec.encode(execution.id, Start(), now, f"start:{execution.id}")
