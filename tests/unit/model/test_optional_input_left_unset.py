"""An optional input left unset is absent from `inputs` (SPEC §1.3; Kestra stores null:
docs/inputs.md says what differs)."""

from __future__ import annotations

from lanner.testing import simulate

FLOW = """
id: f
namespace: a
inputs:
  - id: opt
    type: STRING
    required: false
tasks:
  - id: fallback
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.opt ?? 'other' }}"
  - id: defined
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.opt is defined }}"
"""


def test_an_optional_input_left_unset_is_absent_and_coalesces() -> None:
    run = simulate(FLOW)
    assert "opt" not in run.execution.inputs
    assert run.messages("fallback") == ["other"]
    assert run.messages("defined") == ["false"]
