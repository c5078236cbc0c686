"""The properties of the AMQP task types, as Kestra names them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from lanner.model.brokers import AmqpConnection, SerdeType
from lanner.model.common import DurationLike, DynamicBool, DynamicInt, Model, Text
from lanner.model.task import Task


class AmqpTask(Task, AmqpConnection):
    type: str


class OutgoingMessage(Model):
    """One message of Publish's `from`: `data` and AMQP's basic properties."""

    data: Any = None
    headers: dict[str, Any] | None = None
    contentType: Text | None = None
    contentEncoding: Text | None = None
    deliveryMode: int | None = Field(None, ge=1, le=2)
    priority: int | None = Field(None, ge=0, le=255)
    messageId: Text | None = None
    correlationId: Text | None = None
    replyTo: Text | None = None
    expiration: DurationLike | None = None
    timestamp: Text | None = None
    type: Text | None = None
    userId: Text | None = None
    appId: Text | None = None


def _one_as_list(value: Any) -> Any:
    # One message may be given as a map: a list of one (its errors are then located).
    return [value] if isinstance(value, dict) else value


class Publish(AmqpTask):
    """Publish messages to an exchange."""

    exchange: Text = Field(description="The exchange to publish to ('' is the default one).")
    routingKey: Text | None = Field(None, description="The routing key.")
    from_: Annotated[list[OutgoingMessage] | Text, BeforeValidator(_one_as_list)] = Field(
        alias="from",
        description="The messages: a list of {data, headers, ...}, one such map, a JSON"
        " string of either, or a kestra:// URI of an Ion file of them.",
    )
    serdeType: SerdeType = Field(SerdeType.STRING, description="How `data` is written.")


class Consume(AmqpTask):
    """Consume messages from a queue into an Ion file of internal storage."""

    queue: Text = Field(min_length=1, description="The queue to consume.")
    consumerTag: Text = Field("Kestra", description="The consumer tag.")
    serdeType: SerdeType = Field(SerdeType.STRING, description="How a body is read.")
    autoAck: DynamicBool = Field(
        False, description="Acknowledge on delivery (false: once the file is stored)."
    )
    maxRecords: DynamicInt | None = Field(None, description="Stop after this many messages.")
    maxDuration: DurationLike | None = Field(None, description="Stop after this long.")

    @model_validator(mode="after")
    def _bounded(self) -> Consume:
        if self.maxRecords is None and self.maxDuration is None:
            raise ValueError("give maxRecords or maxDuration: Consume must end")
        return self


class CreateQueue(AmqpTask):
    """Declare a queue (idempotent when it exists with the same settings)."""

    name: Text = Field(min_length=1, description="The queue's name.")
    durability: DynamicBool = Field(True, description="The queue survives a broker restart.")
    exclusive: DynamicBool = Field(False, description="Restricted to this connection.")
    autoDelete: DynamicBool = Field(False, description="Deleted when its last consumer goes.")
    args: dict[str, Any] | None = Field(None, description="x-arguments of the queue.")


class ExchangeType(StrEnum):
    DIRECT = "DIRECT"
    FANOUT = "FANOUT"
    TOPIC = "TOPIC"
    HEADERS = "HEADERS"


class DeclareExchange(AmqpTask):
    """Declare an exchange."""

    name: Text = Field(min_length=1, description="The exchange's name.")
    exchangeType: ExchangeType = Field(ExchangeType.DIRECT, description="How it routes.")
    durability: DynamicBool = Field(True, description="It survives a broker restart.")
    autoDelete: DynamicBool = Field(False, description="Deleted when no queue is bound.")
    internal: DynamicBool = Field(False, description="Publishers cannot publish to it.")
    args: dict[str, Any] | None = Field(None, description="x-arguments of the exchange.")


class QueueBind(AmqpTask):
    """Bind a queue to an exchange."""

    exchange: Text = Field(min_length=1, description="The exchange.")
    queue: Text = Field(min_length=1, description="The queue.")
    routingKey: Text | None = Field(None, description="The binding's routing key.")
    args: dict[str, Any] | None = Field(None, description="Arguments of the binding.")
