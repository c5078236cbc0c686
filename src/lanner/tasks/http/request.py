"""`io.kestra.plugin.core.http.Request`: send one HTTP request, keep the answer as outputs.

Outputs, as Kestra's: `uri` (the URL called), `code`, `headers` (each
name to the list of its values) and `body` (the response as text; absent
when the response has none). The body is read up to
`options.maxContentLength` bytes (10 MB by default): a longer one fails the
task and points to `Download`, which streams to internal storage.

`encryptBody: true` replaces `body` with `encryptedBody`. Kestra encrypts
that output with its secret key and decrypts it when a later task reads
it; Lanner marks it a secret value (docs/secrets.md): it is sealed with the
instance key in the store, shown masked in outputs and logs, and a later
task that reads `outputs.ID.encryptedBody` gets the plain text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from lanner.expr import taint
from lanner.model.common import DynamicBool
from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.http.common import HttpTask, Prepared, prepare, rendered_bool
from lanner.tasks.http.sending import Answer, Reader, send, status_error, transport_error

if TYPE_CHECKING:
    import httpx

_EXCERPT_CHARS = 200  # how much of a refused response's body goes into the error


class Request(HttpTask):
    """Send an HTTP request and keep its response (code, headers, body) as outputs."""

    encryptBody: DynamicBool = Field(
        False,
        description="Keep the response body as the secret output `encryptedBody`"
        " (sealed in the store, masked when shown) instead of `body`.",
    )


class _TooLong(Exception):
    pass


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT_CHARS else flat[:_EXCERPT_CHARS] + "…"


def _reader(prepared: Prepared) -> Reader[bytes]:
    limit = prepared.settings.max_content_length

    async def read(response: httpx.Response) -> bytes:
        if not prepared.settings.accepts(response.status_code):
            limit_refused = 4096  # enough for an excerpt of the error
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= limit_refused:
                    break
            return bytes(body)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise _TooLong()
        return bytes(body)

    return read


def run_request(task: Request, ctx: TaskContext) -> Outcome:
    import httpx  # imported on use: it is slow to import and most flows never send

    try:
        prepared = prepare(task, ctx)
    except ValueError as exc:
        return Outcome(State.FAILED, error=f"{task.id}: {exc}")
    if ctx.cancelled:  # a stopped attempt sends nothing
        prepared.closer.close()
        return Outcome(State.KILLED)
    try:
        result = send(prepared, ctx, _reader(prepared))
    except _TooLong:
        return Outcome(
            State.FAILED,
            error=f"{prepared.method} {prepared.url}: the response body is longer than"
            f" options.maxContentLength ({prepared.settings.max_content_length} bytes);"
            " raise it, or use io.kestra.plugin.core.http.Download to store the body as a file",
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Outcome(State.FAILED, error=transport_error(exc, prepared))
    except ImportError as exc:  # a SOCKS proxy without httpx's socks extra
        return Outcome(State.FAILED, error=f"{task.id}: the proxy cannot be used: {exc}")
    if result is None:
        return Outcome(State.KILLED)
    answer, data = result
    accepted = prepared.settings.accepts(answer.code)
    if not accepted:
        text = _decode_answer(data, answer, errors="replace")
        if "RESPONSE_BODY" in prepared.settings.logs:
            ctx.log("INFO", "Response body:\n" + text)
        return Outcome(State.FAILED, error=status_error(prepared, answer, excerpt(text)))
    try:
        text = _decode_answer(data, answer)
    except ValueError as exc:
        return Outcome(State.FAILED, error=f"{prepared.method} {prepared.url}: {exc}")
    encrypt = rendered_bool(ctx, task.encryptBody)
    if encrypt and text:
        text = taint.mark(text)  # known from now on: the log line below is masked
    if "RESPONSE_BODY" in prepared.settings.logs:
        ctx.log("INFO", "Response body:\n" + text)
    outputs: dict[str, Any] = {"uri": prepared.url, "code": answer.code, "headers": answer.headers}
    if data:
        outputs["encryptedBody" if encrypt else "body"] = text
    ctx.log("DEBUG", f"Request {prepared.method} {prepared.url}: response code {answer.code}")
    return Outcome(outputs=outputs)


def _decode_answer(data: bytes, answer: Answer, errors: str = "strict") -> str:
    """The body as text, in the charset its Content-Type names (UTF-8 if none)."""
    content_type = next(
        (v[0] for k, v in answer.headers.items() if k.lower() == "content-type" and v), ""
    )
    encoding = "utf-8"
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            encoding = value.strip().strip('"')
    try:
        return data.decode(encoding, errors)
    except LookupError:
        return data.decode("utf-8", errors)  # a charset Python does not know: UTF-8
    except UnicodeDecodeError:
        raise ValueError(
            f"the response body is not valid {encoding} text (Content-Type:"
            f" {content_type or 'none'}); use io.kestra.plugin.core.http.Download"
            " to store it as a file"
        ) from None


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.core.http.Request",
        model=Request,
        aliases=("io.kestra.plugin.fs.http.Request", "io.kestra.core.tasks.http.Request"),
        run=run_request,
    ),
]
