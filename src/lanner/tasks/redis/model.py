"""The properties of the Redis task types, as Kestra names them."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from lanner.model.brokers import RedisConnection, SerdeType
from lanner.model.common import DurationLike, DynamicBool, DynamicInt, Model, Text
from lanner.model.task import Task


class RedisTask(Task, RedisConnection):
    type: str


class ListPush(RedisTask):
    """Append elements to the end of a list (RPUSH)."""

    key: Text = Field(min_length=1, description="The list's key.")
    from_: list[Any] | Text = Field(
        alias="from",
        description="The elements: a list, a JSON array as text, or a kestra:// URI of an"
        " Ion file (one element per row).",
    )
    serdeType: SerdeType = Field(SerdeType.STRING, description="How an element is written.")
    flushKey: DynamicBool = Field(False, description="Delete the list before pushing.")


class ListPop(RedisTask):
    """Pop elements from the head of a list (LPOP) into an Ion file."""

    key: Text = Field(min_length=1, description="The list's key.")
    serdeType: SerdeType = Field(SerdeType.STRING, description="How an element is read.")
    count: DynamicInt = Field(100, description="Elements popped at once.")
    maxRecords: DynamicInt | None = Field(None, description="Stop after this many elements.")
    maxDuration: DurationLike | None = Field(None, description="Stop after this long.")

    @model_validator(mode="after")
    def _bounded(self) -> ListPop:
        if self.maxRecords is None and self.maxDuration is None:
            raise ValueError("give maxRecords or maxDuration: ListPop must end")
        return self


class SetOptions(Model):
    expirationDuration: DurationLike | None = Field(None, description="Expire after this long.")
    expirationDate: Text | None = Field(None, description="Expire at this date-time.")
    mustNotExist: bool = Field(False, description="Set only a key that does not exist (NX).")
    mustExist: bool = Field(False, description="Set only a key that exists (XX).")
    keepTtl: bool = Field(False, description="Keep the key's time to live (KEEPTTL).")


class StringSet(RedisTask):
    """Set a key's string value (SET)."""

    key: Text = Field(min_length=1, description="The key.")
    value: Any = Field(description="The value: text, or with serdeType JSON any value.")
    serdeType: SerdeType = Field(SerdeType.STRING, description="How the value is written.")
    get: DynamicBool = Field(False, description="Return the old value as `oldValue`.")
    options: SetOptions = Field(default_factory=SetOptions, description="SET's options.")


class StringGet(RedisTask):
    """Get a key's string value (GET)."""

    key: Text = Field(min_length=1, description="The key.")
    serdeType: SerdeType = Field(SerdeType.STRING, description="How the value is read.")


class StringDelete(RedisTask):
    """Delete keys (DEL)."""

    keys: list[Text] | Text = Field(description="The keys to delete.")
    failedOnMissing: DynamicBool = Field(False, description="Fail when a key was not there.")


class PubSubPublish(RedisTask):
    """Publish values to a channel (PUBLISH), one message each."""

    channel: Text = Field(min_length=1, description="The channel.")
    from_: list[Any] | Text = Field(
        alias="from",
        description="The values: a list, a JSON array as text, or a kestra:// URI of an"
        " Ion file (one value per row).",
    )
    serdeType: SerdeType = Field(SerdeType.STRING, description="How a value is written.")
