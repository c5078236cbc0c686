"""The properties of the NATS task types, as Kestra names them."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from lanner.model.brokers import NatsConnection, NatsConsumer
from lanner.model.common import DurationLike, DynamicInt, Text
from lanner.model.task import Task


class Produce(Task, NatsConnection):
    """Publish messages to a subject (to JetStream when a stream holds it)."""

    type: str
    subject: Text = Field(min_length=1, description="The subject.")
    from_: Any = Field(
        alias="from",
        description="The messages: a map {headers, data}, a list of them, or a kestra:// URI"
        " of an Ion file of them.",
    )


class Consume(Task, NatsConsumer):
    """Consume a JetStream subject into an Ion file."""

    type: str
    pollDuration: DurationLike = Field("PT2S", description="How long one fetch waits.")
    maxRecords: DynamicInt | None = Field(None, description="Stop after this many messages.")
    maxDuration: DurationLike | None = Field(None, description="Stop after this long.")

    @model_validator(mode="after")
    def _bounded(self) -> Consume:
        if self.maxRecords is None and self.maxDuration is None:
            raise ValueError("give maxRecords or maxDuration: Consume must end")
        return self
