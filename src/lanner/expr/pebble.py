"""Pebble's run-time semantics, called from the compiled templates.

Jinja2 compiles a template to Python; Lanner's code generator
(``lanner.expr.syntax``) emits calls to the functions here wherever Pebble
and Python disagree: ``+ - * / %`` follow Java's binary numeric promotion
(``7 / 2`` is ``3``), ``and``/``or`` return booleans, ``==`` never equates
``1`` and ``true``, ``~`` prints ``null`` as nothing, ``??``/``???`` catch the
strict-undefined error of a whole chain.

The state of the render in progress (scope, limits, nesting depth, loop
budget, deadline, the memory its values took) lives in a context variable,
so that functions such as ``now()`` or ``render()`` find it without it ever
being a template variable. The hooks here are where the limits of
``lanner.expr.limits`` are enforced, each before the work it bounds.
"""

from __future__ import annotations

import contextvars
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from jinja2.exceptions import UndefinedError
from jinja2.runtime import LoopContext, Macro, StrictUndefined, Undefined

from lanner.errors import RenderError, SandboxError
from lanner.expr.convert import to_output, to_text
from lanner.expr.limits import MAX_INTEGER_BITS, Limits
from lanner.expr.sizes import human_bytes, string_bytes, value_size
from lanner.expr.typenames import java_name

if TYPE_CHECKING:
    from lanner.expr.engine import ExpressionEngine
    from lanner.expr.scope import Scope

__all__ = [
    "LoopMap",
    "PebbleUndefined",
    "RenderState",
    "UndefinedVariable",
    "binop",
    "check_value",
    "current",
    "tick",
    "unop",
]

_DEFAULT_LIMITS = Limits()

# Values smaller than this are not added to a render's memory total: a loop
# makes many small short-lived values, and what keeps many small values alive
# (variables, macro arguments) is bounded by the template's own size.
_SMALL_VALUE = 1024


class UndefinedVariable(UndefinedError):
    """A variable or attribute that does not exist (strict variables)."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


class PebbleUndefined(StrictUndefined):
    """Strict undefined that remembers which name was missing."""

    __slots__ = ()

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise UndefinedVariable(self._undefined_message, str(self._undefined_name))


def need(value: Any) -> Any:
    """Fail on an undefined value (strict variables), else return it."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


@dataclass(slots=True)
class RenderState:
    """What one top-level render carries down to functions and nested renders."""

    engine: ExpressionEngine
    scope: Scope
    template: str
    depth: int = 0
    iterations: int = 0
    rng: random.Random | None = None
    deadline: float = math.inf
    memory: int = 0
    macro_depth: int = 0


_STATE: contextvars.ContextVar[RenderState | None] = contextvars.ContextVar(
    "lanner_render_state", default=None
)


def current() -> RenderState:
    state = _STATE.get()
    if state is None:  # only reachable when a template is run outside the engine
        raise RenderError("No render in progress")
    return state


def enter(state: RenderState) -> contextvars.Token[RenderState | None]:
    return _STATE.set(state)


def leave(token: contextvars.Token[RenderState | None]) -> None:
    state = _STATE.get()
    _STATE.reset(token)
    if state is not None and state.memory:
        global _process_memory
        with _PROCESS_LOCK:
            _process_memory -= state.memory


# The memory the renders in progress in this process have built: several
# hostile renders in worker threads must not add up past the process's means.
_PROCESS_LOCK = threading.Lock()
_process_memory = 0


def limits() -> Limits:
    state = _STATE.get()
    return state.engine.limits if state is not None else _DEFAULT_LIMITS


def max_output() -> int:
    return limits().output_chars


def output_too_large(limit: int, what: str = "Rendered output") -> SandboxError:
    return SandboxError(f"{what} is longer than {limit} characters, the output limit")


def tick(state: RenderState | None = None) -> None:
    """Fail once the render has run past its deadline."""
    state = state or _STATE.get()
    if state is not None and time.monotonic() > state.deadline:
        seconds = state.engine.limits.render_seconds
        raise SandboxError(f"Expression took longer than {seconds:g} s, the time limit of a render")


def _account(state: RenderState, size: int) -> None:
    if size >= _SMALL_VALUE:
        global _process_memory
        state.memory += size
        with _PROCESS_LOCK:
            _process_memory += size
            total = _process_memory
        bounds = state.engine.limits
        if state.memory > bounds.render_bytes:
            raise SandboxError(
                f"Expression built more than {human_bytes(bounds.render_bytes)} of values, "
                "the memory limit of a render"
            )
        if total > bounds.process_render_bytes:
            raise SandboxError(
                f"The expressions being rendered built more than "
                f"{human_bytes(bounds.process_render_bytes)} of values together, "
                "the memory limit of the renders of a process"
            )


