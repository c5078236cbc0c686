"""A flow's `outputs`, rendered when the execution ends (SPEC §3.5), with Kestra's
`required` (default true).

Required outputs are rendered and converted to their `type`; one that fails to
render, is not of its type, or has no value (`value: null`) ends the execution
FAILED with "Failed to render output values". An output with `required: false`
is rendered on its own: when that fails, a WARN line says it is ignored and its
value is null; a null value is kept null, whatever its type.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lanner.errors import LannerError
from lanner.model.flow import FlowOutput

Render = Callable[[Any], Any]
Convert = Callable[[str, Any], Any]


class OutputError(ValueError):
    """A required output that cannot be given a value."""


def render_outputs(
    outputs: Sequence[FlowOutput],
    render: Render,
    convert: Convert,
    warn: Callable[[str], None],
) -> dict[str, Any]:
    """The execution's outputs; OutputError or LannerError for a required one that fails."""
    values: dict[str, Any] = {}
    for output in outputs:
        if not output.required:
            continue
        value = convert(output.type, render(output.value))
        if value is None:
            raise OutputError(f"output '{output.id}' is required and has no value")
        values[output.id] = value
    for output in outputs:
        if output.required:
            continue
        try:
            rendered = render(output.value)
            values[output.id] = None if rendered is None else convert(output.type, rendered)
        except (LannerError, ValueError) as exc:
            message = exc.message if isinstance(exc, LannerError) else str(exc)
            warn(
                f"Failed to render optional flow output '{output.id}'. Output is ignored: {message}"
            )
            values[output.id] = None
    # The declaration order, as written in the flow.
    return {o.id: values[o.id] for o in outputs}
