"""What `Request` and `Download` share: the properties of an HTTP request
(Kestra's `AbstractHttp`) and how they become one request to send.

The body is, in Kestra's order: `formData` when it is not empty (a
multipart body when `contentType` is `multipart/form-data`, else a
URL-encoded form), else `body` (sent in `options.defaultCharset`, with
`contentType` and that charset as its Content-Type), else no body, with
`contentType` as the Content-Type header all the same. `headers` come last
and win over any header set before them.
"""

from __future__ import annotations

import json
import posixpath
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from lanner.model.common import DynamicBool, Text, is_dynamic
from lanner.model.httpoptions import METHODS as METHODS
from lanner.model.httpoptions import MULTIPART, HttpOptions, SslOptions, check_method, check_url
from lanner.model.task import Task
from lanner.plugin import TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.http.options import ClientSettings, resolve_options


class HttpTask(Task):
    """The request properties of Kestra's HTTP tasks (`AbstractHttp`)."""

    type: str
    uri: Text = Field(min_length=1, description="The absolute http(s) URL to call.")
    method: Text = Field("GET", description="The HTTP method (GET, POST, PUT, ...).")
    body: Text | None = Field(None, description="The request body, as text.")
    formData: dict[str, Any] | str | None = Field(
        None,
        description="A form: URL-encoded, or multipart when contentType is multipart/form-data"
        " (a kestra:// URI value, or {name, content}, sends a file).",
    )
    contentType: Text = Field("application/json", description="The request's Content-Type.")
    headers: dict[str, Text] | str | None = Field(None, description="Request headers.")
    options: HttpOptions | None = Field(None, description="HTTP client options.")
    allowFailed: DynamicBool | None = Field(None, description="Deprecated: options.allowFailed.")
    sslOptions: SslOptions | None = Field(None, description="Deprecated: options.ssl.")

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        return v if is_dynamic(v) else check_method(v)

    @field_validator("uri")
    @classmethod
    def _uri(cls, v: str) -> str:
        # Only a literal URL can be checked now; an expression is checked once rendered.
        return v if is_dynamic(v) else check_url(v)

    @model_validator(mode="after")
    def _deprecated(self) -> HttpTask:
        options = self.options
        if self.allowFailed is not None and options and "allowFailed" in options.model_fields_set:
            raise ValueError(
                "give allowFailed in options only (the task-level one is its old place)"
            )
        return self

    def client_options(self) -> HttpOptions | None:
        """`options` with the deprecated task-level `allowFailed` and `sslOptions` folded in."""
        update: dict[str, Any] = {}
        if self.allowFailed is not None:
            update["allowFailed"] = self.allowFailed
        if self.sslOptions is not None and (self.options is None or self.options.ssl is None):
            update["ssl"] = self.sslOptions
        if not update:
            return self.options
        return (self.options or HttpOptions()).model_copy(update=update)


@dataclass
class Prepared:
    """One request ready to send; `files` are open and closed by `closer`."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    content: bytes | None
    form: dict[str, str] | None
    # Multipart parts: (field, (file name, content)); a plain field has no file name.
    files: list[tuple[str, tuple[str | None, BinaryIO | str]]]
    settings: ClientSettings
    closer: ExitStack


def _form_value(value: Any) -> str:
    # Non-text values are sent as their JSON text, as Kestra does.
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _file_name(uri: str) -> str:
    return posixpath.basename(unquote(urlsplit(uri).path)) or "file"


def _rendered_map(
    ctx: TaskContext, value: dict[str, Any] | str | None, name: str
) -> dict[str, Any]:
    if value is None:
        return {}
    rendered = ctx.render(value)
    if isinstance(rendered, str):
        try:
            rendered = json.loads(rendered) if rendered.strip() else {}
        except ValueError:
            rendered = None
    if not isinstance(rendered, dict):
        raise ValueError(f"{name} must be a map (or render to a JSON object)")
    return {str(k): v for k, v in rendered.items()}


def rendered_bool(ctx: TaskContext, value: bool | str) -> bool:
    """A DynamicBool property's value (an expression rendering to true or false)."""
    if isinstance(value, bool):
        return value
    return as_text(ctx.render(value)).strip().lower() == "true"


def prepare(task: HttpTask, ctx: TaskContext) -> Prepared:
    """The request the task's properties describe; ValueError names a property that
    renders to something unusable. Files it opened are closed by `closer`."""
    closer = ExitStack()
    try:
        return _prepare(task, ctx, closer)
    except BaseException:
        closer.close()
        raise


def _prepare(task: HttpTask, ctx: TaskContext, closer: ExitStack) -> Prepared:
    settings = resolve_options(ctx, task.client_options())
    # Kestra encodes the common case of spaces in a URL; other characters must be encoded.
    url = check_url(as_text(ctx.render(task.uri)).strip().replace(" ", "%20"))
    method = check_method(as_text(ctx.render(task.method)))
    content_type = as_text(ctx.render(task.contentType)).strip()
    headers: list[tuple[str, str]] = []
    content: bytes | None = None
    form: dict[str, str] | None = None
    files: list[tuple[str, tuple[str | None, BinaryIO | str]]] = []
    form_data = _rendered_map(ctx, task.formData, "formData")
    if form_data and content_type.lower() == MULTIPART:
        for key, value in form_data.items():
            if isinstance(value, str) and value.startswith("kestra://"):
                files.append((key, (_file_name(value), closer.enter_context(ctx.open_file(value)))))
            elif isinstance(value, dict) and "name" in value and "content" in value:
                uri = as_text(value["content"])
                stream = closer.enter_context(ctx.open_file(uri))
                files.append((key, (posixpath.basename(as_text(value["name"])), stream)))
            else:
                files.append((key, (None, _form_value(value))))
    elif form_data:
        form = {k: _form_value(v) for k, v in form_data.items()}
    elif task.body is not None:
        content = as_text(ctx.render(task.body)).encode(settings.charset)
        headers.append(("Content-Type", f"{content_type}; charset={settings.charset_name}"))
    elif content_type:
        headers.append(("Content-Type", content_type))
    for name, value in _rendered_map(ctx, task.headers, "headers").items():
        headers = [(n, v) for n, v in headers if n.lower() != name.lower()]
        headers.append((name, as_text(value)))
    return Prepared(method, url, headers, content, form, files, settings, closer)
