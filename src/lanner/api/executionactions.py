"""Execution actions beyond kill/resume/restart: replay (from the start or from a task
run), pause, labels, and the bulk actions by ids and by query (kill, delete,
restart, resume, replay, pause, labels).

A bulk action by ids checks every id first and does nothing when one cannot take
the action: the 422 names each such id and why (Kestra answers 400 with the list);
otherwise it acts on all and answers Kestra's BulkResponse, `{"count": N}`.
A bulk action by query selects the executions the search would list (the same
filters, in SQL) and acts on those the action applies to, skipping the others:
`count` is how many it acted on (docs/api.md says why).
Registered before `executions`: its literal paths (`/executions/kill/by-ids`)
would otherwise be read as `/executions/{namespace}/{flowId}` or
`/executions/{executionId}`."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.filters import execution_conditions, query_filters
from lanner.api.schemas import execution_answer
from lanner.engine.execution import Execution
from lanner.errors import InputError, NotFoundError
from lanner.model.states import State
from lanner.runtime import actions
from lanner.store.search import ExecutionSearch

router = APIRouter(tags=["Executions"])
Ctx = Annotated[ApiContext, Depends(context)]
Ids = Annotated[list[str], Body()]


def _replay(
    ctx: ApiContext,
    execution_id: str,
    revision: int | None = None,
    latest: bool = False,
    task_run_id: str | None = None,
) -> Execution:
    from lanner.engine.execution import new_execution_id
    from lanner.storage.inputfiles import InputFiles

    defaults = ctx.config.pluginDefaults
    original = actions.get_execution(ctx.store, execution_id)
    # FILE inputs keep their URIs: the files callback checks they are still there.
    new_id = new_execution_id()
    files = InputFiles(ctx.storage, original.namespace, original.flow_id, new_id)
    return actions.replay_execution(
        ctx.store,
        ctx.registry,
        defaults,
        execution_id,
        revision,
        latest,
        task_run_id,
        files=files,
        new_id=new_id,
    )


@router.post("/executions/{execution_id}/replay")
@router.post("/executions/{execution_id}/actions/replay")
def replay_execution(
    execution_id: str,
    ctx: Ctx,
    taskRunId: str | None = None,
    revision: int | None = None,
    breakpoints: str | None = None,
) -> dict[str, Any]:
    """A new execution with the original's inputs and labels (Kestra's replay); from
    `taskRunId`, the task runs before it are copied as they ended."""
    if breakpoints:
        raise ApiError("breakpoints are not supported here")
    return execution_answer(_replay(ctx, execution_id, revision, task_run_id=taskRunId))


@router.post("/executions/{execution_id}/pause")
@router.post("/executions/{execution_id}/actions/pause")
def pause_execution(execution_id: str, ctx: Ctx) -> dict[str, Any]:
    """A RUNNING execution becomes PAUSED once the executor applies the pause; no task
    run starts until it is resumed. The answer waits a little for it (kestrapy 2.x
    reads the execution it returns), else is the execution as it stands."""
    actions.request_pause(ctx.store, execution_id)
    deadline = time.monotonic() + _PAUSE_WAIT
    while True:
        execution = actions.get_execution(ctx.store, execution_id)
        if execution.state not in (State.RUNNING, State.RETRYING) or time.monotonic() > deadline:
            return execution_answer(execution)
        time.sleep(0.02)


_PAUSE_WAIT = 1.0  # seconds the pause answer waits for the executor


def _bulk(
    ctx: ApiContext,
    ids: list[str],
    allowed: Callable[[Execution], str | None],
    act: Callable[[str], object],
) -> dict[str, int]:
    """Check every id (`allowed` says why an execution cannot take the action, or
    None), then act on each."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise ApiError("give the ids of the executions as a JSON list")
    problems = []
    for execution_id in unique:
        found = ctx.store.get_execution(execution_id)
        why = "not found" if found is None else allowed(found)
        if why:
            problems.append(f"{execution_id}: {why}")
    if problems:
        raise ApiError("nothing was done: " + "; ".join(problems))
    for execution_id in unique:
        act(execution_id)
    return {"count": len(unique)}


def _running(e: Execution) -> str | None:
    return f"already ended {e.state.value}" if e.terminal_at is not None else None


