"""Execution actions that change what an execution is: replay with new inputs, the
change of a task run's state, force-run and unqueue (each by id; force-run and
unqueue by ids and by query too).

Registered before `executions`, as `executionactions`: `/executions/unqueue/by-ids`
would otherwise be read as `/executions/{namespace}/{flowId}`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.executionactions import Ids, _bulk, _by_query
from lanner.api.schemas import execution_answer
from lanner.engine.control import UNQUEUE_STATES
from lanner.engine.execution import Execution
from lanner.model.states import State
from lanner.runtime import actions

router = APIRouter(tags=["Executions"])
Ctx = Annotated[ApiContext, Depends(context)]

_WAIT = 1.0  # seconds an answer waits for the executor to apply the change


def _after(ctx: ApiContext, before: Execution) -> dict[str, Any]:
    """The execution once the executor applied the change, which moves its state
    (kestrapy reads the answer), or as it stands after a second."""
    deadline = time.monotonic() + _WAIT
    while True:
        execution = actions.get_execution(ctx.store, before.id)
        if len(execution.histories) > len(before.histories) or time.monotonic() > deadline:
            return execution_answer(execution)
        time.sleep(0.02)


# -- replay with inputs -----------------------------------------------------------------
@router.post("/executions/{execution_id}/replay-with-inputs")
@router.post("/executions/{execution_id}/actions/replay-with-inputs")
async def replay_with_inputs(
    execution_id: str,
    request: Request,
    ctx: Ctx,
    taskRunId: str | None = None,
    revision: int | None = None,
    breakpoints: str | None = None,
) -> dict[str, Any]:
    """A replay whose inputs given as multipart fields (files included, as a create's)
    replace the original's values; the inputs not given keep them."""
    if breakpoints:
        raise ApiError("breakpoints are not supported here")
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await run_in_threadpool(_replay, ctx, execution_id, taskRunId, revision, {}, {})
    inputs: dict[str, str] = {}
    uploads: dict[str, UploadFile] = {}
    async with request.form() as form:  # open while the files are copied
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                uploads[key] = value
            else:
                inputs[key] = value
        return await run_in_threadpool(
            _replay, ctx, execution_id, taskRunId, revision, inputs, uploads
        )


def _replay(
    ctx: ApiContext,
    execution_id: str,
    task_run_id: str | None,
    revision: int | None,
    inputs: dict[str, str],
    uploads: dict[str, UploadFile],
) -> dict[str, Any]:
    from lanner.engine.execution import new_execution_id
    from lanner.storage.inputfiles import InputFiles
    from lanner.storage.uris import execution_prefix, input_file_uri, storage_path

    original = actions.get_execution(ctx.store, execution_id)
    namespace, flow_id = original.namespace, original.flow_id
    new_id = new_execution_id()
    given: dict[str, Any] = dict(inputs)
    try:
        for input_id, upload in uploads.items():
            uri = input_file_uri(namespace, flow_id, new_id, input_id, upload.filename or input_id)
            upload.file.seek(0)
            ctx.storage.put(storage_path(uri), upload.file)
            given[input_id] = uri
        execution = actions.replay_execution(
            ctx.store,
            ctx.registry,
            ctx.config.pluginDefaults,
            execution_id,
            revision,
            task_run_id=task_run_id,
            inputs=given,
            files=InputFiles(ctx.storage, namespace, flow_id, new_id),
            new_id=new_id,
        )
    except BaseException:
        if uploads:
            ctx.storage.delete_prefix(execution_prefix(namespace, flow_id, new_id))
        raise
    return execution_answer(execution)


# -- a task run's state -----------------------------------------------------------------
@router.post("/executions/{execution_id}/state")
@router.post("/executions/{execution_id}/actions/state")
def change_task_run_state(
    execution_id: str, body: Annotated[dict[str, Any], Body()], ctx: Ctx
) -> dict[str, Any]:
    """Kestra's `{taskRunId, state}`: an ended task run of a finished execution becomes
    SUCCESS, WARNING or FAILED, and the execution goes on from it."""
    task_run_id, state = body.get("taskRunId"), body.get("state")
    if not isinstance(task_run_id, str) or not isinstance(state, str):
        raise ApiError("give {taskRunId, state}: a task run id and SUCCESS, WARNING or FAILED")
    defaults = ctx.config.pluginDefaults
    before = actions.request_mark(
        ctx.store, ctx.registry, defaults, execution_id, task_run_id, state
    )
    return _after(ctx, before)


# -- force-run and unqueue ----------------------------------------------------------------
def _waiting(e: Execution) -> str | None:
    if e.state in (State.CREATED, State.QUEUED):
        return None
    return f"{e.state.value}, not CREATED or QUEUED"


def _queued(e: Execution) -> str | None:
    return None if e.state is State.QUEUED else f"{e.state.value}, not QUEUED"


@router.post("/executions/{execution_id}/force-run")
@router.post("/executions/{execution_id}/actions/force-run")
def force_run(execution_id: str, ctx: Ctx) -> dict[str, Any]:
    """A CREATED or QUEUED execution starts now, past its flow's concurrency limit."""
    return _after(ctx, actions.request_force_run(ctx.store, execution_id))


@router.post("/executions/force-run/by-ids")
def force_run_by_ids(ids: Ids, ctx: Ctx) -> dict[str, int]:
    return _bulk(ctx, ids, _waiting, lambda i: actions.request_force_run(ctx.store, i))


@router.post("/executions/force-run/by-query")
def force_run_by_query(request: Request, ctx: Ctx) -> dict[str, int]:
    return _by_query(ctx, request, _waiting, lambda i: actions.request_force_run(ctx.store, i))


def _unqueue_state(state: str | None) -> str:
    return (state or "RUNNING").upper()


@router.post("/executions/{execution_id}/unqueue")
@router.post("/executions/{execution_id}/actions/unqueue")
def unqueue(execution_id: str, ctx: Ctx, state: str | None = None) -> dict[str, Any]:
    """A QUEUED execution leaves the queue: RUNNING (the default) starts it now, past
    the concurrency limit; CANCELLED, FAILED or KILLED ends it without running."""
    before = actions.request_force_run(ctx.store, execution_id, _unqueue_state(state))
    return _after(ctx, before)


def _unqueue_each(ctx: ApiContext, state: str) -> Callable[[str], object]:
    """The unqueue of one execution, its state checked before any is taken."""
    if state not in {s.value for s in UNQUEUE_STATES}:
        names = ", ".join(sorted(s.value for s in UNQUEUE_STATES))
        raise ApiError(f"state {state!r}: give one of {names}")
    return lambda i: actions.request_force_run(ctx.store, i, state)


@router.post("/executions/unqueue/by-ids")
def unqueue_by_ids(ids: Ids, ctx: Ctx, state: str | None = None) -> dict[str, int]:
    return _bulk(ctx, ids, _queued, _unqueue_each(ctx, _unqueue_state(state)))


@router.post("/executions/unqueue/by-query")
def unqueue_by_query(request: Request, ctx: Ctx, newState: str | None = None) -> dict[str, int]:
    """The state to leave the queue in is `newState`, as kestrapy sends it (a plain
    `state=` is a filter of the selection, as in every by-query action)."""
    each = _unqueue_each(ctx, _unqueue_state(newState))
    return _by_query(ctx, request, _queued, each)


# -- an execution's own state: not served -----------------------------------------------
_NO_CHANGE_STATUS = (
    "changing an execution's own state is not supported here: Lanner's executions end"
    " in the state their task runs give them; change a task run's state instead"
    " (POST .../executions/{id}/state with {taskRunId, state}), and the execution"
    " goes on from it"
)


@router.post("/executions/{execution_id}/change-status")
@router.post("/executions/{execution_id}/actions/change-status")
@router.post("/executions/change-status/by-ids")
@router.post("/executions/change-status/by-query")
def change_status() -> dict[str, Any]:
    """Refused with the reason (Kestra's change-status, by id, by ids, by query)."""
    raise ApiError(_NO_CHANGE_STATUS)
