"""Functions callable from an expression: ``now()``, ``secret()``, ``render()``...

They read the render in progress (``pebble.current()``), never the clock,
the process environment or the network: ``now()`` is the scope's instant,
``uuid()`` and ``randomInt()`` draw from a generator seeded by the scope, and
``secret()`` asks the scope's resolver and ``read()`` & co. the scope's file
reader. ``kv()`` reads through the scope's ``kv`` lookup, which the runtime gives
the renders that may read the KV store (docs/kv.md). Functions that need the
network in Kestra (``http``...) fail with a clear error.
"""

from __future__ import annotations

import json
import random
import uuid as uuidlib
from collections.abc import Callable, Mapping
from typing import Any

import yaml as yamllib

from lanner.errors import LannerError, RenderError
from lanner.expr import dates, pebble, taint
from lanner.expr.convert import to_json, to_output
from lanner.expr.scope import FileReader
from lanner.expr.sizes import too_deep, value_size

__all__ = ["FUNCTIONS"]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _rng() -> random.Random:
    state = pebble.current()
    if state.rng is None:
        state.rng = random.Random(state.scope.seed)
    return state.rng


def now(format: str | None = None, timeZone: str | None = None) -> str:
    return dates.format_date(pebble.current().scope.now, format, timeZone)


def from_json(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RenderError("fromJson needs a string")
    try:
        return json.loads(value)
    except ValueError as exc:
        raise RenderError(f"Invalid JSON: {exc}") from exc
    except RecursionError as exc:
        raise too_deep(pebble.limits().value_depth) from exc


_YAML_LOADER = getattr(yamllib, "CSafeLoader", yamllib.SafeLoader)


def from_yaml(value: Any) -> Any:
    """Parse YAML. Aliases are kept shared while parsing; the result is then
    measured expanded, so a billion laughs fails on the value limit after
    walking no more than the limit."""
    if value is None:
        return None
    text = value if isinstance(value, str) else to_output(value)
    try:
        parsed = yamllib.load(text, Loader=_YAML_LOADER)
    except yamllib.YAMLError as exc:
        raise RenderError(f"Invalid YAML: {exc}") from exc
    bounds = pebble.limits()
    value_size(parsed, bounds.value_bytes, bounds.value_depth)
    return parsed


def render(value: Any, recursive: bool = True) -> Any:
    """Render a value again with the same scope (Kestra's ``render``)."""
    state = pebble.current()
    return state.engine.render_nested(value, state, recursive=recursive)


def render_once(value: Any) -> Any:
    return render(value, recursive=False)


def secret(key: str, namespace: str | None = None, subkey: str | None = None) -> str:
    """Resolve a secret and hand it to the masker before anyone sees it."""
    scope = pebble.current().scope
    if scope.secrets is None:
        raise RenderError("secret() is not available here")
    value = scope.secrets(key)
    if scope.on_secret is not None:
        scope.on_secret(value)
    if subkey is None:
        return value
    parsed = from_json(value)
    if not isinstance(parsed, Mapping) or subkey not in parsed:
        raise RenderError(f"Cannot find secret sub-key '{subkey}' in secret '{key}'.")
    result = str(parsed[subkey])
    if scope.on_secret is not None:
        scope.on_secret(result)
    return result


def kv(key: Any, namespace: Any = None, errorOnMissing: Any = True) -> Any:
    """Kestra's ``kv(key, namespace, errorOnMissing)``: a KV pair's value.

    Without a namespace, the flow's namespace is read, then its parents from
    the nearest (``a.b.c``, ``a.b``, ``a``), as Kestra's function does; a
    namespace given explicitly is read alone. A missing or expired key fails
    the render, or is null with ``errorOnMissing=false``."""
    scope = pebble.current().scope
    if scope.kv is None:
        raise RenderError(
            "kv() is not available here: it reads the KV store when a task's properties"
            " are rendered, not in flow inputs, triggers or outside a run"
        )
    if not isinstance(key, str) or not key:
        raise RenderError("kv() needs a key (a non-empty string)")
    flow = scope.variables.get("flow")
    own = flow.get("namespace") if isinstance(flow, Mapping) else None
    wanted = own if namespace is None else str(namespace)
    if not wanted:
        raise RenderError("kv() needs a namespace outside a flow: kv('KEY', 'NAMESPACE')")
    for candidate in _lineage(wanted) if namespace is None else (wanted,):
        value = scope.kv(candidate, key)
        if value is not None:
            return _revealed(taint.check(value), scope.on_secret)
    if errorOnMissing is False or (isinstance(errorOnMissing, str) and errorOnMissing == "false"):
        return None
    raise RenderError(f"kv(): the key '{key}' does not exist in the namespace '{wanted}'")


_STREAK_LIMIT = 100  # how far back consecutiveFailures() looks


def _history(name: str, limit: int) -> tuple[str, list[str]]:
    """This execution's state and the states of its flow's ended executions before it,
    newest first (Lanner's streak functions: docs/triggers.md)."""
    scope = pebble.current().scope
    if scope.flow_history is None:
        raise RenderError(
            f"{name}() is not available here: it reads the flow's past executions when"
            " an execution's runIf or task properties are rendered"
        )
    flow = scope.variables.get("flow")
    execution = scope.variables.get("execution")
    if not isinstance(flow, Mapping) or not isinstance(execution, Mapping):
        raise RenderError(f"{name}() needs an execution")
    state = str(execution.get("state", ""))
    before = scope.flow_history(
        str(flow.get("namespace")), str(flow.get("id")), str(execution.get("id")), limit
    )
    return state, before


def _state_list(value: Any, default: list[str]) -> list[str]:
    if value is None:
        return default
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    raise RenderError("states must be a state name or a list of state names")


def consecutive_failures(states: Any = None) -> int:
    """Lanner's ``consecutiveFailures(states)``: how many executions of this flow in a
    row, this one included, ended in `states` (default FAILED); 0 when this one did not."""
    wanted = _state_list(states, ["FAILED"])
    state, before = _history("consecutiveFailures", _STREAK_LIMIT)
    if state not in wanted:
        return 0
    count = 1
    for earlier in before:
        if earlier not in wanted:
            break
        count += 1
    return count


def flow_recovered(failedStates: Any = None) -> bool:
    """Lanner's ``flowRecovered(failedStates)``: this execution succeeded (SUCCESS or
    WARNING) and the execution of its flow that ended before it ended in
    `failedStates` (default FAILED)."""
    failed = _state_list(failedStates, ["FAILED"])
    state, before = _history("flowRecovered", 1)
    return state in ("SUCCESS", "WARNING") and bool(before) and before[0] in failed


def _lineage(namespace: str) -> list[str]:
    """The namespace, then its parents, nearest first."""
    parts = namespace.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def _revealed(value: Any, on_secret: Callable[[str], None] | None) -> Any:
    """A value read from the store: its secret strings go to the masker, as secret()'s do."""
    if on_secret is not None and taint.tainted(value):
        if isinstance(value, str):
            on_secret(str.__str__(value))
        elif isinstance(value, Mapping):
            for item in value.values():
                _revealed(item, on_secret)
        elif isinstance(value, list):
            for item in value:
                _revealed(item, on_secret)
    return value


def _files(name: str) -> FileReader:
    files = pebble.current().scope.files
    if files is None:
        raise RenderError(f"{name}() is not available here (no internal storage)")
    return files


def _size(name: str, path: Any) -> int | None:
    if not isinstance(path, str) or not path:
        raise RenderError(f"{name}() needs a kestra:// URI or a namespace file's path")
    try:
        return _files(name).size(path)
    except LannerError as exc:
        raise RenderError(f"{name}({path!r}): {exc.message}") from None


def read(path: Any) -> str:
    """A file's content as text (Kestra's ``read``): a ``kestra://`` URI the execution
    may read, or a namespace file's path. A file larger than a render may write is
    refused before it is read."""
    size = _size("read", path)
    if size is None:
        raise RenderError(f"read({path!r}): no such file in internal storage")
    limit = pebble.max_output()
    if size > limit:
        raise RenderError(
            f"read({path!r}): the file is {size} bytes, more than the {limit} characters a "
            "render may write (limit, see docs/limits.md); pass its URI to the task instead"
        )
    try:
        data = _files("read").read(path, limit + 1)
    except FileNotFoundError:
        raise RenderError(f"read({path!r}): no such file in internal storage") from None
    except LannerError as exc:
        raise RenderError(f"read({path!r}): {exc.message}") from None
    if len(data) > limit:  # it grew since: still bounded
        raise RenderError(f"read({path!r}): more than {limit} characters (docs/limits.md)")
    return data.decode("utf-8", errors="replace")


def file_size(path: Any) -> int:
    size = _size("fileSize", path)
    if size is None:
        raise RenderError(f"fileSize({path!r}): no such file in internal storage")
    return size


def file_exists(path: Any) -> bool:
    return _size("fileExists", path) is not None


def is_file_empty(path: Any) -> bool:
    size = _size("isFileEmpty", path)
    if size is None:
        raise RenderError(f"isFileEmpty({path!r}): no such file in internal storage")
    return size == 0


def uuid() -> str:
    return str(uuidlib.UUID(int=_rng().getrandbits(128), version=4))


def id_() -> str:
    """A 22-character base62 id, like Kestra's ``IdUtils.create()``."""
    number = uuidlib.UUID(int=_rng().getrandbits(128), version=4).int
    chars = []
    while number:
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(reversed(chars)).rjust(22, "0")


def random_int(lower: int, upper: int) -> int:
    """A random integer in ``[lower, upper)`` (Kestra: upper bound excluded)."""
    if not isinstance(lower, int) or not isinstance(upper, int) or upper <= lower:
        raise RenderError("randomInt needs two integers with lower < upper")
    return _rng().randrange(lower, upper)


def error_logs() -> list[Mapping[str, Any]]:
    scope = pebble.current().scope
    if scope.error_logs is None:
        raise RenderError("errorLogs() is not available here")
    return scope.error_logs()


def tasks_with_state(state: str) -> list[Mapping[str, Any]]:
    scope = pebble.current().scope
    if scope.tasks_with_state is None:
        raise RenderError("tasksWithState() is not available here")
    return scope.tasks_with_state(str(state).upper())


def current_each_output(outputs: Any) -> Any:
    """Kestra's ``currentEachOutput(outputs.task)``: the outputs of a sibling task in
    the current loop iteration. Inside loops ``outputs.task`` is nested by loop value,
    outermost first; the values are those of the enclosing task runs that have one
    (``parents``, nearest first), then the current task run's own."""
    if not isinstance(outputs, Mapping):
        raise RenderError(
            "The 'currentEachOutput' function expects an argument 'outputs' with type map."
        )
    variables = pebble.current().scope.variables
    values: list[Any] = []
    for parent in reversed(variables.get("parents") or []):
        taskrun = parent.get("taskrun") if isinstance(parent, Mapping) else None
        if isinstance(taskrun, Mapping) and taskrun.get("value") is not None:
            values.append(taskrun["value"])
    taskrun = variables.get("taskrun")
    current: Any = outputs
    for value in values:
        current = current.get(value)
        if not isinstance(current, Mapping):
            raise RenderError(
                f"currentEachOutput(): these outputs have no entry for the loop value {value!r}"
            )
    return current.get(taskrun.get("value")) if isinstance(taskrun, Mapping) else None


def print_context() -> str:
    return to_json(dict(pebble.current().scope.variables))


def range_(start: int, end: int, step: int = 1) -> list[int]:
    # Pebble's range() includes its end: range(0, 3) is 0, 1, 2, 3.
    return pebble.bounded_range(start, end, step, inclusive=True)


def _extreme(pick: Callable[..., Any], name: str) -> Callable[..., Any]:
    def extreme(*values: Any) -> Any:
        if not values:
            raise RenderError(f"{name}() needs at least one argument")
        if not all(pebble.is_number(v) for v in values):
            raise RenderError(f"{name}() needs numbers")
        return pick(values)

    return extreme


def _unavailable(name: str) -> Callable[..., Any]:
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise RenderError(
            f"{name}() is not available in Lanner: it needs a file store or the network"
        )

    return unavailable


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "now": now,
    "fromJson": from_json,
    "json": from_json,
    "jsonDecode": from_json,
    "yaml": from_yaml,
    "render": render,
    "renderOnce": render_once,
    "secret": secret,
    "uuid": uuid,
    "id": id_,
    "randomInt": random_int,
    "errorLogs": error_logs,
    "kv": kv,
    "consecutiveFailures": consecutive_failures,
    "flowRecovered": flow_recovered,
    "tasksWithState": tasks_with_state,
    "currentEachOutput": current_each_output,
    "printContext": print_context,
    "range": range_,
    "max": _extreme(max, "max"),
    "min": _extreme(min, "min"),
    "read": read,
    "fileSize": file_size,
    "fileExists": file_exists,
    "isFileEmpty": is_file_empty,
    **{
        name: _unavailable(name)
        for name in (
            "fileURI",
            "http",
            "encrypt",
            "decrypt",
            "fromIon",
            "subflow",
            "randomPort",
        )
    },
}
