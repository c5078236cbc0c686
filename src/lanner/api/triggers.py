"""The stored triggers (docs/triggers.md) as both client generations call them:
search, enable/disable, unlock, backfill, restart and delete, over the same
functions as `lanner triggers ...`.

A search result carries both generations' shapes: kestrapy 1.x reads
`abstractTrigger` and `triggerContext` (Kestra 1.3's Trigger), 2.x reads
`trigger` and `state` (Kestra 2.0's ApiTriggerState). Backfill is 1.x's
`PUT /triggers` with a `backfill` and 2.x's `PUT /triggers/backfill/create`;
it creates the executions of every date at once, as `lanner triggers
backfill` does."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.filters import Filter, parse, text_test
from lanner.api.schemas import flow_document, paged
from lanner.errors import NotFoundError
from lanner.store.base import TriggerContext

router = APIRouter(tags=["Triggers"])
Ctx = Annotated[ApiContext, Depends(context)]
Key = tuple[str, str, str]


def _iso(value: datetime | None) -> str | None:
    from lanner.engine.variables import iso

    return None if value is None else iso(value)


def _declared(ctx: ApiContext, c: TriggerContext) -> dict[str, Any]:
    """The trigger as the flow declares it (Kestra's AbstractTrigger)."""
    record = ctx.store.get_flow(c.namespace, c.flow_id, None)
    for trigger in flow_document(record.source).get("triggers") or () if record else ():
        if isinstance(trigger, dict) and trigger.get("id") == c.trigger_id:
            return trigger
    return {"id": c.trigger_id, "type": c.type}


def context_answer(c: TriggerContext) -> dict[str, Any]:
    """Kestra 1.3's Trigger and Kestra 2.0's ApiTriggerState fields, in one object."""
    updated = _iso(c.updated_at)
    return {
        "tenantId": "main",
        "namespace": c.namespace,
        "flowId": c.flow_id,
        "triggerId": c.trigger_id,
        "type": c.type,
        "disabled": c.disabled,
        "executionId": c.execution_id,
        "workerId": c.locked_by,
        "locked": c.locked_by is not None,
        "stopAfter": None,
        "backfill": None,
        # 1.x: `date` is required; the last date fired, else the last change.
        "date": _iso(c.last_date) or updated or _iso(c.next_date),
        "nextExecutionDate": _iso(c.next_date),
        "updatedDate": updated,
        "evaluateRunningDate": _iso(c.locked_until),
        # 2.x
        "updatedAt": updated or _iso(c.last_date) or _iso(c.next_date),
        "evaluatedAt": _iso(c.last_date),
        "nextEvaluationDate": _iso(c.next_date),
        "lastTriggeredDate": _iso(c.last_date),
    }


def _result(ctx: ApiContext, c: TriggerContext) -> dict[str, Any]:
    declared = _declared(ctx, c)
    state = context_answer(c)
    return {
        "abstractTrigger": declared,
        "triggerContext": state,
        "trigger": declared,
        "state": state,
    }


Test = Callable[[TriggerContext], bool]


def _test(f: Filter) -> Test:
    fields: dict[str, Callable[[TriggerContext], str]] = {
        "namespace": lambda c: c.namespace,
        "flowId": lambda c: c.flow_id,
        "triggerId": lambda c: c.trigger_id,
    }
    if f.field == "q":
        needle = f.value.lower()
        return lambda c: any(needle in get(c).lower() for get in fields.values())
    if f.field not in fields:
        raise ApiError(
            f"filters[{f.field}]: triggers are filtered by namespace, flowId, triggerId or q"
        )
    test = text_test(f.field, f.operation, f.value)
    get = fields[f.field]
    return lambda c: test(get(c))


def _matching(ctx: ApiContext, filters: list[Filter]) -> list[TriggerContext]:
    tests = [_test(f) for f in filters]
    return [c for c in ctx.store.list_trigger_contexts() if all(t(c) for t in tests)]


@router.get("/triggers/search")
def search_triggers(
    request: Request, ctx: Ctx, page: int = 1, size: int = 10, namespace: str | None = None
) -> dict[str, Any]:
    if page < 1 or size < 1:
        raise ApiError("page and size start at 1")
    filters = parse(request.query_params.multi_items())
    if namespace:
        filters.append(Filter("namespace", "PREFIX", namespace))
    rows = _matching(ctx, filters)
    chosen = rows[(page - 1) * size : page * size]
    return paged([_result(ctx, c) for c in chosen], len(rows))


def _get(ctx: ApiContext, key: Key) -> TriggerContext:
    c = ctx.store.get_trigger_context(*key)
    if c is None:
        raise NotFoundError(
            f"trigger {'.'.join(key)} not found: is the flow deployed and a server started?"
        )
    return c


def _key(item: Any) -> Key:
    if not isinstance(item, dict) or not all(
        isinstance(item.get(k), str) for k in ("namespace", "flowId", "triggerId")
    ):
        raise ApiError("name each trigger as {namespace, flowId, triggerId}")
    return (item["namespace"], item["flowId"], item["triggerId"])


def _set_disabled(ctx: ApiContext, key: Key, disabled: bool) -> TriggerContext:
    from lanner.runtime.triggers import set_trigger_disabled

    return set_trigger_disabled(ctx.store, key, disabled, datetime.now(UTC))


@router.post("/triggers/set-disabled/by-triggers")
def disable_triggers_by_ids(ctx: Ctx, request: Annotated[dict[str, Any], Body()]) -> dict[str, int]:
    keys = [_key(t) for t in request.get("triggers") or ()]
    disabled = request.get("disabled")
    if not keys or not isinstance(disabled, bool):
        raise ApiError('the body is {"triggers": [{namespace, flowId, triggerId}], "disabled": B}')
    for key in keys:
        _set_disabled(ctx, key, disabled)
    return {"count": len(keys)}


@router.post("/triggers/set-disabled/by-query")
def disable_triggers_by_query(request: Request, ctx: Ctx, disabled: bool) -> dict[str, int]:
    found = _matching(ctx, parse(request.query_params.multi_items()))
    for c in found:
        _set_disabled(ctx, c.key, disabled)
    return {"count": len(found)}


@router.put("/triggers/set-disabled")
def disable_trigger(ctx: Ctx, request: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    disabled = request.get("disabled")
    if not isinstance(disabled, bool):
        raise ApiError('the body is {namespace, flowId, triggerId, "disabled": true|false}')
    return context_answer(_set_disabled(ctx, _key(request), disabled))


@router.post("/triggers/{namespace}/{flow_id}/{trigger_id}/unlock")
def unlock_trigger(namespace: str, flow_id: str, trigger_id: str, ctx: Ctx) -> dict[str, Any]:
    key = (namespace, flow_id, trigger_id)
    _get(ctx, key)
    ctx.store.unlock_trigger(*key)
    return context_answer(_get(ctx, key))


@router.post("/triggers/unlock/by-triggers")
def unlock_triggers_by_ids(
    ctx: Ctx, request: Annotated[list[dict[str, Any]], Body()]
) -> dict[str, int]:
    keys = [_key(t) for t in request]
    return {"count": sum(ctx.store.unlock_trigger(*key) for key in keys)}


@router.post("/triggers/unlock/by-query")
def unlock_triggers_by_query(request: Request, ctx: Ctx) -> dict[str, int]:
    found = _matching(ctx, parse(request.query_params.multi_items()))
    return {"count": sum(ctx.store.unlock_trigger(*c.key) for c in found)}


@router.post("/triggers/{namespace}/{flow_id}/{trigger_id}/restart")
def restart_trigger(namespace: str, flow_id: str, trigger_id: str, ctx: Ctx) -> dict[str, Any]:
    """Forget the trigger's state: the runtime starts it again from now (its next tick)."""
    key = (namespace, flow_id, trigger_id)
    answer = context_answer(_get(ctx, key))
    ctx.store.delete_trigger_context(*key)
    return answer


@router.delete("/triggers/{namespace}/{flow_id}/{trigger_id}", status_code=204)
def delete_trigger(namespace: str, flow_id: str, trigger_id: str, ctx: Ctx) -> Response:
    """As restart: the state goes, and the runtime starts the trigger again from now."""
    if not ctx.store.delete_trigger_context(namespace, flow_id, trigger_id):
        raise NotFoundError(f"trigger {namespace}.{flow_id}.{trigger_id} not found")
    return Response(status_code=204)


@router.get("/triggers/{namespace}/{flow_id}")
def search_triggers_for_flow(
    namespace: str, flow_id: str, ctx: Ctx, page: int = 1, size: int = 10, q: str | None = None
) -> dict[str, Any]:
    rows = [
        c
        for c in ctx.store.list_trigger_contexts(namespace)
        if c.flow_id == flow_id and (not q or q.lower() in c.trigger_id.lower())
    ]
    chosen = rows[(max(page, 1) - 1) * size : max(page, 1) * size]
    return paged([context_answer(c) for c in chosen], len(rows))


def _when(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(f"backfill.{what}: {value!r} is not an ISO 8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _backfill(ctx: ApiContext, key: Key, backfill: Any) -> dict[str, Any]:
    from lanner.model.triggers import Schedule
    from lanner.model.validate import load_flow
    from lanner.runtime.schedule import backfill_executions

    if not isinstance(backfill, dict):
        raise ApiError("backfill: give {start, end, inputs}")
    if backfill.get("labels"):
        raise ApiError("backfill.labels: not supported here (the trigger's labels apply)")
    now = datetime.now(UTC)
    start = _when(backfill.get("start"), "start")
    if start is None:
        raise ApiError("backfill.start: required (the first date, ISO 8601)")
    end = _when(backfill.get("end"), "end") or now
    if end > now:
        raise ApiError("backfill.end is in the future: the schedule itself fires those dates")
    if end < start:
        raise ApiError("backfill.end is before backfill.start (end defaults to now)")
    inputs = backfill.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise ApiError("backfill.inputs: give a map of input id to value")
    namespace, flow_id, trigger_id = key
    record = ctx.store.get_flow(namespace, flow_id, None)
    if record is None:
        raise NotFoundError(f"flow {namespace}.{flow_id} not found")
    flow = load_flow(record.source, ctx.registry, defaults=ctx.config.pluginDefaults)
    trigger = next((t for t in flow.triggers or () if t.id == trigger_id), None)
    if trigger is None:
        raise NotFoundError(f"flow {namespace}.{flow_id} has no trigger {trigger_id}")
    if not isinstance(trigger, Schedule):
        raise ApiError(f"trigger {trigger_id} is not a Schedule: only a Schedule has dates")
    created, warnings = backfill_executions(
        flow, record.revision, trigger, start, end, now, inputs=inputs, backfill_id=uuid.uuid4().hex
    )
    for new in created:
        ctx.store.create_execution(new.execution, new.events)
    answer = context_answer(_get(ctx, key))
    answer["backfill"] = {
        "start": _iso(start),
        "end": _iso(end),
        "currentDate": _iso(end),
        "paused": False,
        "inputs": inputs or None,
        "labels": None,
    }
    answer["backfillExecutions"] = [new.execution.id for new in created]
    # The dates whose execution could not be made (bad inputs, say), as the CLI prints them.
    answer["backfillWarnings"] = warnings
    return answer


@router.put("/triggers/backfill/create")
async def create_backfill(ctx: Ctx, request: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    return await run_in_threadpool(_backfill, ctx, _key(request), request.get("backfill"))


@router.put("/triggers")
async def update_trigger(ctx: Ctx, request: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """kestrapy 1.x: a Trigger whose `disabled` is applied, and whose `backfill`, when
    given, is run."""
    key = _key(request)

    def update() -> dict[str, Any]:
        current = _get(ctx, key)
        disabled = request.get("disabled")
        if isinstance(disabled, bool) and disabled != current.disabled:
            _set_disabled(ctx, key, disabled)
        if request.get("backfill") is not None:
            return _backfill(ctx, key, request["backfill"])
        return context_answer(_get(ctx, key))

    return await run_in_threadpool(update)
