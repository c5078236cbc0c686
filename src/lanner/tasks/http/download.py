"""`io.kestra.plugin.core.http.Download`: stream a response body into internal storage.

The body goes chunk by chunk to a temporary file, then into internal storage
(`ctx.put_file`): memory stays bounded whatever the size. Outputs, as
Kestra's: `uri` (the `kestra://` file), `code`, `length` (the bytes
stored) and `headers`.

The file's name is `saveAs` when given, else the one `Content-Disposition` gives (its `filename*` or
`filename`), else the last segment of the URL's path, else `download`;
reduced to its last path segment and to letters, digits, `.`, `_` and `-`
(anything else becomes `_`), so that no server can choose where the file
goes. An empty body fails the task when `failOnEmptyResponse` (the
default) unless `options.allowFailed`; a body shorter or longer than its
`Content-Length` fails it too.
"""

from __future__ import annotations

import posixpath
import re
import tempfile
from email.message import Message
from email.utils import collapse_rfc2231_value
from email.utils import unquote as unquote_param
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from pydantic import Field

from lanner.model.common import DynamicBool, Text
from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.log import as_text
from lanner.tasks.http.common import HttpTask, Prepared, prepare, rendered_bool
from lanner.tasks.http.request import excerpt
from lanner.tasks.http.sending import Reader, send, status_error, transport_error

if TYPE_CHECKING:
    import httpx

_CHUNK = 1024 * 1024
_NAME_CHARS = re.compile(r"[^\w.\-]+", re.ASCII)
_MAX_NAME = 200


class Download(HttpTask):
    """Download a file over HTTP(S) into internal storage."""

    failOnEmptyResponse: DynamicBool = Field(
        True, description="Fail the task when the response body is empty (default true)."
    )
    saveAs: Text | None = Field(
        None,
        description="The stored file's name; wins over Content-Disposition and the URL.",
    )


def safe_name(name: str | None) -> str | None:
    """`name` reduced to a plain file name, or None when nothing usable is left."""
    if not name:
        return None
    last = re.split(r"[/\\]", name)[-1]
    cleaned = _NAME_CHARS.sub("_", last).strip("._") or ""
    if not cleaned:
        return None
    if len(cleaned) > _MAX_NAME:
        _stem, dot, ext = cleaned.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        cleaned = cleaned[: _MAX_NAME - len(keep) - 1] + ("." + keep if keep else "")
    return cleaned


def name_from_disposition(header: str | None) -> str | None:
    """The file name a Content-Disposition header gives (RFC 6266, `filename*` first)."""
    if not header:
        return None
    message = Message()
    message["content-disposition"] = header
    try:
        params = message.get_params(header="content-disposition") or []
    except (ValueError, LookupError):
        return None
    plain: str | None = None
    for key, value in params[1:]:
        if key.lower() != "filename":
            continue
        if isinstance(value, tuple):  # RFC 5987 `filename*`: it wins over `filename`
            try:
                return collapse_rfc2231_value(value)
            except (ValueError, LookupError):
                continue
        plain = plain or unquote_param(value)
    return plain


def file_name(headers: dict[str, list[str]], url: str, save_as: str | None = None) -> str:
    """The stored file's name: `saveAs`, else Content-Disposition's, else the URL's."""
    if safe_name(save_as):
        return safe_name(save_as) or ""
    disposition = next(
        (v[0] for k, v in headers.items() if k.lower() == "content-disposition" and v), None
    )
    path = posixpath.basename(unquote(urlsplit(url).path))
    return safe_name(name_from_disposition(disposition)) or safe_name(path) or "download"


class _SizeMismatch(Exception):
    pass


def _reader(prepared: Prepared, target: Path) -> Reader[tuple[int, bytes]]:
    async def read(response: httpx.Response) -> tuple[int, bytes]:
        if not prepared.settings.accepts(response.status_code):
            head = bytearray()
            async for chunk in response.aiter_bytes():
                head += chunk
                if len(head) >= 4096:
                    break
            return -1, bytes(head)
        size = 0
        with target.open("wb") as out:
            async for chunk in response.aiter_bytes(_CHUNK):
                out.write(chunk)
                size += len(chunk)
        declared = response.headers.get("content-length")
        # A compressed body is counted once decoded: its Content-Length does not apply.
        if declared is not None and "content-encoding" not in response.headers:
            try:
                expected = int(declared)
            except ValueError:
                expected = size
            if expected != size:
                raise _SizeMismatch(f"invalid size, got {size} bytes, expected {expected}")
        return size, b""

    return read


def run_download(task: Download, ctx: TaskContext) -> Outcome:
    import httpx  # imported on use: it is slow to import and most flows never send

    try:
        prepared = prepare(task, ctx)
    except ValueError as exc:
        return Outcome(State.FAILED, error=f"{task.id}: {exc}")
    if ctx.cancelled:
        prepared.closer.close()
        return Outcome(State.KILLED)
    with tempfile.TemporaryDirectory(prefix="lanner-download-") as tmp:
        target = Path(tmp) / "body"
        try:
            result = send(prepared, ctx, _reader(prepared, target))
        except _SizeMismatch as exc:
            return Outcome(State.FAILED, error=f"{prepared.method} {prepared.url}: {exc}")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return Outcome(State.FAILED, error=transport_error(exc, prepared))
        except ImportError as exc:
            return Outcome(State.FAILED, error=f"{task.id}: the proxy cannot be used: {exc}")
        if result is None:
            return Outcome(State.KILLED)
        answer, (size, head) = result
        if size < 0:
            text = head.decode("utf-8", "replace")
            return Outcome(State.FAILED, error=status_error(prepared, answer, excerpt(text)))
        if size == 0:
            if rendered_bool(ctx, task.failOnEmptyResponse) and not prepared.settings.allow_failed:
                return Outcome(
                    State.FAILED,
                    error=f"{prepared.method} {prepared.url}: no response from server, the body"
                    f" is empty (response code {answer.code}); set failOnEmptyResponse: false"
                    " to accept an empty file",
                )
            ctx.log("WARN", f"File '{prepared.url}' is empty")
        save_as = None if task.saveAs is None else as_text(ctx.render(task.saveAs))
        name = file_name(answer.headers, answer.url, save_as)
        uri = ctx.put_file(target, name)
    ctx.log("DEBUG", f"File '{prepared.url}' downloaded with size '{size}'")
    return Outcome(
        outputs={"uri": uri, "code": answer.code, "length": size, "headers": answer.headers}
    )


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.core.http.Download",
        model=Download,
        aliases=("io.kestra.plugin.fs.http.Download", "io.kestra.core.tasks.http.Download"),
        run=run_download,
    ),
]