def _finished(e: Execution) -> str | None:
    return None if e.finalized_at is not None else f"{e.state.value}, not finished"


def _restartable(e: Execution) -> str | None:
    if e.state in (State.FAILED, State.KILLED) and e.finalized_at is not None:
        return None
    return f"{e.state.value}: only a finished FAILED or KILLED execution can be restarted"


def _paused(e: Execution) -> str | None:
    return None if e.state is State.PAUSED else f"{e.state.value}, not PAUSED"


def _pausable(e: Execution) -> str | None:
    if e.state in (State.RUNNING, State.RETRYING) and e.terminal_at is None:
        return None
    return f"{e.state.value}, not RUNNING"


@router.delete("/executions/kill/by-ids")
def kill_by_ids(ids: Ids, ctx: Ctx) -> dict[str, int]:
    return _bulk(ctx, ids, _running, lambda i: actions.request_kill(ctx.store, i))


@router.post("/executions/restart/by-ids")
def restart_by_ids(ids: Ids, ctx: Ctx) -> dict[str, int]:
    return _bulk(ctx, ids, _restartable, lambda i: actions.request_restart(ctx.store, i))


@router.post("/executions/resume/by-ids")
def resume_by_ids(ids: Ids, ctx: Ctx) -> dict[str, int]:
    """Without inputs: a Pause task with onResume inputs takes their defaults."""
    defaults = ctx.config.pluginDefaults

    def resume(execution_id: str) -> None:
        actions.request_resume(ctx.store, ctx.registry, defaults, execution_id, {})

    return _bulk(ctx, ids, _paused, resume)


@router.post("/executions/pause/by-ids")
def pause_by_ids(ids: Ids, ctx: Ctx) -> dict[str, int]:
    return _bulk(ctx, ids, _pausable, lambda i: actions.request_pause(ctx.store, i))


@router.post("/executions/replay/by-ids")
def replay_by_ids(ids: Ids, ctx: Ctx, latestRevision: bool = False) -> dict[str, int]:
    return _bulk(ctx, ids, _finished, lambda i: _replay(ctx, i, latest=latestRevision))


@router.delete("/executions/by-ids")
def delete_by_ids(
    ids: Ids,
    ctx: Ctx,
    includeNonTerminated: bool = False,
    deleteLogs: bool = True,
    deleteMetrics: bool = True,
    deleteStorage: bool = True,
) -> dict[str, int]:
    """Finished executions, with their logs, and their files unless deleteStorage=false."""
    _check_delete(includeNonTerminated, deleteLogs)
    return _bulk(ctx, ids, _finished, lambda i: _delete(ctx, i, deleteStorage))


def _check_delete(include_non_terminated: bool, delete_logs: bool) -> None:
    if include_non_terminated:
        raise ApiError("includeNonTerminated=true is not supported here: kill the executions first")
    if not delete_logs:
        raise ApiError("deleteLogs=false is not supported here: an execution's logs go with it")


def _delete(ctx: ApiContext, execution_id: str, delete_storage: bool) -> None:
    from lanner.storage.uris import execution_prefix

    execution = actions.get_execution(ctx.store, execution_id)
    if ctx.store.delete_execution(execution_id) and delete_storage:
        prefix = execution_prefix(execution.namespace, execution.flow_id, execution.id)
        ctx.storage.delete_prefix(prefix)


# -- by query ---------------------------------------------------------------------------
_PAGE = 1000  # executions read per query while selecting


def _selected(ctx: ApiContext, request: Request) -> list[Execution]:
    """Every execution the request's filters select (without task runs), oldest id
    first; read whole before any is acted on, so that an action (a delete, a replay
    that creates executions) never moves the pages being read."""
    filters = query_filters(request.query_params.multi_items())
    if not filters:
        raise ApiError(
            "give at least one filter (filters[field][OPERATION]=value, or namespace=,"
            " flowId=, state=...): a by-query action without one would take every execution"
        )
    conditions = tuple(execution_conditions(filters, datetime.now(UTC)))
    out: list[Execution] = []
    while True:
        search = ExecutionSearch(
            conditions, (("id", False),), offset=len(out), limit=_PAGE, count=False
        )
        page = ctx.store.search_executions(search).executions
        out.extend(page)
        if len(page) < _PAGE:
            return out


