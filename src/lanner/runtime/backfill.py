"""A Schedule's backfill (docs/triggers.md, Backfill): Kestra's `backfill` state on the
trigger, walked date by date by the trigger runtime.

A backfill lives in its trigger context's `data` under ``"backfill"``: its window
(`start`, `end`), the first date not made yet (`currentDate`), `paused`, the
`inputs` and `labels` given to each of its executions, and an id that names its
executions. Each tick the runtime makes the executions of at most
:data:`PER_TICK` of its dates and commits them with the moved `currentDate` in
one fenced transaction (``Store.advance_trigger``), as it commits a Schedule's
own dates: with several servers on one database one of them commits each step,
and a server killed mid-step committed nothing. An execution's id is derived
from (backfill id, date), so a date is created once per backfill even if a step
were computed twice. When `currentDate` passes `end`, the backfill is removed
from the state (as Kestra does) and a summary is kept under ``"lastBackfill"``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lanner.engine.execution import new_execution_id
from lanner.engine.schedule import CronClock, iso
from lanner.errors import InputError, LannerError, NotFoundError
from lanner.runtime.newexecution import start_event
from lanner.runtime.triggertypes import Firing
from lanner.store.base import NewExecution, Store, TriggerContext

if TYPE_CHECKING:
    from lanner.model.flow import Flow
    from lanner.model.triggers import Schedule
    from lanner.runtime.schedule import ScheduleType

KEY = "backfill"
LAST_KEY = "lastBackfill"
# How many of a backfill's dates one tick makes (ticks come at least every second):
# bounded, so that a backfill of years of a seconds cron neither holds one huge
# transaction nor floods the executor at once.
PER_TICK = 10
# How many warnings (dates whose execution could not be made) the state keeps.
MAX_WARNINGS = 20
SYSTEM_PREFIX = "system."


class NoBackfillError(InputError):
    """The trigger has no backfill."""


class BackfillRunningError(InputError):
    """The trigger has a backfill already: pause or delete it first."""


def _date(text: Any) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


@dataclass(frozen=True)
class Backfill:
    """One backfill's state (Kestra's `Backfill`, plus what Lanner counts)."""

    id: str
    start: datetime
    end: datetime
    current: datetime  # the first date not made yet
    paused: bool = False
    inputs: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    previous_next: datetime | None = None  # the trigger's next date when it began
    created: int = 0  # executions made so far
    warnings: tuple[str, ...] = ()
    created_at: datetime | None = None  # when it was asked for (the UI lists from then)

    def data(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start": iso(self.start),
            "end": iso(self.end),
            "currentDate": iso(self.current),
            "paused": self.paused,
            "inputs": dict(self.inputs),
            "labels": dict(self.labels),
            "previousNextExecutionDate": (
                None if self.previous_next is None else iso(self.previous_next)
            ),
            "created": self.created,
            "warnings": list(self.warnings),
            "createdAt": None if self.created_at is None else iso(self.created_at),
        }

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Backfill:
        previous = data.get("previousNextExecutionDate")
        return cls(
            id=str(data["id"]),
            start=_date(data["start"]),
            end=_date(data["end"]),
            current=_date(data["currentDate"]),
            paused=bool(data.get("paused")),
            inputs=dict(data.get("inputs") or {}),
            labels={str(k): str(v) for k, v in (data.get("labels") or {}).items()},
            previous_next=None if previous is None else _date(previous),
            created=int(data.get("created") or 0),
            warnings=tuple(str(w) for w in data.get("warnings") or ()),
            created_at=None if data.get("createdAt") is None else _date(data["createdAt"]),
        )


def backfill_of(context: TriggerContext) -> Backfill | None:
    data = context.data.get(KEY)
    return Backfill.of(data) if isinstance(data, Mapping) else None


def answer(context: TriggerContext) -> dict[str, Any] | None:
    """The backfill as Kestra's API answers it (`labels` as a list of key/value), with
    Lanner's counts (`created`, `warnings`) beside; None when there is none."""
    data = context.data.get(KEY)
    if not isinstance(data, Mapping):
        return None
    labels = [{"key": k, "value": v} for k, v in (data.get("labels") or {}).items()]
    return {**data, "inputs": data.get("inputs") or None, "labels": labels or None}


def last_answer(context: TriggerContext) -> dict[str, Any] | None:
    """The summary of the trigger's last finished backfill (Lanner's; Kestra keeps none)."""
    data = context.data.get(LAST_KEY)
    return dict(data) if isinstance(data, Mapping) else None


def with_backfill(context: TriggerContext, backfill: Backfill | None) -> TriggerContext:
    data = {k: v for k, v in context.data.items() if k != KEY}
    if backfill is not None:
        data[KEY] = backfill.data()
    return replace(context, data=data)


