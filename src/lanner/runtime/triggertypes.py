"""How a trigger type is evaluated by the trigger runtime: the declaration it dispatches on.

As a task type declares its behaviour to the engine (model/behaviour.py), a
trigger type the runtime fires declares an :class:`Evaluation` and
implements :class:`TriggerType`. The runtime owns the rest: the stored
context (its next date, its data, its lock), the flows, and committing a
firing exactly once.

- ``SCHEDULE``: evaluated at the context's ``next_date``; pure date math,
  no I/O (the Schedule trigger).
- ``POLLING``: evaluated every ``interval`` (the type's ``next_date``), by one
  process at a time: the runtime takes the context's lock for the evaluation,
  which may call the outside world (a JDBC query, an S3 listing), then commits
  the executions and the new context (a cursor in ``data``) together.
- ``REALTIME``: a long-lived listener (a broker consumer) held by one process,
  which renews the context's lock while it listens; a :class:`RealtimeType`
  opens a :class:`Listener`, and the runtime (runtime/realtime.py) commits
  each batch of messages as executions, then acknowledges them.

The runtime keeps the trigger's :meth:`TriggerType.fingerprint` in the
context's ``data`` itself; a POLLING evaluation runs in the runtime's thread,
so it must return quickly (seconds) or run its I/O elsewhere.

Built-in types are registered in the runtime's :data:`TRIGGER_TYPES` under the
trigger's canonical Kestra type name; a plugin's come through the
``lanner.triggers`` entry points (:class:`lanner.plugin.TriggerPlugin`, with the
trigger's model), which the runtime reads from its registry when a flow uses one.

A type that needs the internal storage (to keep the files it fetched for the
execution it creates) also has a ``bound(storage)`` method returning the type
bound to the runtime's storage; the runtime calls it once when it starts. A
bound type with a ``kv_store`` attribute gets the runtime's store there: what
``kv()`` reads in the input declarations of the executions it creates.
A firing's ``after_commit`` runs once its firing is committed, and only then
(an S3 trigger moves the objects it fired for): it must be safe to run again,
since a crash between the commit and it leaves it to the next evaluation. A
firing's ``release`` runs after that, whether the firing was committed or not (a
batch broker trigger closes its connection: what it did not acknowledge goes back
to the broker).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from lanner.model.flow import Flow
from lanner.store.base import NewExecution, TriggerContext


class Evaluation(StrEnum):
    SCHEDULE = "SCHEDULE"
    POLLING = "POLLING"
    REALTIME = "REALTIME"


@dataclass(frozen=True)
class Firing:
    """What one evaluation decided: the executions to create and the context to save."""

    context: TriggerContext  # the new context (next_date, data, last_date, ...)
    executions: Sequence[NewExecution] = ()
    warnings: Sequence[str] = ()  # logged by the runtime
    after_commit: Callable[[], None] | None = None  # run once the firing is committed
    release: Callable[[], None] | None = None  # run last, committed or not (a connection)


class TriggerType(Protocol):
    """A trigger type the runtime evaluates (see the module docstring)."""

    evaluation: Evaluation

    def fingerprint(self, trigger: Any) -> str:
        """What, when it changes in a new revision, restarts the context (a new cron)."""
        ...

    def start(self, flow: Flow, trigger: Any, now: datetime) -> TriggerContext:
        """The context of a trigger seen for the first time."""
        ...

    def evaluate(
        self, flow: Flow, revision: int, trigger: Any, context: TriggerContext, now: datetime
    ) -> Firing:
        """Evaluate a due trigger; the runtime commits the Firing fenced on `context`."""
        ...


@dataclass(frozen=True)
class Message:
    """One message a realtime listener received."""

    variables: Mapping[str, Any]  # the trigger variables it gives (`trigger.data`, ...)
    message_id: str | None = None  # the broker's id of the message: duplicates are dropped


class Listener(Protocol):
    """A broker consumer, used from one thread: receive, then acknowledge what was
    received once the runtime has stored its executions."""

    def receive(self, max_messages: int, timeout: float) -> Sequence[Message]:
        """Up to `max_messages`, waiting at most `timeout` seconds for the first."""
        ...

    def ack(self) -> None:
        """Acknowledge every message received so far."""
        ...

    def close(self) -> None:
        """Disconnect; what was received and not acknowledged is delivered again."""
        ...


class RealtimeType(TriggerType, Protocol):
    """A REALTIME trigger type: how to open its listener."""

    def listen(self, trigger: Any, render: Any, name: str) -> Listener:
        """Connect and subscribe; `render(value)` renders a dynamic property; `name`
        ("namespace.flow.trigger") names what the listener keeps on the broker."""
        ...
