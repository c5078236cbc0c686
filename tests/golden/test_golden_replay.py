"""Golden replay: real executions, recorded on the real runtime over SQLite
(`recording.py`), replayed through the planner alone give the same execution
and task runs, byte for byte, at every call. The planner is pure in fact: what
it decides depends only on the flow, the execution, the events and the values
of its PlanContext.

A failure after a deliberate change of behaviour: regenerate the files
(`python -m tests.golden.recording`, tests/README.md) and review their diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lanner.model.states import State
from lanner.plugin import TaskRegistry
from tests.golden.recording import (
    GOLDEN,
    SCENARIOS,
    from_rows,
    path_of,
    record,
    replay,
    replay_triggers,
)

FILES = sorted(GOLDEN.glob("*.json"))


@pytest.fixture(scope="module")
def registry() -> TaskRegistry:
    return TaskRegistry.from_entry_points()


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def _check(doc: dict[str, Any], registry: TaskRegistry) -> int:
    count = 0
    for r in replay(doc, registry):
        if r.got != r.expected:
            got, expected = json.dumps(r.got, indent=1), json.dumps(r.expected, indent=1)
            pytest.fail(
                f"{doc['scenario']}: execution {r.execution_id}, call {r.call}:"
                f" replayed\n{got}\nrecorded\n{expected}"
            )
        count += 1
    return count


def test_every_scenario_has_its_golden_file() -> None:
    assert sorted(p.stem for p in FILES) == sorted(SCENARIOS)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_recorded_execution_replays_byte_for_byte(path: Path, registry: TaskRegistry) -> None:
    doc = _load(path)
    assert _check(doc, registry) == sum(len(e["calls"]) for e in doc["executions"])
    for execution in doc["executions"]:
        last = from_rows(execution["calls"][-1]["output"])
        assert last.finalized_at is not None  # recorded to its end


def test_the_files_hold_what_they_are_named_for() -> None:
    """Each behaviour the golden files stand for is really in them."""

    def kinds(name: str) -> set[str]:
        doc = _load(path_of(name))
        return {e["kind"] for x in doc["executions"] for c in x["calls"] for e in c["events"]}

    def states(name: str) -> list[str]:
        doc = _load(path_of(name))
        return [from_rows(x["calls"][-1]["output"]).state.value for x in doc["executions"]]

    assert {"RetryDue", "TaskResult"} <= kinds("retries")
    assert "SubflowEnded" in kinds("subflow") and len(states("subflow")) == 2
    assert "Resume" in kinds("pause_resume")
    assert "Kill" in kinds("kill") and states("kill") == [State.KILLED.value]
    assert "Restart" in kinds("restart")
    restarted = from_rows(_load(path_of("restart"))["executions"][0]["calls"][-1]["output"])
    assert State.RESTARTED in [h.state for h in restarted.histories]
    assert states("timeout") == [State.WARNING.value]  # the timed-out task is allowed to fail
    queued = _load(path_of("concurrency_queue"))
    assert "Dequeue" in kinds("concurrency_queue")
    assert any("slots_taken" in c for x in queued["executions"] for c in x["calls"])
    assert any(
        "error_logs" in c for x in _load(path_of("error_logs"))["executions"] for c in x["calls"]
    )
    foreach = from_rows(_load(path_of("foreach"))["executions"][0]["calls"][-1]["output"])
    assert sum(1 for r in foreach.task_runs.values() if r.task_id == "shout") == 3
    # ForEachItem: a failed batch, then after a restart its new child (the chain's second).
    assert "SubflowEnded" in kinds("foreachitem") and "Restart" in kinds("foreachitem")
    batches = [
        from_rows(x["calls"][-1]["output"]) for x in _load(path_of("foreachitem"))["executions"]
    ]
    assert [b.attempt_number for b in batches if b.flow_id == "golden_batch"] == [1, 1, 1, 2]
    # Streak functions: what they read is in the file; failed twice, then recovered.
    streaks = _load(path_of("streaks"))
    assert any("history_reads" in c for x in streaks["executions"] for c in x["calls"])
    assert states("streaks") == ["FAILED", "FAILED", "SUCCESS"]
    assert states("retry_new_execution") == ["RETRIED", "RETRIED", "FAILED"]


TRIGGERED = [p for p in FILES if "triggers" in _load(p)]


@pytest.mark.parametrize("path", TRIGGERED, ids=[p.stem for p in TRIGGERED])
def test_a_recorded_flow_trigger_evaluation_replays_byte_for_byte(
    path: Path, registry: TaskRegistry
) -> None:
    """What Flow triggers decided on each state change (the executions they create and
    the trigger states they store), from the stored trigger states they read."""
    doc = _load(path)
    count = 0
    for r in replay_triggers(doc, registry):
        assert r.got == r.expected, f"{doc['scenario']}: trigger evaluation {r.call}"
        count += 1
    assert count == len(doc["triggers"])


def test_the_streak_conditions_fire_once_each_in_the_recording() -> None:
    doc = _load(path_of("streaks"))
    created = [from_rows(e) for t in doc["triggers"] for e in t["outcome"]["executions"]]
    assert [e.trigger["id"] if e.trigger else None for e in created] == [
        "second_failure",
        "recovered",
    ]


def test_a_trigger_replay_needs_the_recorded_trigger_states(registry: TaskRegistry) -> None:
    doc = _load(path_of("streaks"))
    for call in doc["triggers"]:
        call["reads"] = []
    with pytest.raises(AssertionError, match="reads the trigger state"):
        for _ in replay_triggers(doc, registry):
            pass


def test_a_replay_needs_the_recorded_history_reads(registry: TaskRegistry) -> None:
    """Without what the streak functions read, the replay cannot decide their runIf."""
    doc = _load(path_of("streaks"))
    for execution in doc["executions"]:
        for call in execution["calls"]:
            call.pop("history_reads", None)
    assert any(r.got != r.expected for r in replay(doc, registry))


def test_a_live_recording_replays_byte_for_byte(registry: TaskRegistry) -> None:
    """Recorded now, not read from a file: the recorder keeps up with the executor
    (a PlanContext field it does not record fails the recording)."""
    doc = record("retries")
    assert _check(doc, registry) > 0
