"""What an executor cycle does beyond writing the planner's decision, in the
same commit: child executions of Subflow tasks, events delivered to other
executions, a freed concurrency slot handed to the oldest queued execution,
and the executions that Flow triggers start when a state changes.

Everything here runs inside the cycle's transaction, so it commits (or is
rolled back and replayed) together with the state change that caused it:
each transition fires each trigger once, each Subflow task run starts one
child, whatever crashes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from lanner.config import Config
from lanner.engine.events import Deliver, Dequeue, RetryExecution, StartSubflow, TaskResult
from lanner.engine.execution import Execution
from lanner.errors import LannerError, NotFoundError
from lanner.expr import ExpressionEngine
from lanner.model.flow import Flow
from lanner.model.states import State
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime import eventcodec
from lanner.runtime.kvreader import CycleKV
from lanner.runtime.newexecution import new_execution, start_event
from lanner.storage.uris import SCHEME, batch_reader_id
from lanner.store.base import ExecutorTx, FlowRecord, LogRecord, NewEvent, Store

if TYPE_CHECKING:
    from lanner.engine.flowtrigger import TriggerCandidate, TriggerKey, TriggerOutcome


class TriggerRecorder(Protocol):
    """Sees every evaluation of Flow triggers with all it was given, the stored trigger
    states it read included (tests/golden records them and replays them through
    `evaluate_flow_triggers` alone). Off by default."""

    def triggered(
        self,
        upstream: Execution,
        candidates: Sequence[TriggerCandidate],
        reads: Mapping[TriggerKey, Mapping[str, Any] | None],
        now: datetime,
        outcome: TriggerOutcome,
    ) -> None: ...


@dataclass
class Effects:
    """The extra rows of one cycle."""

    executions: list[Execution] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)


class FlowCache:
    """Deployed flows, parsed once per revision, for the executor's own planners,
    Subflow children and Flow triggers alike."""

    def __init__(self, store: Store, registry: TaskRegistry, config: Config) -> None:
        self.store = store
        self.registry = registry
        self.config = config
        self._parsed: dict[tuple[str, str, int], Flow] = {}
        self._invalid: set[tuple[str, str, int]] = set()

    def _load(self, record: FlowRecord) -> Flow:
        """The parsed flow; raises FlowValidationError when it does not validate."""
        key = (record.namespace, record.id, record.revision)
        flow = self._parsed.get(key)
        if flow is None:
            flow = load_flow(record.source, self.registry, defaults=self.config.pluginDefaults)
            self._parsed[key] = flow
        return flow

    def flow(self, namespace: str, flow_id: str, revision: int | None) -> tuple[Flow, int]:
        """A revision of a flow (the latest when None) and its number."""
        record = self.store.get_flow(namespace, flow_id, revision)
        if record is None:
            which = f" revision {revision}" if revision is not None else ""
            raise NotFoundError(f"flow {namespace}.{flow_id}{which} not found")
        return self._load(record), record.revision

    def trigger_candidates(self) -> list[TriggerCandidate]:
        # Imported with the first flow that has triggers: a `lanner run` of a flow
        # without any never loads the trigger models (docs/performance.md).
        out: list[TriggerCandidate] = []
        for record in self.store.list_flows():
            key = (record.namespace, record.id, record.revision)
            if key in self._invalid or "triggers" not in record.source:
                continue  # cheap test before parsing: no trigger at all
            try:
                flow = self._load(record)
            except LannerError:  # a flow that no longer validates triggers nothing
                self._invalid.add(key)
                continue
            if not flow.triggers:
                continue
            from lanner.engine.flowtrigger import TriggerCandidate
            from lanner.model.triggers import FlowTrigger

            if any(isinstance(t, FlowTrigger) for t in flow.triggers):
                out.append(TriggerCandidate(flow, record.revision))
        return out


def _batch_file(execution_id: str) -> Callable[[str, str], str]:
    """A ForEachItem child's FILE inputs: the one batch file made for it (storage/uris.py
    `batch_reader_id`), which it may read; nothing else (a Subflow child takes none).
    `execution_id` is the first child of the batch's chain (a NEW_EXECUTION restart)."""

    def check(input_id: str, value: str) -> str:
        if value.startswith(SCHEME) and batch_reader_id(value) == execution_id:
            return value
        raise ValueError(
            "a ForEachItem's subflow takes as a FILE input only its batch's file "
            "({{ taskrun.items }})"
        )

    return check


