"""FinalizedSignals: a waiter is woken by the commit that finalizes its execution only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from lanner.engine.execution import Execution, History
from lanner.model.states import State
from lanner.runtime.finalwait import FinalizedSignals


def _execution(execution_id: str, finalized: bool) -> Execution:
    now = datetime.now(UTC)
    e = Execution(
        id=execution_id,
        namespace="ns",
        flow_id="f",
        flow_revision=1,
        state=State.RUNNING,
        histories=(History(State.CREATED, now),),
    )
    return replace(e, finalized_at=now) if finalized else e


def test_only_the_finalizing_commit_of_that_execution_wakes_its_waiter() -> None:
    signals = FinalizedSignals()
    event = signals.listen("a")
    signals.on_commit(_execution("a", finalized=False), None)
    signals.on_commit(_execution("b", finalized=True), None)
    assert not event.is_set()
    signals.on_commit(_execution("a", finalized=True), None)
    assert event.is_set()
    signals.forget("a", event)
    signals.on_commit(_execution("a", finalized=True), None)  # nobody waits: nothing to do
