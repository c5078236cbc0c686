"""The properties of the polling triggers (docs/triggers.md, "Polling triggers"): the S3
`Trigger` and the JDBC `Trigger` of each JDBC family. Their trigger models are put
together in model/triggers.py with the properties every trigger has.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from lanner.model.awss3 import S3Actions, S3Connection
from lanner.model.common import DurationLike, DynamicInt, Model, Text, is_dynamic, parse_duration
from lanner.model.unsupported import unsupported

S3_TRIGGER = "io.kestra.plugin.aws.s3.Trigger"
JDBC_FAMILIES = ("postgresql", "mysql", "mariadb", "sqlite", "duckdb")
JDBC_TRIGGERS = {f"io.kestra.plugin.jdbc.{family}.Trigger": family for family in JDBC_FAMILIES}
"""Each JDBC Trigger type name -> its family (the driver it uses)."""

POLLING_REASONS = {
    "conditions": "a polling trigger evaluates no conditions here; put the test in the"
    " query (JDBC) or the listing's prefix/regexp (S3)",
    "workerGroup": "worker groups are a Kestra Enterprise feature",
    "logToFile": "a polling trigger writes no logs of its own",
    "allowConcurrent": "each evaluation starts its execution whatever runs already;"
    " limit runs with the flow's `concurrency`",
    "failOnTriggerError": "a failed evaluation is logged and tried again at the next interval",
}


class Polling(Model):
    """What every polling trigger has: how often it is evaluated."""

    interval: DurationLike = Field(
        "PT1M", description="How often the trigger is evaluated (ISO-8601 duration)."
    )
    conditions: Any = None
    workerGroup: Any = None
    logToFile: Any = None
    allowConcurrent: Any = None
    failOnTriggerError: Any = None
    assets: Any = None
    version: Any = None

    _polling_not_supported = unsupported(
        "conditions",
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
    def _url(cls, value: str) -> str:
        if not is_dynamic(value) and not value.startswith("jdbc:"):
            raise ValueError(f"url must be a JDBC URL (jdbc:...), got {value!r}")
        return value
