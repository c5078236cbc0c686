"""Live follow, as Server-Sent Events written as they come (chunked), as Kestra's
UI and kestrapy 2.x read them:

- `GET /executions/{id}/follow`: an event `start` (an execution holding only
  its id, as Kestra sends it so that the stream opens at once), then the
  execution each time it changes (`progress`), and `end` with the finalized
  execution, after which the stream closes;
- `GET /logs/{id}/follow` (`minLevel`): an event `start` (an empty log entry),
  then each log line of the execution as it is written (`progress`), the
  lines already written first; the stream closes once the execution is
  finalized and its last lines are sent (Kestra's stays open until the client
  leaves: Lanner's ends, so that a client reading it to the end returns).

Both poll the store (every POLL seconds, sooner at first): a follower costs one
read per poll and holds no request thread between polls. A stopping server
ends the streams."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.schemas import execution_answer, log_answer
from lanner.model.loglevel import LEVELS, kept
from lanner.runtime import actions

router = APIRouter(tags=["Executions"])
Ctx = Annotated[ApiContext, Depends(context)]

POLL = 0.2  # the longest wait between two reads of the store
FIRST = 0.01  # the first waits, doubled up to POLL: a short execution is seen at once

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event(name: str, data: Any) -> bytes:
    return f"id: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _stream(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS)


async def _pause(delay: float) -> float:
    await asyncio.sleep(delay)
    return min(delay * 2, POLL)


@router.get("/executions/{execution_id}/follow")
async def follow_execution(execution_id: str, request: Request, ctx: Ctx) -> StreamingResponse:
    first = await run_in_threadpool(actions.get_execution, ctx.store, execution_id)  # 404 now

    async def events() -> AsyncIterator[bytes]:
        yield event("start", {"id": execution_id})
        execution, sent, delay = first, "", FIRST
        while True:
            answer = execution_answer(execution)
            if execution.finalized_at is not None:
                yield event("end", answer)
                return
            text = json.dumps(answer, sort_keys=True)  # to send only a changed execution
            if text != sent:
                sent = text
                yield event("progress", answer)
            if ctx.stopping.is_set() or await request.is_disconnected():
                return
            delay = await _pause(delay)
            execution = await run_in_threadpool(actions.get_execution, ctx.store, execution_id)

    return _stream(events())


@router.get("/logs/{execution_id}/follow")
async def follow_logs(
    execution_id: str, request: Request, ctx: Ctx, minLevel: str | None = None
) -> StreamingResponse:
    from lanner.cli.views import display_masker

    if minLevel is not None:
        minLevel = "WARN" if minLevel.upper() == "WARNING" else minLevel.upper()
        if minLevel not in LEVELS:
            raise ApiError(f"minLevel {minLevel}: not a level (one of {', '.join(LEVELS)})")
    first = await run_in_threadpool(actions.get_execution, ctx.store, execution_id)

    async def events() -> AsyncIterator[bytes]:
        yield event("start", {})
        execution, count, delay = first, 0, FIRST
        while True:
            # Read the execution before its logs: once it is finalized, every line
            # it wrote is already stored and this read sends the last of them.
            ended = execution.finalized_at is not None
            records = await run_in_threadpool(ctx.store.get_logs, execution_id)
            masker = display_masker(execution)
            for record in records[count:]:
                if kept(record.level, minLevel):
                    yield event("progress", log_answer(record, execution, masker))
            count = len(records)
            if ended or ctx.stopping.is_set() or await request.is_disconnected():
                return
            delay = await _pause(delay)
            execution = await run_in_threadpool(actions.get_execution, ctx.store, execution_id)

    return _stream(events())
