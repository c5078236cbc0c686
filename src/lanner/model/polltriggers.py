"""The properties of the polling triggers (docs/triggers.md, "Polling triggers"): the S3
`Trigger`, the JDBC `Trigger` of each JDBC family and the HTTP `Trigger`. Their trigger models are put
together in model/triggers.py with the properties every trigger has.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from lanner.model.awss3 import S3Actions, S3Connection
from lanner.model.common import DurationLike, DynamicInt, Model, Text, is_dynamic, parse_duration
from lanner.model.httpoptions import HttpOptions, SslOptions, check_method, check_url
from lanner.model.unsupported import unsupported

S3_TRIGGER = "io.kestra.plugin.aws.s3.Trigger"
JDBC_FAMILIES = ("postgresql", "mysql", "mariadb", "sqlite", "duckdb")
JDBC_TRIGGERS = {f"io.kestra.plugin.jdbc.{family}.Trigger": family for family in JDBC_FAMILIES}
"""Each JDBC Trigger type name -> its family (the driver it uses)."""
HTTP_TRIGGER = "io.kestra.plugin.core.http.Trigger"
HTTP_TRIGGER_ALIASES = {"io.kestra.plugin.fs.http.Trigger": HTTP_TRIGGER}

POLLING_REASONS = {
    "workerGroup": "worker groups are a Kestra Enterprise feature",
    "logToFile": "a polling trigger writes no logs of its own",
    "allowConcurrent": "each evaluation starts its execution whatever runs already"
    " (`allowConcurrent: true`); limit runs with the flow's `concurrency`",
    "failOnTriggerError": "a failed evaluation is logged and tried again at the next interval",
}


class Polling(Model):
    """What every polling trigger has: how often it is evaluated."""

    interval: DurationLike = Field(
        "PT1M", description="How often the trigger is evaluated (ISO-8601 duration)."
    )
    workerGroup: Any = None
    logToFile: Any = None
    allowConcurrent: Any = None
    failOnTriggerError: Any = None
    assets: Any = None
    version: Any = None

    _polling_not_supported = unsupported(
        "workerGroup",
        "logToFile",
        "allowConcurrent",
        "failOnTriggerError",
        "assets",
        "version",
        reasons=POLLING_REASONS,
    )

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: Any) -> Any:
        if isinstance(value, str) and parse_duration(value).total_seconds() < 1:
            raise ValueError(f"interval must be at least PT1S, got {value}")
        return value


class S3TriggerProperties(Polling, S3Connection, S3Actions):
    """The S3 Trigger: list, fetch the new objects, start one execution, then act."""

    on: Text = Field(
        "CREATE_OR_UPDATE",
        description="With action NONE: fire for new keys (CREATE), changed ones (UPDATE) or both.",
    )

    @field_validator("on")
    @classmethod
    def _on(cls, value: str) -> str:
        if value not in OnEvent.__members__:
            raise ValueError(f"on must be one of {', '.join(OnEvent)}, got {value!r}")
        return value


class OnEvent(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    CREATE_OR_UPDATE = "CREATE_OR_UPDATE"


class FetchType(StrEnum):
    FETCH = "FETCH"
    FETCH_ONE = "FETCH_ONE"
    STORE = "STORE"
    NONE = "NONE"


_JDBC_DATABASES = ("postgresql", "mysql", "mariadb", "sqlite", "duckdb")


class JdbcTriggerProperties(Polling):
    """A JDBC Trigger: run `sql` every interval; rows start an execution."""

    url: Text = Field(description="The JDBC URL, e.g. jdbc:postgresql://127.0.0.1:5432/db.")
    username: Text | None = Field(None, description="The user to connect as.")
    password: Text | None = Field(None, description="The user's password.")
    sql: Text = Field(description="The query; the trigger fires when it returns rows.")
    parameters: dict[str, Any] | Text | None = Field(
        None, description="Values of the named parameters (`:name` in `sql`)."
    )
    fetchType: FetchType = Field(
        FetchType.NONE, description="FETCH (trigger.rows), FETCH_ONE (trigger.row), STORE, NONE."
    )
    fetchSize: DynamicInt = Field(10000, description="Rows read from the driver at a time.")
    timeZoneId: Text | None = Field(None, description="The zone timestamps are shown in.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        if is_dynamic(value):
            return value
        if not value.startswith("jdbc:"):
            raise ValueError(f"url must be a JDBC URL (jdbc:...), got {value!r}")
        # The database is the type's (io.kestra.plugin.jdbc.<db>.Trigger), as the
        # query's driver is: another one's URL could never connect.
        parts = str(info.data.get("type", "")).split(".")
        db = parts[4] if len(parts) == 6 and parts[3] == "jdbc" else ""
        if db in _JDBC_DATABASES and not value.lower().startswith(f"jdbc:{db}:"):
            raise ValueError(f"{value!r} is not a {db} JDBC URL (jdbc:{db}:...)")
        return value


_HTTP_REASONS = {
    "params": "Kestra's Trigger declares it without sending it; give the query string in `uri`",
}
_ALL_CODES = (
    "the HTTP Trigger accepts every response code (as Kestra's does); test the code in"
    " `responseCondition`, e.g. {{ response.statusCode == 200 }}"
)


class HttpTriggerProperties(Polling):
    """The HTTP Trigger: send a request every interval; start an execution when
    `responseCondition` is true for the response."""

    uri: Text = Field(min_length=1, description="The absolute http(s) URL to call.")
    method: Text = Field("GET", description="The HTTP method (GET, POST, PUT, ...).")
    body: Text | None = Field(None, description="The request body, as text.")
    formData: dict[str, Any] | str | None = Field(
        None, description="A form: URL-encoded, or multipart when contentType says so."
    )
    contentType: Text = Field("application/json", description="The request's Content-Type.")
    headers: dict[str, Text] | str | None = Field(None, description="Request headers.")
    options: HttpOptions | None = Field(None, description="HTTP client options.")
    sslOptions: SslOptions | None = Field(None, description="Deprecated: options.ssl.")
    responseCondition: Text = Field(
        "{{ response.statusCode < 400 }}",
        description="Starts an execution when truthy; sees response.statusCode, .body, .headers.",
    )
    encryptBody: Any = Field(False, description="Only false: see docs/triggers.md.")
    params: Any = None

    _http_not_supported = unsupported("params", reasons=_HTTP_REASONS)

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        return v if is_dynamic(v) else check_method(v)

    @field_validator("uri")
    @classmethod
    def _uri(cls, v: str) -> str:
        return v if is_dynamic(v) else check_url(v)

    @field_validator("encryptBody")
    @classmethod
    def _encrypt(cls, v: Any) -> bool:
        if v is False or v == "false":
            return False
        # trigger.* is stored with the execution as it is: there is no sealed place for
        # the body there, and a body kept in clear would not be what the flow asked for.
        raise ValueError(
            "encryptBody: true is not supported here: the trigger's variables are stored"
            " with the execution unsealed; fetch the secret body with an"
            " io.kestra.plugin.core.http.Request task with encryptBody: true"
        )

    @model_validator(mode="after")
    def _every_code(self) -> HttpTriggerProperties:
        options = self.options
        if options is not None:
            for name in ("allowFailed", "allowedResponseCodes"):
                if name in options.model_fields_set:
                    raise ValueError(f"options.{name} is not supported here: {_ALL_CODES}")
        return self
