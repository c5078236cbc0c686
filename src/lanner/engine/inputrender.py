"""The renderer of input declarations at execution time: `dependsOn.condition`,
SELECT `expression` and expression `defaults`.

As in Kestra, `inputs` holds only the values of the inputs the declaration
depends on (`dependsOn.inputs`); the rest is the scope of the caller: for a
new execution the `flow` alone (the execution does not exist yet) and the
KV store (`kv()`, a SELECT's values kept in KV), for a
Pause's `onResume` the paused task's scope.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from lanner.expr import ExpressionEngine, Scope
from lanner.expr.scope import KVLookup
from lanner.model.inputdeps import Render
from lanner.model.inputvalues import nest_inputs

# One engine for the callers that have none (its templates are built once, on first use).
_SHARED = ExpressionEngine()


def input_renderer(
    namespace: str,
    flow_id: str,
    revision: int | None,
    now: datetime,
    *,
    engine: ExpressionEngine | None = None,
    secrets: Callable[[str], str] | None = None,
    scope: Scope | None = None,
    kv: KVLookup | None = None,
) -> Render:
    """Render with `scope` (default: `flow` only, and `kv()` when given a lookup) and the
    dependencies as `inputs`."""
    expressions = engine or _SHARED
    flow = {"namespace": namespace, "id": flow_id, "revision": revision}
    base = scope or Scope({"flow": flow}, now, secrets=secrets, kv=kv)

    def render(template: str, inputs: Mapping[str, Any]) -> str:
        variables = {**base.variables, "inputs": nest_inputs(inputs)}
        return expressions.render(template, dataclasses.replace(base, variables=variables))

    return render
