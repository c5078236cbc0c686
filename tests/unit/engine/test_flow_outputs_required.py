"""Flow `outputs[].required` (Kestra's default true): a required output must get a
value; an optional one that fails is ignored with a WARN line and is null."""

from __future__ import annotations

from lanner.model.states import State
from tests.unit.engine.support import run

OPTIONAL_BROKEN = """
tasks:
  - id: a
    type: Log
    message: a
outputs:
  - id: fine
    type: INT
    value: "{{ 6 * 7 }}"
  - id: maybe
    type: STRING
    required: false
    value: "{{ outputs.nothing.here }}"
  - id: empty
    type: INT
    required: false
    value: null
"""


def test_an_optional_output_that_fails_is_null_and_warned_about() -> None:
    sim = run(OPTIONAL_BROKEN)
    assert sim.execution.state is State.SUCCESS
    assert sim.execution.outputs == {"fine": 42, "maybe": None, "empty": None}
    warnings = [line.message for line in sim.logs if line.level == "WARN"]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "Failed to render optional flow output 'maybe'. Output is ignored"
    )


def test_a_required_output_without_a_value_fails_the_execution() -> None:
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
        outputs:
          - id: nothing
            type: STRING
            value: null
        """
    )
    assert sim.execution.state is State.FAILED
    errors = [line.message for line in sim.logs if line.level == "ERROR"]
    assert errors == [
        "Failed to render output values: output 'nothing' is required and has no value"
    ]


def test_an_optional_output_that_renders_to_the_wrong_type_fails_the_execution() -> None:
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
        outputs:
          - id: count
            type: INT
            required: false
            value: "{{ 'not a number' }}"
        """
    )
    assert sim.execution.state is State.FAILED
