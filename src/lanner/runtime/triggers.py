"""The trigger runtime (docs/triggers.md): keeps the stored trigger contexts in step
with the deployed flows and fires the ones that are due, exactly once.

Every `lanner server` and `lanner executor` runs one, in a thread of its own
(:func:`run_triggers`). Each tick it:

1. reads the deployed flows (latest revisions, parsed once per revision) and
   gives each trigger it evaluates (:data:`TRIGGER_TYPES`) a context: a new
   trigger starts from now; a new revision keeps its context (a changed cron
   restarts it from now); a trigger or flow that is gone loses it;
2. evaluates the due contexts of enabled flows and triggers and commits each
   firing fenced on the context's version, with its executions, in one
   transaction (``Store.advance_trigger``): several servers on one database
   each compute it, one commits it, the others write nothing;
3. disables a trigger whose last execution ended in one of its `stopAfter`
   states.

`lanner run` never starts one: a single run ignores triggers.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from lanner.config import Config
from lanner.errors import LannerError
from lanner.model import loglevel
from lanner.model.flow import Flow
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime import backfill as backfills
from lanner.runtime.brokertriggers import REALTIME_TYPES
from lanner.runtime.crashpoints import crash_point
from lanner.runtime.polltrigger import POLLING_TYPES
from lanner.runtime.realtime import REALTIME_LOCK, RealtimeKind, RealtimeRunner
from lanner.runtime.schedule import SCHEDULE_TYPE, ScheduleType
from lanner.runtime.triggertypes import Evaluation, TriggerType
from lanner.storage.base import Storage
from lanner.store.base import FlowRecord, Store, TriggerContext

log = logging.getLogger(__name__)

# The longest a runtime sleeps between two ticks: how soon it sees a deploy.
TICK = timedelta(seconds=1)
# How long a POLLING evaluation holds its trigger's lock at most (a holder that died
# frees it then; `lanner triggers unlock` sooner).
POLL_LOCK = timedelta(minutes=5)

TRIGGER_TYPES: dict[str, TriggerType] = {
    SCHEDULE_TYPE: ScheduleType(),
    **POLLING_TYPES,
    **REALTIME_TYPES,
}
"""Canonical Kestra trigger type name -> how the runtime evaluates it."""


def _bound(
    types: dict[str, TriggerType], storage: Storage | None, store: Store
) -> dict[str, TriggerType]:
    """The types, those that keep files bound to the runtime's storage and, those that
    create executions from the flow's input declarations, to its store (`kv()` in
    them reads it; triggertypes.py)."""
    out: dict[str, TriggerType] = {}
    for name, kind in types.items():
        bind = getattr(kind, "bound", None)
        if not callable(bind):
            out[name] = kind
            continue
        mine = bind(storage)  # a new instance: this runtime's own
        if hasattr(mine, "kv_store"):
            mine.kv_store = store
        out[name] = mine
    return out


Key = tuple[str, str, str]


class TriggerRuntime:
    def __init__(
        self,
        store: Store,
        registry: TaskRegistry,
        config: Config,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        types: dict[str, TriggerType] | None = None,
        owner: str | None = None,
        storage: Storage | None = None,
    ) -> None:
        """`owner`: who holds the locks this runtime takes (the process id); `storage`:
        the internal storage polling triggers keep the files they fetch in."""
        self.store = store
        self.owner = owner or f"triggers-{uuid.uuid4().hex[:12]}"
        self.registry = registry
        self.config = config
        self.clock = clock
        self.types = _bound(TRIGGER_TYPES if types is None else types, storage, store)
        self._storage = storage
        # Plugin trigger types (`lanner.triggers`), bound when a flow or context names one.
        self._plugins = types is None
        self._parsed: dict[tuple[str, str, int], Flow | None] = {}
        self.next_due: datetime | None = None
        self._unreadable: set[tuple[str, str]] = set()  # deployed flows that do not load now
        self.fired = 0  # executions this runtime created (tests, bench)
        self.runners: dict[Key, RealtimeRunner] = {}  # the realtime listeners it holds
        self.on_created: Callable[[], None] | None = None  # wakes the executor

    # -- trigger types ------------------------------------------------------------
    def _canonical(self, trigger: Any) -> str | None:
        """The canonical name of a trigger's type when a type of the runtime evaluates
        it (a plugin's type is added on first sight, bound to the storage)."""
        from lanner.model.triggers import TRIGGER_NAMES

        name = str(getattr(trigger, "type", ""))
        canonical = TRIGGER_NAMES.get(name)
        if canonical is not None or not self._plugins:
            return canonical
        return self._plugin_type(name)

    def _plugin_type(self, name: str) -> str | None:
        plugin = self.registry.trigger(name)
        if plugin is None:
            return None
        if plugin.name not in self.types:
            self.types.update(_bound({plugin.name: plugin.runtime}, self._storage, self.store))
        return plugin.name

    def _evaluates(self, context_type: str) -> bool:
        """Whether a stored context is of a type this runtime evaluates."""
        if context_type in self.types:
            return True
        return self._plugins and self._plugin_type(context_type) is not None

    # -- flows ------------------------------------------------------------------
    def _flow(self, record: FlowRecord) -> Flow | None:
        key = (record.namespace, record.id, record.revision)
        if key not in self._parsed:
            try:
                self._parsed[key] = load_flow(
                    record.source, self.registry, defaults=self.config.pluginDefaults
                )
            except LannerError:  # a flow that no longer validates triggers nothing
                self._parsed[key] = None
        return self._parsed[key]

    def deployed(self) -> dict[Key, tuple[Flow, int, Any]]:
        """Every trigger of a deployed flow that a registered type evaluates."""
        found: dict[Key, tuple[Flow, int, Any]] = {}
        self._unreadable = set()
        for record in self.store.list_flows():
            if "triggers" not in record.source:
                continue  # cheap test before parsing
            flow = self._flow(record)
            if flow is None:
                # Kept, not deleted: a plugin missing for a while must not lose the state.
                self._unreadable.add((record.namespace, record.id))
                continue
            for trigger in flow.triggers or ():
                if self._canonical(trigger) in self.types:
                    key = (flow.namespace, flow.id, str(getattr(trigger, "id")))  # noqa: B009
                    found[key] = (flow, record.revision, trigger)
        return found

    # -- one tick -----------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> int:
        """Sync the contexts, fire what is due; returns how many executions were created."""
        now = now or self.clock()
        deployed = self.deployed()
        contexts = {c.key: c for c in self.store.list_trigger_contexts()}
        for key, gone in contexts.items():
            if (
                key not in deployed
                and key[:2] not in self._unreadable
                and self._evaluates(gone.type)
            ):
                self.store.delete_trigger_context(*key)
        for key in [k for k in self.runners if k not in deployed]:
            self._stop_runner(key)
        created = 0
        next_due: datetime | None = None
        for key, (flow, revision, trigger) in deployed.items():
            kind = self.types[str(self._canonical(trigger))]
            found = contexts.get(key)
            if found is None:
                fresh = _stamped(kind.start(flow, trigger, now), kind, trigger)
                self.store.init_trigger_context(fresh, now)
                stored = self.store.get_trigger_context(*key)
                if stored is None:
                    continue
                context = stored
            else:
                context = found
            if isinstance(kind, RealtimeKind):
                self._realtime(kind, flow, revision, trigger, context, now)
                continue
            if context.disabled:
                continue
            if flow.disabled or getattr(trigger, "disabled", False):
                # Disabled in the source: like `lanner triggers disable`, enabling it
                # again starts it after now, with no catching up.
                if context.next_date is not None:
                    self.store.advance_trigger(context, replace(context, next_date=None), (), now)
                continue
            restart = context.next_date is None  # enabled again
            if restart or context.data.get("fingerprint") != kind.fingerprint(trigger):
                restarted = _stamped(kind.start(flow, trigger, now), kind, trigger)
                # A running backfill is kept: it walks the new cron's dates from where it is.
                kept = {k: v for k, v in context.data.items() if k in BACKFILL_KEYS}
                after = replace(
                    context, next_date=restarted.next_date, data={**restarted.data, **kept}
                )
                self.store.advance_trigger(context, after, (), now)
                continue  # evaluated from the fresh context next tick
            if self._stopped(trigger, context, now):
                continue
            if isinstance(kind, ScheduleType) and backfills.KEY in context.data:
                made, context = self._backfill(kind, flow, revision, trigger, context, now)
                created += made
            upcoming = context.next_date
            if upcoming is not None and upcoming <= now:
                fired, upcoming = self._fire(kind, flow, revision, trigger, context, now)
                created += fired
            if upcoming is not None and (next_due is None or upcoming < next_due):
                next_due = upcoming
        self.next_due = next_due
        return created

    # -- realtime -------------------------------------------------------------------
    def _realtime(
        self,
        kind: RealtimeKind,
        flow: Flow,
        revision: int,
        trigger: Any,
        context: TriggerContext,
        now: datetime,
    ) -> None:
        """Keep one listener for an enabled realtime trigger, in the process that holds
        its lock; stop it when the trigger is disabled or a new revision is deployed."""
        key = context.key
        enabled = not (context.disabled or flow.disabled or getattr(trigger, "disabled", False))
        runner = self.runners.get(key)
        if runner is not None and (
            not enabled or runner.revision != revision or not runner.is_alive()
        ):
            self._stop_runner(key)
            runner = None
        if runner is not None or not enabled:
            return
        if not self.store.lock_trigger(*key, self.owner, now + REALTIME_LOCK, now):
            return  # another process listens
        runner = RealtimeRunner(
            self.store,
            kind,
            flow,
            revision,
            trigger,
            self.owner,
            clock=self.clock,
            on_created=self._created,
        )
        self.runners[key] = runner
        runner.start()

    def _created(self, count: int) -> None:
        self.fired += count
        if self.on_created is not None:
            self.on_created()

    def _stop_runner(self, key: Key) -> None:
        runner = self.runners.pop(key)
        runner.stop()
        runner.join(10)  # its lock is released when it ends: a new one must not overlap

    def close(self) -> None:
        """Stop every realtime listener (their unacknowledged messages go back)."""
        for key in list(self.runners):
            self._stop_runner(key)

    def _fire(
        self,
        kind: TriggerType,
        flow: Flow,
        revision: int,
        trigger: Any,
        context: TriggerContext,
        now: datetime,
    ) -> tuple[int, datetime | None]:
        """Evaluate and commit; (executions created, the context's next date). A POLLING
        type is evaluated under the context's lock: one process at a time calls the
        outside world; the others skip it until the holder commits."""
        polling = kind.evaluation is Evaluation.POLLING
        # A type whose evaluation has a known longest duration (a broker's batch) says
        # how long to lock: a process killed mid-evaluation then delays the next one
        # by that much, not by POLL_LOCK.
        lock_for = getattr(kind, "lock_for", None)
        until = now + (lock_for(trigger) if lock_for is not None else POLL_LOCK)
        if polling and not self.store.lock_trigger(*context.key, self.owner, until, now):
            return 0, None  # another process evaluates it
        try:
            firing = kind.evaluate(flow, revision, trigger, context, now)
            try:
                if polling and firing.executions:
                    crash_point("poll.before_commit")
                committed = self.store.advance_trigger(
                    context, firing.context, firing.executions, now
                )
                if polling and firing.executions:
                    crash_point("poll.after_commit")
                if committed and firing.after_commit is not None:
                    # Still under the lock: the next evaluation sees what it did.
                    try:
                        firing.after_commit()
                    except Exception as exc:  # done again by the next evaluation
                        log.warning("trigger %s.%s.%s: after its firing: %s", *context.key, exc)
            finally:
                if firing.release is not None:
                    try:
                        firing.release()
                    except Exception as exc:  # a broken connection: the broker takes back
                        log.warning("trigger %s.%s.%s: releasing: %s", *context.key, exc)
        finally:
            if polling:
                self.store.unlock_trigger(*context.key, self.owner)
        if not committed:
            # Another process committed this firing first (read it again next tick).
            return 0, firing.context.next_date
        # The trigger's `logLevel` keeps only its lines at or above it (as a task's).
        minimum = getattr(trigger, "logLevel", None)
        minimum = None if minimum is None else str(minimum)
        for warning in firing.warnings if loglevel.kept("WARN", minimum) else ():
            log.warning("%s", warning)
        for new in firing.executions if loglevel.kept("INFO", minimum) else ():
            log.info(
                "trigger %s.%s.%s created execution %s (%s)",
                *context.key,
                new.execution.id,
                (new.execution.trigger or {}).get("date"),
            )
        self.fired += len(firing.executions)
        return len(firing.executions), firing.context.next_date

    def _backfill(
        self,
        kind: ScheduleType,
        flow: Flow,
        revision: int,
        trigger: Any,
        context: TriggerContext,
        now: datetime,
    ) -> tuple[int, TriggerContext]:
        """One step of the trigger's backfill (runtime/backfill.py), committed fenced on the
        context's version as a firing is; (executions created, the context as it is now)."""
        step = backfills.backfill_step(kind, flow, revision, trigger, context, now)
        if step is None:
            return 0, context
        crash_point("backfill.before_commit")
        committed = self.store.advance_trigger(context, step.context, step.executions, now)
        crash_point("backfill.after_commit")
        if not committed:
            # Another process made this step (or the backfill was paused): read it again.
            return 0, self.store.get_trigger_context(*context.key) or context
        for warning in step.warnings:
            log.warning("%s", warning)
        if step.executions:
            log.info(
                "trigger %s.%s.%s: backfill created %d execution(s), up to %s",
                *context.key,
                len(step.executions),
                (step.executions[-1].execution.trigger or {}).get("date"),
            )
        self.fired += len(step.executions)
        return len(step.executions), replace(step.context, version=context.version + 1)

    def _stopped(self, trigger: Any, context: TriggerContext, now: datetime) -> bool:
        """stopAfter: disable the trigger once one of its executions (among the flow's
        latest STOP_AFTER_WINDOW, created since the context started) is in one of those
        states, as Kestra disables it when such an execution ends."""
        stop_after = getattr(trigger, "stopAfter", None)
        if not stop_after or context.execution_id is None:
            return False
        since = _since(context)
        recent = self.store.list_executions(
            namespace=context.namespace, flow_id=context.flow_id, limit=STOP_AFTER_WINDOW
        )
        for execution in recent:
            if (execution.trigger or {}).get("id") != context.trigger_id:
                continue
            if since is not None and execution.histories[0].date < since:
                continue
            if execution.state.value in stop_after:
                log.warning(
                    "trigger %s.%s.%s disabled: execution %s is %s (stopAfter)",
                    *context.key,
                    execution.id,
                    execution.state.value,
                )
                self.store.advance_trigger(context, replace(context, disabled=True), (), now)
                return True
        return False


def _stamped(context: TriggerContext, kind: TriggerType, trigger: Any) -> TriggerContext:
    """The context with the trigger's fingerprint in its data (kept by the runtime, so
    that a type need not): a new revision that changes it restarts the context."""
    return replace(context, data={**context.data, "fingerprint": kind.fingerprint(trigger)})


# What a restarted context (a new cron) keeps of its data.
BACKFILL_KEYS = (backfills.KEY, backfills.LAST_KEY)

# How many of a flow's latest executions stopAfter looks at, each tick.
STOP_AFTER_WINDOW = 50


def _since(context: TriggerContext) -> datetime | None:
    text = context.data.get("since")
    if not isinstance(text, str):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def set_trigger_disabled(store: Store, key: Key, disabled: bool, now: datetime) -> TriggerContext:
    """Enable or disable a stored trigger (`lanner triggers enable|disable`). A trigger
    enabled again starts after now, as a new one: it does not catch up on the dates of
    the time it was disabled (the runtime restarts a context whose next date is None)."""
    from lanner.errors import NotFoundError

    for _ in range(10):  # fenced: retry when a server advanced it meanwhile
        context = store.get_trigger_context(*key)
        if context is None:
            raise NotFoundError(
                f"trigger {'.'.join(key)} not found: is the flow deployed and a server started?"
            )
        after = replace(context, disabled=disabled)
        if context.disabled and not disabled:
            after = replace(after, next_date=None, execution_id=None)
        if store.advance_trigger(context, after, (), now):
            return after
    raise LannerError(f"trigger {'.'.join(key)} kept changing; try again")


def run_triggers(
    runtime: TriggerRuntime, stop: threading.Event, wake: threading.Event | None = None
) -> threading.Thread:
    """Tick `runtime` in a daemon thread until `stop` is set: at each due date, and at
    least every TICK (to see deploys)."""

    if wake is not None:
        runtime.on_created = wake.set  # realtime executions wake the executor too

    def loop() -> None:
        try:
            ticks()
        finally:
            runtime.close()

    def ticks() -> None:
        while not stop.is_set():
            try:
                if runtime.tick() and wake is not None:
                    wake.set()  # the executor takes the new executions now
            except LannerError as exc:  # the store is down: try again next tick
                log.warning("triggers: %s", exc.message)
            except Exception:  # a bug must not stop every schedule of the server
                log.exception("triggers: evaluation failed")
            now = runtime.clock()
            wait = TICK
            if runtime.next_due is not None:
                wait = min(wait, max(runtime.next_due - now, timedelta(0)))
            stop.wait(max(wait.total_seconds(), 0.005))

    thread = threading.Thread(target=loop, name="lanner-triggers", daemon=True)
    thread.start()
    return thread
