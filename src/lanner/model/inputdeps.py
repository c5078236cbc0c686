"""What an input depends on at execution time: `dependsOn` and SELECT `expression`.

Kestra resolves an input after the inputs it `dependsOn`. It is *disabled*
(not required, no default applied, absent from `inputs`, a value given for it
dropped) when one of those is disabled or when its `dependsOn.condition`
does not render to `true`. The `expression` of a SELECT or MULTISELECT
renders to its allowed values, a list of strings. Both render with the
`flow` and the values of the inputs named in `dependsOn.inputs`.

The model layer does not render; the caller passes `render(template,
inputs)`, built by :func:`lanner.engine.inputrender.input_renderer`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from lanner.errors import LannerError

Render = Callable[[str, Mapping[str, Any]], str]
"""Render a template with these input values (by id) in `inputs`; LannerError when it fails."""


class _Declared(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def dependsOn(self) -> Any: ...


D = TypeVar("D", bound=_Declared)


def dependencies_first(flat: Sequence[D]) -> list[D]:
    """The inputs in declaration order, each moved after the inputs it depends on
    (validation has ruled out cycles; an unknown name is ignored)."""
    by_id = {item.id: item for item in flat}
    done: set[str] = set()
    out: list[D] = []

    def visit(item: D, path: frozenset[str]) -> None:
        if item.id in done or item.id in path:
            return
        for ref in _refs(item):
            if ref in by_id:
                visit(by_id[ref], path | {item.id})
        done.add(item.id)
        out.append(item)

    for item in flat:
        visit(item, frozenset())
    return out


def _refs(item: _Declared) -> list[str]:
    return list(item.dependsOn.inputs) if item.dependsOn is not None else []


def dependency_values(item: _Declared, resolved: Mapping[str, Any]) -> dict[str, Any]:
    return {ref: resolved[ref] for ref in _refs(item) if ref in resolved}


def enabled(
    item: _Declared,
    resolved: Mapping[str, Any],
    disabled: set[str],
    render: Render | None,
) -> bool:
    """Whether the input takes part in the execution; ValueError when its condition
    cannot be rendered (the input is then disabled, and the error reported)."""
    if any(ref in disabled for ref in _refs(item)):
        return False
    condition = item.dependsOn.condition if item.dependsOn is not None else None
    if condition is None or render is None:
        return True
    try:
        rendered = render(condition, dependency_values(item, resolved))
    except LannerError as exc:
        raise ValueError(f"Invalid condition: {exc.message}") from None
    # Kestra keeps the input only when the condition renders to the boolean true.
    return rendered.strip() == "true"


def rendered_choices(item: Any, resolved: Mapping[str, Any], render: Render | None) -> Any:
    """`item` with the values its `expression` renders to; `item` itself when it has
    none (or nothing renders); ValueError when the result is not a list of strings."""
    expression = getattr(item, "expression", None)
    if expression is None or render is None or item.choices() is not None:
        return item
    try:
        text = render(expression, dependency_values(item, resolved))
    except LannerError as exc:
        raise ValueError(f"expression: {exc.message}") from None
    try:
        values = json.loads(text)
    except ValueError:
        values = None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"expression must render to a list of strings, got {text!r}")
    return item.model_copy(update={"values": values, "expression": None})
