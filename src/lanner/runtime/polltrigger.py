"""The polling trigger types Lanner ships (docs/triggers.md, "Polling triggers"; the
brokers' batch triggers in docs/tasks-brokers.md), by
their canonical Kestra type names, for the runtime's TRIGGER_TYPES."""

from __future__ import annotations

from lanner.model.polltriggers import HTTP_TRIGGER, S3_TRIGGER
from lanner.runtime.brokerbatch import BATCH_TYPES
from lanner.runtime.httptrigger import HttpTriggerType
from lanner.runtime.jdbctrigger import JDBC_TRIGGER_TYPES
from lanner.runtime.s3trigger import S3TriggerType
from lanner.runtime.triggertypes import TriggerType

POLLING_TYPES: dict[str, TriggerType] = {
    S3_TRIGGER: S3TriggerType(),
    **JDBC_TRIGGER_TYPES,
    HTTP_TRIGGER: HttpTriggerType(),
    **BATCH_TYPES,
}
