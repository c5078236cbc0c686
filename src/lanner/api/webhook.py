"""The Webhook trigger's endpoint: `/executions/webhook/{namespace}/{flowId}/{key}`
(GET, POST, PUT; also with a trailing path segment, as kestrapy 2.x sends).

As Kestra's: the flow's first enabled Webhook trigger whose `key` (rendered:
it may be a `secret()`) equals the one called starts an execution with the
request in `trigger.body` (parsed when it is JSON), `trigger.headers` and
`trigger.parameters` (each a map of lists of values). 404 for an unknown flow
or key, 204 when the trigger's conditions do not hold, 422 for bad inputs.
With `wait: true` it answers once the execution ended; with `returnOutputs`
the answer is the flow's outputs. The endpoint stays open under basicAuth:
the key is its secret."""

from __future__ import annotations

import hmac
import json
import os
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.schemas import execution_answer
from lanner.errors import InputError, LannerError, NotFoundError

router = APIRouter(tags=["Executions"])
Ctx = Annotated[ApiContext, Depends(context)]

WEBHOOK_TYPE = "io.kestra.plugin.core.trigger.Webhook"


def _body(raw: bytes) -> Any:
    """Kestra's `trigger.body`: a JSON map or list when the body is one, else its text."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return parsed if isinstance(parsed, dict | list) else text


def _multi(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in items:
        out.setdefault(key, []).append(value)
    return out


def _holds(condition: Any, render: Any, now: datetime) -> bool:
    from lanner.engine.flowtime import date_condition_holds

    try:
        return date_condition_holds(condition, render, now)
    except TypeError:
        raise ApiError(
            f"condition {getattr(condition, 'type', condition)}: not supported here on a"
            " Webhook trigger (use an Expression or a time condition)"
        ) from None


def _trigger_answer(execution: dict[str, Any]) -> dict[str, Any] | None:
    """Kestra's ExecutionTrigger: `id`, `type` and the rest under `variables`."""
    trigger = execution.get("trigger")
    if not isinstance(trigger, dict):
        return None
    variables = {k: v for k, v in trigger.items() if k not in ("id", "type")}
    return {"id": trigger.get("id"), "type": trigger.get("type"), "variables": variables}


def webhook_answer(execution: dict[str, Any]) -> dict[str, Any]:
    """Kestra's WebhookResponse from an execution's JSON (already masked)."""
    return {
        "tenantId": None,
        "id": execution["id"],
        "namespace": execution["namespace"],
        "flowId": execution["flowId"],
        "flowRevision": execution.get("flowRevision"),
        "trigger": _trigger_answer(execution),
        "outputs": execution.get("outputs"),
        "labels": execution.get("labels"),
        "state": execution.get("state"),
        "url": None,
    }


async def webhook(
    namespace: str,
    flow_id: str,
    key: str,
    request: Request,
    ctx: Ctx,
    path: str | None = None,
) -> Response:
    raw = await request.body()
    variables = {
        "body": _body(raw),
        "headers": _multi(list(request.headers.items())),
        "parameters": _multi(request.query_params.multi_items()),
    }
    return await run_in_threadpool(_fire, ctx, namespace, flow_id, key, variables)


