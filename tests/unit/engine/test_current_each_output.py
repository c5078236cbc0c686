"""currentEachOutput(outputs.TASK) (issue 7 §6): the outputs of a sibling task in the
current loop iteration, at any loop depth, as Kestra's CurrentEachOutputFunction."""

from __future__ import annotations

import pytest

from tests.unit.engine.support import run

NESTED = """
tasks:
  - id: outer
    type: ForEach
    values: ["a", "b"]
    tasks:
      - id: inner
        type: ForEach
        values: ["x", "y"]
        concurrencyLimit: 0
        tasks:
          - id: produce
            type: Return
            format: "{{ parent.taskrun.value }}-{{ taskrun.value }}"
          - id: consume
            type: Log
            message: "{{ currentEachOutput(outputs.produce).value }}"
"""

FLAT = """
tasks:
  - id: each
    type: ForEach
    values: [1, 2, 3]
    concurrencyLimit: 0
    tasks:
      - id: produce
        type: Return
        format: "p{{ taskrun.value }}"
      - id: consume
        type: Log
        message: "{{ currentEachOutput(outputs=outputs.produce).value }}"
"""

# The deprecated loops, nested, as Kestra's own current-output test flow uses them.
LEGACY = """
tasks:
  - id: outer
    type: EachParallel
    value: ["a", "b"]
    tasks:
      - id: inner
        type: EachSequential
        value: ["x", "y"]
        tasks:
          - id: produce
            type: Return
            format: "{{ parent.taskrun.value }}-{{ taskrun.value }}"
          - id: consume
            type: Log
            message: "{{ currentEachOutput(outputs.produce).value }}"
"""

# A sibling nested deeper than the loop's direct children: the If's children carry no
# value of their own, so the lookup stops at the loop's value (Kestra: null).
DEEPER = """
tasks:
  - id: each
    type: ForEach
    values: ["v"]
    tasks:
      - id: produce
        type: Return
        format: "p"
      - id: check
        type: If
        condition: "true"
        then:
          - id: consume
            type: Log
            message: "[{{ currentEachOutput(outputs.produce) is null }}]"
"""


@pytest.mark.parametrize(
    ("rule", "flow", "expected"),
    [
        ("one loop: the sibling of the same value", FLAT, ["p1", "p2", "p3"]),
        (
            "nested loops: every enclosing value, outermost first",
            NESTED,
            ["a-x", "a-y", "b-x", "b-y"],
        ),
        ("the deprecated loops too", LEGACY, ["a-x", "a-y", "b-x", "b-y"]),
        ("a task without a value of its own gets null", DEEPER, ["[true]"]),
    ],
)
def test_current_each_output_reads_the_sibling_of_this_iteration(
    rule: str, flow: str, expected: list[str]
) -> None:
    sim = run(flow)
    assert sim.execution.state.value == "SUCCESS", sim.messages()
    assert sorted(sim.messages("consume")) == expected


def test_current_each_output_needs_a_map() -> None:
    sim = run(
        """
        tasks:
          - id: each
            type: ForEach
            values: ["v"]
            tasks:
              - id: consume
                type: Log
                message: "{{ currentEachOutput('text') }}"
        """
    )
    assert sim.execution.state.value == "FAILED"
    assert any("expects an argument 'outputs' with type map" in m for m in sim.messages())
