"""What a task's expressions see of its flow and inputs, as Kestra shows them: inputs
with dotted ids (`request.name`) as nested maps, `flow.tenantId`."""

from __future__ import annotations

from lanner.testing import simulate

FLOW = """
id: f
namespace: a
inputs:
  - id: request.name
    type: STRING
    defaults: Rick
  - id: request.days
    type: INT
    defaults: 3
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.request.name }} for {{ inputs['request']['days'] }} days"
"""


def test_dotted_input_ids_are_nested_maps_in_expressions() -> None:
    run = simulate(FLOW)
    assert run.states() == [("say", "SUCCESS")]
    assert run.messages("say") == ["Rick for 3 days"]


def test_a_given_dotted_input_is_nested_too() -> None:
    run = simulate(FLOW, inputs={"request.name": "Ann"})
    assert run.messages("say") == ["Ann for 3 days"]


def test_flow_tenant_id_is_the_one_tenant_main() -> None:
    # Blueprints build API URLs with it: /api/v1/{{ flow.tenantId }}/flows/...
    run = simulate(FLOW.replace("{{ inputs.request.name }}", "{{ flow.tenantId }}"))
    assert run.messages("say") == ["main for 3 days"]
