"""The message brokers' realtime trigger types (docs/tasks-brokers.md), by Kestra name.

Each opens its broker's listener from its task family (tasks/amqp, ...);
the client library is imported only when a listener opens.
"""

from __future__ import annotations

from lanner.model.brokers import AMQP, MQTT, NATS, REDIS
from lanner.runtime.realtime import RealtimeKind
from lanner.tasks.amqp.listener import open_listener as open_amqp
from lanner.tasks.mqtt.listener import open_listener as open_mqtt
from lanner.tasks.nats.listener import open_listener as open_nats
from lanner.tasks.redis.listener import open_listener as open_redis_list

REALTIME_TYPES: dict[str, RealtimeKind] = {
    AMQP + "RealtimeTrigger": RealtimeKind(AMQP + "RealtimeTrigger", open_amqp),
    MQTT + "RealtimeTrigger": RealtimeKind(MQTT + "RealtimeTrigger", open_mqtt),
    NATS + "RealtimeTrigger": RealtimeKind(NATS + "RealtimeTrigger", open_nats),
    REDIS + "list.RealtimeTrigger": RealtimeKind(REDIS + "list.RealtimeTrigger", open_redis_list),
}
