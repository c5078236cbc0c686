"""A flow without inputs, triggers, listeners or SLAs is validated by a Flow whose
schema lacks them (cold start, docs/performance.md): the same Flow, the same errors."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from lanner.model.flow import Flow, validate_flow
from lanner.model.task import Task

LOG = "io.kestra.plugin.core.log.Log"


def _data(**more: Any) -> dict[str, Any]:
    task = Task.model_construct(id="hello", type=LOG)
    return {"id": "f", "namespace": "demo", "tasks": [task], **more}


@pytest.mark.parametrize(
    "more",
    [
        {},
        {"labels": {"team": "a"}, "description": "d"},
        {"triggers": None, "sla": None},
        {"inputs": [{"id": "name", "type": "STRING"}]},
        {
            "triggers": [
                {"id": "t", "type": "io.kestra.plugin.core.trigger.Schedule", "cron": "* * * * *"}
            ]
        },
    ],
)
def test_the_same_flow_as_flow_model_validate(more: dict[str, Any]) -> None:
    data = _data(**more)
    lean = validate_flow(dict(data))
    full = Flow.model_validate(dict(data))
    assert type(lean) is Flow
    assert lean == full
    assert lean.model_fields_set == full.model_fields_set


@pytest.mark.parametrize(
    "more",
    [
        {"id": "not an id"},
        {"unknown": 1},
        {"concurrency": {"limit": 0}},
        {"disabled": "perhaps"},
    ],
)
def test_the_same_errors_as_flow_model_validate(more: dict[str, Any]) -> None:
    data = _data(**more)
    with pytest.raises(ValidationError) as lean:
        validate_flow(dict(data))
    with pytest.raises(ValidationError) as full:
        Flow.model_validate(dict(data))

    def shown(exc: ValidationError) -> list[tuple[Any, ...]]:
        return [(e["type"], e["loc"], e["msg"]) for e in exc.errors(include_url=False)]

    assert shown(lean.value) == shown(full.value)
    assert lean.value.title == full.value.title
