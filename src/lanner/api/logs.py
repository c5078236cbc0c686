"""Logs of an execution: as JSON (filtered by task, task run, attempt and
minimum level) and as a text download."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.schemas import log_answer
from lanner.errors import NotFoundError
from lanner.model.loglevel import LEVELS, kept

router = APIRouter(tags=["Logs"])
Ctx = Annotated[ApiContext, Depends(context)]


def _entries(
    ctx: ApiContext,
    execution_id: str,
    minLevel: str | None,
    taskRunId: str | None,
    taskId: str | None,
    attempt: int | None,
) -> list[dict[str, Any]]:
    from lanner.cli.views import display_masker

    if minLevel is not None:
        minLevel = minLevel.upper()
        if minLevel == "WARNING":
            minLevel = "WARN"
        if minLevel not in LEVELS:
            raise ApiError(f"minLevel {minLevel}: not a level (one of {', '.join(LEVELS)})")
    # Its task runs are not needed here (and are most of it on a wide execution).
    execution = ctx.store.get_execution_head(execution_id)
    if execution is None:
        raise NotFoundError(f"execution {execution_id} not found in {ctx.store.url}")
    masker = display_masker(execution)
    return [
        log_answer(r, execution, masker)
        for r in ctx.store.get_logs(execution_id)
        if kept(r.level, minLevel)
        and (taskId is None or r.task_id == taskId)
        and (taskRunId is None or r.task_run_id == taskRunId)
        and (attempt is None or r.attempt == attempt)
    ]


@router.get("/logs/{execution_id}")
def list_logs(
    execution_id: str,
    ctx: Ctx,
    minLevel: str | None = None,
    taskRunId: str | None = None,
    taskId: str | None = None,
    attempt: int | None = None,
) -> list[dict[str, Any]]:
    return _entries(ctx, execution_id, minLevel, taskRunId, taskId, attempt)


@router.get("/logs/{execution_id}/download", response_class=PlainTextResponse)
def download_logs(
    execution_id: str,
    ctx: Ctx,
    minLevel: str | None = None,
    taskRunId: str | None = None,
    taskId: str | None = None,
    attempt: int | None = None,
) -> PlainTextResponse:
    lines = [
        f"{e['timestamp']} {e['level']} {e['taskId'] or ''} {e['message']}".replace("  ", " ")
        for e in _entries(ctx, execution_id, minLevel, taskRunId, taskId, attempt)
    ]
    return PlainTextResponse("".join(line + "\n" for line in lines))
