"""Helpers for the Flow trigger tests: flows written as YAML, upstream executions built by
hand (or simulated), and one call of `evaluate_flow_triggers` over an in-memory window store."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from lanner.engine.execution import Attempt, Execution, History, Phase, TaskRun, new_execution_id
from lanner.engine.flowtrigger import TriggerCandidate, TriggerOutcome, evaluate_flow_triggers
from lanner.expr import ExpressionEngine
from lanner.model.flow import Flow
from lanner.model.states import State
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry

T0 = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)  # a Monday
FLOW_TRIGGER = "io.kestra.plugin.core.trigger.Flow"
LOG = "io.kestra.plugin.core.log.Log"
COND = "io.kestra.plugin.core.condition."


@cache
def registry() -> TaskRegistry:
    return TaskRegistry.from_entry_points()


@cache
def engine() -> ExpressionEngine:
    return ExpressionEngine()


def load(text: str) -> Flow:
    """A flow from YAML; `tasks` defaults to one Log task when the text has none."""
    body = textwrap.dedent(text).strip("\n") + "\n"
    if "\ntasks:" not in "\n" + body:
        body += f"tasks:\n  - id: hello\n    type: {LOG}\n    message: hi\n"
    return load_flow(body, registry())


def listener(triggers: str, *, flow_id: str = "downstream", extra: str = "") -> Flow:
    """A flow in namespace `company.ops` whose `triggers:` block is `triggers` (indented YAML)."""
    text = f"id: {flow_id}\nnamespace: company.ops\n{textwrap.dedent(extra).strip()}\n"
    text += "triggers:\n" + textwrap.indent(textwrap.dedent(triggers).strip("\n"), "  ") + "\n"
    return load(text)


def upstream(
    state: State | str = State.SUCCESS,
    *,
    namespace: str = "company.team",
    flow_id: str = "extract",
    exec_id: str | None = None,
    labels: Mapping[str, str] | None = None,
    outputs: Mapping[str, Any] | None = None,
    task_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    after_execution: Mapping[str, State] | None = None,
    attempts: Mapping[str, Sequence[State]] | None = None,
    revision: int = 3,
    at: datetime = T0,
) -> Execution:
    """An execution that went CREATED -> RUNNING -> `state`, with optional task runs."""
    state = State(state)
    eid = exec_id or new_execution_id(f"{namespace}.{flow_id}.{state}")
    histories = [History(State.CREATED, at - timedelta(seconds=2))]
    if state is not State.CREATED:
        histories.append(History(State.RUNNING, at - timedelta(seconds=1)))
    if state not in (State.CREATED, State.RUNNING):
        histories.append(History(state, at))
    runs: dict[str, TaskRun] = {}
    children: dict[tuple[str, Phase], tuple[str, ...]] = {}
    seq = 0
    main: dict[str, tuple[State, Mapping[str, Any] | None]] = {
        k: (State.SUCCESS, v) for k, v in (task_outputs or {}).items()
    }
    main.update({k: (tries[-1], None) for k, tries in (attempts or {}).items()})
    for phase, items in (
        (Phase.MAIN, main),
        (Phase.AFTER, {k: (s, None) for k, s in (after_execution or {}).items()}),
    ):
        for task_id, (run_state, run_outputs) in items.items():
            tries = (attempts or {}).get(task_id, ()) if phase is Phase.MAIN else ()
            run = TaskRun(
                id=f"{eid}-{task_id}",
                execution_id=eid,
                task_id=task_id,
                parent_id=None,
                value=None,
                iteration=None,
                phase=phase,
                seq=seq,
                state=run_state,
                histories=(History(run_state, at),),
                outputs=run_outputs,
                attempts=tuple(Attempt(t, (History(t, at),)) for t in tries),
            )
            seq += 1
            runs[run.id] = run
            children[("", phase)] = (*children.get(("", phase), ()), run.id)
    return Execution(
        id=eid,
        namespace=namespace,
        flow_id=flow_id,
        flow_revision=revision,
        state=state,
        histories=tuple(histories),
        labels=dict(labels or {}),
        outputs=outputs,
        task_runs=runs,
        children=children,
    )


@dataclass
class WindowStore:
    """The runtime's trigger-state table, in memory: applies the outcome's state updates."""

    states: dict[tuple[str, str, str], Mapping[str, Any]] = field(default_factory=dict)

    def get(self, namespace: str, flow_id: str, trigger_id: str) -> Mapping[str, Any] | None:
        return self.states.get((namespace, flow_id, trigger_id))

    def apply(self, outcome: TriggerOutcome) -> None:
        for key, value in outcome.state_updates:
            if value is None:
                self.states.pop(key, None)
            else:
                # As a real store does: JSON in, JSON out (PostgreSQL's jsonb sorts keys).
                self.states[key] = json.loads(json.dumps(value, sort_keys=True))


def evaluate(
    up: Execution,
    *flows: Flow,
    store: WindowStore | None = None,
    now: datetime = T0,
    secrets: Any = None,
) -> TriggerOutcome:
    store = store if store is not None else WindowStore()
    outcome = evaluate_flow_triggers(
        up,
        [TriggerCandidate(f, 7) for f in flows],
        store.get,
        now,
        engine(),
        secrets=secrets,
    )
    store.apply(outcome)
    return outcome


def fired(outcome: TriggerOutcome) -> list[str]:
    """`flowId:triggerId` of each created execution."""
    return [f"{e.flow_id}:{(e.trigger or {}).get('id')}" for e in outcome.executions]
