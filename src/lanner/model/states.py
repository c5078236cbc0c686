"""Kestra's state types and their predicates (SPEC §2.1)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    CREATED = "CREATED"
    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    RESTARTED = "RESTARTED"
    KILLING = "KILLING"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    KILLED = "KILLED"
    CANCELLED = "CANCELLED"
    QUEUED = "QUEUED"
    RETRYING = "RETRYING"
    RETRIED = "RETRIED"
    SKIPPED = "SKIPPED"
    BREAKPOINT = "BREAKPOINT"
    RESUBMITTED = "RESUBMITTED"

    # Plain attributes of each member, set below: the planner reads them a few dozen
    # times per task run, and a property is a function call each time.
    terminated: bool
    failed: bool
    created: bool
    running: bool


_TERMINATED = frozenset(
    {
        State.SUCCESS,
        State.WARNING,
        State.FAILED,
        State.KILLED,
        State.CANCELLED,
        State.RETRIED,
        State.SKIPPED,
        State.RESUBMITTED,
    }
)

for _state in State:
    _state.terminated = _state in _TERMINATED
    _state.failed = _state is State.FAILED
    _state.created = _state in (State.CREATED, State.RESTARTED)
    _state.running = _state in (State.RUNNING, State.KILLING)
del _state

# Final-state priority of Kestra 2.0 (§0 decision 6): the first present wins.
FINAL_PRIORITY = (State.KILLED, State.FAILED, State.CANCELLED, State.WARNING, State.PAUSED)


def final_state(states: list[State]) -> State:
    """KILLED > FAILED > CANCELLED > WARNING > PAUSED > SUCCESS over a container's direct tasks."""
    present = set(states)
    for s in FINAL_PRIORITY:
        if s in present:
            return s
    return State.SUCCESS
