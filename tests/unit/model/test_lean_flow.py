"""A flow without inputs, triggers, listeners or SLAs is validated by a Flow whose
schema lacks them (cold start, docs/performance.md): the same Flow, the same errors."""

from __future__ import annotations

import json
import subprocess
import sys
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


LATE_PROBE = """
import json
import sys
from datetime import UTC, datetime

import lanner.cli.runcmd  # everything `lanner run` imports
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.newexecution import new_execution

LATE = ("lanner.model.inputs", "lanner.model.triggers", "lanner.model.conditions")

def late():
    return sorted(m for m in LATE if m in sys.modules)

registry = TaskRegistry.from_entry_points()
one = "id: f\\nnamespace: demo\\ntasks:\\n  - id: t\\n    type: io.kestra.plugin.core.log.Log\\n    message: hi\\n"
flow = load_flow(one, registry)
new_execution(flow, 1, {}, datetime.now(UTC))
before = late()
more = one + "inputs:\\n  - id: name\\n    type: STRING\\n"
with_inputs = load_flow(more, registry)
print(json.dumps([before, late(), type(with_inputs.inputs[0]).__name__]))
"""


def test_a_flow_without_inputs_or_triggers_loads_no_input_trigger_or_condition_model() -> None:
    """Their models are a quarter of a cold `lanner run`: they load with the first flow
    that has such a part (complete_flow_model). In a new process, since this one has
    loaded them already."""
    done = subprocess.run(
        [sys.executable, "-c", LATE_PROBE], capture_output=True, text=True, check=True
    )
    before, after, input_type = json.loads(done.stdout)
    assert before == []
    assert after == ["lanner.model.conditions", "lanner.model.inputs", "lanner.model.triggers"]
    assert input_type == "StringInput"
