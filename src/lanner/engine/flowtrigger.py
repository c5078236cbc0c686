"""The Flow trigger (SPEC §7): which executions an upstream state change creates.

The runtime calls :func:`evaluate_flow_triggers` inside the executor's
commit each time an execution's state changes, with the deployed flows that
have Flow triggers. The function is pure: everything it reads is an
argument (the stored precondition windows through `trigger_state`, the
clock as `now`), and it returns the executions to create, the windows to
store and the warnings to log. The same arguments always give the same
outcome, and the created executions have ids derived from the upstream
transition, so a replayed commit creates nothing twice.

Since `afterExecution` never changes an execution's state (SPEC §3.4), the
runtime never calls this because of it: a failing afterExecution task can
never fire a trigger listening for FAILED.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from lanner.engine.execution import Execution, History, new_execution_id
from lanner.engine.flowmatch import Matcher, window_specs
from lanner.engine.flowstreak import record_terminal, stored_streaks
from lanner.engine.flowwindow import (
    STATE_VERSION,
    WindowOutcome,
    advance,
    merged_outputs,
    stored_windows,
)
from lanner.engine.inputrender import input_renderer
from lanner.engine.variables import execution_variables, nested_labels
from lanner.errors import LannerError
from lanner.expr import ExpressionEngine, Scope
from lanner.model import loglevel
from lanner.model.conditions import MultipleCondition, streak_conditions
from lanner.model.flow import Flow
from lanner.model.inputs import parse_inputs, secret_input_ids
from lanner.model.states import State
from lanner.model.triggers import FlowTrigger, canonical_trigger_type, flow_trigger_states_match

CORRELATION_ID = "system.correlationId"

TriggerKey = tuple[str, str, str]  # (namespace, flow id, trigger id)


@dataclass(frozen=True)
class TriggerCandidate:
    flow: Flow  # a deployed, enabled flow (latest revision) that has Flow triggers
    revision: int


@dataclass(frozen=True)
class TriggerOutcome:
    executions: tuple[Execution, ...]  # new CREATED executions to create (each gets a Start event)
    # ((namespace, flow_id, trigger_id), new precondition window state or None to delete)
    state_updates: tuple[tuple[TriggerKey, Mapping[str, Any] | None], ...]
    warnings: tuple[tuple[str, str, str], ...]  # (namespace, flow_id, message)


@dataclass(frozen=True)
class _FlowRef:
    """What `execution_variables` reads of a flow (its id and namespace), for the upstream
    execution, whose Flow object the caller does not give."""

    id: str
    namespace: str


class _Upstream:
    """The upstream execution's template variables, built once per evaluation."""

    def __init__(self, upstream: Execution) -> None:
        self.execution = upstream
        ref = cast(Flow, _FlowRef(upstream.flow_id, upstream.namespace))
        self.base = execution_variables(ref, upstream)
        self.labels = {k: v for k, v in upstream.labels.items() if k != CORRELATION_ID}

    def trigger_variables(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """`trigger.*` of an execution this upstream creates (SPEC §6.2, §7.4)."""
        up = self.execution
        return {
            "executionId": up.id,
            "namespace": up.namespace,
            "flowId": up.flow_id,
            "flowRevision": up.flow_revision,
            "state": up.state.value,
            # Built per call: no two executions share a mutable map.
            "executionLabels": nested_labels(self.labels),
            "outputs": dict(outputs),
        }


def evaluate_flow_triggers(
    upstream: Execution,
    candidates: Sequence[TriggerCandidate],
    trigger_state: Callable[[str, str, str], Mapping[str, Any] | None],
    now: datetime,
    engine: ExpressionEngine,
    *,
    secrets: Callable[[str], str] | None = None,
) -> TriggerOutcome:
    """The executions that `upstream`'s new state creates through Flow triggers (SPEC §7).

    `upstream` is the execution in its new state, task runs loaded. For each
    enabled Flow trigger of each candidate flow (never the upstream's own
    flow): the `states` filter, then every plain condition, then the
    windowed ones (`preconditions`, legacy MultipleCondition) whose stored
    state `trigger_state(namespace, flow_id, trigger_id)` returns.
    """
    if upstream.state is State.CREATED:
        return TriggerOutcome((), (), ())  # not a state change a trigger can see
    ctx = _Upstream(upstream)
    executions: list[Execution] = []
    updates: list[tuple[TriggerKey, Mapping[str, Any] | None]] = []
    warnings: list[tuple[str, str, str]] = []
    for candidate in candidates:
        flow = candidate.flow
        if flow.disabled or flow.deleted:
            continue
        if flow.namespace == upstream.namespace and flow.id == upstream.flow_id:
            continue  # a flow never triggers itself
        for trigger in flow.triggers or ():
            if not isinstance(trigger, FlowTrigger) or trigger.disabled:
                continue
            run = _TriggerRun(ctx, candidate, trigger, now, engine, secrets)
            run.evaluate(trigger_state)
            executions.extend(run.executions)
            updates.extend(run.updates)
            if loglevel.kept("WARN", trigger.logLevel):  # the trigger's own `logLevel`
                warnings.extend((flow.namespace, flow.id, m) for m in run.warnings)
    return TriggerOutcome(tuple(executions), tuple(updates), tuple(warnings))


class _TriggerRun:
    """One Flow trigger of one candidate flow, evaluated against the upstream execution."""

    def __init__(
        self,
        ctx: _Upstream,
        candidate: TriggerCandidate,
        trigger: FlowTrigger,
        now: datetime,
        engine: ExpressionEngine,
        secrets: Callable[[str], str] | None,
    ) -> None:
        self.ctx = ctx
        self.flow = candidate.flow
        self.revision = candidate.revision
        self.trigger = trigger
        self.now = now
        self.engine = engine
        self.secrets = secrets
        up = ctx.execution
        # The same transition always gives the same id; a later one (another index) a new one.
        self.seed = (
            f"flow-trigger|{up.id}|{len(up.histories) - 1}|"
            f"{self.flow.namespace}|{self.flow.id}|{trigger.id}"
        )
        self.executions: list[Execution] = []
        self.updates: list[tuple[TriggerKey, Mapping[str, Any] | None]] = []
        self.warnings: list[str] = []
        # Streak conditions: the trigger's stored state as read, its new streaks (None:
        # none to record) and whether the state was written already.
        self.stored: Mapping[str, Any] | None = None
        self.streaks: dict[str, Any] | None = None
        self.stored_written = False

    @property
    def name(self) -> str:
        return f"{self.flow.namespace}.{self.flow.id}"

    def scope(self, outputs: Mapping[str, Any]) -> Scope:
        """The upstream execution's context, with `trigger.*` of the execution to create."""
        variables = {**self.ctx.base, "trigger": self.ctx.trigger_variables(outputs)}
        return Scope(
            variables=variables,
            now=self.now,
            seed=zlib.crc32(self.seed.encode()),
            secrets=self.secrets,
        )

    def evaluate(self, trigger_state: Callable[[str, str, str], Mapping[str, Any] | None]) -> None:
        key: TriggerKey = (self.flow.namespace, self.flow.id, self.trigger.id)
        conditions = list(self.trigger.conditions or ())
        history: list[str] | None = None
        if streak_conditions(conditions) and self.ctx.execution.state.terminated:
            # Every terminal state of an upstream flow is recorded, whatever the trigger's
            # `states` and other conditions say: a streak is broken by what they filter out.
            stored = trigger_state(*key)
            history, streaks = record_terminal(stored, self.ctx.execution, conditions)
            self.streaks = streaks
            self.stored = stored
        self._evaluate(key, trigger_state, history)
        if self.streaks is not None and not self.stored_written:
            self._store(key, self.stored, [], fired=False, keep_windows=True)

    def _evaluate(
        self,
        key: TriggerKey,
        trigger_state: Callable[[str, str, str], Mapping[str, Any] | None],
        history: list[str] | None,
    ) -> None:
        up = self.ctx.execution
        trigger = self.trigger
        if not flow_trigger_states_match(trigger, up.state.value):
            return
        scope = self.scope(up.outputs or {})
        matcher = Matcher(up, lambda text: self.engine.render(text, scope), self.now)
        matcher.history = history
        conditions = list(trigger.conditions or ())
        multiples = [c for c in conditions if isinstance(c, MultipleCondition)]
        plain_ok = all(
            matcher.condition(c, f"conditions[{i}]")
            for i, c in enumerate(conditions)
            if not isinstance(c, MultipleCondition)
        )
        if not plain_ok:
            self._problems(matcher)
            return
        specs, specs_ok = window_specs(trigger.preconditions, multiples, matcher)
        self._problems(matcher)
        if not specs_ok:
            return
        if not specs:
            self._fire(up.outputs or {})
            return
        stored = self.stored if self.streaks is not None else trigger_state(*key)
        windows = stored_windows(stored)
        outcomes = [
            advance(spec, windows.get(spec.key), self.now, up.id, up.outputs) for spec in specs
        ]
        fire = all(o.complete for o in outcomes) and any(o.contributed for o in outcomes)
        if fire:
            self._fire(merged_outputs(outcomes))
        self._store(key, stored, outcomes, fire)

    def _store(
        self,
        key: TriggerKey,
        stored: Mapping[str, Any] | None,
        outcomes: list[WindowOutcome],
        fired: bool,
        keep_windows: bool = False,
    ) -> None:
        self.stored_written = True
        kept: dict[str, Any]
        if keep_windows:  # only the streaks changed
            kept = dict(stored_windows(stored))
        else:
            kept = {
                o.key: o.state
                for o in outcomes
                if o.state is not None and not (fired and o.reset_on_success)
            }
        streaks = self.streaks if self.streaks is not None else stored_streaks(stored)
        new: dict[str, Any] | None = None
        if kept or streaks:
            new = {"version": STATE_VERSION, "windows": kept}
            if streaks:
                new["streaks"] = streaks
        if new != (dict(stored) if stored else None):
            self.updates.append((key, new))

    def _problems(self, matcher: Matcher) -> None:
        for problem in matcher.problems:
            self.warnings.append(f"Trigger {self.trigger.id} of flow {self.name}: {problem}")
        matcher.problems.clear()

    def _fire(self, outputs: Mapping[str, Any]) -> None:
        flow, trigger, up = self.flow, self.trigger, self.ctx.execution
        scope = self.scope(outputs)
        try:
            labels = {
                str(k): self.engine.render(str(v), scope) for k, v in (trigger.labels or {}).items()
            }
        except LannerError as exc:
            self.warnings.append(f"Failed to trigger flow {self.name}: invalid labels: {exc}")
            return
        try:
            given = self.engine.render_value(dict(trigger.inputs or {}), scope)
            render = input_renderer(
                flow.namespace, flow.id, flow.revision, scope.now, engine=self.engine
            )
            inputs = parse_inputs(flow.inputs or (), given, from_strings=False, render=render)
        except LannerError as exc:
            self.warnings.append(f"Failed to trigger flow {self.name}: invalid inputs: {exc}")
            return
        all_labels = {
            **(flow.labels or {}),
            **labels,
            CORRELATION_ID: up.labels.get(CORRELATION_ID, up.id),
        }
        trigger_doc = {
            "id": trigger.id,
            "type": canonical_trigger_type(trigger),
            **self.ctx.trigger_variables(outputs),
        }
        self.executions.append(
            Execution(
                id=new_execution_id(self.seed),
                namespace=flow.namespace,
                flow_id=flow.id,
                flow_revision=self.revision,
                state=State.CREATED,
                histories=(History(State.CREATED, self.now),),
                inputs=inputs,
                labels=all_labels,
                variables=dict(flow.variables or {}),
                trigger=trigger_doc,
                secret_inputs=frozenset(secret_input_ids(flow.inputs or ())),
            )
        )
