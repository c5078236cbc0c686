"""Every new execution carries `system.correlationId`, as Kestra's do: its own id,
unless it was given one (a Subflow's child gets its root's)."""

from __future__ import annotations

from datetime import UTC, datetime

from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.newexecution import new_execution

FLOW = """
id: f
namespace: a
labels:
  team: data
tasks:
  - id: t
    type: io.kestra.plugin.core.log.Log
    message: "{{ labels.system.correlationId }}"
"""
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_new_execution_is_its_own_correlation() -> None:
    flow = load_flow(FLOW, TaskRegistry.from_entry_points())
    execution = new_execution(flow, 1, {}, NOW)
    assert execution.labels == {"team": "data", "system.correlationId": execution.id}


def test_a_given_correlation_id_is_kept() -> None:
    flow = load_flow(FLOW, TaskRegistry.from_entry_points())
    labels = {"system.correlationId": "root"}
    execution = new_execution(flow, 1, {}, NOW, labels=labels)
    assert execution.labels["system.correlationId"] == "root"


def test_a_simulated_execution_is_its_own_correlation_too() -> None:
    from lanner.testing import simulate

    run = simulate(FLOW)
    labels = run.execution.labels
    assert labels == {"team": "data", "system.correlationId": run.execution.id}
    assert run.execution.state.value == "SUCCESS"
