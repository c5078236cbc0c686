"""Kestra properties Lanner does not implement are rejected, never accepted and
ignored (issue 7 §6 rule): each error is located at the property and says
"not supported here" with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.model.flowtools import LOG, flow_data, load, log, one_problem

SUBFLOW = "io.kestra.plugin.core.flow.Subflow"
FLOW_TRIGGER = "io.kestra.plugin.core.trigger.Flow"
RETRY = {"type": "constant", "interval": "PT1S"}


def _subflow(**extra: Any) -> dict[str, Any]:
    return {"id": "child", "type": SUBFLOW, "namespace": "a", "flowId": "b", **extra}


def _on_upstream(**extra: Any) -> dict[str, Any]:
    """A flow with a Flow trigger (the one trigger type that fires today)."""
    trigger = {"id": "on_up", "type": FLOW_TRIGGER, "states": ["SUCCESS"], **extra}
    return flow_data(triggers=[trigger])


REJECTED: list[tuple[str, dict[str, Any], str]] = [
    # task properties (SPEC §1.2)
    ("logToFile", flow_data([log("t", logToFile=True)]), "tasks[0].logToFile"),
    ("workerGroup", flow_data([log("t", workerGroup={"key": "gpu"})]), "tasks[0].workerGroup"),
    (
        "taskCache",
        flow_data([log("t", taskCache={"enabled": True, "ttl": "PT1H"})]),
        "tasks[0].taskCache",
    ),
    ("version", flow_data([log("t", version="1.0.0")]), "tasks[0].version"),
    (
        "pluginDefaultsRef",
        flow_data([log("t", pluginDefaultsRef="my-defaults")]),
        "tasks[0].pluginDefaultsRef",
    ),
    ("assets", flow_data([log("t", assets={"inputs": []})]), "tasks[0].assets"),
    # flow properties (SPEC §1.1)
    (
        "checks",
        flow_data(checks=[{"condition": "{{ inputs.x }}", "message": "x must be set"}]),
        "checks",
    ),
    ("tenantId", flow_data(tenantId="main"), "tenantId"),
    ("deleted", flow_data(deleted=True), "deleted"),
    ("workerGroup", flow_data(workerGroup={"key": "gpu"}), "workerGroup"),
    (
        "ref",
        flow_data(pluginDefaults=[{"type": LOG, "ref": "mine", "values": {"level": "WARN"}}]),
        "pluginDefaults[0].ref",
    ),
    # Subflow (SPEC §5.10)
    ("outputs", flow_data([_subflow(outputs={"x": "{{ outputs.t.value }}"})]), "tasks[0].outputs"),
    # Flow trigger (SPEC §7)
    ("stopAfter", _on_upstream(stopAfter=["FAILED"]), "triggers[0].stopAfter"),
    ("workerGroup", _on_upstream(workerGroup={"key": "gpu"}), "triggers[0].workerGroup"),
    ("logToFile", _on_upstream(logToFile=True), "triggers[0].logToFile"),
    ("assets", _on_upstream(assets={"inputs": []}), "triggers[0].assets"),
    ("version", _on_upstream(version="1.0"), "triggers[0].version"),
]


@pytest.mark.parametrize(("name", "data", "path"), REJECTED, ids=[f"{p}" for _, _, p in REJECTED])
def test_an_unimplemented_property_is_rejected_at_its_place(
    name: str, data: dict[str, Any], path: str
) -> None:
    problem = one_problem(data)
    assert problem.path == path
    assert problem.line is not None
    assert f"'{name}' is not supported here" in problem.message


def test_a_plugin_default_cannot_bring_an_unimplemented_property_in() -> None:
    data = flow_data(pluginDefaults=[{"type": LOG, "values": {"workerGroup": {"key": "gpu"}}}])
    problem = one_problem(data)
    assert (
        problem.path == "tasks[0].workerGroup"
        and "'workerGroup' is not supported here" in problem.message
    )


@pytest.mark.parametrize(
    "extra",
    [
        {"logToFile": False},
        {"retry": {**RETRY, "behavior": "RETRY_FAILED_TASK"}},
    ],
)
def test_what_lanner_does_anyway_stays_accepted(extra: dict[str, Any]) -> None:
    load(flow_data([log("t", **extra)]))


def test_an_exported_flow_saying_it_is_not_deleted_is_accepted() -> None:
    assert load(flow_data(deleted=False, revision=3)).deleted is False


@pytest.mark.parametrize("behavior", ["NEW_EXECUTION", "RETRY_FAILED"])
def test_a_subflow_takes_either_restart_behavior(behavior: str) -> None:
    flow = load(flow_data([_subflow(restartBehavior=behavior)]))
    assert flow.tasks[0].restartBehavior == behavior  # type: ignore[attr-defined]
