"""The executor reads ERROR logs for a cycle only when the flow names errorLogs():
found by walking the flow, not by serializing it (docs/performance.md)."""

from __future__ import annotations

from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.executor import _mentions

REGISTRY = TaskRegistry.from_entry_points()

HEAD = "id: f\nnamespace: demo\n"


def test_found_in_a_nested_task_and_in_a_handler() -> None:
    nested = HEAD + (
        "tasks:\n  - id: s\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks:\n"
        "      - id: l\n        type: io.kestra.plugin.core.log.Log\n"
        '        message: "{{ errorLogs() }}"\n'
    )
    handler = HEAD + (
        "tasks:\n  - id: l\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
        "errors:\n  - id: r\n    type: io.kestra.plugin.core.debug.Return\n"
        '    format: "{{ errorLogs()[0].message }}"\n'
    )
    for source in (nested, handler):
        flow = load_flow(source, REGISTRY)
        assert _mentions(flow, "errorLogs")
        assert "errorLogs" in flow.model_dump_json(serialize_as_any=True)


def test_absent_from_a_flow_without_it() -> None:
    flow = load_flow(
        HEAD + "tasks:\n  - id: l\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n",
        REGISTRY,
    )
    assert not _mentions(flow, "errorLogs")
