"""The terminal states of upstream flows that a Flow trigger with streak conditions
(ConsecutiveFailures, FlowRecovered: docs/triggers.md) keeps in its stored state.

Per upstream flow, the trigger keeps the last terminal states (as many as its
conditions need) and the transition it recorded last, so that a replayed commit
of the same transition records nothing twice. Pure: the state comes in and goes
out as data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lanner.engine.execution import Execution
from lanner.model.common import Model
from lanner.model.conditions import ConsecutiveFailures, streak_conditions

_MAX_KEPT = 101  # ConsecutiveFailures.count is at most 100, plus the state that broke it


def stored_streaks(stored: Mapping[str, Any] | None) -> dict[str, Any]:
    streaks = (stored or {}).get("streaks")
    return dict(streaks) if isinstance(streaks, Mapping) else {}


def _kept(conditions: Sequence[Model]) -> int:
    needed = 2  # FlowRecovered: this state and the one before
    for condition in streak_conditions(conditions):
        if isinstance(condition, ConsecutiveFailures):
            needed = max(needed, condition.count + 1)
    return min(needed, _MAX_KEPT)


def record_terminal(
    stored: Mapping[str, Any] | None, upstream: Execution, conditions: Sequence[Model]
) -> tuple[list[str], dict[str, Any]]:
    """The upstream flow's terminal states with the upstream's own appended (oldest
    first), and the trigger's new streaks to store."""
    streaks = stored_streaks(stored)
    flow_key = f"{upstream.namespace}|{upstream.flow_id}"
    entry = streaks.get(flow_key)
    states = list(entry.get("states", [])) if isinstance(entry, Mapping) else []
    last = entry.get("last") if isinstance(entry, Mapping) else None
    transition = f"{upstream.id}|{len(upstream.histories) - 1}"
    if last != transition:
        states.append(upstream.state.value)
        states = states[-_kept(conditions) :]
    streaks[flow_key] = {"states": states, "last": transition}
    return states, streaks
