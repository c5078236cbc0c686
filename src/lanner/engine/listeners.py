"""Flow-level `listeners` (deprecated in Kestra; docs/semantics.md "Listeners"):
what runs after the execution's terminal state, before `afterExecution`.

The root's post-terminal list is made of groups, run one task at a time: the
tasks of each listener whose conditions match, in declaration order, then
`afterExecution`. A listener's conditions are evaluated once, when its turn
comes (every earlier group done, no later one started), against the terminal
execution, with the terminal moment as the clock of time conditions; a
listener that does not match then is skipped for good. Their task runs are
root task runs of the `after_execution` phase: like `afterExecution` they run
whatever the terminal state (KILLED included), a failure does not stop the
next one, and they never change the execution's state.
"""

from __future__ import annotations

from collections.abc import Sequence

from lanner.engine.cycle import Cycle
from lanner.engine.execution import Phase, TaskRun
from lanner.engine.flowindex import enabled
from lanner.model.task import Task


def next_task(cycle: Cycle, runs: Sequence[TaskRun]) -> Task | None:
    """The next post-terminal task to create; None when every group is done.

    `runs`: the root's after_execution task runs, all terminated."""
    flow = cycle.index.flow
    groups: list[tuple[int | None, tuple[Task, ...]]] = [
        (i, enabled(listener.tasks)) for i, listener in enumerate(flow.listeners or ())
    ]
    groups.append((None, cycle.index.root[Phase.AFTER]))
    done = {r.task_id for r in runs}
    started = [any(t.id in done for t in tasks) for _, tasks in groups]
    for position, (listener, tasks) in enumerate(groups):
        if started[position]:
            rest = [t for t in tasks if t.id not in done]
            if rest:
                return rest[0]
            continue
        if any(started[position + 1 :]):
            continue  # its turn has passed: it did not match then
        if not tasks:
            continue
        if listener is None or _matches(cycle, listener):
            return tasks[0]
    return None


def _matches(cycle: Cycle, index: int) -> bool:
    listener = (cycle.index.flow.listeners or ())[index]
    if not listener.conditions:
        return True
    ex = cycle.snapshot()
    scope = cycle.scope(None, f"listener:{index}")

    def render(text: str) -> str:
        return str(cycle.engine.render(text, scope))

    # Imported here: the condition models load only for a flow with listeners.
    from lanner.engine.flowmatch import Matcher

    matcher = Matcher(ex, render, ex.terminal_at or cycle.now)
    where = f"listeners[{index}]"
    matched = all(matcher.condition(c, f"{where}.conditions") for c in listener.conditions)
    for problem in matcher.problems:
        cycle.log("WARN", f"{problem}; the listener's tasks do not run")
    return matched
