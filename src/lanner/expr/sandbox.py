"""The sandboxed Jinja2 environment that runs Lanner's expressions.

What a template may touch is the data it was given and the documented
filters, functions and tests — nothing else:

* attribute access reads map keys only (``outputs.task.keys`` is the key
  ``keys``, as in Pebble), never Python attributes, so no method and no
  ``__class__``/``mro``/``__globals__`` is reachable; any name starting with
  ``_`` is refused outright;
* only Lanner's own functions and template macros can be called: calling a
  Python method (``'abc'.upper()``) is refused — Pebble allows some Java
  method calls, Lanner chooses to allow none;
* every operator is intercepted (see ``lanner.expr.pebble``) so that
  ``'a' * 10**9`` (Pebble multiplies numbers only) and ``10 ** 10 ** 10``
  fail at once; list and map literals, macro calls, loops, ranges, strings
  and the output are bounded (``lanner.expr.limits``);
* a function or macro named without a call is not a value (Pebble: an
  undefined variable), and ``loop`` is Pebble's map, so no Python object is
  ever a value in a template.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from typing import Any

from jinja2 import nodes
from jinja2.lexer import Lexer
from jinja2.runtime import Context, Macro, Undefined
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from lanner.errors import SandboxError
from lanner.expr import pebble, taint
from lanner.expr.convert import to_output
from lanner.expr.syntax import PebbleCodeGenerator, PebbleLexer, PebbleParser

__all__ = ["PebbleEnvironment"]


def _refuse(name: str) -> SandboxError:
    return SandboxError(f"Access to '{name}' is not allowed in an expression", variable=name)


class PebbleEnvironment(SandboxedEnvironment):
    """A sandboxed environment with Pebble's grammar and semantics."""

    code_generator_class = PebbleCodeGenerator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"+", "-"})

    def __init__(
        self,
        *,
        filters: Mapping[str, Callable[..., Any]],
        tests: Mapping[str, Callable[..., Any]],
        functions: Mapping[str, Callable[..., Any]],
    ) -> None:
        super().__init__(
            undefined=pebble.PebbleUndefined,
            autoescape=False,
            finalize=taint.finalize(to_output),
            keep_trailing_newline=True,  # Kestra does no new-line trimming
            cache_size=0,  # the engine keeps its own LRU cache
            auto_reload=False,
        )
        # Drop Jinja's defaults (lipsum, cycler, joiner, namespace, dict,
        # range and all its filters/tests): only what Kestra documents.
        self.globals.clear()
        self.globals.update(functions)
        self.filters.clear()
        self.filters.update(filters)
        self.tests.clear()
        self.tests.update(tests)
        self._callables = frozenset(id(f) for f in functions.values())
        # Read by the compiled code (see PebbleCodeGenerator).
        self.p_truth = pebble.truth
        self.p_not = pebble.negate
        self.p_logic = pebble.logic_operand
        self.p_compare = pebble.compare
        self.p_contains = pebble.contains
        self.p_is_in = pebble.is_in
        self.p_not_in = pebble.not_in
        self.p_concat = taint.concat(pebble.concat)
        self.p_coalesce = pebble.coalesce
        self.p_defined = pebble.defined
        self.p_undefined = pebble.undefined
        self.p_default = pebble.default
        self.p_iter = pebble.iterate
        self.p_range = pebble.inclusive_range
        self.p_built = pebble.check_value
        # `concat` joins captured blocks ({% set %}…{% endset %}, macros,
        # {% filter %}): bound it before joining.
        self.concat = self._bounded_concat  # type: ignore[method-assign]

    @cached_property
    def lexer(self) -> Lexer:
        return PebbleLexer(self)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        return PebbleParser(self, source, name, filename).parse()

    @staticmethod
    def _bounded_concat(parts: Iterable[str]) -> str:
        items = list(parts)
        limit = pebble.max_output()
        if sum(map(len, items)) > limit:
            raise pebble.output_too_large(limit)
        text: str = pebble.check_value("".join(items))
        return taint.joined(items, text)

    def p_name(self, value: Any, name: str) -> Any:
        return pebble.name_value(value, name, self._callables)

    # --- attribute and item access ------------------------------------------

    def getattr(self, obj: Any, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise _refuse(attribute)
        if isinstance(obj, Mapping):
            try:
                value = obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
            if isinstance(value, taint.Sealed):  # stored encrypted, this process has no key
                raise value.fail()
            return value
        if isinstance(obj, Undefined):
            obj._fail_with_undefined_error()
        return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, str):
            return self.getattr(obj, argument)
        if isinstance(obj, Undefined):
            obj._fail_with_undefined_error()
        if isinstance(obj, list | tuple | str):
            if isinstance(argument, slice):
                return taint.sliced(obj, obj[argument])
            # Java lists have no negative indexes.
            if (
                isinstance(argument, int)
                and not isinstance(argument, bool)
                and 0 <= argument < len(obj)
            ):
                return taint.sliced(obj, obj[argument])
        elif isinstance(obj, Mapping):
            try:
                return obj[argument]
            except (KeyError, TypeError):
                pass
        return self.undefined(obj=obj, name=argument)

    # --- calls and operators ------------------------------------------------

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if id(__obj) not in __self._callables and not isinstance(__obj, Macro):
            if isinstance(__obj, Undefined):
                owner = __obj._undefined_obj
                if owner is missing or isinstance(owner, Mapping):
                    __obj._fail_with_undefined_error()  # an unknown function
                raise SandboxError(
                    f"Calling the method '{__obj._undefined_name}' is not allowed: "
                    "expressions cannot call methods on values"
                )
            raise SandboxError("Calling Python methods or objects is not allowed in an expression")
        if isinstance(__obj, Macro):
            return __self._call_macro(__context, __obj, args, kwargs)
        return __context.call(__obj, *args, **kwargs)

    @staticmethod
    def _call_macro(
        context: Context, macro: Macro, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        state = pebble.current()
        pebble.tick(state)
        limit = state.engine.limits.macro_depth
        if state.macro_depth >= limit:
            raise SandboxError(f"Macro calls are nested more than {limit} deep, the limit")
        state.macro_depth += 1
        try:
            return context.call(macro, *args, **kwargs)
        finally:
            state.macro_depth -= 1

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        return taint.binop(left, right, pebble.binop(operator, left, right))

    def call_unop(self, context: Context, operator: str, arg: Any) -> Any:
        return pebble.unop(operator, arg)
