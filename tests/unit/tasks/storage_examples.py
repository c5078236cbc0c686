"""Validation examples of the io.kestra.plugin.core.storage task types, for
tests/unit/model/test_task_validation.py's tables (kept here, beside their tests)."""

from __future__ import annotations

from typing import Any

STORAGE = "io.kestra.plugin.core.storage."
URI = "kestra:///company/team/f/executions/E/tasks/t/TR/a.csv"

VALID: dict[str, list[dict[str, Any]]] = {
    STORAGE + "Write": [{"content": "Hello"}, {"content": "{{ inputs.x }}", "extension": ".txt"}],
    STORAGE + "Concat": [
        {"files": [URI, "{{ outputs.t.uri }}"], "separator": "\n", "extension": ".csv"},
        {"files": "{{ outputs.echo.files | jq('.[]') }}"},
    ],
    STORAGE + "Delete": [{"uri": URI}, {"uri": URI, "errorOnMissing": True}],
    STORAGE + "Size": [{"uri": "{{ outputs.t.uri }}"}],
    STORAGE + "Split": [
        {"from": URI, "bytes": "10MB"},
        {"from": URI, "rows": 1000},
        {"from": URI, "partitions": "{{ inputs.n }}", "separator": "\r\n"},
    ],
    STORAGE + "Reverse": [{"from": URI}, {"from": URI, "charset": "ISO-8859-1", "separator": ";"}],
    STORAGE + "PurgeCurrentExecutionFiles": [{}],
}

INVALID: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    STORAGE + "Write": [({}, "content", "missing required property 'content'")],
    STORAGE + "Concat": [({"files": [URI], "separators": ","}, "separators", "unknown property")],
    STORAGE + "Delete": [
        ({"uri": URI, "errorOnMissing": "maybe"}, "errorOnMissing", "expected true, false")
    ],
    STORAGE + "Size": [({}, "uri", "missing required property 'uri'")],
    STORAGE + "Split": [
        ({"from": URI, "bytes": "ten"}, "bytes", "10MB"),
        ({"from": URI, "rows": 1, "regexPattern": "x"}, "regexPattern", "not supported here"),
    ],
    STORAGE + "Reverse": [({"from": URI, "charsets": "x"}, "charsets", "unknown property")],
    STORAGE + "PurgeCurrentExecutionFiles": [({"uri": URI}, "uri", "unknown property")],
}
