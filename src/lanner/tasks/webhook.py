"""Posting a JSON message to a chat webhook: what Slack's, Discord's, Teams', Google
Chat's and Zulip's incoming-webhook tasks share (docs/tasks-notifications.md).

Two Lanner rules shape the sending (SPEC §0 decisions 4 and 10):

* a cancelled attempt sends nothing: cancellation is checked right before
  the request, and polled while it is in flight so that a kill closes the
  connection and the attempt ends KILLED at once;
* the webhook URL is a secret (the path or the query is the credential), so
  error messages show it masked.

Each request carries ``Idempotency-Key: <task run id>:<attempt>`` so that a
receiver can drop the duplicate of an attempt re-run after a worker died.
Any answer but 2xx, a connection error or a timeout fails the task.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from pydantic import Field

from lanner.model.common import DurationLike, DynamicInt, Model, Text, parse_duration
from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.asyncsend import run_coroutine, unless_cancelled
from lanner.tasks.core.log import as_text

if TYPE_CHECKING:
    import httpx

_EXCERPT_CHARS = 200  # how much of an error response body goes into the error message
_DEFAULT_CONNECT_TIMEOUT = "PT10S"  # OkHttp's default, which Kestra's webhook clients keep


class ProxyOptions(Model):
    """An outbound proxy for the webhook request."""

    address: Text | None = Field(None, description="The proxy host name or IP address.")
    port: DynamicInt | None = Field(None, description="The proxy port.")
    type: Text = Field("HTTP", description="The proxy type: HTTP (default) or SOCKS.")
    username: Text | None = Field(None, description="The user name for proxy authentication.")
    password: Text | None = Field(None, description="The password for proxy authentication.")


class RequestOptions(Model):
    """HTTP client options of the webhook request."""

    connectTimeout: DurationLike | None = Field(
        None, description="The time allowed to establish a connection (default PT10S)."
    )
    readTimeout: DurationLike = Field(
        "PT10S", description="The maximum time allowed for reading the response."
    )
    readIdleTimeout: DurationLike = Field(
        "PT5M",
        description="The time a read may wait for the next bytes of the response"
        " (the wait is bounded by readTimeout too).",
    )
    connectionPoolIdleTimeout: DurationLike = Field(
        "PT0S",
        description="The time an idle connection stays in the client's pool"
        " (each task run has its own client).",
    )
    maxContentLength: DynamicInt = Field(
        10 * 1024 * 1024, description="The maximum number of response bytes read."
    )
    defaultCharset: Text = Field(
        "UTF-8",
        description="The charset the JSON body is encoded in (named in its Content-Type"
        " when it is not UTF-8); characters it cannot encode are sent as JSON escapes.",
    )
    headers: dict[str, Text] | None = Field(
        None, description="HTTP headers added to the request (they override the defaults)."
    )
    proxy: ProxyOptions | None = Field(None, description="An outbound proxy.")


# --- the body ---------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (and Jackson) does not.
    return json.loads(text, parse_constant=_reject_constant)


def dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def charset_codec(name: str) -> str:
    """The Python codec of a charset name (`UTF-8`, `ISO-8859-1`, ...); ValueError if unknown."""
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        raise ValueError(f"defaultCharset: unknown charset '{name}'") from None


def encode_body(body: bytes, charset: str) -> bytes:
    """The UTF-8 JSON `body` in `charset`; when a character does not fit, every
    non-ASCII character is written as a JSON escape (the same JSON value)."""
    if charset == "utf-8":
        return body
    text = body.decode("utf-8")
    try:
        return text.encode(charset)
    except UnicodeEncodeError:
        escaped = json.dumps(json.loads(text), ensure_ascii=True, separators=(",", ":"))
        return escaped.encode(charset)


# --- the URL as it may be shown -----------------------------------------------------------------


def mask_url(url: str) -> str:
    """The URL without its credential: scheme and host, the first path segment, then ***.

    ``https://hooks.slack.com/services/T0/B0/XYZ`` -> ``https://hooks.slack.com/services/***``.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "***"
    if not parts.scheme or not host:
        return "***"
    shown = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) > 1:
        shown += f"/{segments[0]}/***"
    elif segments or parts.query:
        shown += "/***"
    return shown


# --- sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    body: bytes


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]
    timeout: httpx.Timeout
    limits: httpx.Limits
    proxy: str | None
    max_bytes: int


def _seconds(ctx: TaskContext, value: str) -> float:
    return max(parse_duration(as_text(ctx.render(value))).total_seconds(), 0.0)


def _proxy_url(ctx: TaskContext, proxy: ProxyOptions | None) -> str | None:
    if proxy is None or proxy.address is None or proxy.port is None:
        return None
    address = as_text(ctx.render(proxy.address))
    port = int(as_text(ctx.render(proxy.port)))
    kind = as_text(ctx.render(proxy.type)).upper()
    if kind not in ("HTTP", "SOCKS"):
        raise ValueError(f"proxy type must be HTTP or SOCKS (got '{kind}')")
    scheme = "socks5" if kind == "SOCKS" else "http"
    auth = ""
    if proxy.username is not None:
        user = quote(as_text(ctx.render(proxy.username)), safe="")
        password = "" if proxy.password is None else as_text(ctx.render(proxy.password))
        auth = f"{user}:{quote(password, safe='')}@"
    return f"{scheme}://{auth}{address}:{port}"


