"""Realtime triggers (docs/tasks-brokers.md): a listener per trigger, held by one process.

The trigger runtime (runtime/triggers.py) starts a :class:`RealtimeRunner`
thread for each enabled realtime trigger whose context lock it takes; the
runner renews the lock while it listens, so several servers on one database
hold one listener per trigger between them (a broker that gives every
subscriber every message, MQTT or NATS, must not start two executions per
message). The runner:

1. receives up to BATCH messages (waiting WAIT seconds for the first);
2. makes one CREATED execution per message and commits them all with the
   trigger context, in one transaction (``Store.advance_trigger``);
3. only then acknowledges them to the broker.

A process killed between 2 and 3 leaves the messages unacknowledged: the
broker delivers them again (at least once). A message that carries an id
gets an execution id derived from (flow, trigger, message id), and creating
an execution whose id exists is a no-op, so a message delivered again after
its execution was committed starts nothing: the dedup key is the execution
id, stored in the same transaction (no migration).

A trigger with `conditions` listens only while they hold (checked every
second and before each batch is committed): when they stop holding, the
listener is closed without acknowledging what it received, and the broker
keeps the messages until they hold again (docs/tasks-brokers.md).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from lanner.engine.execution import new_execution_id
from lanner.engine.flowtime import date_condition_holds
from lanner.engine.schedule import iso
from lanner.errors import LannerError
from lanner.expr import ExpressionEngine, Scope
from lanner.expr.secrets import env_secrets
from lanner.model import loglevel
from lanner.model.flow import Flow
from lanner.runtime.kvreader import CycleKV
from lanner.runtime.newexecution import new_execution, start_event
from lanner.runtime.schedule import CORRELATION_ID
from lanner.runtime.triggertypes import Evaluation, Firing, Listener, Message
from lanner.store.base import NewExecution, Store, TriggerContext

log = logging.getLogger(__name__)

# A listener's lock lasts this long unless renewed: how soon another process (or this
# one, restarted after a crash) takes over a listener whose process died.
REALTIME_LOCK = timedelta(seconds=10)
RENEW_EVERY = timedelta(seconds=3)
BATCH = 500  # messages committed in one transaction at most
WAIT = 0.05  # seconds a receive waits for the first message of a batch
RETRY_SECONDS = 2.0  # after a listener failed (broker down), before trying again
CONDITIONS_EVERY = 1.0  # seconds between checks of the trigger's conditions

OpenListener = Callable[[Any, Callable[[Any], Any], str], Listener]


def message_execution_id(key: tuple[str, str, str], message_id: str | None) -> str:
    """The execution id of a message: derived from its broker id when it has one (a
    redelivered message gets the same id and starts nothing), fresh otherwise."""
    if message_id is None:
        return new_execution_id()
    return new_execution_id("realtime\x1f" + "\x1f".join(key) + "\x1f" + message_id)


class RealtimeKind:
    """A realtime trigger type of a broker: the runtime's side of it; the broker's
    side is `open_listener(trigger, render)`."""

    evaluation = Evaluation.REALTIME

    def __init__(self, type_name: str, open_listener: OpenListener) -> None:
        self.type_name = type_name
        self.open_listener = open_listener

    def fingerprint(self, trigger: Any) -> str:
        # Where it listens: a new revision that changes it restarts the listener anyway.
        return json.dumps(
            trigger.model_dump(exclude={"labels", "description", "logLevel", "disabled"}),
            sort_keys=True,
            default=str,
        )

    def start(self, flow: Flow, trigger: Any, now: datetime) -> TriggerContext:
        return TriggerContext(
            namespace=flow.namespace,
            flow_id=flow.id,
            trigger_id=str(trigger.id),
            type=self.type_name,
            next_date=None,  # a realtime trigger has no dates
            data={"fingerprint": self.fingerprint(trigger)},
        )

    def evaluate(
        self, flow: Flow, revision: int, trigger: Any, context: TriggerContext, now: datetime
    ) -> Firing:
        return Firing(context)  # never due: its runner commits the messages

    def listen(self, trigger: Any, render: Callable[[Any], Any], name: str) -> Listener:
        return self.open_listener(trigger, render, name)


class RealtimeRunner(threading.Thread):
    """One realtime trigger's listener, in a thread of its own (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        kind: RealtimeKind,
        flow: Flow,
        revision: int,
        trigger: Any,
        owner: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_created: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(name=f"lanner-realtime-{flow.id}.{trigger.id}", daemon=True)
        self.store = store
        self.kind = kind
        self.flow = flow
        self.revision = revision
        self.trigger = trigger
        self.owner = owner
        self.clock = clock
        self.on_created = on_created
        self.key = (flow.namespace, flow.id, str(trigger.id))
        self.stopping = threading.Event()
        self.engine = ExpressionEngine()
        self.secrets = env_secrets(dict(os.environ))
        self._renewed = clock()  # the runtime took the lock just before starting it
        self._condition_failure: str | None = None
        minimum = getattr(trigger, "logLevel", None)
        self._min_level = None if minimum is None else str(minimum)

    def stop(self) -> None:
        self.stopping.set()

    def render(self, value: Any) -> Any:
        flow_vars = {"id": self.flow.id, "namespace": self.flow.namespace}
        scope = Scope(
            variables={"flow": {**flow_vars, "revision": self.revision}},
            now=self.clock(),
            secrets=self.secrets,
        )
        return self.engine.render_value(value, scope)

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                if not self._await_conditions():
                    return
                if not self._listen_once():
                    return
        finally:
            try:
                self.store.unlock_trigger(*self.key, self.owner)
            except LannerError as exc:
                log.warning("realtime trigger %s: unlock failed: %s", ".".join(self.key), exc)

    def _listen_once(self) -> bool:
        """Open the listener and consume until it closes; True when it closed because
        the trigger's conditions no longer hold (listen again once they do)."""
        name = ".".join(self.key)
        try:
            listener = self.kind.listen(self.trigger, self.render, name)
        except Exception as exc:  # the broker is down or refuses: try again later
            log.warning("realtime trigger %s: cannot listen: %s", name, exc)
            self.stopping.wait(RETRY_SECONDS)
            return False
        try:
            return self._listen(listener)
        except Exception as exc:
            log.warning("realtime trigger %s: %s", name, exc)
            self.stopping.wait(RETRY_SECONDS)
            return False
        finally:
            try:
                listener.close()
            except Exception:  # a broken connection: the broker redelivers anyway
                log.debug("realtime trigger %s: close failed", name)

    def _renew(self, now: datetime) -> bool:
        """Renew the lock when due; False when another process took it."""
        if now - self._renewed >= RENEW_EVERY:
            if not self.store.lock_trigger(*self.key, self.owner, now + REALTIME_LOCK, now):
                log.warning("realtime trigger %s: lock lost", ".".join(self.key))
                return False
            self._renewed = now
        return True

    def _await_conditions(self) -> bool:
        """Wait, holding the lock, until the trigger's conditions hold; False when
        stopped or the lock was lost."""
        while not self.stopping.is_set():
            now = self.clock()
            if not self._renew(now):
                return False
            if self._conditions_hold(now):
                return True
            self.stopping.wait(CONDITIONS_EVERY)
        return False

    def _conditions_hold(self, now: datetime) -> bool:
        """The trigger's `conditions` now (`trigger.date`); one that fails to render
        counts as false, with a warning when its reason changes."""
        conditions = self.trigger.conditions or ()
        if not conditions:
            return True
        dates = {"id": self.trigger.id, "type": self.kind.type_name, "date": iso(now)}
        scope = Scope(
            variables={
                "flow": {"id": self.flow.id, "namespace": self.flow.namespace},
                "vars": dict(self.flow.variables or {}),
                "labels": dict(self.flow.labels or {}),
                "trigger": dates,
            },
            now=now,
            secrets=self.secrets,
        )
        try:
            held = all(
                date_condition_holds(c, lambda text: self.engine.render(text, scope), now)
                for c in conditions
            )
        except (LannerError, ValueError) as exc:
            reason = exc.message if isinstance(exc, LannerError) else str(exc)
            if reason != self._condition_failure:
                log.warning(
                    "realtime trigger %s: conditions failed: %s", ".".join(self.key), reason
                )
            self._condition_failure = reason
            return False
        self._condition_failure = None
        return held

    def _listen(self, listener: Listener) -> bool:
        checked = self.clock()
        while not self.stopping.is_set():
            now = self.clock()
            if not self._renew(now):
                return False
            if now - checked >= timedelta(seconds=CONDITIONS_EVERY):
                if not self._conditions_hold(now):
                    return True
                checked = now
            batch = listener.receive(BATCH, WAIT)
            if not batch:
                continue
            # Checked again for the batch: one received as they stop holding is left
            # to the broker, unacknowledged, for when they hold again.
            if self.trigger.conditions and not self._conditions_hold(self.clock()):
                return True
            if not self._commit(batch):
                return False  # disabled or deleted meanwhile: leave the messages to the broker
            listener.ack()
        return False

    def _commit(self, batch: Sequence[Message]) -> bool:
        """Store one execution per message with the trigger context; False when the
        context is gone or disabled (nothing stored)."""
        now = self.clock()
        created: dict[str, NewExecution] = {}
        for message in batch:
            execution_id = message_execution_id(self.key, message.message_id)
            if execution_id in created:
                continue  # the same message twice in one batch
            try:
                created[execution_id] = self._execution(message, execution_id, now)
            except LannerError as exc:
                # Acknowledged with the batch: a message that cannot start an execution
                # (bad inputs) would be delivered again forever otherwise.
                if loglevel.kept("WARN", self._min_level):
                    log.warning("Failed to trigger flow %s.%s: %s", *self.key[:2], exc)
        news = list(created.values())
        for _ in range(10):  # fenced on the context's version: retry when it moved
            context = self.store.get_trigger_context(*self.key)
            if context is None or context.disabled:
                return False
            last = news[-1].execution.id if news else context.execution_id
            after = replace(context, last_date=now, execution_id=last)
            if self.store.advance_trigger(context, after, news, now):
                if news and self.on_created is not None:
                    self.on_created(len(news))
                return True
        raise LannerError("the trigger context kept changing")

    def _execution(self, message: Message, execution_id: str, now: datetime) -> NewExecution:
        variables = {"id": self.trigger.id, "type": self.kind.type_name, **message.variables}
        scope = Scope(
            variables={
                "flow": {"id": self.flow.id, "namespace": self.flow.namespace},
                "trigger": variables,
            },
            now=now,
            secrets=self.secrets,
        )
        labels = {
            str(k): self.engine.render(str(v), scope)
            for k, v in (self.trigger.labels or {}).items()
        }
        execution = new_execution(
            self.flow,
            self.revision,
            {},
            now,
            from_strings=False,
            execution_id=execution_id,
            labels={**labels, CORRELATION_ID: execution_id},
            trigger=variables,
            kv=CycleKV(self.store, now),
        )
        return NewExecution(execution, [start_event(execution, now)])
