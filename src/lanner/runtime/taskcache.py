"""The validated task of an attempt, reused while its rendered properties repeat.

A worker validates a task's rendered properties before it runs it. The same
task of a flow mostly renders to the same properties in every execution (a
Log's static message, a Return's format), and validating them again costs
more than the glue of the run around it. Task models are frozen and their
validators pure, so the same input validates to an equal task: the last
valid one of each (type, task id) is kept and handed out again when the new
properties are the same values of the same types (1, 1.0 and True are equal
in Python but validate differently). Invalid properties are never kept: they
are validated, and fail, every time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from lanner.engine.variables import with_working_dir
from lanner.model.task import Task
from lanner.plugin import TaskType

# Kept tasks; past this many (type, task id) pairs the cache starts over, so that it
# never holds more than the properties of this many tasks.
MAX_KEPT = 256
_SCALARS = frozenset({str, int, bool, type(None)})


def same(a: Any, b: Any) -> bool:
    """Whether `a` and `b` are the same JSON-like value, types included."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return len(a) == len(b) and all(k in b and same(v, b[k]) for k, v in a.items())
    if kind is list or kind is tuple:
        return len(a) == len(b) and all(map(same, a, b))
    if kind is float:
        return bool(a.hex() == b.hex())  # 0.0 and -0.0 differ, a NaN is itself
    # Other kinds (tainted or custom values) are never taken for the same.
    return kind in _SCALARS and bool(a == b)


class ValidatedTasks:
    """Validates a task's rendered properties, or gives back the task last validated
    from the same ones. Safe for the pool's threads (at worst both validate)."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], tuple[Mapping[str, Any], Task]] = {}
        self._lock = threading.Lock()

    def validate(
        self,
        task_type: TaskType,
        type_name: str,
        task_id: Any,
        properties: Mapping[str, Any],
        directory: Callable[[], object],
    ) -> Task:
        """`task_type.model` validated from `properties` with `id` and `type`, the
        working-directory mark replaced by `directory()` (engine.variables); raises its
        ValidationError as model_validate does. Properties that hold the mark are not
        kept: the directory is the attempt's own."""
        if type(task_id) is str:  # as the executor writes it
            kept = self._kept.get((type_name, task_id))
            if kept is not None and same(kept[0], properties):
                return kept[1]
        located = with_working_dir(properties, directory)
        task = task_type.model.model_validate({"id": task_id, "type": type_name, **located})
        if type(task_id) is not str or located is not properties:
            return task
        with self._lock:
            if len(self._kept) >= MAX_KEPT:
                self._kept.clear()
            self._kept[(type_name, task_id)] = (properties, task)
        return task
