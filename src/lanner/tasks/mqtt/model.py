"""The properties of the MQTT task types, as Kestra names them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from lanner.model.brokers import MqttConnection, MqttSerdeType, topic_list
from lanner.model.common import DurationLike, DynamicBool, DynamicInt, Text
from lanner.model.task import Task


class MqttTask(Task, MqttConnection):
    type: str
    clientId: Text = Field(min_length=1, description="The client identifier on the broker.")


class Publish(MqttTask):
    """Publish messages to a topic."""

    topic: Text = Field(min_length=1, description="The topic.")
    from_: Any = Field(
        alias="from",
        description="The payload: a map (one message), a list (a message each), or a"
        " kestra:// URI of an Ion file (a message per row).",
    )
    serdeType: MqttSerdeType = Field(description="How a payload is written: STRING, JSON, BYTES.")
    qos: DynamicInt = Field(1, description="Quality of service: 0, 1 or 2.")
    retain: DynamicBool = Field(False, description="The broker keeps the last message.")


class Subscribe(MqttTask):
    """Subscribe to topics and store the messages received in an Ion file."""

    topic: Annotated[list[Text], BeforeValidator(topic_list)] = Field(
        min_length=1, description="A topic filter, or a list of them."
    )
    serdeType: MqttSerdeType = Field(MqttSerdeType.JSON, description="How a payload is read.")
    qos: DynamicInt = Field(1, description="Quality of service: 0, 1 or 2.")
    maxRecords: DynamicInt | None = Field(None, description="Stop after this many messages.")
    maxDuration: DurationLike | None = Field(None, description="Stop after this long.")

    @model_validator(mode="after")
    def _bounded(self) -> Subscribe:
        if self.maxRecords is None and self.maxDuration is None:
            raise ValueError("give maxRecords or maxDuration: Subscribe must end")
        return self
