"""Namespace files (docs/storage.md) as kestrapy 2.x and Kestra's UI call them,
under `/namespaces/{namespace}/files`: read one (`?path=`), upload one
(multipart `fileContent`), delete a file or a folder, list a folder
(`/directory?path=`) and read a file's attributes (`/stats?path=`). Paths are
relative to the namespace's root; a leading `/` is allowed, as Kestra writes
them. Lanner keeps no revisions of namespace files and folders exist only
through their files."""

from __future__ import annotations

import posixpath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.errors import NotFoundError
from lanner.storage.base import FileInfo

router = APIRouter(tags=["Files"])
Ctx = Annotated[ApiContext, Depends(context)]

CHUNK = 64 * 1024


def _relative(path: str | None) -> str:
    return (path or "").strip().lstrip("/")


def _root(namespace: str) -> str:
    from lanner.model.common import NAMESPACE_RE
    from lanner.storage.uris import namespace_file_uri, storage_path

    if not NAMESPACE_RE.match(namespace):
        raise ApiError(
            f"invalid namespace {namespace!r}: lower-case letters, digits, '.', '_' and '-'"
        )
    # The root's storage path: that of a file named `x`, without the `x`.
    return storage_path(namespace_file_uri(namespace, "x"))[:-1]


def _file(namespace: str, path: str | None) -> str:
    from lanner.storage.uris import namespace_file_uri, storage_path

    relative = _relative(path)
    if not relative:
        raise ApiError("path: name a file of the namespace (path=/queries/q.sql)")
    return storage_path(namespace_file_uri(namespace, relative))


def _millis(info: FileInfo) -> int:
    return int(info.modified.timestamp() * 1000)


def _attributes(name: str, info: FileInfo | None, directory: bool = False) -> dict[str, Any]:
    return {
        "fileName": name,
        "lastModifiedTime": _millis(info) if info else None,
        "creationTime": _millis(info) if info else None,
        "type": "Directory" if directory else "File",
        "size": 0 if directory or info is None else info.size,
        "metadata": None,
    }


@router.get("/namespaces/{namespace}/files/directory")
def list_namespace_directory_files(
    namespace: str, ctx: Ctx, path: str | None = None
) -> list[dict[str, Any]]:
    """The folder's files and sub-folders (one level), folders first, by name."""
    root = _root(namespace)
    folder = _relative(path).rstrip("/")
    prefix = root + (folder + "/" if folder else "")
    files: dict[str, dict[str, Any]] = {}
    folders: dict[str, FileInfo] = {}
    for info in ctx.storage.list(prefix):
        rest = info.path[len(prefix) :]
        head, sep, _ = rest.partition("/")
        if sep:
            latest = folders.get(head)
            if latest is None or info.modified > latest.modified:
                folders[head] = info
        else:
            files[head] = _attributes(head, info)
    if folder and not files and not folders:
        raise NotFoundError(f"namespace {namespace}: no folder {folder}")
    return [_attributes(n, i, directory=True) for n, i in sorted(folders.items())] + [
        files[n] for n in sorted(files)
    ]


@router.get("/namespaces/{namespace}/files/stats")
def file_metadatas(namespace: str, ctx: Ctx, path: str | None = None) -> dict[str, Any]:
    if not _relative(path):
        return _attributes("", None, directory=True)
    where = _file(namespace, path)
    info = ctx.storage.info(where)
    if info is not None:
        return _attributes(posixpath.basename(where), info)
    if next(iter(ctx.storage.list(where.rstrip("/") + "/")), None) is not None:
        return _attributes(posixpath.basename(where), None, directory=True)
    raise NotFoundError(f"namespace {namespace}: no file {_relative(path)}")


@router.get("/namespaces/{namespace}/files")
def file_content(namespace: str, path: str, ctx: Ctx) -> StreamingResponse:
    where = _file(namespace, path)
    if ctx.storage.info(where) is None:
        raise NotFoundError(f"namespace {namespace}: no file {_relative(path)}")
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


@router.post("/namespaces/{namespace}/files")
async def create_namespace_file(namespace: str, path: str, request: Request, ctx: Ctx) -> Response:
    """Upload the multipart part `fileContent` to `path` (replacing any file there)."""
    where = _file(namespace, path)
    async with request.form() as form:
        upload = form.get("fileContent")
        if not isinstance(upload, UploadFile):
            raise ApiError("fileContent: send the file as the multipart part fileContent")
        await run_in_threadpool(ctx.storage.put, where, upload.file)
    return Response(status_code=200)


@router.delete("/namespaces/{namespace}/files")
def delete_file_directory(namespace: str, path: str, ctx: Ctx) -> Response:
    """Delete the file, or every file of the folder."""
    from lanner.storage.namespacefiles import delete_namespace_file

    if not _relative(path):
        raise ApiError("path: name the file or folder to delete")
    if delete_namespace_file(ctx.storage, namespace, _relative(path)) == 0:
        raise NotFoundError(f"namespace {namespace}: no file or folder {_relative(path)}")
    return Response(status_code=204)
