"""The renderer of input declarations at execution time (`dependsOn.condition`,
SELECT `expression`): the `flow` and the values of the inputs the declaration
depends on, nothing of an execution that does not exist yet."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from lanner.expr import ExpressionEngine, Scope
from lanner.model.inputdeps import Render
from lanner.model.inputvalues import nest_inputs


def input_renderer(
    namespace: str,
    flow_id: str,
    revision: int | None,
    now: datetime,
    *,
    engine: ExpressionEngine | None = None,
    secrets: Callable[[str], str] | None = None,
) -> Render:
    expressions = engine or ExpressionEngine()
    flow = {"namespace": namespace, "id": flow_id, "revision": revision}

    def render(template: str, inputs: Mapping[str, Any]) -> str:
        variables = {"flow": flow, "inputs": nest_inputs(inputs)}
        return expressions.render(template, Scope(variables, now, secrets=secrets))

    return render
