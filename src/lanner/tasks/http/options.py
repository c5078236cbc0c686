"""The HTTP client options of `Request` and `Download` (Kestra's `HttpConfiguration`).

The models hold `options` as a flow gives it, its deprecated flat names
(`basicAuthUser`, `connectTimeout`, `proxyAddress`, ...) included, since
published flows still use them. :func:`resolve_options` renders them into
one :class:`ClientSettings`, where each deprecated name has been folded into
its current place (`basicAuthUser` -> `auth` BASIC, `readTimeout` ->
`timeout.readIdleTimeout`, ...), as Kestra's builder does.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lanner.model.common import parse_duration
from lanner.model.httpoptions import LOG_PARTS as LOG_PARTS
from lanner.model.httpoptions import (
    BasicAuth,
    BearerAuth,
    HttpOptions,
    ProxyOptions,
    TimeoutOptions,
)
from lanner.model.httpoptions import DigestAuth as DigestAuth
from lanner.model.httpoptions import SslOptions as SslOptions
from lanner.plugin import TaskContext
from lanner.tasks.core.log import as_text

DEFAULT_READ_IDLE = "PT5M"  # Kestra's TimeoutConfiguration default
DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024 * 1024  # Request keeps at most 10 MB of a body by default
# The deprecated `logLevel`, as Kestra's builder maps it onto `logs`.
_LOG_LEVEL_PARTS: dict[str, tuple[str, ...]] = {
    "TRACE": LOG_PARTS,
    "DEBUG": ("REQUEST_HEADERS", "RESPONSE_HEADERS"),
    "INFO": ("RESPONSE_HEADERS",),
}


# --- rendered ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientSettings:
    """`options` rendered, deprecated names folded in."""

    connect_timeout: float | None
    read_timeout: float
    pool_idle: float
    max_content_length: int
    follow_redirects: bool
    allow_failed: bool
    allowed_codes: frozenset[int] | None
    charset: str  # the Python codec
    charset_name: str  # as the flow names it, for the Content-Type header
    auth: tuple[str, str, str] | None  # (BASIC | DIGEST, user, password) or (BEARER, token, "")
    proxy: str | None
    verify: bool
    logs: frozenset[str]

    def accepts(self, code: int) -> bool:
        """Whether a response with this code is a success of the task."""
        if self.allow_failed:
            return True
        if self.allowed_codes is not None:
            return code in self.allowed_codes
        return code < 400


def _text(ctx: TaskContext, value: Any) -> str:
    return as_text(ctx.render(value))


def _bool(ctx: TaskContext, value: bool | str, name: str) -> bool:
    if isinstance(value, bool):
        return value
    rendered = ctx.render(value)
    if isinstance(rendered, bool):
        return rendered
    text = as_text(rendered).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"options.{name} must render to true or false (got '{text}')")
    return text == "true"


def _int(ctx: TaskContext, value: int | str, name: str) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(_text(ctx, value).strip())
    except ValueError:
        raise ValueError(f"{name} must render to an integer") from None


def _seconds(ctx: TaskContext, value: str | None) -> float | None:
    if value is None:
        return None
    return max(parse_duration(_text(ctx, value)).total_seconds(), 0.0)


def charset(name: str) -> str:
    """The Python codec of a charset name; ValueError when it is unknown."""
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        raise ValueError(f"options.defaultCharset: unknown charset '{name}'") from None


def _codes(ctx: TaskContext, value: list[int | str] | str | None) -> frozenset[int] | None:
    if value is None:
        return None
    items: Any = ctx.render(value) if isinstance(value, str) else value
    if isinstance(items, str):
        import json

        try:
            items = json.loads(items)
        except ValueError:
            items = None
    if not isinstance(items, list):
        raise ValueError("options.allowedResponseCodes must render to a list of response codes")
    return frozenset(_int(ctx, v, "options.allowedResponseCodes") for v in items)


def _auth(ctx: TaskContext, options: HttpOptions) -> tuple[str, str, str] | None:
    auth = options.auth
    if auth is None and (options.basicAuthUser is not None or options.basicAuthPassword):
        auth = BasicAuth(
            type="BASIC", username=options.basicAuthUser, password=options.basicAuthPassword
        )
    if auth is None:
        return None
    if isinstance(auth, BearerAuth):
        return ("BEARER", "" if auth.token is None else _text(ctx, auth.token), "")
    user = "" if auth.username is None else _text(ctx, auth.username)
    password = "" if auth.password is None else _text(ctx, auth.password)
    return (auth.type, user, password)


def _proxy(ctx: TaskContext, options: HttpOptions) -> str | None:
    proxy = options.proxy
    if proxy is None and options.proxyAddress is not None:
        proxy = ProxyOptions(
            type=options.proxyType or "HTTP",
            address=options.proxyAddress,
            port=options.proxyPort,
            username=options.proxyUsername,
            password=options.proxyPassword,
        )
    if proxy is None or proxy.address is None:
        return None
    kind = _text(ctx, proxy.type).strip().upper()
    if kind == "DIRECT":
        return None
    if kind not in ("HTTP", "SOCKS"):
        raise ValueError(f"options.proxy.type must be HTTP, SOCKS or DIRECT (got '{kind}')")
    if proxy.port is None:
        raise ValueError("options.proxy needs a port")
    address = _text(ctx, proxy.address)
    port = _int(ctx, proxy.port, "options.proxy.port")
    auth = ""
    if proxy.username is not None:
        user = quote(_text(ctx, proxy.username), safe="")
        password = "" if proxy.password is None else _text(ctx, proxy.password)
        auth = f"{user}:{quote(password, safe='')}@"
    scheme = "socks5" if kind == "SOCKS" else "http"
    return f"{scheme}://{auth}{address}:{port}"


def resolve_options(ctx: TaskContext, options: HttpOptions | None) -> ClientSettings:
    """The rendered client settings; ValueError names an option that renders wrong."""
    o = options or HttpOptions()
    timeout = o.timeout or TimeoutOptions()
    connect = _seconds(ctx, timeout.connectTimeout or o.connectTimeout)
    read = _seconds(ctx, timeout.readIdleTimeout or o.readIdleTimeout or o.readTimeout)
    logs = set(o.logs or ())
    if o.logLevel is not None:
        logs |= set(_LOG_LEVEL_PARTS.get(o.logLevel, ()))
    if o.logLevel == "ALL":
        logs |= set(LOG_PARTS)
    return ClientSettings(
        connect_timeout=connect,
        read_timeout=read if read is not None else parse_duration(DEFAULT_READ_IDLE).seconds,
        pool_idle=_seconds(ctx, o.connectionPoolIdleTimeout) or 0.0,
        max_content_length=(
            DEFAULT_MAX_CONTENT_LENGTH
            if o.maxContentLength is None
            else _int(ctx, o.maxContentLength, "options.maxContentLength")
        ),
        follow_redirects=_bool(ctx, o.followRedirects, "followRedirects"),
        allow_failed=_bool(ctx, o.allowFailed, "allowFailed"),
        allowed_codes=_codes(ctx, o.allowedResponseCodes),
        charset=charset(_text(ctx, o.defaultCharset)),
        charset_name=_text(ctx, o.defaultCharset).strip(),
        auth=_auth(ctx, o),
        proxy=_proxy(ctx, o),
        verify=not (
            o.ssl is not None
            and o.ssl.insecureTrustAllCertificates is not None
            and _bool(ctx, o.ssl.insecureTrustAllCertificates, "ssl.insecureTrustAllCertificates")
        ),
        logs=frozenset(logs),
    )