def _by_query(
    ctx: ApiContext,
    request: Request,
    allowed: Callable[[Execution], str | None],
    act: Callable[[str], object],
) -> dict[str, int]:
    """Act on each selected execution the action applies to; the others are skipped."""
    count = 0
    for execution in _selected(ctx, request):
        if allowed(execution) is None:
            try:
                act(execution.id)
            except (InputError, NotFoundError):
                # Changed or deleted since it was read (or its flow), or refused (a resume
                # whose Pause requires onResume inputs): skipped as well.
                continue
            count += 1
    return {"count": count}


@router.delete("/executions/kill/by-query")
def kill_by_query(request: Request, ctx: Ctx) -> dict[str, int]:
    return _by_query(ctx, request, _running, lambda i: actions.request_kill(ctx.store, i))


@router.post("/executions/restart/by-query")
def restart_by_query(request: Request, ctx: Ctx) -> dict[str, int]:
    return _by_query(ctx, request, _restartable, lambda i: actions.request_restart(ctx.store, i))


@router.post("/executions/resume/by-query")
def resume_by_query(request: Request, ctx: Ctx) -> dict[str, int]:
    defaults = ctx.config.pluginDefaults

    def resume(execution_id: str) -> None:
        actions.request_resume(ctx.store, ctx.registry, defaults, execution_id, {})

    return _by_query(ctx, request, _paused, resume)


@router.post("/executions/pause/by-query")
def pause_by_query(request: Request, ctx: Ctx) -> dict[str, int]:
    return _by_query(ctx, request, _pausable, lambda i: actions.request_pause(ctx.store, i))


@router.post("/executions/replay/by-query")
def replay_by_query(request: Request, ctx: Ctx, latestRevision: bool = False) -> dict[str, int]:
    return _by_query(ctx, request, _finished, lambda i: _replay(ctx, i, latest=latestRevision))


@router.delete("/executions/by-query")
def delete_by_query(
    request: Request,
    ctx: Ctx,
    includeNonTerminated: bool = False,
    deleteLogs: bool = True,
    deleteMetrics: bool = True,
    deleteStorage: bool = True,
) -> dict[str, int]:
    _check_delete(includeNonTerminated, deleteLogs)
    return _by_query(ctx, request, _finished, lambda i: _delete(ctx, i, deleteStorage))


# -- labels -------------------------------------------------------------------------------
LabelList = Annotated[list[dict[str, Any]], Body()]


def _labels(items: list[dict[str, Any]]) -> dict[str, str]:
    """Kestra's list of `{key, value}` as a map (each key and value checked)."""
    out: dict[str, str] = {}
    for item in items:
        key, value = item.get("key"), item.get("value")
        if not isinstance(key, str) or not key or not isinstance(value, str) or not value:
            raise ApiError(f"label {item!r}: give each label as {{key, value}}, both text")
        out[key] = value
    if not out:
        raise ApiError("give the labels as a JSON list of {key, value}")
    return out


def _labeled(e: Execution) -> str | None:
    return None if e.finalized_at is not None else f"{e.state.value}, not finished"


@router.post("/executions/{execution_id}/labels")
@router.post("/executions/{execution_id}/actions/labels")
def set_labels(execution_id: str, body: LabelList, ctx: Ctx) -> dict[str, Any]:
    """Add or update labels of a finished execution; its other labels are kept."""
    return execution_answer(actions.request_labels(ctx.store, execution_id, _labels(body)))


@router.post("/executions/labels/by-ids")
def set_labels_by_ids(body: Annotated[dict[str, Any], Body()], ctx: Ctx) -> dict[str, int]:
    """Kestra's `{executionsId: [...], executionLabels: [{key, value}]}`."""
    ids, items = body.get("executionsId"), body.get("executionLabels")
    if not isinstance(ids, list) or not isinstance(items, list):
        raise ApiError("give {executionsId: [ids], executionLabels: [{key, value}]}")
    labels = _labels(items)
    return _bulk(
        ctx, [str(i) for i in ids], _labeled, lambda i: actions.request_labels(ctx.store, i, labels)
    )


@router.post("/executions/labels/by-query")
def set_labels_by_query(request: Request, body: LabelList, ctx: Ctx) -> dict[str, int]:
    labels = _labels(body)
    return _by_query(ctx, request, _labeled, lambda i: actions.request_labels(ctx.store, i, labels))
