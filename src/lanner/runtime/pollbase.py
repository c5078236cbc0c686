"""What the polling trigger types share (docs/triggers.md, "Polling triggers"): the
interval, rendering their properties, and the execution one evaluation starts.

A polling type's `poll` reads the outside world (an S3 listing, a JDBC query) under
the context's lock and says whether to start an execution; this base turns that into
a Firing: one execution with `trigger.*` as the type gives it, the context's next
date one interval later, its data (the type's cursor) saved with it. An evaluation
that fails (the database is down) is logged and tried again at the next interval.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from lanner.engine.execution import Execution, History, new_execution_id
from lanner.engine.flowtime import date_condition_holds
from lanner.engine.inputrender import input_renderer
from lanner.engine.schedule import iso
from lanner.errors import LannerError
from lanner.expr import ExpressionEngine, Scope, env_secrets
from lanner.model.common import parse_duration
from lanner.model.flow import Flow
from lanner.model.inputs import parse_inputs, secret_input_ids
from lanner.model.states import State
from lanner.model.triggers import canonical_trigger_type
from lanner.runtime.kvreader import CycleKV
from lanner.runtime.newexecution import start_event
from lanner.runtime.triggertask import TriggerTaskContext
from lanner.runtime.triggertypes import Evaluation, Firing
from lanner.storage.base import Storage
from lanner.store.base import NewExecution, Store, TriggerContext

CORRELATION_ID = "system.correlationId"


@dataclass
class Poll:
    """What one poll found: `variables` (trigger.*) when an execution starts, the
    type's new data, what to do once the execution is committed, and what to release
    once the firing is over, committed or not (a broker connection holding what it
    consumed unacknowledged)."""

    variables: Mapping[str, Any] | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    after_commit: Callable[[], None] | None = None
    warnings: list[str] = field(default_factory=list)
    release: Callable[[], None] | None = None


def polling_execution_id(context: TriggerContext, fact: str) -> str:
    """The id of the execution a poll starts for `fact` (the objects, the interval):
    the same fact never makes two executions, whichever server evaluates it."""
    return new_execution_id("\x1f".join(("poll", *context.key, fact)))


class PollingType:
    """Base of the polling trigger types: subclasses give `type_name`, `fingerprint`
    and `poll`."""

    evaluation = Evaluation.POLLING
    type_name = ""

    def __init__(self, storage: Storage | None = None, engine: ExpressionEngine | None = None):
        self.storage = storage
        self.engine = engine or ExpressionEngine()
        # What `kv()` reads in the flow's input declarations: the store of the runtime
        # that bound this type (runtime/triggers.py `_bound`); None: no KV store.
        self.kv_store: Store | None = None

    def bound(self, storage: Storage | None) -> PollingType:
        return type(self)(storage, self.engine)

    def fingerprint(self, trigger: Any) -> str:
        return str(trigger.interval)

    def start(self, flow: Flow, trigger: Any, now: datetime) -> TriggerContext:
        # Evaluated at once, then every interval.
        return TriggerContext(
            namespace=flow.namespace,
            flow_id=flow.id,
            trigger_id=trigger.id,
            type=self.type_name,
            next_date=now,
            data={"fingerprint": self.fingerprint(trigger), "since": iso(now)},
        )

    def renderer(
        self, flow: Flow, revision: int, now: datetime, extra: Mapping[str, Any] | None = None
    ) -> Callable[[Any], Any]:
        """Renders a trigger property: the flow's variables, `extra` ones (an HTTP
        response) and `secret()` (from the environment, as the workers read them)."""
        scope = Scope(
            variables={
                "flow": {"id": flow.id, "namespace": flow.namespace, "revision": revision},
                "labels": dict(flow.labels or {}),
                "vars": dict(flow.variables or {}),
                **(extra or {}),
            },
            now=now,
            secrets=env_secrets(dict(os.environ)),
        )
        return lambda value: self.engine.render_value(value, scope)

    def task_context(
        self,
        flow: Flow,
        trigger_id: str,
        context: TriggerContext,
        execution_id: str,
        render: Callable[[Any], Any],
        logger: logging.Logger,
    ) -> TriggerTaskContext:
        """The context a task type's code runs in for this evaluation (the HTTP and
        JDBC triggers run their task's code); its log lines go to the server log,
        warnings and errors as warnings, the rest at debug level."""
        name = ".".join(context.key)

        def write_log(level: str, message: str) -> None:
            severity = logging.WARNING if level in {"WARN", "ERROR"} else logging.DEBUG
            logger.log(severity, "trigger %s: %s", name, message)

        return TriggerTaskContext(
            self.storage, flow.namespace, flow.id, trigger_id, execution_id, render, write_log
        )

    def conditions_hold(self, flow: Flow, revision: int, trigger: Any, now: datetime) -> bool:
        """The trigger's `conditions` at this evaluation: its date is `trigger.date`
        (the moment of the evaluation), with `flow.*`, `vars.*`, `labels` and
        `secret()`, as its properties are rendered."""
        conditions = trigger.conditions or ()
        if not conditions:
            return True
        dates = {"id": trigger.id, "type": canonical_trigger_type(trigger), "date": iso(now)}
        render = self.renderer(flow, revision, now, {"trigger": dates})
        return all(date_condition_holds(c, lambda text: str(render(text)), now) for c in conditions)

    def poll(
        self,
        flow: Flow,
        revision: int,
        trigger: Any,
        context: TriggerContext,
        now: datetime,
        execution_id: Callable[[str], str],
    ) -> Poll:
        raise NotImplementedError

    def evaluate(
        self, flow: Flow, revision: int, trigger: Any, context: TriggerContext, now: datetime
    ) -> Firing:
        interval = parse_duration(str(trigger.interval))
        after = replace(context, next_date=now + interval)
        ids: dict[str, str] = {}

        def execution_id(fact: str) -> str:
            ids["id"] = polling_execution_id(context, fact)
            return ids["id"]

        name = ".".join(context.key)
        try:
            if not self.conditions_hold(flow, revision, trigger, now):
                # As Kestra: nothing is polled, so nothing is read, moved or remembered.
                return Firing(after)
        except (LannerError, ValueError) as exc:
            warning = f"trigger {name}: conditions failed: {_reason(exc)}"
            return Firing(after, (), [warning])
        try:
            found = self.poll(flow, revision, trigger, context, now, execution_id)
        except Exception as exc:  # the outside world failed: try again next interval
            return Firing(after, (), [f"trigger {name}: evaluation failed: {_reason(exc)}"])
        data = {**found.data, "fingerprint": self.fingerprint(trigger)}
        if "since" in context.data:
            data["since"] = context.data["since"]
        after = replace(after, data=data)
        if found.variables is None or "id" not in ids:
            return Firing(after, (), found.warnings, release=found.release)
        try:
            execution = self.execution(flow, revision, trigger, ids["id"], found.variables, now)
        except LannerError as exc:  # the flow's inputs: nothing starts, nothing is marked done
            warning = f"Failed to trigger flow {flow.namespace}.{flow.id}: {exc.message}"
            return Firing(
                replace(after, data=context.data),
                (),
                [*found.warnings, warning],
                release=found.release,
            )
        after = replace(after, last_date=now, execution_id=execution.id)
        return Firing(
            after,
            [NewExecution(execution, [start_event(execution, now)])],
            found.warnings,
            after_commit=found.after_commit,
            release=found.release,
        )

    def execution(
        self,
        flow: Flow,
        revision: int,
        trigger: Any,
        execution_id: str,
        variables: Mapping[str, Any],
        now: datetime,
    ) -> Execution:
        """The execution a poll starts: the flow's and the trigger's labels, the flow's
        input defaults, `trigger.*`."""
        scope = Scope(
            variables={
                "flow": {"id": flow.id, "namespace": flow.namespace, "revision": revision},
                "trigger": dict(variables),
                "labels": dict(flow.labels or {}),
            },
            now=now,
            seed=zlib.crc32(execution_id.encode()),
        )
        labels = {
            str(k): self.engine.render(str(v), scope) for k, v in (trigger.labels or {}).items()
        }
        kv = None if self.kv_store is None else CycleKV(self.kv_store, now)
        renderer = input_renderer(flow.namespace, flow.id, revision, now, engine=self.engine, kv=kv)
        inputs = parse_inputs(flow.inputs or (), {}, from_strings=False, render=renderer)
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


def _reason(exc: Exception) -> str:
    if isinstance(exc, LannerError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"
