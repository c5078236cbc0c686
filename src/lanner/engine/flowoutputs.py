"""A flow's `outputs`, rendered when the execution ends (SPEC §3.5), with Kestra's
`required` (default true), as Kestra's flow output rendering.

Every output is converted to its `type`; a value that is not of it ends the
execution FAILED with "Failed to render output values". A required output
that fails to render or has no value (`value: null`) does the same. An output
with `required: false` is rendered on its own: when that fails, a WARN line
says it is ignored and its value is null; a null value stays null.
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
    """The execution's outputs; OutputError, ValueError or LannerError when one fails."""
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
        except LannerError as exc:
            warn(
                f"Failed to render optional flow output '{output.id}'. Output is ignored: {exc.message}"
            )
            rendered = None
        # A rendered value must still be of its type, as for a required output.
        values[output.id] = None if rendered is None else convert(output.type, rendered)
    # The declaration order, as written in the flow.
    return {o.id: values[o.id] for o in outputs}
