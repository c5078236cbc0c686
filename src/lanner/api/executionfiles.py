"""An execution's files in internal storage: download one
(`GET /executions/{id}/file?path=kestra:///...`) and read its size
(`/executions/{id}/file/metas`), as Kestra's UI and kestrapy do.

A path is served when the execution may read it (`uris.may_read`): its flow's
files (its own task outputs and FILE inputs among them) and the namespace
files of its namespace and parents; any other is a 422, a missing file a 404."""

from __future__ import annotations

import posixpath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.errors import NotFoundError
from lanner.runtime import actions

router = APIRouter(tags=["Executions"])
Ctx = Annotated[ApiContext, Depends(context)]

CHUNK = 64 * 1024


def _checked(ctx: ApiContext, execution_id: str, path: str) -> str:
    from lanner.storage.uris import may_read, storage_path

    execution = actions.get_execution(ctx.store, execution_id)
    where = storage_path(path)  # a StorageUriError (422) names what is wrong
    if not may_read(path, execution.namespace, execution.flow_id):
        raise ApiError(
            f"{path}: not a file of execution {execution_id} (its flow's files and its"
            " namespace's files only)"
        )
    if ctx.storage.info(where) is None:
        raise NotFoundError(f"{path}: no such file in internal storage")
    return where


@router.get("/executions/{execution_id}/file/metas")
def file_metadatas_from_execution(execution_id: str, path: str, ctx: Ctx) -> dict[str, Any]:
    where = _checked(ctx, execution_id, path)
    info = ctx.storage.info(where)
    if info is None:
        raise NotFoundError(f"{path}: no such file in internal storage")
    return {"size": info.size}


@router.get("/executions/{execution_id}/file")
def download_file_from_execution(execution_id: str, path: str, ctx: Ctx) -> StreamingResponse:
    where = _checked(ctx, execution_id, path)
    data = ctx.storage.open(where)

    def chunks() -> Any:
        with data:
            while block := data.read(CHUNK):
                yield block

    name = posixpath.basename(where)
    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )
