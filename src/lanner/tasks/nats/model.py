"""The properties of the NATS task types, as Kestra names them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

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


# ---- Key/Value buckets (io.kestra.plugin.nats.kv.*)


class CreateBucket(Task, NatsConnection):
    """Create a Key/Value bucket."""

    type: str
    name: Text = Field(min_length=1, description="The bucket's name.")
    description: Text | None = Field(None, description="What the bucket is for.")
    metadata: dict[str, Text] | None = Field(None, description="The bucket's metadata.")
    historyPerKey: DynamicInt = Field(1, description="Values kept per key (1 to 64).")
    bucketSize: DynamicInt | None = Field(None, description="The bucket's size limit, in bytes.")
    valueSize: DynamicInt | None = Field(None, description="A value's size limit, in bytes.")


def _merged(value: Any) -> Any:
    # Kestra's older example writes the pairs as a list of one-pair maps.
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return {k: v for pair in value for k, v in pair.items()}
    return value


class KvPut(Task, NatsConnection):
    """Put values (as JSON) into a Key/Value bucket."""

    type: str
    bucketName: Text = Field(min_length=1, description="The bucket's name.")
    values: Annotated[dict[str, Any], BeforeValidator(_merged)] = Field(
        description="The key/value pairs; each value is stored as JSON."
    )


class KvGet(Task, NatsConnection):
    """Get the values of keys (at a revision with keyRevisions)."""

    type: str
    bucketName: Text = Field(min_length=1, description="The bucket's name.")
    keys: list[Text] | Text | None = Field(None, description="The keys to read.")
    keyRevisions: Annotated[dict[str, DynamicInt] | None, BeforeValidator(_merged)] = Field(
        None, description="Keys to read at a revision: key -> revision."
    )

    @model_validator(mode="after")
    def _something(self) -> KvGet:
        if self.keys is None and self.keyRevisions is None:
            raise ValueError("give `keys` (or `keyRevisions`): the keys to read")
        return self


class KvDelete(Task, NatsConnection):
    """Delete keys from a Key/Value bucket (their history keeps a delete marker)."""

    type: str
    bucketName: Text = Field(min_length=1, description="The bucket's name.")
    keys: list[Text] | Text = Field(description="The keys to delete.")
