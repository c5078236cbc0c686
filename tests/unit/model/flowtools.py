"""Helpers shared by the flow validation tests: build a flow as data or text,
load it with the real registry, and get its problems."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from lanner.errors import FlowValidationError, Problem
from lanner.model.flow import Flow, PluginDefault
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from tests.support.seed import SEED_DIR as SEED_DIR

REGISTRY = TaskRegistry.from_entry_points()

ROOT = Path(__file__).resolve().parents[3]

CORE = "io.kestra.plugin.core."
LOG = CORE + "log.Log"
FAIL = CORE + "execution.Fail"
SEQUENTIAL = CORE + "flow.Sequential"
PARALLEL = CORE + "flow.Parallel"
IF = CORE + "flow.If"
SWITCH = CORE + "flow.Switch"
FOREACH = CORE + "flow.ForEach"
RETURN = CORE + "debug.Return"
SLACK = "io.kestra.plugin.slack.notifications.SlackIncomingWebhook"


def log(task_id: str = "hello", message: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"id": task_id, "type": LOG, "message": message, **extra}


def flow_data(tasks: Any = None, **top: Any) -> dict[str, Any]:
    """A flow as plain data: `id`, `namespace` and `tasks` unless given (`...` leaves one out)."""
    data: dict[str, Any] = {"id": "my_flow", "namespace": "company.team"}
    data.update(top)
    data["tasks"] = [log()] if tasks is None else tasks
    return {k: v for k, v in data.items() if v is not ...}


def to_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def load(
    source: str | dict[str, Any],
    *,
    file: str | None = "flow.yml",
    defaults: Sequence[PluginDefault] = (),
    registry: TaskRegistry = REGISTRY,
) -> Flow:
    text = source if isinstance(source, str) else to_yaml(source)
    return load_flow(text, registry, file=file, defaults=defaults)


def problems(
    source: str | dict[str, Any],
    *,
    file: str | None = "flow.yml",
    defaults: Sequence[PluginDefault] = (),
    registry: TaskRegistry = REGISTRY,
) -> list[Problem]:
    """The problems of a flow that must be invalid."""
    with pytest.raises(FlowValidationError) as exc:
        load(source, file=file, defaults=defaults, registry=registry)
    assert exc.value.problems, "an invalid flow reports at least one problem"
    return exc.value.problems


def one_problem(source: str | dict[str, Any], **kwargs: Any) -> Problem:
    found = problems(source, **kwargs)
    assert len(found) == 1, "\n".join(p.render() for p in found)
    return found[0]


def messages(found: Sequence[Problem]) -> str:
    return "\n".join(p.render() for p in found)
