"""Outputs as kestrapy 2.x reads them (`/outputs/...`: Kestra 2.0 left them out of
the execution's JSON; Lanner keeps them there too): the flow's outputs, the task
runs that have outputs, and one task run's outputs. Masked as the execution is."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from lanner.api.context import ApiContext, context
from lanner.api.schemas import execution_answer
from lanner.errors import NotFoundError
from lanner.runtime import actions

router = APIRouter(tags=["Outputs"])
Ctx = Annotated[ApiContext, Depends(context)]


def _answer(ctx: ApiContext, execution_id: str) -> dict[str, Any]:
    return execution_answer(actions.get_execution(ctx.store, execution_id))


@router.get("/outputs/executions/{execution_id}")
def execution_outputs(execution_id: str, ctx: Ctx) -> dict[str, Any]:
    outputs: dict[str, Any] = _answer(ctx, execution_id).get("outputs") or {}
    return outputs


@router.get("/outputs/tasks/{execution_id}")
def task_outputs_information(execution_id: str, ctx: Ctx) -> list[dict[str, Any]]:
    runs = _answer(ctx, execution_id)["taskRunList"]
    return [
        {
            "taskId": run["taskId"],
            "taskRunId": run["id"],
            "value": run.get("value"),
            "iteration": run.get("iteration"),
            "inline": True,
        }
        for run in runs
        if run.get("outputs")
    ]


@router.get("/outputs/tasks/{execution_id}/{task_run_id}")
def task_run_outputs(execution_id: str, task_run_id: str, ctx: Ctx) -> dict[str, Any]:
    for run in _answer(ctx, execution_id)["taskRunList"]:
        if run["id"] == task_run_id:
            outputs: dict[str, Any] = run.get("outputs") or {}
            return outputs
    raise NotFoundError(f"task run {task_run_id} not found in execution {execution_id}")
