"""`FilterItems` and `DeduplicateItems`: tasks on Ion row files (docs/storage.md).

Both read an Ion file of internal storage (one value a line, as Kestra's tasks
write them) with `lanner.ion`, evaluate a Pebble expression per item and write
the kept items, streamed, to a new Ion file.

Their expression (`filterCondition`, `expr`) is not dynamic in Kestra: it is
evaluated once per item, with the item's fields as the variables, not by the
executor with the execution's. The executor renders every property it
dispatches, so the model hands it the expression wrapped in `{% raw %}`: the
executor's render takes the wrapper off and the task gets the text as written.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, field_serializer, field_validator

from lanner.errors import LannerError
from lanner.expr import ExpressionEngine, Scope, is_truthy
from lanner.ion import encode_line, read_values
from lanner.model.common import Text
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.core.log import as_text

_ENGINE = ExpressionEngine()
_ONE_EXPRESSION = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)
_RAW_END = re.compile(r"\{%-?\s*endraw\s*-?%\}")


def _per_item(value: str) -> str:
    """Check an expression evaluated per item: it must parse, and hold no endraw."""
    if _RAW_END.search(value):
        raise ValueError("must not contain {% endraw %}")
    try:
        _ENGINE.parse(value)
    except Exception as exc:
        raise ValueError(f"invalid expression: {exc}") from None
    return value


def _unrendered(value: str) -> str:
    # The executor renders dispatched properties: this keeps the text as written.
    return "{% raw %}" + value + "{% endraw %}"


def _variables(item: Any) -> dict[str, Any]:
    """What the expression sees: a struct's fields (Kestra's items are rows); any
    other item is `value`."""
    return {str(k): v for k, v in item.items()} if isinstance(item, dict) else {"value": item}


def _items(ctx: TaskContext, uri: str) -> Iterator[Any]:
    with ctx.open_file(uri) as source:
        yield from read_values(source, source=uri)


def _store(ctx: TaskContext, path: Path) -> str:
    return ctx.put_file(path, f"{uuid.uuid4().hex}.ion")


# -- FilterItems ------------------------------------------------------------------------


class FilterType(StrEnum):
    INCLUDE = "INCLUDE"
    EXCLUDE = "EXCLUDE"


class ErrorOrNullBehavior(StrEnum):
    FAIL = "FAIL"
    INCLUDE = "INCLUDE"
    EXCLUDE = "EXCLUDE"


class FilterItems(Task):
    """Keep (or drop) the items of an Ion file that match a Pebble expression."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the Ion file.")
    filterCondition: str = Field(
        description="A Pebble expression evaluated per item, its fields as the variables."
    )
    filterType: FilterType = Field(FilterType.INCLUDE, description="INCLUDE or EXCLUDE matches.")
    errorOrNullBehavior: ErrorOrNullBehavior = Field(
        ErrorOrNullBehavior.FAIL,
        description="When the expression fails or is null: FAIL, INCLUDE or EXCLUDE the item.",
    )

    @field_validator("filterCondition")
    @classmethod
    def _condition(cls, v: str) -> str:
        return _per_item(v)

    @field_serializer("filterCondition")
    def _raw(self, v: str) -> str:
        return _unrendered(v)


class _Unmatched(Exception):
    """The condition failed on an item or was null."""


def _matches(condition: str, item: Any, now: datetime) -> bool:
    scope = Scope(variables=_variables(item), now=now)
    try:
        whole = _ONE_EXPRESSION.match(condition)
        if whole and "{{" not in whole.group(1) and "}}" not in whole.group(1):
            value = _ENGINE.evaluate(whole.group(1), scope)
            if value is None:
                raise _Unmatched("the condition is null")
            if isinstance(value, bool):
                return value
            return is_truthy(as_text(value))
        return is_truthy(_ENGINE.render(condition, scope))
    except LannerError as exc:
        raise _Unmatched(exc.message) from None


def run_filter(task: FilterItems, ctx: TaskContext) -> Outcome:
    uri = as_text(task.from_)
    include = task.filterType is FilterType.INCLUDE
    on_error = task.errorOrNullBehavior
    now = datetime.now(UTC)
    processed = dropped = 0
    with tempfile.TemporaryDirectory(prefix="lanner-filter-") as tmp:
        path = Path(tmp) / "filtered.ion"

        def kept() -> Iterator[Any]:
            nonlocal processed, dropped
            for item in _items(ctx, uri):
                processed += 1
                try:
                    keep = _matches(task.filterCondition, item, now) == include
                except _Unmatched as exc:
                    if on_error is ErrorOrNullBehavior.FAIL:
                        raise LannerError(
                            f"filterCondition on item {processed}: {exc} (set "
                            "errorOrNullBehavior to INCLUDE or EXCLUDE to go on)"
                        ) from None
                    keep = on_error is ErrorOrNullBehavior.INCLUDE
                if keep:
                    yield item
                else:
                    dropped += 1

        with path.open("wb") as out:
            for item in kept():
                out.write(encode_line(item))
                if processed % 1024 == 0 and ctx.cancelled:
                    return Outcome(State.KILLED)
        stored = _store(ctx, path)
    return Outcome(
        outputs={"uri": stored, "processedItemsTotal": processed, "droppedItemsTotal": dropped}
    )


# -- DeduplicateItems -------------------------------------------------------------------


class DeduplicateItems(Task):
    """Keep the last item of each key of an Ion file, in the file's order."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the Ion file.")
    expr: str = Field(
        description="A Pebble expression giving an item's key, its fields as the variables."
    )

    @field_validator("expr")
    @classmethod
    def _key(cls, v: str) -> str:
        return _per_item(v)

    @field_serializer("expr")
    def _raw(self, v: str) -> str:
        return _unrendered(v)


def _key(expr: str, item: Any, number: int, now: datetime) -> str:
    try:
        return _ENGINE.render(expr, Scope(variables=_variables(item), now=now))
    except LannerError as exc:
        raise LannerError(f"expr on item {number}: {exc.message}") from None


def run_deduplicate(task: DeduplicateItems, ctx: TaskContext) -> Outcome:
    uri = as_text(task.from_)
    now = datetime.now(UTC)
    # Two passes, as Kestra does: the first keeps, per key, the number of its last
    # item (not the item), the second writes the items that are last of their key.
    last: dict[str, int] = {}
    for number, item in enumerate(_items(ctx, uri), 1):
        last[_key(task.expr, item, number, now)] = number
        if number % 1024 == 0 and ctx.cancelled:
            return Outcome(State.KILLED)
    keep = frozenset(last.values())
    processed = 0
    with tempfile.TemporaryDirectory(prefix="lanner-dedup-") as tmp:
        path = Path(tmp) / "deduplicated.ion"
        with path.open("wb") as out:
            for number, item in enumerate(_items(ctx, uri), 1):
                processed = number
                if number in keep:
                    out.write(encode_line(item))
        stored = _store(ctx, path)
    return Outcome(
        outputs={
            "uri": stored,
            "numKeys": len(last),
            "processedItemsTotal": processed,
            "droppedItemsTotal": processed - len(keep),
        }
    )