def _fire(
    ctx: ApiContext, namespace: str, flow_id: str, key: str, variables: dict[str, Any]
) -> Response:
    import zlib

    from lanner.engine.execution import Execution, History, new_execution_id
    from lanner.engine.inputrender import input_renderer
    from lanner.expr import ExpressionEngine, Scope, env_secrets
    from lanner.model.inputs import parse_inputs, secret_input_ids
    from lanner.model.states import State
    from lanner.model.triggers import Webhook
    from lanner.model.validate import load_flow
    from lanner.runtime import actions
    from lanner.runtime.newexecution import DisabledFlowError, start_event
    from lanner.runtime.schedule import CORRELATION_ID

    record = ctx.store.get_flow(namespace, flow_id, None)
    if record is None or "Webhook" not in record.source:
        # Kestra answers the same 404 for an unknown flow and a flow without this key.
        raise NotFoundError(f"webhook not found: no flow {namespace}.{flow_id} with this key")
    flow = load_flow(record.source, ctx.registry, defaults=ctx.config.pluginDefaults)
    now = datetime.now(UTC)
    execution_id = new_execution_id()
    engine = ExpressionEngine()
    flow_vars = {"id": flow.id, "namespace": flow.namespace, "revision": record.revision}
    # The process's secrets, as the executor reads them (docs/secrets.md).
    secrets = env_secrets(dict(os.environ))
    key_scope = Scope(variables={"flow": flow_vars}, now=now, secrets=secrets)
    trigger = next(
        (
            t
            for t in flow.triggers or ()
            if isinstance(t, Webhook)
            and not t.disabled
            and hmac.compare_digest(
                str(engine.render(t.key, key_scope) if "{{" in t.key else t.key).encode(),
                key.encode(),
            )
        ),
        None,
    )
    if trigger is None:
        raise NotFoundError(f"webhook not found: no flow {namespace}.{flow_id} with this key")
    if flow.disabled:
        raise DisabledFlowError(f"Cannot execute a disabled flow: {flow.namespace}.{flow.id}")
    scope = Scope(
        variables={
            "flow": flow_vars,
            "trigger": variables,
            "labels": dict(flow.labels or {}),
        },
        now=now,
        seed=zlib.crc32(execution_id.encode()),
        secrets=secrets,
    )

    def render(text: str) -> str:
        return str(engine.render(text, scope))

    name = f"{flow.namespace}.{flow.id}.{trigger.id}"
    try:
        if not all(_holds(c, render, now) for c in trigger.conditions or ()):
            return Response(status_code=204)
        labels = {str(k): render(str(v)) for k, v in (trigger.labels or {}).items()}
        given = engine.render_value(dict(trigger.inputs or {}), scope)
        renderer = input_renderer(flow.namespace, flow.id, record.revision, now, engine=engine)
        inputs = parse_inputs(flow.inputs or (), given, from_strings=False, render=renderer)
        execution = Execution(
            id=execution_id,
            namespace=flow.namespace,
            flow_id=flow.id,
            flow_revision=record.revision,
            state=State.CREATED,
            histories=(History(State.CREATED, now),),
            inputs=inputs,
            labels={**dict(flow.labels or {}), **labels, CORRELATION_ID: execution_id},
            variables=dict(flow.variables or {}),
            trigger={"id": trigger.id, "type": WEBHOOK_TYPE, **variables},
            secret_inputs=frozenset(secret_input_ids(flow.inputs or ())),
        )
    except (NotFoundError, InputError):
        raise
    except LannerError as exc:  # a template of the trigger that does not render
        raise ApiError(f"Webhook {name}: {exc.message}") from None
    ctx.store.create_execution(execution, [start_event(execution, now)])
    if not trigger.wait:
        return JSONResponse(webhook_answer(execution_answer(execution)))
    ended = execution_answer(
        actions.wait_finalized(ctx.store, execution_id, None, ctx.stopping, ctx.finalized)
    )
    if not trigger.returnOutputs:
        return JSONResponse(webhook_answer(ended))
    outputs = ended.get("outputs") or {}
    if trigger.responseContentType == "text/plain":
        # One output is answered as its text; several as their JSON.
        if len(outputs) == 1:
            (only,) = outputs.values()
            text = only if isinstance(only, str) else json.dumps(only)
        else:
            text = json.dumps(outputs)
        return PlainTextResponse(text)
    return JSONResponse(outputs)


for _method in ("GET", "POST", "PUT"):
    for _suffix, _name in (("", ""), ("/{path:path}", "_with_path")):
        router.add_api_route(
            "/executions/webhook/{namespace}/{flow_id}/{key}" + _suffix,
            webhook,
            methods=[_method],
            name=f"trigger_execution_by_{_method.lower()}_webhook{_name}",
        )
