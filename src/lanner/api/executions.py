"""Executions: create (multipart inputs, `wait`, labels), get, search, and
the actions kill, resume, restart. Every action answers with the execution
as JSON, since kestrapy parses it.

Paths of both client generations are served: kestrapy 1.x (Kestra 1.3)
calls `DELETE .../executions/{id}/kill` and `POST .../{id}/resume`, kestrapy
2.x calls `.../{id}/actions/kill` and `.../{id}/actions/resume`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.filters import Filter, execution_conditions, parse, sort_keys
from lanner.api.schemas import execution_answer, paged
from lanner.engine.variables import iso
from lanner.errors import NotFoundError
from lanner.runtime import actions
from lanner.store.search import ExecutionSearch

router = APIRouter(tags=["Executions"])
Ctx = Annotated[ApiContext, Depends(context)]


async def _form_inputs(request: Request) -> dict[str, str]:
    """Text inputs from a multipart (or urlencoded) body (resume: a Pause's onResume
    inputs, which Lanner does not take as files)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return {}
    inputs: dict[str, str] = {}
    uploads: list[str] = []
    # The context closes uploaded files, however the request ends.
    async with request.form() as form:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                uploads.append(key)
            else:
                inputs[key] = value
    if uploads:
        raise ApiError(
            f"input {', '.join(uploads)}: files are not supported here when resuming;"
            " send text inputs only"
        )
    return inputs