def build_request(
    options: RequestOptions | None, ctx: TaskContext, url: str, body: bytes
) -> Request:
    """The request that posts `body` to `url` with the rendered `options`."""
    import httpx  # imported on use: it is slow to import and most flows never send

    options = options or RequestOptions()
    charset = charset_codec(as_text(ctx.render(options.defaultCharset)))
    content_type = (
        "application/json" if charset == "utf-8" else f"application/json; charset={charset}"
    )
    headers = {"Content-Type": content_type, "Idempotency-Key": ctx.idempotency_key}
    if options.headers:
        rendered = ctx.render(dict(options.headers))
        headers.update({str(k): as_text(v) for k, v in rendered.items()})
    connect = _seconds(ctx, options.connectTimeout or _DEFAULT_CONNECT_TIMEOUT)
    # httpx's read timeout is the wait for each next bytes: the idle time, never
    # longer than the read timeout.
    read = min(_seconds(ctx, options.readTimeout), _seconds(ctx, options.readIdleTimeout))
    pool_idle = _seconds(ctx, options.connectionPoolIdleTimeout)
    return Request(
        url=url,
        body=encode_body(body, charset),
        headers=headers,
        timeout=httpx.Timeout(read, connect=connect),
        limits=httpx.Limits(keepalive_expiry=pool_idle),
        proxy=_proxy_url(ctx, options.proxy),
        max_bytes=int(as_text(ctx.render(options.maxContentLength))),
    )


async def send(request: Request) -> Response:
    import httpx  # imported on use: it is slow to import and most flows never send

    # OkHttp (behind Kestra's webhook clients) follows redirects; so do we.
    async with (
        httpx.AsyncClient(
            timeout=request.timeout,
            limits=request.limits,
            proxy=request.proxy,
            follow_redirects=True,
        ) as client,
        client.stream("POST", request.url, content=request.body, headers=request.headers) as resp,
    ):
        body = bytearray()
        async for chunk in resp.aiter_bytes():
            body += chunk
            if len(body) >= request.max_bytes:
                del body[request.max_bytes :]
                break
        return Response(resp.status_code, resp.reason_phrase, bytes(body))


def excerpt(body: bytes) -> str:
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"


def transport_error(exc: Exception, service: str, shown_url: str, request: Request) -> str:
    import httpx  # imported on use: it is slow to import and most flows never send

    where = f"{service} webhook request to {shown_url}"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"{where} timed out while connecting (after {request.timeout.connect:g}s)"
    if isinstance(exc, httpx.ReadTimeout):
        return f"{where} timed out waiting for the response (after {request.timeout.read:g}s)"
    if isinstance(exc, httpx.TimeoutException):
        return f"{where} timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"{where} failed: cannot connect ({exc or 'connection refused'})"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"{where} failed: not a valid http(s) URL ({exc})"
    return f"{where} failed: {type(exc).__name__}: {exc}"


def post_webhook(
    service: str,
    ctx: TaskContext,
    url: str,
    body: bytes,
    options: RequestOptions | None,
    shown_url: str | None = None,
) -> Outcome:
    """POST the JSON `body` to the rendered webhook `url` of `service` ("Slack", "Discord", ...).
    `shown_url`: the URL as errors show it (default: `mask_url(url)`)."""
    import httpx  # imported on use: it is slow to import and most flows never send

    shown_url = shown_url or mask_url(url)

    def masked(message: str) -> str:
        return message.replace(url, shown_url) if url else message

    try:
        request = build_request(options, ctx, url, body)
    except ValueError as exc:  # an option that renders to something unusable
        return Outcome(State.FAILED, error=masked(str(exc)))
    ctx.log("DEBUG", f"Send {service} webhook: {body.decode('utf-8')}")

    if ctx.cancelled:  # §0 decision 4: a stopped attempt sends nothing
        return Outcome(State.KILLED)
    try:
        response = run_coroutine(
            lambda: unless_cancelled(send(request), lambda: ctx.cancelled),
            f"lanner-{service.lower().replace(' ', '-')}-send",
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Outcome(
            State.FAILED, error=masked(transport_error(exc, service, shown_url, request))
        )
    except ImportError as exc:  # a SOCKS proxy without httpx's socks extra
        return Outcome(State.FAILED, error=f"{service} webhook proxy cannot be used: {exc}")
    if response is None:
        return Outcome(State.KILLED)

    ctx.log("DEBUG", f"Response: code={response.status}, body={excerpt(response.body)}")
    if not 200 <= response.status < 300:
        reason = f" {response.reason}" if response.reason else ""
        return Outcome(
            State.FAILED,
            error=masked(
                f"{service} webhook request to {shown_url} failed with status "
                f"{response.status}{reason}: {excerpt(response.body)}"
            ),
        )
    ctx.log("INFO", "Request succeeded")
    return Outcome()
