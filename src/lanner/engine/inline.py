"""The actions the executor performs inline, because they change the execution
itself (SPEC §5.3, §5.15): a task type declares one as its behaviour's
`action` (lanner.model.behaviour.Action) -- exit, set labels, set or unset
variables -- and each reads the task's properties by their documented names."""

from __future__ import annotations

import json
from typing import Any

from lanner.engine.cycle import Cycle
from lanner.engine.execution import Attempt, History, TaskRun, evolve
from lanner.model.behaviour import Action
from lanner.model.common import is_label_key
from lanner.model.states import State
from lanner.model.task import Task


def execute(cycle: Cycle, run: TaskRun, task: Task) -> State | None:
    """Run the task; returns its final state, or None when it finished the run itself."""
    action = task.behaviour.action
    props: Any = task  # each action reads the properties it documents
    if action is Action.EXIT:
        _exit(cycle, run, task)
        return None
    if action is Action.SET_LABELS:
        labels = _labels(cycle.render(props.labels, run))
        cycle.update_execution(labels={**cycle.ex.labels, **labels})
    elif action is Action.SET_VARIABLES:
        values = cycle.render(props.variables, run)
        if not props.overwrite:
            clash = sorted(k for k in values if k in cycle.ex.variables)
            if clash:
                raise ValueError(
                    f"variables already exist and overwrite is false: {', '.join(clash)}"
                )
        cycle.update_execution(variables={**cycle.ex.variables, **values})
    elif action is Action.UNSET_VARIABLES:
        names = [str(n) for n in cycle.render(props.variables, run)]
        missing = [n for n in names if n not in cycle.ex.variables]
        if missing and not props.ignoreMissing:
            raise ValueError(f"variables not found: {', '.join(missing)}")
        cycle.update_execution(
            variables={k: v for k, v in cycle.ex.variables.items() if k not in names}
        )
    else:
        raise ValueError(f"task type {task.type} cannot run in the executor")
    return State.SUCCESS


def _exit(cycle: Cycle, run: TaskRun, task: Task) -> None:
    wanted = str(getattr(task, "state", "SUCCESS"))
    state = State.CANCELLED if wanted == "CANCELED" else State(wanted)
    attempt = Attempt(state, (History(state, cycle.now),))
    cycle.finish(evolve(run, attempts=(attempt,)), state)
    if cycle.ex.state.terminated:
        return  # an Exit inside afterExecution only ends itself
    if state is State.KILLED:
        cycle.set_ex(State.KILLING)
        return
    # The Exit task run and all its ancestors take the state; nothing else is scheduled.
    parent_id = run.parent_id
    while parent_id:
        parent = cycle.runs[parent_id]
        cycle.stop_descendants(parent, State.KILLED)
        cycle.finish(cycle.with_closed_attempt(parent, state), state)
        parent_id = parent.parent_id
    cycle.kill_all()
    cycle.end(state)


def _labels(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, list):
        value = {str(item["key"]): item["value"] for item in value}
    if not isinstance(value, dict):
        raise ValueError("labels must be a map, a list of {key, value} or a JSON object")
    out: dict[str, str] = {}
    for key, val in value.items():
        if key.startswith("system."):
            raise ValueError(f"label '{key}': system labels cannot be set by a task")
        if not is_label_key(key):
            raise ValueError(f"label key '{key}' must start with a lower-case letter")
        if val is None or str(val) == "":
            raise ValueError(f"label '{key}' must have a non-empty value")
        out[key] = str(val).lower() if isinstance(val, bool) else str(val)
    return out
