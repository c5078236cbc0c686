"""Message brokers (docs/tasks-brokers.md): how a flow reaches a broker, and the
realtime triggers that start one execution per message.

The connection properties are shared by a family's tasks (tasks/amqp, ...)
and its `RealtimeTrigger`, as in Kestra's plugins; the trigger models live
here because the flow model validates triggers (model/triggers.py lists them).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from lanner.model.common import DurationLike, DynamicInt, Model, Text, is_dynamic, parse_duration
from lanner.model.conditions import Condition, date_condition_problem, label_map
from lanner.model.polltriggers import Polling
from lanner.model.unsupported import unsupported

AMQP = "io.kestra.plugin.amqp."
REDIS = "io.kestra.plugin.redis."
MQTT = "io.kestra.plugin.mqtt."
NATS = "io.kestra.plugin.nats."


class SerdeType(StrEnum):
    """How a message body is read and written (Kestra's `serdeType`)."""

    STRING = "STRING"
    JSON = "JSON"


class AmqpConnection(Model):
    """Where the RabbitMQ (AMQP 0-9-1) broker is: `host`/`port`/`username`/`password`/
    `virtualHost`, or Kestra's deprecated `url` (amqp://user:pass@host:port/vhost)."""

    url: Text | None = Field(
        None, description="Deprecated: amqp://user:password@host:port/virtualHost."
    )
    host: Text | None = Field(None, description="The broker's host.")
    port: DynamicInt | None = Field(None, description="The broker's port (default 5672).")
    username: Text | None = Field(None, description="The user to log in as (default guest).")
    password: Text | None = Field(None, description="The user's password (default guest).")
    virtualHost: Text | None = Field(None, description="The virtual host (default /).")

    @model_validator(mode="after")
    def _somewhere(self) -> Any:
        if self.url is None and self.host is None:
            raise ValueError("give the broker's `host` (or the deprecated `url`)")
        return self


_REALTIME_REASONS = {
    "stopAfter": "a realtime trigger listens until its flow is disabled or deleted",
    "allowConcurrent": "each message starts its execution at once, whatever runs already"
    " (`allowConcurrent: true`); limit runs with the flow's `concurrency`",
    "failOnTriggerError": "a message that cannot start an execution is logged and"
    " acknowledged (it is not redelivered forever)",
    "workerGroup": "worker groups are a Kestra Enterprise feature",
    "logToFile": "a realtime trigger writes no logs of its own",
}


def _realtime_unsupported() -> Any:
    return unsupported(
        "stopAfter",
        "allowConcurrent",
        "failOnTriggerError",
        "workerGroup",
        "logToFile",
        "assets",
        "version",
        reasons=_REALTIME_REASONS,
    )


class _RealtimeTrigger(Model):
    """Properties every trigger has (model/triggers.py's _Trigger) for the realtime ones;
    kept apart so that a realtime trigger rejects what it does not do."""

    id: Annotated[str, Field(min_length=1, max_length=256)]
    type: str
    version: str | None = None
    description: Text | None = None
    conditions: list[Condition] | None = None
    disabled: bool = False
    workerGroup: Any = None
    logLevel: Literal["ERROR", "WARN", "INFO", "DEBUG", "TRACE"] | None = None
    labels: Annotated[dict[str, Text] | None, BeforeValidator(label_map)] = None
    stopAfter: list[str] | None = None
    logToFile: bool = False
    failOnTriggerError: bool = False
    allowConcurrent: bool = False
    assets: Any = None

    _realtime_not_supported = _realtime_unsupported()

    @model_validator(mode="after")
    def _evaluable_conditions(self) -> Any:
        # They decide when the trigger listens (docs/tasks-brokers.md), not per message.
        for i, cond in enumerate(self.conditions or ()):
            problem = date_condition_problem(cond, "a realtime trigger")
            if problem is not None:
                raise ValueError(f"conditions[{i}]: {problem}")
        return self


class AmqpQueue(Model):
    """Which queue a consumer reads, and how (the RealtimeTrigger and the Trigger)."""

    queue: Text = Field(min_length=1, description="The queue to consume (it must exist).")
    consumerTag: Text = Field("Kestra", description="The consumer tag shown by the broker.")
    serdeType: SerdeType = Field(
        SerdeType.STRING, description="STRING: the body as text; JSON: the body parsed."
    )
    autoAck: bool = Field(
        False,
        description="Must stay false: a message is acknowledged once its execution is stored.",
    )

    @model_validator(mode="after")
    def _acknowledged_after_commit(self) -> Any:
        if self.autoAck:
            raise ValueError(
                "'autoAck' is not supported here: Lanner acknowledges a message once its"
                " execution is stored, so that a crash loses none"
            )
        return self


class AmqpRealtimeTrigger(_RealtimeTrigger, AmqpConnection, AmqpQueue):
    """Consume a RabbitMQ queue; one execution per message (`trigger.data`, ...)."""


class RedisConnection(Model):
    url: Text = Field(
        min_length=1, description="The connection string: redis://[:password@]host:port/db."
    )


class RedisListKey(Model):
    """The list a trigger pops (the RealtimeTrigger and the Trigger)."""

    key: Text = Field(min_length=1, description="The list's key.")
    serdeType: SerdeType = Field(
        SerdeType.STRING, description="STRING: the element as text; JSON: parsed."
    )


class RedisListRealtimeTrigger(_RealtimeTrigger, RedisConnection, RedisListKey):
    """Pop a Redis list's elements; one execution per element (`trigger.value`)."""


class MqttSerdeType(StrEnum):
    STRING = "STRING"
    JSON = "JSON"
    BYTES = "BYTES"


class MqttConnection(Model):
    """An MQTT broker (Kestra's AbstractMqttConnection): `server` is tcp://host:port
    or ssl://host:port (`crt`: the CA certificate file that signs the broker's)."""

    server: Text = Field(min_length=1, description="tcp://host:1883 or ssl://host:8883.")
    clientId: Text | None = Field(None, description="The client identifier on the broker.")
    mqttVersion: Literal["V3", "V5"] = Field("V5", description="The MQTT version.")
    username: Text | None = Field(None, description="The user to connect as.")
    password: Text | None = Field(None, description="The user's password.")
    connectionTimeout: DurationLike | None = Field(None, description="Connect timeout.")
    crt: Text | None = Field(None, description="The CA certificate file, for ssl://.")
    authMethod: Text | None = None
    httpsHostnameVerificationEnabled: bool | None = None

    _mqtt_not_supported = unsupported(
        "authMethod",
        "httpsHostnameVerificationEnabled",
        reasons={
            "authMethod": "MQTT 5 enhanced authentication is not implemented;"
            " use username and password",
            "httpsHostnameVerificationEnabled": "ssl:// always verifies the broker's host name",
        },
    )


def topic_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class MqttSubscription(Model):
    """The topics a trigger subscribes to (the RealtimeTrigger and the Trigger)."""

    topic: Annotated[list[Text], BeforeValidator(topic_list)] = Field(
        min_length=1, description="A topic filter, or a list of them."
    )
    qos: int = Field(1, ge=0, le=2, description="The subscription's quality of service.")
    serdeType: MqttSerdeType = Field(MqttSerdeType.JSON, description="How a payload is read.")


class MqttRealtimeTrigger(_RealtimeTrigger, MqttConnection, MqttSubscription):
    """Subscribe to MQTT topics; one execution per message (`trigger.payload`, `topic`)."""


class NatsConnection(Model):
    """A NATS server: `url` (nats://[token@]host:port), `username`/`password` or `token`."""

    url: Text = Field(min_length=1, description="nats://host:4222 (or nats://token@host:4222).")
    username: Text | None = Field(None, description="The user to connect as.")
    password: Text | None = Field(None, description="The user's password.")
    token: Text | None = Field(None, description="A connection token.")
    creds: Text | None = None

    _nats_not_supported = unsupported(
        "creds",
        reasons={
            "creds": "credentials files are not implemented; use username and password or a token"
        },
    )


class DeliverPolicy(StrEnum):
    All = "All"
    Last = "Last"
    New = "New"
    ByStartTime = "ByStartTime"
    LastPerSubject = "LastPerSubject"
    ByStartSequence = "ByStartSequence"


class NatsConsumer(NatsConnection):
    """How a JetStream consumer reads a subject (Consume and the RealtimeTrigger)."""

    subject: Text = Field(min_length=1, description="The subject (wildcards allowed).")
    durableId: Text | None = Field(None, description="The durable consumer's name.")
    deliverPolicy: DeliverPolicy = Field(DeliverPolicy.All, description="Where to start reading.")
    since: Text | None = Field(None, description="With ByStartTime: the date-time to start at.")
    batchSize: int = Field(10, ge=1, description="Messages fetched at once.")

    @model_validator(mode="after")
    def _start(self) -> Any:
        if self.deliverPolicy is DeliverPolicy.ByStartSequence:
            raise ValueError(
                "deliverPolicy 'ByStartSequence' is not supported here: Kestra gives no property"
                " for the start sequence; use ByStartTime with `since`"
            )
        if self.deliverPolicy is DeliverPolicy.ByStartTime and self.since is None:
            raise ValueError("deliverPolicy ByStartTime needs `since` (a date-time)")
        return self


class NatsRealtimeTrigger(_RealtimeTrigger, NatsConsumer):
    """Consume a JetStream subject; one execution per message (`trigger.data`, ...)."""


REALTIME_TRIGGERS: dict[str, type[Model]] = {
    AMQP + "RealtimeTrigger": AmqpRealtimeTrigger,
    REDIS + "list.RealtimeTrigger": RedisListRealtimeTrigger,
    MQTT + "RealtimeTrigger": MqttRealtimeTrigger,
    NATS + "RealtimeTrigger": NatsRealtimeTrigger,
}
"""Broker realtime trigger type name -> its model (model/triggers.py adds them)."""

REALTIME_ALIASES: dict[str, str] = {
    # The name Kestra's own example of the Redis list trigger uses.
    REDIS + "RealtimeTrigger": REDIS + "list.RealtimeTrigger",
    # Kestra's newer name of the NATS trigger.
    NATS + "core.RealtimeTrigger": NATS + "RealtimeTrigger",
}


# ---- Batch (polling) triggers: one execution per evaluation, of what was consumed.

BATCH_LONGEST = "PT1M"
"""The longest `maxDuration` of a batch trigger: its evaluation holds the trigger
runtime's thread (and the trigger's lock) while it consumes."""


class BatchLimits(Model):
    """When a batch trigger's evaluation stops consuming (Kestra's maxRecords and
    maxDuration, "not hard limits")."""

    maxRecords: DynamicInt | None = Field(
        None, description="Stop after this many messages (at least 1)."
    )
    maxDuration: DurationLike | None = Field(
        None, description=f"Stop after this long (at most {BATCH_LONGEST})."
    )

    @model_validator(mode="after")
    def _bounded(self) -> Any:
        if self.maxRecords is None and self.maxDuration is None:
            raise ValueError("give maxRecords or maxDuration: an evaluation must end")
        if isinstance(self.maxRecords, int) and self.maxRecords < 1:
            raise ValueError(f"maxRecords must be at least 1, got {self.maxRecords}")
        duration = self.maxDuration
        static = duration is not None and not is_dynamic(duration)
        if static and parse_duration(str(duration)) > parse_duration(BATCH_LONGEST):
            raise ValueError(
                f"maxDuration {duration} is not supported here: an evaluation"
                f" holds the trigger runtime while it consumes, so at most {BATCH_LONGEST};"
                " use a shorter `interval` to consume more often"
            )
        return self


class AmqpBatchProperties(Polling, AmqpConnection, AmqpQueue, BatchLimits):
    """io.kestra.plugin.amqp.Trigger: consume a queue every interval."""


class RedisListBatchProperties(Polling, RedisConnection, RedisListKey, BatchLimits):
    """io.kestra.plugin.redis.list.Trigger: pop a list every interval."""

    count: DynamicInt = Field(100, description="Elements popped at once.")


class MqttBatchProperties(Polling, MqttConnection, MqttSubscription, BatchLimits):
    """io.kestra.plugin.mqtt.Trigger: the messages of a persistent session every interval."""


class NatsBatchProperties(Polling, NatsConsumer, BatchLimits):
    """io.kestra.plugin.nats.Trigger: a durable JetStream consumer read every interval."""

    pollDuration: DurationLike = Field("PT2S", description="How long one fetch waits.")


BATCH_TRIGGERS = {
    AMQP + "Trigger": AMQP + "Trigger",
    REDIS + "list.Trigger": REDIS + "list.Trigger",
    MQTT + "Trigger": MQTT + "Trigger",
    NATS + "Trigger": NATS + "Trigger",
    # Old and newer names of the same triggers.
    REDIS + "TriggerList": REDIS + "list.Trigger",
    NATS + "core.Trigger": NATS + "Trigger",
}
"""Every accepted batch trigger type name -> the canonical one."""