def start_subflow(command: StartSubflow, flows: FlowCache, now: datetime, effects: Effects) -> None:
    """Create the child execution, or answer the parent's attempt with a failure."""
    try:
        flow, revision = flows.flow(command.namespace, command.flow_id, command.revision)
        child = new_execution(
            flow,
            revision,
            command.inputs,
            now,
            from_strings=False,
            execution_id=command.execution_id,
            labels=command.labels,
            files=_batch_file(command.original_id or command.execution_id)
            if command.batch is not None
            else None,
            kv=CycleKV(flows.store, now),
        )
    except LannerError as exc:
        message = f"cannot start subflow {command.namespace}.{command.flow_id}: {exc.message}"
        result = TaskResult(
            command.task_run_id, command.attempt, State.FAILED, {}, message, type(exc).__name__
        )
        key = eventcodec.result_key(command.task_run_id, command.attempt)
        effects.events.append(eventcodec.encode(command.parent_execution_id, result, now, key))
        return
    child = replace(
        child,
        parent_execution_id=command.parent_execution_id,
        parent_task_run_id=command.task_run_id,
        parent_attempt=command.attempt,
        original_id=command.original_id,
        attempt_number=command.attempt_number,
    )
    effects.executions.append(child)
    # A scheduled child stays CREATED until its Start event is due.
    at = command.schedule_date
    effects.events.append(start_event(child, at if at is not None and at > now else now))


def retry_execution(
    command: RetryExecution, retried: Execution, flows: FlowCache, now: datetime, effects: Effects
) -> None:
    """The next execution of `retried`'s chain (a CREATE_NEW_EXECUTION retry): a replay of
    the same flow revision with its inputs, labels, trigger and parent links, CREATED
    until its start date. A flow that no longer loads gets no retry: the log says so."""
    try:
        flow, revision = flows.flow(retried.namespace, retried.flow_id, retried.flow_revision)
        execution = new_execution(
            flow,
            revision,
            retried.inputs,
            now,
            from_strings=False,
            execution_id=command.execution_id,
            labels=retried.labels,
            trigger=retried.trigger,
            kv=CycleKV(flows.store, now),
        )
    except LannerError as exc:
        message = f"cannot create the retry execution {command.execution_id}: {exc.message}"
        effects.logs.append(LogRecord(retried.id, None, None, None, now, "ERROR", message))
        return
    execution = replace(
        execution,
        parent_execution_id=retried.parent_execution_id,
        parent_task_run_id=retried.parent_task_run_id,
        parent_attempt=retried.parent_attempt,
        **retried.next_attempt(),
    )
    effects.executions.append(execution)
    at = command.start_date
    effects.events.append(start_event(execution, at if at > now else now))


def deliver(command: Deliver, now: datetime, effects: Effects) -> None:
    effects.events.append(
        eventcodec.encode(command.execution_id, command.event, now, command.dedup_key)
    )


def after_cycle(
    tx: ExecutorTx,
    before_state: State,
    was_finalized: bool,
    after: Execution,
    flow: Flow | None,
    flows: FlowCache,
    engine: ExpressionEngine,
    secrets: Callable[[str], str] | None,
    now: datetime,
    effects: Effects,
    recorder: TriggerRecorder | None = None,
) -> None:
    """A freed concurrency slot, and Flow triggers on a state change; `flow` is None
    when it no longer loads (its queued executions, if any, are still dequeued)."""
    limited = flow is None or flow.concurrency is not None
    if limited and not was_finalized and after.finalized_at is not None:
        queued = tx.oldest_queued(after.namespace, after.flow_id)
        if queued is not None:
            effects.events.append(
                eventcodec.encode(queued, Dequeue(), now, f"dequeue:{queued}:{after.id}")
            )
    if after.state is before_state:
        return
    candidates = flows.trigger_candidates()
    if not candidates:
        return
    from lanner.engine.flowtrigger import evaluate_flow_triggers

    lookup = tx.trigger_state
    reads: dict[TriggerKey, Mapping[str, Any] | None] = {}
    if recorder is not None:

        def lookup(namespace: str, flow_id: str, trigger_id: str) -> Mapping[str, Any] | None:
            state = tx.trigger_state(namespace, flow_id, trigger_id)
            reads[(namespace, flow_id, trigger_id)] = state
            return state

    outcome = evaluate_flow_triggers(after, candidates, lookup, now, engine, secrets=secrets)
    if recorder is not None:
        recorder.triggered(after, candidates, reads, now, outcome)
    for (namespace, flow_id, trigger_id), data in outcome.state_updates:
        tx.put_trigger_state(namespace, flow_id, trigger_id, data, now)
    for execution in outcome.executions:
        effects.executions.append(execution)
        effects.events.append(start_event(execution, now))
    for namespace, flow_id, message in outcome.warnings:
        effects.logs.append(
            LogRecord(after.id, None, None, None, now, "WARN", f"{namespace}.{flow_id}: {message}")
        )