def _labels(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or ():
        key, sep, value = item.partition(":")
        if not sep or not key or not value:
            raise ApiError(f"label {item!r}: write labels as key:value")
        out[key] = value
    return out


async def create_execution(
    namespace: str,
    flow_id: str,
    request: Request,
    ctx: Ctx,
    wait: bool = False,
    revision: int | None = None,
    labels: Annotated[list[str] | None, Query()] = None,
    scheduleDate: str | None = None,
    breakpoints: str | None = None,
) -> dict[str, Any]:
    start_at = _schedule_date(scheduleDate) if scheduleDate else None
    if breakpoints:
        raise ApiError("breakpoints are not supported here")
    given_labels = _labels(labels)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await run_in_threadpool(
            _start, ctx, namespace, flow_id, revision, {}, {}, given_labels, wait, start_at
        )
    inputs: dict[str, str] = {}
    uploads: dict[str, UploadFile] = {}
    # The form stays open while the execution is created: its uploaded files are
    # copied into internal storage from their spooled temporary files.
    async with request.form() as form:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                uploads[key] = value
            else:
                inputs[key] = value
        return await run_in_threadpool(
            _start, ctx, namespace, flow_id, revision, inputs, uploads, given_labels, wait, start_at
        )


def _start(
    ctx: ApiContext,
    namespace: str,
    flow_id: str,
    revision: int | None,
    inputs: dict[str, str],
    uploads: dict[str, UploadFile],
    labels: dict[str, str],
    wait: bool,
    start_at: datetime | None = None,
) -> dict[str, Any]:
    """Create the execution; FILE inputs are stored at their URI under its id first (and
    removed again when the execution is refused)."""
    from lanner.engine.execution import new_execution_id
    from lanner.storage.inputfiles import InputFiles
    from lanner.storage.uris import execution_prefix, input_file_uri, storage_path

    flow, rev = actions.deployed_flow(
        ctx.store, ctx.registry, ctx.config.pluginDefaults, namespace, flow_id, revision
    )
    execution_id = new_execution_id()
    given = dict(inputs)
    try:
        for input_id, upload in uploads.items():
            uri = input_file_uri(
                flow.namespace, flow.id, execution_id, input_id, upload.filename or input_id
            )
            upload.file.seek(0)
            ctx.storage.put(storage_path(uri), upload.file)
            given[input_id] = uri
        files = InputFiles(ctx.storage, flow.namespace, flow.id, execution_id)
        execution = actions.start_execution(
            ctx.store,
            flow,
            rev,
            given,
            labels=labels,
            execution_id=execution_id,
            files=files,
            start_at=start_at,
        )
    except BaseException:
        if uploads:
            ctx.storage.delete_prefix(execution_prefix(flow.namespace, flow.id, execution_id))
        raise
    if wait:
        execution = actions.wait_finalized(
            ctx.store, execution.id, None, ctx.stopping, ctx.finalized
        )
    answer = execution_answer(execution)
    answer["url"] = None
    if start_at is not None:
        answer["scheduleDate"] = iso(start_at)
    return answer


def _schedule_date(value: str) -> datetime:
    """Kestra's scheduleDate: an ISO 8601 date-time (a zone, else UTC)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(f"scheduleDate {value!r}: not an ISO 8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# Kestra's sort fields, and the store's.
SORTS = {
    "state.startDate": "start_date",
    "startDate": "start_date",
    "state.endDate": "end_date",
    "endDate": "end_date",
    "state.current": "state",
    "id": "id",
    "namespace": "namespace",
    "flowId": "flow_id",
}


def _search(
    ctx: ApiContext,
    filters: list[Filter],
    page: int,
    size: int,
    sort: list[str] | None = None,
) -> dict[str, Any]:
    """Filtered, sorted and paged by the store (in SQL), with the page's task runs."""
    keys = tuple((SORTS[field], desc) for field, desc in sort_keys(sort, SORTS))
    conditions = tuple(execution_conditions(filters, datetime.now(UTC)))
    offset = (page - 1) * size
    search = ExecutionSearch(conditions, keys, offset=offset, limit=size, task_runs=True)
    found = ctx.store.search_executions(search)
    return paged([execution_answer(e) for e in found.executions], found.total)


Page = Annotated[int, Query(ge=1)]
Size = Annotated[int, Query(ge=1, le=1000)]


@router.get("/executions/search")
def search_executions(
    request: Request,
    ctx: Ctx,
    page: Page = 1,
    size: Size = 10,
    namespace: str | None = None,
    flowId: str | None = None,
    state: str | None = None,
    sort: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """Most recent first unless `sort` says otherwise."""
    filters = parse(request.query_params.multi_items())
    # The older plain parameters: a namespace prefix, a flow id, states.
    if namespace:
        filters.append(Filter("namespace", "PREFIX", namespace))
    if flowId:
        filters.append(Filter("flowId", "EQUALS", flowId))
    if state:
        filters.append(Filter("state", "IN", state))
    return _search(ctx, filters, page, size, sort)


@router.get("/executions")
def search_executions_by_flow(
    ctx: Ctx, namespace: str, flowId: str, page: Page = 1, size: Size = 10
) -> dict[str, Any]:
    filters = [Filter("namespace", "EQUALS", namespace), Filter("flowId", "EQUALS", flowId)]
    return _search(ctx, filters, page, size)


@router.get("/executions/{execution_id}", response_model=dict[str, Any])
def get_execution(execution_id: str, ctx: Ctx) -> Response:
    # Encoded at once, not walked again by FastAPI's encoder: a wide execution's
    # answer is most of its page's wait (docs/ui.md, Performance).
    answer = execution_answer(actions.get_execution(ctx.store, execution_id))
    body = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode(), media_type="application/json")


@router.delete("/executions/{execution_id}", status_code=204)
def delete_execution(
    execution_id: str,
    ctx: Ctx,
    deleteLogs: bool = True,
    deleteMetrics: bool = True,
    deleteStorage: bool = True,
) -> Response:
    """A finished execution, with its logs, and its files unless deleteStorage=false."""
    from lanner.storage.uris import execution_prefix

    if not deleteLogs:
        raise ApiError("deleteLogs=false is not supported here: an execution's logs go with it")
    execution = actions.get_execution(ctx.store, execution_id)
    if execution.finalized_at is None:
        raise actions.ExecutionStateError(
            f"execution {execution_id} is {execution.state.value}: only a finished execution"
            " can be deleted (kill it first)"
        )
    if not ctx.store.delete_execution(execution_id):
        raise NotFoundError(f"execution {execution_id} not found")
    if deleteStorage:
        prefix = execution_prefix(execution.namespace, execution.flow_id, execution.id)
        ctx.storage.delete_prefix(prefix)
    return Response(status_code=204)


def _current(ctx: ApiContext, execution_id: str) -> dict[str, Any]:
    return execution_answer(actions.get_execution(ctx.store, execution_id))


@router.delete("/executions/{execution_id}/kill")
@router.delete("/executions/{execution_id}/actions/kill")
def kill_execution(execution_id: str, ctx: Ctx, isOnKillCascade: bool = True) -> dict[str, Any]:
    if not isOnKillCascade:
        raise ApiError(
            "isOnKillCascade=false is not supported here: a kill always reaches the"
            " execution's running subflow executions"
        )
    actions.request_kill(ctx.store, execution_id)
    return _current(ctx, execution_id)


@router.post("/executions/{execution_id}/resume")
@router.post("/executions/{execution_id}/actions/resume")
async def resume_execution(execution_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    given = await _form_inputs(request)

    def resume() -> dict[str, Any]:
        defaults = ctx.config.pluginDefaults
        actions.request_resume(ctx.store, ctx.registry, defaults, execution_id, given)
        return _current(ctx, execution_id)

    return await run_in_threadpool(resume)


@router.post("/executions/{execution_id}/restart")
@router.post("/executions/{execution_id}/actions/restart")
def restart_execution(execution_id: str, ctx: Ctx, revision: int | None = None) -> dict[str, Any]:
    if revision is not None:
        raise ApiError("restart with another revision is not supported here")
    actions.request_restart(ctx.store, execution_id)
    return _current(ctx, execution_id)


# Last: `POST /executions/{namespace}/{flowId}` would also match the action paths
# (`/executions/{id}/resume`); as in Kestra, literal segments win.
router.post("/executions/{namespace}/{flow_id}")(create_execution)
