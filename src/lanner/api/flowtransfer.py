"""Flows in and out in bulk: export as a ZIP of YAML sources (by ids or by query),
import from a ZIP or a YAML file of one or more documents.

Registered before `flows`: `/flows/export/by-query` would otherwise be read as
`/flows/{namespace}/{id}`.

Each exported flow is its source as deployed (comments and layout kept), in
`<namespace>.<id>.yml`, as Kestra names them. An import validates every flow
first; with `failOnError=true` (kestrapy's default for 1.x) one invalid flow is a
422 naming every problem and nothing is deployed; otherwise the valid ones are
deployed and the answer lists the problems of the others, one text each (Kestra
answers their sources)."""

from __future__ import annotations

import io
import zipfile
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.filters import flow_tests, parse
from lanner.api.schemas import IdWithNamespace
from lanner.errors import FlowValidationError, NotFoundError
from lanner.store.base import FlowRecord

router = APIRouter(tags=["Flows"])
Ctx = Annotated[ApiContext, Depends(context)]

# A ZIP's entries are read whole: this bounds what one import may inflate to.
MAX_IMPORT_BYTES = 64 * 1024 * 1024


def _zip(records: list[FlowRecord]) -> Response:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for r in records:
            archive.writestr(f"{r.namespace}.{r.id}.yml", r.source)
    return Response(
        buffer.getvalue(),
        media_type="application/octet-stream",
        headers={"Content-Disposition": 'attachment; filename="flows.zip"'},
    )


@router.post("/flows/export/by-ids")
def export_by_ids(ids: Annotated[list[IdWithNamespace], Body()], ctx: Ctx) -> Response:
    records = []
    for one in ids:
        record = ctx.store.get_flow(one.namespace, one.id)
        if record is None:
            raise NotFoundError(f"flow {one.namespace}.{one.id} not found")
        records.append(record)
    return _zip(records)


@router.get("/flows/export/by-query")
def export_by_query(request: Request, ctx: Ctx) -> Response:
    tests = flow_tests(parse(request.query_params.multi_items()))
    rows = sorted(ctx.store.list_flows(), key=lambda r: (r.namespace, r.id))
    return _zip([r for r in rows if all(t(r) for t in tests)])


def _sources(name: str, content: bytes) -> list[tuple[str, str]]:
    """(where, YAML text) of each file of the upload."""
    if content[:4] == b"PK\x03\x04" or name.lower().endswith(".zip"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
        except zipfile.BadZipFile:
            raise ApiError(f"{name}: not a ZIP archive") from None
        entries = [
            i
            for i in archive.infolist()
            if not i.is_dir() and i.filename.lower().endswith((".yml", ".yaml"))
        ]
        if sum(i.file_size for i in entries) > MAX_IMPORT_BYTES:
            raise ApiError(f"{name}: more than {MAX_IMPORT_BYTES // 2**20} MiB of flows")
        return [(i.filename, _text(i.filename, archive.read(i))) for i in entries]
    return [(name, _text(name, content))]


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(f"{name}: not UTF-8 text") from None


def _import(ctx: ApiContext, files: list[tuple[str, str]], fail_on_error: bool) -> list[str]:
    from lanner.model.validate import load_flows
    from lanner.model.yamlsource import split_documents

    valid: list[tuple[str, str, str]] = []  # namespace, id, source
    problems: list[str] = []
    for where, text in files:
        for _, part in split_documents(text) or [(0, text)]:
            try:
                loaded = load_flows(
                    part, ctx.registry, file=where, defaults=ctx.config.pluginDefaults
                )
            except FlowValidationError as exc:
                problems.append(str(exc))
                continue
            valid.extend((f.flow.namespace, f.flow.id, part) for f in loaded)
    if problems and fail_on_error:
        raise ApiError("nothing was imported: " + "\n".join(problems))
    for namespace, flow_id, source in valid:
        ctx.store.deploy_flow(namespace, flow_id, source)
    return problems


@router.post("/flows/import")
async def import_flows(request: Request, ctx: Ctx, failOnError: bool = False) -> list[Any]:
    """The multipart part `fileUpload`: a ZIP of YAML files or one YAML file."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ApiError("send the flows as the multipart part fileUpload (a ZIP or YAML file)")
    async with request.form() as form:
        upload = form.get("fileUpload")
        if not isinstance(upload, UploadFile):
            raise ApiError("the multipart part fileUpload is missing: a ZIP or YAML file")
        content = await upload.read(MAX_IMPORT_BYTES + 1)
        name = upload.filename or "flows.yml"
    if len(content) > MAX_IMPORT_BYTES:
        raise ApiError(f"{name}: more than {MAX_IMPORT_BYTES // 2**20} MiB")
    files = _sources(name, content)
    return await run_in_threadpool(_import, ctx, files, failOnError)
