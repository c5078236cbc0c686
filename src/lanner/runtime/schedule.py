"""The Schedule trigger as the trigger runtime evaluates it (docs/triggers.md).

The date math is :mod:`lanner.engine.schedule`; this module turns the dates
it fires into executions, as Kestra's scheduler does: `trigger.date`,
`trigger.next` and `trigger.previous` (the cron's dates around the fired
one), the flow's and the trigger's labels plus `system.correlationId` (the
execution's own id), the trigger's `inputs` rendered with those variables,
and the trigger's `conditions` checked against the date. Execution ids are
derived from (flow, trigger, date): creating one date twice creates one
execution.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from lanner.engine.execution import Execution, History, new_execution_id
from lanner.engine.flowtime import date_condition_holds
from lanner.engine.inputrender import input_renderer
from lanner.engine.schedule import CronClock, first_date, iso, plan
from lanner.errors import LannerError
from lanner.expr import ExpressionEngine, Scope
from lanner.model.common import parse_duration
from lanner.model.flow import Flow
from lanner.model.inputs import parse_inputs, secret_input_ids
from lanner.model.states import State
from lanner.model.triggers import Schedule, canonical_trigger_type
from lanner.runtime.kvreader import CycleKV
from lanner.runtime.newexecution import start_event
from lanner.runtime.triggertypes import Evaluation, Firing
from lanner.store.base import NewExecution, Store, TriggerContext

CORRELATION_ID = "system.correlationId"
SCHEDULE_TYPE = "io.kestra.plugin.core.trigger.Schedule"


def schedule_execution_id(namespace: str, flow_id: str, trigger_id: str, date: datetime) -> str:
    """The id of the execution of one date: the same date never makes two executions."""
    return new_execution_id(f"schedule\x1f{namespace}\x1f{flow_id}\x1f{trigger_id}\x1f{iso(date)}")


class ScheduleType:
    evaluation = Evaluation.SCHEDULE

    def __init__(self, engine: ExpressionEngine | None = None) -> None:
        self.engine = engine or ExpressionEngine()
        # What `kv()` reads in the flow's input declarations: the store of the runtime
        # that bound this type (runtime/triggers.py `_bound`); None: no KV store.
        self.kv_store: Store | None = None

    def bound(self, storage: object) -> ScheduleType:
        """This type for one runtime (it keeps no files: `storage` is not used)."""
        return ScheduleType(self.engine)

    def fingerprint(self, trigger: Schedule) -> str:
        return f"{trigger.cron.strip()}|{trigger.withSeconds}|{trigger.timezone or ''}"

    def start(self, flow: Flow, trigger: Schedule, now: datetime) -> TriggerContext:
        return TriggerContext(
            namespace=flow.namespace,
            flow_id=flow.id,
            trigger_id=trigger.id,
            type=SCHEDULE_TYPE,
            next_date=first_date(CronClock.of(trigger), now),
            # `since`: stopAfter looks at the executions created from then on.
            data={"fingerprint": self.fingerprint(trigger), "since": iso(now)},
        )

    def evaluate(
        self, flow: Flow, revision: int, trigger: Schedule, context: TriggerContext, now: datetime
    ) -> Firing:
        clock = CronClock.of(trigger)
        assert context.next_date is not None
        late = parse_duration(trigger.lateMaximumDelay) if trigger.lateMaximumDelay else None
        decided = plan(
            clock,
            context.next_date,
            now,
            recover=trigger.recoverMissedSchedules,
            late_maximum_delay=late,
        )
        warnings = [
            f"Schedule {_name(flow, trigger)}: date {iso(d)} skipped, later than "
            f"lateMaximumDelay {trigger.lateMaximumDelay}"
            for d in decided.late
        ]
        if decided.dropped:
            mode = trigger.recoverMissedSchedules
            warnings.append(
                f"Schedule {_name(flow, trigger)}: missed dates from {iso(decided.dropped[0])}"
                f" not recovered (recoverMissedSchedules: {mode})"
            )
        created: list[NewExecution] = []
        for date in decided.fire:
            try:
                execution = self.execution(flow, revision, trigger, clock, date, now)
            except LannerError as exc:
                warnings.append(f"Failed to trigger flow {flow.namespace}.{flow.id}: {exc}")
                continue
            if execution is not None:
                created.append(NewExecution(execution, [start_event(execution, now)]))
        last = decided.fire[-1] if decided.fire else context.last_date
        after = replace(
            context,
            next_date=decided.next_date,
            last_date=last,
            execution_id=created[-1].execution.id if created else context.execution_id,
            data={**context.data, "fingerprint": self.fingerprint(trigger)},
        )
        return Firing(after, created, warnings)

    def execution(
        self,
        flow: Flow,
        revision: int,
        trigger: Schedule,
        clock: CronClock,
        date: datetime,
        now: datetime,
        *,
        execution_id: str | None = None,
    ) -> Execution | None:
        """The execution of one date, or None when the trigger's conditions do not hold.

        With conditions, `trigger.next` and `trigger.previous` are the nearest dates
        whose conditions hold, as in Kestra (`trueOutputWithCondition`)."""
        if execution_id is None:
            execution_id = schedule_execution_id(flow.namespace, flow.id, trigger.id, date)
        seed = zlib.crc32(execution_id.encode())
        conditions = [*(trigger.conditions or ()), *(trigger.scheduleConditions or ())]

        def scope_at(at: datetime) -> Scope:
            dates = _dates(clock, at)
            return Scope(
                variables={
                    "flow": {"id": flow.id, "namespace": flow.namespace, "revision": revision},
                    # Kestra gives the conditions the dates as `schedule` and `trigger`.
                    "trigger": dates,
                    "schedule": dates,
                    "labels": dict(flow.labels or {}),
                },
                now=now,
                seed=seed,
            )

        def holds_at(at: datetime) -> bool:
            scope = scope_at(at)
            try:
                return all(
                    date_condition_holds(c, lambda text: self.engine.render(text, scope), at)
                    for c in conditions
                )
            except ValueError as exc:
                raise LannerError(f"invalid condition: {exc}") from None

        if conditions and not holds_at(date):
            return None
        variables = _dates(clock, date)
        if conditions:
            variables["next"] = iso(_nearest(clock, date, holds_at, forward=True))
            variables["previous"] = iso(_nearest(clock, date, holds_at, forward=False))
        scope = scope_at(date)
        scope = Scope(
            variables={**scope.variables, "trigger": variables, "schedule": variables},
            now=now,
            seed=seed,
        )

        def render(text: str) -> str:
            return self.engine.render(text, scope)

        labels = {str(k): render(str(v)) for k, v in (trigger.labels or {}).items()}
        given = self.engine.render_value(dict(trigger.inputs or {}), scope)
        kv = None if self.kv_store is None else CycleKV(self.kv_store, now)
        renderer = input_renderer(flow.namespace, flow.id, revision, now, engine=self.engine, kv=kv)
        inputs = parse_inputs(flow.inputs or (), given, from_strings=False, render=renderer)
        return Execution(
            id=execution_id,
            namespace=flow.namespace,
            flow_id=flow.id,
            flow_revision=revision,
            state=State.CREATED,
            histories=(History(State.CREATED, now),),
            inputs=inputs,
            labels={**dict(flow.labels or {}), **labels, CORRELATION_ID: execution_id},
            variables=dict(flow.variables or {}),
            trigger={"id": trigger.id, "type": canonical_trigger_type(trigger), **variables},
            secret_inputs=frozenset(secret_input_ids(flow.inputs or ())),
        )


def _dates(clock: CronClock, date: datetime) -> dict[str, str]:
    return {
        "date": iso(date),
        "next": iso(clock.next_after(date)),
        "previous": iso(clock.previous_before(date)),
    }


# How far the nearest date whose conditions hold is looked for (Kestra: ten years).
NEAREST_TRIES = 2000


def _nearest(
    clock: CronClock, date: datetime, holds_at: Callable[[datetime], bool], *, forward: bool
) -> datetime:
    """The nearest cron date after (before) `date` whose conditions hold; the cron's
    own next (previous) date when none is found within NEAREST_TRIES dates."""
    step = clock.next_after if forward else clock.previous_before
    first = candidate = step(date)
    for _ in range(NEAREST_TRIES):
        if holds_at(candidate):
            return candidate
        candidate = step(candidate)
    return first


def _name(flow: Flow, trigger: Schedule) -> str:
    return f"{flow.namespace}.{flow.id}.{trigger.id}"
