"""Flows Kestra rejects are rejected too (issue 7 §6), each problem located: the
line of the offending property and the task."""

from __future__ import annotations

import pytest

from lanner.errors import FlowValidationError
from lanner.model.validate import load_flow
from tests.unit.engine.support import flow_yaml, registry

# (rule, flow body, expected message, line, task id); the flow is tests.t, and its
# lines count from the `id:` and `namespace:` lines flow_yaml puts first.
INVALID = [
    (
        "a Subflow may not call its own flow",
        """
        tasks:
          - id: again
            type: Subflow
            namespace: tests
            flowId: t
        """,
        "Recursive call to flow [tests.t]",
        7,
        "again",
    ),
    (
        "a nested Subflow may not call its own flow either",
        """
        tasks:
          - id: seq
            type: Sequential
            tasks:
              - id: again
                type: Subflow
                namespace: tests
                flowId: t
        """,
        "Recursive call to flow [tests.t]",
        10,
        "again",
    ),
    (
        "a Switch needs cases or defaults",
        """
        tasks:
          - id: route
            type: Switch
            value: x
        """,
        "No task defined, neither cases or default have any tasks",
        4,
        "route",
    ),
    (
        "empty cases count as none",
        """
        tasks:
          - id: route
            type: Switch
            value: x
            cases: {}
        """,
        "No task defined, neither cases or default have any tasks",
        4,
        "route",
    ),
    (
        "onChildFailure is CONTINUE, CANCEL or FAIL",
        """
        tasks:
          - id: each
            type: ForEach
            values: [1]
            onChildFailure: STOP
            tasks:
              - id: l
                type: Log
                message: x
        """,
        "Input should be 'CONTINUE', 'CANCEL' or 'FAIL' (got 'STOP')",
        7,
        "each",
    ),
    (
        "childFailurePolicy is CONTINUE or STOP",
        """
        tasks:
          - id: each
            type: ForEach
            values: [1]
            childFailurePolicy: CANCEL
            tasks:
              - id: l
                type: Log
                message: x
        """,
        "Input should be 'CONTINUE' or 'STOP' (got 'CANCEL')",
        7,
        "each",
    ),
    (
        "onChildFailure and its older name are not both given",
        """
        tasks:
          - id: each
            type: ForEach
            values: [1]
            onChildFailure: FAIL
            childFailurePolicy: STOP
            tasks:
              - id: l
                type: Log
                message: x
        """,
        "give onChildFailure or its older name childFailurePolicy, not both",
        4,
        "each",
    ),
]

VALID = [
    (
        "a Subflow of another flow id",
        """
        tasks:
          - id: other
            type: Subflow
            namespace: tests
            flowId: other
        """,
    ),
    (
        "a Subflow of the same id in another namespace",
        """
        tasks:
          - id: other
            type: Subflow
            namespace: elsewhere
            flowId: t
        """,
    ),
    (
        "a Subflow whose flow id is an expression is not judged",
        """
        tasks:
          - id: other
            type: Subflow
            namespace: tests
            flowId: "{{ 't' }}"
        """,
    ),
    (
        "a Switch with only defaults",
        """
        tasks:
          - id: route
            type: Switch
            value: x
            defaults:
              - id: d
                type: Log
                message: d
        """,
    ),
    (
        "a Switch with only cases",
        """
        tasks:
          - id: route
            type: Switch
            value: x
            cases:
              x:
                - id: c
                  type: Log
                  message: c
        """,
    ),
]


@pytest.mark.parametrize(
    ("rule", "body", "message", "line", "task_id"), INVALID, ids=[c[0] for c in INVALID]
)
def test_flow_is_rejected_with_a_located_problem(
    rule: str, body: str, message: str, line: int, task_id: str
) -> None:
    with pytest.raises(FlowValidationError) as caught:
        load_flow(flow_yaml(body), registry())
    [problem] = caught.value.problems
    assert problem.message == message
    assert (problem.line, problem.task_id) == (line, task_id)


@pytest.mark.parametrize(("rule", "body"), VALID, ids=[c[0] for c in VALID])
def test_flow_is_accepted(rule: str, body: str) -> None:
    load_flow(flow_yaml(body), registry())
