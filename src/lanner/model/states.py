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

    @property
    def terminated(self) -> bool:
        return self in _TERMINATED

    @property
    def failed(self) -> bool:
        return self is State.FAILED

    @property
    def created(self) -> bool:
        return self in (State.CREATED, State.RESTARTED)

    @property
    def running(self) -> bool:
        return self in (State.RUNNING, State.KILLING)


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

# Final-state priority of Kestra 2.0 (§0 decision 6): the first present wins.
FINAL_PRIORITY = (State.KILLED, State.FAILED, State.CANCELLED, State.WARNING, State.PAUSED)


def final_state(states: list[State]) -> State:
    """KILLED > FAILED > CANCELLED > WARNING > PAUSED > SUCCESS over a container's direct tasks."""
    present = set(states)
    for s in FINAL_PRIORITY:
        if s in present:
            return s
    return State.SUCCESS