def check_value(value: Any) -> Any:
    """Refuse a value an expression built past the limits, and count it.

    Strings and lists are bounded by the output limit, every value by the
    size and depth limits (expanded, so ``[a, a]`` doubles), and the values
    of one render together by its memory limit; the deadline is checked too.
    """
    if isinstance(value, str):
        state = _STATE.get()
        bounds = state.engine.limits if state is not None else _DEFAULT_LIMITS
        if len(value) > bounds.output_chars:
            raise output_too_large(bounds.output_chars, "Expression result")
        if state is not None:
            _account(state, string_bytes(value))
            tick(state)
        return value
    if isinstance(value, list | tuple | Mapping):
        state = _STATE.get()
        bounds = state.engine.limits if state is not None else _DEFAULT_LIMITS
        if len(value) > bounds.output_chars and not isinstance(value, Mapping):
            raise SandboxError(
                f"Expression result has more than {bounds.output_chars} items, the output limit"
            )
        size = value_size(value, bounds.value_bytes, bounds.value_depth)
        if state is not None:
            _account(state, size)
            tick(state)
    return value


# Kept for the callers that named it so.
check_size = check_value


# --- numbers -------------------------------------------------------------


def is_number(value: Any) -> bool:
    # Java's Boolean is not a Number: keep Python's bool out of arithmetic.
    return isinstance(value, int | float) and not isinstance(value, bool)


_OP_NAMES = {
    "+": "ADD",
    "-": "SUBTRACT",
    "*": "MULTIPLICATION",
    "/": "DIVISION",
    "%": "MODULUS",
    "//": "FLOOR_DIVISION",
    "**": "POWER",
}

# Bits an integer result may have: Java's long. Pebble computes in long and
# wraps around silently; Lanner refuses the result instead, and so no
# arithmetic (`{% set x = x * x %}`, `10 ** 10 ** 10`) grows without bound.
_MAX_BITS = MAX_INTEGER_BITS
_LONG_MIN, _LONG_MAX = -(2 ** (_MAX_BITS - 1)), 2 ** (_MAX_BITS - 1)


def _overflow(op: str) -> SandboxError:
    return SandboxError(
        f"Result of {op} is outside the 64-bit integer range, the limit for integers"
    )


def _long(op: str, value: int) -> int:
    if not _LONG_MIN <= value < _LONG_MAX:
        raise _overflow(op)
    return value


