"""The HTTP request properties Kestra's HTTP task types and the HTTP `Trigger` share:
`options` (Kestra's `HttpConfiguration`, deprecated flat names included) and the
checks of `method` and `uri`. Pure models: tasks/http renders and sends them, the
trigger runtime polls with them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from lanner.model.common import DurationLike, DynamicBool, DynamicInt, Model, Text

LOG_PARTS = ("REQUEST_HEADERS", "REQUEST_BODY", "RESPONSE_HEADERS", "RESPONSE_BODY")

METHODS = ("OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "PATCH")
_UNSUPPORTED_METHODS = {
    "CONNECT": "CONNECT opens a tunnel through a proxy; it is not a request Lanner sends",
    "CUSTOM": "Kestra's CUSTOM method has no documented meaning; give the method's name",
}
MULTIPART = "multipart/form-data"


def check_method(value: str) -> str:
    """ValueError unless `value` is a method Lanner sends."""
    upper = value.strip().upper()
    if upper in _UNSUPPORTED_METHODS:
        raise ValueError(f"method {upper} is not supported here: {_UNSUPPORTED_METHODS[upper]}")
    if upper not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)} (got '{value}')")
    return upper


def check_url(value: str, where: str = "uri") -> str:
    """ValueError unless `value` is an absolute http(s) URL."""
    try:
        parts = urlsplit(value.strip())
    except ValueError as exc:
        raise ValueError(f"{where} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{where} must be an absolute http:// or https:// URL (got '{value}')")
    return value


class BasicAuth(Model):
    type: Literal["BASIC"]
    username: Text | None = Field(None, description="The user name.")
    password: Text | None = Field(None, description="The password.")


class DigestAuth(Model):
    type: Literal["DIGEST"]
    username: Text | None = Field(None, description="The user name.")
    password: Text | None = Field(None, description="The password.")


class BearerAuth(Model):
    type: Literal["BEARER"]
    token: Text | None = Field(None, description="The token, sent as `Authorization: Bearer`.")


Auth = Annotated[BasicAuth | DigestAuth | BearerAuth, Field(discriminator="type")]


class TimeoutOptions(Model):
    connectTimeout: DurationLike | None = Field(
        None, description="The time allowed to establish a connection (no limit by default)."
    )
    readIdleTimeout: DurationLike | None = Field(
        None, description="The time a read may wait for the next bytes (PT5M by default)."
    )


class ProxyOptions(Model):
    type: Text = Field("HTTP", description="HTTP (default), SOCKS or DIRECT (no proxy).")
    address: Text | None = Field(None, description="The proxy host name or IP address.")
    port: DynamicInt | None = Field(None, description="The proxy port.")
    username: Text | None = Field(None, description="The user name for proxy authentication.")
    password: Text | None = Field(None, description="The password for proxy authentication.")


class SslOptions(Model):
    insecureTrustAllCertificates: DynamicBool | None = Field(
        None, description="Accept any server certificate (for test servers only)."
    )


class HttpOptions(Model):
    """Kestra's `options` of the HTTP tasks."""

    timeout: TimeoutOptions | None = Field(None, description="Connection and read timeouts.")
    proxy: ProxyOptions | None = Field(None, description="An outbound proxy.")
    auth: Auth | None = Field(None, description="BASIC, DIGEST or BEARER authentication.")
    ssl: SslOptions | None = Field(None, description="TLS options.")
    followRedirects: DynamicBool = Field(True, description="Follow redirects (default true).")
    allowFailed: DynamicBool = Field(
        False, description="Accept any response code, 4xx and 5xx included."
    )
    allowedResponseCodes: list[DynamicInt] | str | None = Field(
        None,
        description="The response codes accepted; any other fails the task (unless allowFailed).",
    )
    defaultCharset: Text = Field("UTF-8", description="The charset the request body is sent in.")
    logs: list[Literal[LOG_PARTS]] | None = Field(  # type: ignore[valid-type]
        None,
        description="What to log: REQUEST_HEADERS, REQUEST_BODY, RESPONSE_HEADERS, RESPONSE_BODY.",
    )
    # Deprecated names, folded into the ones above as Kestra does.
    connectTimeout: DurationLike | None = Field(None, description="Deprecated: timeout.")
    readTimeout: DurationLike | None = Field(None, description="Deprecated: timeout.")
    readIdleTimeout: DurationLike | None = Field(None, description="Deprecated: timeout.")
    connectionPoolIdleTimeout: DurationLike | None = Field(
        None, description="Deprecated: how long an idle connection stays pooled."
    )
    maxContentLength: DynamicInt | None = Field(
        None, description="The most response bytes Request keeps (10 MB by default)."
    )
    basicAuthUser: Text | None = Field(None, description="Deprecated: auth BASIC.")
    basicAuthPassword: Text | None = Field(None, description="Deprecated: auth BASIC.")
    proxyType: Text | None = Field(None, description="Deprecated: proxy.type.")
    proxyAddress: Text | None = Field(None, description="Deprecated: proxy.address.")
    proxyPort: DynamicInt | None = Field(None, description="Deprecated: proxy.port.")
    proxyUsername: Text | None = Field(None, description="Deprecated: proxy.username.")
    proxyPassword: Text | None = Field(None, description="Deprecated: proxy.password.")
    logLevel: Literal["ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF", "NOT_SPECIFIED"] | (
        None
    ) = Field(None, description="Deprecated: logs.")

    @field_validator("allowedResponseCodes")
    @classmethod
    def _codes(cls, v: Any) -> Any:
        # A string is an expression, or (on a worker) what one rendered to: a JSON list.
        if isinstance(v, str) and "{{" not in v:
            try:
                parsed = json.loads(v)
            except ValueError:
                parsed = None
            if not isinstance(parsed, list) or not all(
                isinstance(c, int) and not isinstance(c, bool) for c in parsed
            ):
                raise ValueError(
                    "allowedResponseCodes is a list of response codes, like [200, 404]"
                )
            return parsed
        return v