def labels_of(value: Any) -> dict[str, str]:
    """Kestra's backfill labels, as a list of {key, value} or a map; system labels are
    refused, as Kestra's `@NoSystemLabelValidation` does."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        pairs = [(k, v) for k, v in value.items()]
    elif isinstance(value, list) and all(isinstance(i, Mapping) for i in value):
        pairs = [(i.get("key"), i.get("value")) for i in value]
    else:
        raise InputError("backfill.labels: give a list of {key, value} or a map of key to value")
    out: dict[str, str] = {}
    for key, text in pairs:
        if not isinstance(key, str) or not key or text is None:
            raise InputError(f"backfill.labels: {key!r}: each label needs a key and a value")
        if key.startswith(SYSTEM_PREFIX):
            raise InputError(f"backfill.labels: {key!r}: system labels cannot be set")
        out[key] = str(text)
    return out


Change = Callable[[TriggerContext], TriggerContext]


def _update(
    store: Store, key: tuple[str, str, str], change: Change, now: datetime
) -> TriggerContext:
    """Apply `change` to the stored context, fenced on its version (retried when a server
    advanced it meanwhile); the context as saved."""
    for _ in range(20):
        context = store.get_trigger_context(*key)
        if context is None:
            raise NotFoundError(
                f"trigger {'.'.join(key)} not found: is the flow deployed and a server started?"
            )
        after = change(context)
        if store.advance_trigger(context, after, (), now):
            return replace(after, version=context.version + 1, updated_at=now)
    raise LannerError(f"trigger {'.'.join(key)} kept changing; try again")


def start_backfill(
    store: Store,
    kind: ScheduleType,
    flow: Flow,
    revision: int,
    trigger: Schedule,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    inputs: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
) -> TriggerContext:
    """Store a new backfill of [start, end] on the trigger; the runtime walks it. The
    first date's execution is made here (not saved) so that bad inputs fail now."""
    if end < start:
        raise InputError("the backfill's end is before its start (end defaults to now)")
    if end > now:
        raise InputError("the backfill's end is in the future: the schedule fires those dates")
    backfill = Backfill(
        id=uuid.uuid4().hex,
        start=start,
        end=end,
        current=start,
        inputs=dict(inputs or {}),
        labels=dict(labels or {}),
        created_at=now,
    )
    clock = CronClock.of(trigger)
    first = clock.next_after(start - timedelta(microseconds=1))
    if first <= end:
        try:
            _execution(kind, flow, revision, trigger, clock, backfill, first, now)
        except LannerError as exc:
            raise InputError(f"the backfill's first date {iso(first)}: {exc.message}") from None
    key = (flow.namespace, flow.id, trigger.id)

    def begin(context: TriggerContext) -> TriggerContext:
        running = backfill_of(context)
        if running is not None:
            state = "paused" if running.paused else "running"
            raise BackfillRunningError(
                f"trigger {'.'.join(key)} has a {state} backfill (at {iso(running.current)}):"
                " delete it first"
            )
        return with_backfill(context, replace(backfill, previous_next=context.next_date))

    return _update(store, key, begin, now)


def set_backfill_paused(
    store: Store, key: tuple[str, str, str], paused: bool, now: datetime
) -> TriggerContext:
    def change(context: TriggerContext) -> TriggerContext:
        return with_backfill(context, replace(_running(context), paused=paused))

    return _update(store, key, change, now)


def delete_backfill(store: Store, key: tuple[str, str, str], now: datetime) -> TriggerContext:
    """Stop and forget the backfill; the executions it made stay."""

    def change(context: TriggerContext) -> TriggerContext:
        _running(context)
        return with_backfill(context, None)

    return _update(store, key, change, now)


def _running(context: TriggerContext) -> Backfill:
    backfill = backfill_of(context)
    if backfill is None:
        raise NoBackfillError(f"trigger {'.'.join(context.key)} has no backfill")
    return backfill


def backfill_execution_id(backfill_id: str, date: datetime) -> str:
    return new_execution_id(f"backfill\x1f{backfill_id}\x1f{iso(date)}")


def _execution(
    kind: ScheduleType,
    flow: Flow,
    revision: int,
    trigger: Schedule,
    clock: CronClock,
    backfill: Backfill,
    date: datetime,
    now: datetime,
) -> NewExecution | None:
    """One date's execution: the backfill's inputs over the trigger's, its labels after
    the trigger's (both rendered with the date's variables, as the trigger's are)."""
    if backfill.inputs or backfill.labels:
        trigger = trigger.model_copy(
            update={
                "inputs": {**(trigger.inputs or {}), **backfill.inputs},
                "labels": {**(trigger.labels or {}), **backfill.labels},
            }
        )
    execution_id = backfill_execution_id(backfill.id, date)
    execution = kind.execution(flow, revision, trigger, clock, date, now, execution_id=execution_id)
    return None if execution is None else NewExecution(execution, [start_event(execution, now)])


def backfill_step(
    kind: ScheduleType,
    flow: Flow,
    revision: int,
    trigger: Schedule,
    context: TriggerContext,
    now: datetime,
    *,
    limit: int = PER_TICK,
) -> Firing | None:
    """The next step of the trigger's backfill: the executions of its next `limit` dates
    and the context with `currentDate` moved past them (without the backfill once its
    end is passed); None when there is no backfill or it is paused."""
    backfill = backfill_of(context)
    if backfill is None or backfill.paused:
        return None
    clock = CronClock.of(trigger)
    created: list[NewExecution] = []
    warnings: list[str] = []
    date = clock.next_after(backfill.current - timedelta(microseconds=1))
    made = 0
    while date <= backfill.end and made < limit:
        made += 1
        try:
            new = _execution(kind, flow, revision, trigger, clock, backfill, date, now)
        except LannerError as exc:
            warnings.append(f"date {iso(date)}: {exc}")
            new = None
        if new is not None:
            created.append(new)
        date = clock.next_after(date)
    kept = (*backfill.warnings, *warnings)[-MAX_WARNINGS:]
    moved = replace(backfill, current=date, created=backfill.created + len(created), warnings=kept)
    if date > backfill.end:
        after = with_backfill(context, None)
        summary = {**moved.data(), "currentDate": iso(backfill.end), "endedAt": iso(now)}
        after = replace(after, data={**after.data, LAST_KEY: summary})
    else:
        after = with_backfill(context, moved)
    if created:
        after = replace(after, execution_id=created[-1].execution.id)
    name = ".".join(context.key)
    logged = [f"backfill of {name}: {w}" for w in warnings]
    return Firing(after, created, logged)