def _java_int_div(a: int, b: int) -> int:
    if b == 0:
        raise RenderError("/ by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _java_int_mod(a: int, b: int) -> int:
    if b == 0:
        raise RenderError("/ by zero")
    return a - b * _java_int_div(a, b)


def _float_div(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _power(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        if b < 0:
            return float(a) ** b if a != 0 else math.inf
        if abs(a) > 1 and (b - 1) * (abs(a).bit_length() - 1) >= _MAX_BITS:
            raise _overflow("**")
        return _long("**", a**b)
    # Java's Math.pow: Infinity on overflow, NaN for a root of a negative.
    try:
        return math.pow(float(a), float(b))
    except OverflowError:
        odd = float(b).is_integer() and int(b) % 2 == 1
        return -math.inf if a < 0 and odd else math.inf
    except ValueError:
        return math.inf if a == 0 else math.nan


def _numeric(op: str, a: Any, b: Any) -> Any:
    if not (is_number(a) and is_number(b)):
        raise RenderError(f"invalid operands for mathematical operation [{_OP_NAMES[op]}]")
    both_int = isinstance(a, int) and isinstance(b, int)
    if both_int and op in "+-*":
        # Bounded before multiplying: data may hold integers of any size.
        if op == "*" and a.bit_length() + b.bit_length() > 2 * _MAX_BITS:
            raise _overflow(op)
        return _long(op, a + b if op == "+" else a - b if op == "-" else a * b)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if both_int:
            return _long(op, _java_int_div(a, b))
        return _float_div(float(a), float(b))
    if op == "%":
        if both_int:
            return _java_int_mod(a, b)
        return math.fmod(a, b) if b != 0 else math.nan
    if op == "//":
        if b == 0:
            raise RenderError("/ by zero")
        return _long(op, a // b) if both_int else a // b
    return _power(a, b)


def _java_string(value: Any) -> str:
    # Java's String.valueOf: null becomes "null" when `+` concatenates.
    return "null" if value is None else to_output(value)


def binop(op: str, a: Any, b: Any) -> Any:
    """Pebble's ``+ - * / %`` (and Jinja's ``//`` and ``**``, bounded)."""
    need(a)
    need(b)
    if op == "+":
        if isinstance(a, str) or isinstance(b, str):
            left, right = _java_string(a), _java_string(b)
            limit = max_output()
            if len(left) + len(right) > limit:
                raise output_too_large(limit, "Result of +")
            return check_value(left + right)
        if isinstance(a, list | tuple):
            extra = len(b) if isinstance(b, list | tuple) else 1
            if len(a) + extra > max_output():
                raise SandboxError(
                    f"Result of + has more than {max_output()} items, the output limit"
                )
            return check_value([*a, *b] if isinstance(b, list | tuple) else [*a, b])
    elif op == "-" and isinstance(a, list | tuple):
        removed = b if isinstance(b, list | tuple) else [b]
        return [x for x in a if x not in removed]
    return _numeric(op, a, b)


def unop(op: str, a: Any) -> Any:
    need(a)
    if not is_number(a):
        raise RenderError("invalid operand for unary operation")
    return -a if op == "-" else +a


# --- comparisons and logic ----------------------------------------------


def equals(a: Any, b: Any) -> bool:
    need(a)
    need(b)
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, bool) != isinstance(b, bool):
        return False  # Python says 1 == True; Java's equals does not
    return bool(a == b)


_COMPARE_NAMES = {"lt": "LESS_THAN", "lteq": "LESS_THAN_EQUALS", "gt": "GREATER_THAN"}


def compare(op: str, a: Any, b: Any) -> bool:
    """``== != < <= > >=`` with Pebble's rules; ``in`` is Kestra's ``isIn``."""
    if op == "eq":
        return equals(a, b)
    if op == "ne":
        return not equals(a, b)
    if op == "in":
        return is_in(a, b)
    if op == "notin":
        return not is_in(a, b)
    need(a)
    need(b)
    if a is None or b is None:
        return False
    comparable = (is_number(a) and is_number(b)) or (type(a) is type(b) and isinstance(a, str))
    if not comparable:
        name = _COMPARE_NAMES.get(op, "GREATER_THAN_EQUALS")
        raise RenderError(f"invalid operands for mathematical comparison [{name}]")
    if op == "lt":
        return bool(a < b)
    if op == "lteq":
        return bool(a <= b)
    if op == "gt":
        return bool(a > b)
    return bool(a >= b)


def truth(value: Any) -> bool:
    """Pebble's cast of a condition to boolean (``if``, ``?:``, ``not``)."""
    need(value)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if is_number(value):
        return not math.isnan(value) and value != 0
    if isinstance(value, str):
        return value != ""
    raise RenderError(f"Expected a boolean value but got {type_name(value)}")


def negate(value: Any) -> bool:
    """Pebble's ``not``; ``not null`` is true."""
    return not truth(value)


def logic_operand(value: Any, op: str) -> bool:
    """An operand of ``and``/``or``: like :func:`truth`, but null is an error
    because Kestra runs Pebble with strict variables."""
    need(value)
    if value is None:
        raise RenderError(f"null value used in {op} operator and strict variables is set to true")
    return truth(value)


def contains(container: Any, item: Any) -> bool:
    """Pebble's ``contains`` operator."""
    need(container)
    need(item)
    if container is None:
        return False
    if isinstance(container, list | tuple):
        if isinstance(item, list | tuple):
            return all(x in container for x in item)
        return item in container
    if isinstance(container, Mapping):
        return item in container
    if isinstance(container, str):
        return _java_string(item) in container
    raise RenderError(
        "Contains operator can only be used on Collections, Maps and arrays. "
        f"Actual type was: {type_name(container)}"
    )


def is_in(item: Any, container: Any) -> bool:
    """Kestra's ``isIn``: compares the text forms of the values."""
    need(item)
    need(container)
    if item is None or container is None:
        return False
    text = to_output(item)
    if isinstance(container, Mapping | list | tuple) and len(container) > 4096:
        tick()  # each item is converted: a long list takes its time
    if isinstance(container, Mapping):
        return any(to_output(k) == text or to_output(v) == text for k, v in container.items())
    if isinstance(container, list | tuple):
        return any(to_output(x) == text for x in container)
    return False


def not_in(item: Any, container: Any) -> bool:
    return not is_in(item, container)


def concat(values: Iterable[Any]) -> str:
    """Pebble's ``~``: each operand's text, null as nothing."""
    parts = [to_text(need(v)) for v in values]
    limit = max_output()
    if sum(map(len, parts)) > limit:
        raise output_too_large(limit, "Result of ~")
    text: str = check_value("".join(parts))
    return text


# --- undefined-tolerant constructs ------------------------------------------


def coalesce(left: Callable[[], Any], right: Callable[[], Any], null_too: bool) -> Any:
    """``a ?? b`` (null_too) and ``a ??? b``: evaluate ``a`` catching undefined."""
    try:
        value = left()
    except UndefinedError:
        return right()
    if isinstance(value, Undefined) or (null_too and value is None):
        return right()
    return value


def defined(thunk: Callable[[], Any]) -> bool:
    """``x is defined``, true even for a defined null, false for any missing link."""
    try:
        value = thunk()
    except UndefinedError:
        return False
    return not isinstance(value, Undefined)


def undefined(thunk: Callable[[], Any]) -> bool:
    """``x is not defined``."""
    return not defined(thunk)


def is_empty(value: Any) -> bool:
    """Pebble's ``empty`` test: null, blank string, empty list or map."""
    need(value)
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, list | tuple | Mapping):
        return len(value) == 0
    return False


def default(thunk: Callable[[], Any], fallback: Any = None) -> Any:
    """The ``default`` filter; tolerates undefined input like Pebble."""
    try:
        value = thunk()
    except UndefinedError:
        return fallback
    if isinstance(value, Undefined) or is_empty(value):
        return fallback
    return value


def iterate(value: Any, pairs: bool) -> Iterator[Any]:
    """What a ``{% for %}`` walks over, with the per-render iteration budget.

    A map yields ``{key, value}`` entries (Pebble's ``entry.key``), or
    ``(key, value)`` pairs when the loop unpacks two names.
    """
    need(value)
    items: Iterable[Any]
    if value is None:
        items = ()
    elif isinstance(value, Mapping):
        items = value.items() if pairs else [{"key": k, "value": v} for k, v in value.items()]
    elif isinstance(value, list | tuple | range):
        items = value
    else:
        items = (value,)  # Pebble iterates a single object once
    state = current()
    budget = state.engine.limits.loop_iterations
    for item in items:
        state.iterations += 1
        if state.iterations > budget:
            raise SandboxError(
                f"More than {budget} loop iterations, the limit of a render (all loops together)"
            )
        if not state.iterations & 15:
            tick(state)
        yield item


def bounded_range(start: Any, end: Any, step: Any = 1, inclusive: bool = False) -> list[int]:
    """``range()`` and Pebble's ``a..b``, refused past the engine's ``max_range``."""
    for v in (start, end, step):
        if not isinstance(need(v), int) or isinstance(v, bool):
            raise RenderError("range() needs integer arguments")
    if step == 0:
        raise RenderError("range() step must not be zero")
    stop = end + (1 if step > 0 else -1) if inclusive else end
    result = range(start, stop, step)
    limit = limits().range_items
    if len(result) > limit:
        raise SandboxError(f"Range too big: {len(result)} items, the limit is {limit}")
    return list(result)  # a plain list: filters and tests know lists


def inclusive_range(start: Any, end: Any) -> list[int]:
    """Pebble's ``start..end``."""
    return bounded_range(start, end, inclusive=True)


def type_name(value: Any) -> str:
    """Kestra's name for a value's type, for messages and ``className``."""
    if isinstance(value, LoopMap | LoopContext):
        return "java.util.HashMap"  # Pebble's `loop`
    return java_name(value)


# --- names that are not values ----------------------------------------------


class LoopMap(Mapping[str, Any]):
    """Pebble's ``loop``: a map of ``index`` (from 0), ``revindex`` (down to
    0), ``first``, ``last`` and ``length``, read from Jinja's loop lazily."""

    __slots__ = ("_loop",)

    _KEYS = ("index", "revindex", "first", "last", "length")

    def __init__(self, loop: LoopContext) -> None:
        self._loop = loop

    def __getitem__(self, key: str) -> Any:
        loop = self._loop
        if key == "index":
            return loop.index0
        if key == "revindex":
            return loop.revindex0
        if key == "first":
            return loop.first
        if key == "last":
            return loop.last
        if key == "length":
            return loop.length
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._KEYS)

    def __len__(self) -> int:
        return len(self._KEYS)


def name_value(value: Any, name: str, functions: frozenset[int]) -> Any:
    """A variable read as a value: Pebble's ``loop`` map; a function or a
    macro named without a call is not a variable (Pebble: undefined)."""
    if isinstance(value, LoopContext):
        return LoopMap(value)
    if isinstance(value, Macro) or id(value) in functions:
        raise UndefinedVariable(f"'{name}' is a function, not a variable", name)
    return value
