"""Sending one prepared request with httpx, and reading its answer as it comes.

The exchange runs on an event loop of its own and polls the attempt's
cancellation flag (§0 decision 4): a killed or timed-out attempt closes the
connection at once and the task ends KILLED. The response body is handed to
a `reader` chunk by chunk, so that a download goes to disk without being
held in memory.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from lanner.expr.secrets import MASK
from lanner.plugin import TaskContext
from lanner.tasks.asyncsend import run_coroutine, unless_cancelled
from lanner.tasks.http.common import Prepared

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
_HIDDEN_HEADERS = frozenset({"authorization", "proxy-authorization"})


@dataclass(frozen=True)
class Answer:
    """The response's status line and headers (names as the server sent them)."""

    code: int
    reason: str
    headers: dict[str, list[str]]
    url: str  # where the response came from, after redirects


Reader = Callable[["httpx.Response"], Awaitable[T]]


def _headers(response: httpx.Response) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    names: dict[str, str] = {}  # lower-case -> the first spelling met
    for raw_name, raw_value in response.headers.raw:
        name = raw_name.decode("latin-1")
        shown = names.setdefault(name.lower(), name)
        out.setdefault(shown, []).append(raw_value.decode("latin-1"))
    return out


def _auth(prepared: Prepared) -> Any:
    import httpx

    auth = prepared.settings.auth
    if auth is None:
        return None
    kind, first, second = auth
    if kind == "DIGEST":  # a challenge and an answer: httpx's auth flow
        return httpx.DigestAuth(first, second)
    return None  # BASIC and BEARER: a header, added by `_request_headers`


def _request_headers(prepared: Prepared) -> list[tuple[str, str]]:
    headers = list(prepared.headers)
    auth = prepared.settings.auth
    if auth is not None and auth[0] == "BEARER":
        headers.append(("Authorization", f"Bearer {auth[1]}"))
    elif auth is not None and auth[0] == "BASIC":
        # Sent up front, as Kestra's client does, and so shown (masked) in REQUEST_HEADERS.
        token = base64.b64encode(f"{auth[1]}:{auth[2]}".encode()).decode("ascii")
        headers.append(("Authorization", f"Basic {token}"))
    return headers


def shown_request_headers(request: httpx.Request) -> list[str]:
    """The headers sent, credentials masked: an Authorization header is computed
    from a secret (base64 of user:password) that the log masker does not know."""
    lines = []
    for raw_name, raw_value in request.headers.raw:
        name = raw_name.decode("latin-1")
        value = MASK if name.lower() in _HIDDEN_HEADERS else raw_value.decode("latin-1")
        lines.append(f"{name}: {value}")
    return lines


async def _exchange(prepared: Prepared, ctx: TaskContext, reader: Reader[T]) -> tuple[Answer, T]:
    import httpx

    s = prepared.settings
    timeout = httpx.Timeout(s.read_timeout, connect=s.connect_timeout)
    async with httpx.AsyncClient(
        timeout=timeout,
        limits=httpx.Limits(keepalive_expiry=s.pool_idle),
        proxy=s.proxy,
        verify=s.verify,
        follow_redirects=s.follow_redirects,
        auth=_auth(prepared),
        trust_env=False,  # the flow says which proxy to use, not the process's environment
    ) as client:
        request = client.build_request(
            prepared.method,
            prepared.url,
            headers=_request_headers(prepared),
            content=prepared.content,
            data=prepared.form,
            files=prepared.files or None,
        )
        if "REQUEST_HEADERS" in s.logs:
            ctx.log("INFO", "Request headers:\n" + "\n".join(shown_request_headers(request)))
        if "REQUEST_BODY" in s.logs and prepared.content is not None:
            ctx.log("INFO", "Request body:\n" + prepared.content.decode(s.charset, "replace"))
        response = await client.send(request, stream=True)
        try:
            answer = Answer(
                response.status_code, response.reason_phrase, _headers(response), str(response.url)
            )
            if "RESPONSE_HEADERS" in s.logs:
                lines = [f"{n}: {v}" for n, values in answer.headers.items() for v in values]
                ctx.log("INFO", f"Response: {answer.code} {answer.reason}\n" + "\n".join(lines))
            return answer, await reader(response)
        finally:
            await response.aclose()


def send(prepared: Prepared, ctx: TaskContext, reader: Reader[T]) -> tuple[Answer, T] | None:
    """Send and read the answer; None when the attempt was cancelled meanwhile.
    httpx's errors (connection, timeout, protocol) propagate: see `transport_error`."""
    with prepared.closer:
        return run_coroutine(
            lambda: unless_cancelled(_exchange(prepared, ctx, reader), lambda: ctx.cancelled),
            "lanner-http-send",
        )


def transport_error(exc: Exception, prepared: Prepared) -> str:
    """What went wrong before a response came, in words."""
    import httpx

    where = f"{prepared.method} {prepared.url}"
    timeout = prepared.settings
    if isinstance(exc, httpx.ConnectTimeout):
        return f"{where} timed out while connecting (after {timeout.connect_timeout:g}s)"
    if isinstance(exc, httpx.ReadTimeout):
        return (
            f"{where} timed out: no bytes of the response for {timeout.read_timeout:g}s"
            " (options.timeout.readIdleTimeout)"
        )
    if isinstance(exc, httpx.TimeoutException):
        return f"{where} timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"{where} failed: cannot connect ({exc or 'connection refused'})"
    if isinstance(exc, httpx.TooManyRedirects):
        return f"{where} failed: too many redirects ({exc})"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"{where} failed: not a valid http(s) URL ({exc})"
    return f"{where} failed: {type(exc).__name__}: {exc}"


def status_error(prepared: Prepared, answer: Answer, excerpt: str) -> str:
    """The message of a response whose code the task does not accept."""
    reason = f" {answer.reason}" if answer.reason else ""
    allowed = prepared.settings.allowed_codes
    why = (
        f"not in options.allowedResponseCodes {sorted(allowed)}"
        if allowed is not None
        else "set options.allowFailed: true to accept it"
    )
    tail = f": {excerpt}" if excerpt else ""
    return (
        f"{prepared.method} {prepared.url} failed with response code {answer.code}{reason}"
        f" ({why}){tail}"
    )
