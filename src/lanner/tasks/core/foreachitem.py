"""`io.kestra.plugin.core.flow.ForEachItem` (docs/flowables.md): a subflow per batch.

A ForEachItem is a sequential flowable of three tasks it makes itself, as
Kestra shows them: `<id>_split` (a storage Split of `items` into batch files,
a worker job), `<id>_items` (one child execution per batch file, started and
awaited by the executor: engine/foreachitem.py) and `<id>_merge` (the
children's outputs in one Ion file, a worker job).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from lanner.ion.writer import write_values
from lanner.model.behaviour import Action, Batches, Behaviour, TaskKind
from lanner.model.common import DynamicInt, Model, Text
from lanner.model.task import Task, TaskList
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.storage import Split

_PREFIX = "io.kestra.plugin.core.flow."
_LEGACY = "io.kestra.core.tasks.flows."
_SPLIT_TYPE = "io.kestra.plugin.core.storage.Split"
EXECUTABLE_TYPE = _PREFIX + "ForEachItem$ForEachItemExecutable"
MERGE_TYPE = _PREFIX + "ForEachItem$ForEachItemMergeOutputs"
_GENERATED = "generated"


class Batch(Model):
    """How `items` is cut: at most one of rows, bytes, partitions (rows 1 when none)."""

    rows: DynamicInt | None = Field(None, description="The most rows of a batch (default 1).")
    bytes: Text | None = Field(None, description="The most bytes of a batch: 10MB, 200KB.")
    partitions: DynamicInt | None = Field(None, description="How many batches to make.")
    separator: Text = Field("\n", description="What ends a row (default a newline).")

    @model_validator(mode="after")
    def _one_way(self) -> Batch:
        given = [n for n in ("rows", "bytes", "partitions") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one of rows, bytes or partitions, not {given}")
        return self


class _SubflowProperties(Task):
    """What ForEachItem and its `<id>_items` share with a Subflow."""

    namespace: Text = Field(description="The namespace of the flow to start.")
    flowId: Text = Field(description="The id of the flow to start.")
    revision: DynamicInt | None = Field(None, description="A revision; the latest when absent.")
    inputs: dict[str, Any] | None = Field(
        None,
        description="Inputs of each child, rendered with taskrun.items (the batch's URI)"
        " and taskrun.iteration (its number, from 1).",
    )
    labels: dict[str, Any] | list[dict[str, Any]] | None = Field(
        None, description="Labels of the children: a map or a list of {key, value}."
    )
    wait: bool = Field(True, description="Wait for every child to end.")
    transmitFailed: bool = Field(
        True, description="A FAILED, KILLED or WARNING child gives the task its state."
    )
    inheritLabels: bool = Field(False, description="The children get this execution's labels.")
    scheduleDate: Text | None = Field(
        None, description="When the children start: an ISO-8601 date-time with a time zone."
    )
    restartBehavior: Literal["RETRY_FAILED", "NEW_EXECUTION"] = Field(
        "RETRY_FAILED",
        description="What a restart does for the batches whose child failed or was killed:"
        " restart that child (RETRY_FAILED) or start a new child (NEW_EXECUTION).",
    )


class ForEachItemExecutable(_SubflowProperties):
    """`<id>_items`: one child execution per batch file (engine/foreachitem.py)."""

    behaviour: ClassVar[Behaviour] = Behaviour(
        TaskKind.EXECUTION, action=Action.SUBFLOW, batches=Batches()
    )

    items: Text = Field(description="The batch files' URIs: a list, or a JSON array.")


class ForEachItemMergeOutputs(Task):
    """`<id>_merge`: the outputs of the children, one Ion line each, batch by batch."""

    batches: Text | list[dict[str, Any]] = Field(
        description="The `batches` output of `<id>_items` (rendered)."
    )


def run_merge(task: ForEachItemMergeOutputs, ctx: TaskContext) -> Outcome:
    batches = ctx.render(task.batches)
    if isinstance(batches, str):
        batches = json.loads(batches)
    if not isinstance(batches, list):
        raise ValueError(f"batches: a list was expected, got {type(batches).__name__}")
    rows = [b["outputs"] for b in batches if isinstance(b, dict) and "outputs" in b]
    with tempfile.TemporaryDirectory(prefix="lanner-merge-") as tmp:
        path = Path(tmp) / "outputs.ion"
        with path.open("wb") as out:
            write_values(out, rows)
        return Outcome(outputs={"subflowOutputs": ctx.put_file(path, "outputs.ion")})


class ForEachItem(_SubflowProperties):
    """Split a file of internal storage into batches; run a subflow per batch."""

    behaviour: ClassVar[Behaviour] = Behaviour(TaskKind.FLOWABLE, (_GENERATED,))

    items: Text = Field(description="The kestra:// URI of the file whose rows to batch.")
    batch: Batch = Field(default_factory=Batch, description="How the rows are batched.")
    # Made from the other properties, never given nor dumped (a dump validates again).
    generated: SkipJsonSchema[TaskList | None] = Field(
        None,
        exclude=True,
        description="Made by Lanner: `<id>_split`, `<id>_items`, `<id>_merge`.",
    )

    @field_validator(_GENERATED, mode="before")
    @classmethod
    def _not_given(cls, value: Any) -> Any:
        raise ValueError("not a property of ForEachItem: Lanner makes its three tasks itself")

    @model_validator(mode="after")
    def _make_children(self) -> ForEachItem:
        b = self.batch
        rows = b.rows if (b.rows, b.bytes, b.partitions) != (None, None, None) else 1
        split = Split.model_validate(
            {
                "id": f"{self.id}_split",
                "type": _SPLIT_TYPE,
                "from": self.items,
                "rows": rows,
                "bytes": b.bytes,
                "partitions": b.partitions,
                "separator": b.separator,
            }
        )
        shared = {
            name: getattr(self, name)
            for name in _SubflowProperties.model_fields
            if name not in Task.model_fields
        }
        items = ForEachItemExecutable.model_validate(
            {
                **shared,
                "id": f"{self.id}_items",
                "type": EXECUTABLE_TYPE,
                "items": "{{ outputs['" + f"{self.id}_split" + "'].uris }}",
            }
        )
        merge = ForEachItemMergeOutputs.model_validate(
            {
                "id": f"{self.id}_merge",
                "type": MERGE_TYPE,
                "batches": "{{ outputs['" + f"{self.id}_items" + "'].batches }}",
            }
        )
        # Frozen model: the children are part of what the task is, set once here.
        object.__setattr__(self, _GENERATED, (split, items, merge))
        return self

    def problems_in_flow(self, namespace: str, flow_id: str) -> list[tuple[str, str]]:
        if self.namespace == namespace and self.flowId == flow_id:
            return [("flowId", f"Recursive call to flow [{namespace}.{flow_id}]")]
        return []


TASK_TYPES = [
    TaskType(_PREFIX + "ForEachItem", ForEachItem, (_LEGACY + "ForEachItem",)),
    TaskType(EXECUTABLE_TYPE, ForEachItemExecutable),
    TaskType(MERGE_TYPE, ForEachItemMergeOutputs, run=run_merge),
]
