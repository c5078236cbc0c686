"""The expression engine: compile once, render many times, from any thread.

``render`` is single-pass (SPEC §6.1): a value containing ``{{ }}`` is
printed as it is; ``render(x)`` in a template renders it again. A string
without ``{`` is returned unchanged, without being parsed. Compiled
templates are kept in an LRU cache keyed by their text; the sandboxed
environment is shared and stateless, and the state of one render lives in a
context variable, so one engine serves every thread.

Jinja2, the filters and the sandbox are imported, and the environment is
built, on the first template: a flow without one (and `lanner run`'s start)
does not pay for them.

Every render is bounded by the engine's :class:`~lanner.expr.limits.Limits`
(time, memory, output, nesting); whatever a template raises becomes a
RenderError that names the place and Kestra's types, never Python's.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lanner.errors import RenderError, SandboxError
from lanner.expr import taint
from lanner.expr.limits import Limits
from lanner.expr.scope import Scope

if TYPE_CHECKING:
    from jinja2.environment import Template
    from jinja2.runtime import Context

    from lanner.expr.pebble import RenderState
    from lanner.expr.sandbox import PebbleEnvironment

__all__ = ["ExpressionEngine"]

_RESULT = "lanner_result"


def _checked(func: Callable[..., Any]) -> Callable[..., Any]:
    """Strict about undefined arguments, bounded in the size of the result."""
    from lanner.expr import pebble

    @functools.wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for arg in args:
            pebble.need(arg)
        for arg in kwargs.values():
            pebble.need(arg)
        return pebble.check_value(func(*args, **kwargs))

    return checked


def _at_render_time(func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter or test that Jinja never runs while compiling.

    Jinja folds a filter of constants (``{{ 1 | jq('...') }}``) at compile
    time, and again while generating code, before running it at render time:
    a filter taking its time limit would take it three times. Asking for the
    context is what makes Jinja leave a filter to the render.
    """
    from jinja2.utils import pass_context

    @functools.wraps(func)
    def in_render(context: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return pass_context(in_render)


def _template_line(tb: TracebackType | None, template: Template) -> int:
    """The template line of the innermost frame of ``template`` in a traceback."""
    line = 1
    while tb is not None:
        if tb.tb_frame.f_globals.get("__jinja_template__") is template:
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


class ExpressionEngine:
    """Renders Kestra-style ``{{ ... }}`` templates with Pebble's semantics."""

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        max_output: int | None = None,
        max_range: int | None = None,
        max_depth: int | None = None,
        cache_size: int = 4096,
    ) -> None:
        chosen = limits or Limits()
        if max_output is not None:
            chosen = dataclasses.replace(chosen, output_chars=max_output)
        if max_range is not None:
            # Loops multiply: the iterations of one render follow the range.
            chosen = dataclasses.replace(
                chosen, range_items=max_range, loop_iterations=max_range * 10
            )
        if max_depth is not None:
            chosen = dataclasses.replace(chosen, render_nesting=max_depth)
        self.limits = chosen
        self.max_output = chosen.output_chars
        self.max_range = chosen.range_items
        self.max_depth = chosen.render_nesting
        self._built: tuple[PebbleEnvironment, dict[str, Any]] | None = None
        self._build_lock = threading.Lock()
        self._template = functools.lru_cache(maxsize=cache_size)(self._compile)
        self._expression = functools.lru_cache(maxsize=cache_size)(self._compile_expression)

    @property
    def _env(self) -> PebbleEnvironment:
        return (self._built or self._build())[0]

    @property
    def _globals(self) -> dict[str, Any]:
        return (self._built or self._build())[1]

    def _build(self) -> tuple[PebbleEnvironment, dict[str, Any]]:
        with self._build_lock:
            if self._built is None:
                from lanner.expr.datafilters import DATA_FILTERS, TESTS
                from lanner.expr.filters import TEXT_FILTERS
                from lanner.expr.functions import FUNCTIONS
                from lanner.expr.sandbox import PebbleEnvironment
                from lanner.expr.taint import tracked

                filters = {
                    k: _at_render_time(tracked(k, _checked(v)))
                    for k, v in {**TEXT_FILTERS, **DATA_FILTERS}.items()
                }
                tests = {k: _at_render_time(_checked(v)) for k, v in TESTS.items()}
                functions = {k: tracked(k, _checked(v)) for k, v in FUNCTIONS.items()}
                env = PebbleEnvironment(filters=filters, tests=tests, functions=functions)
                # A plain dict: Template.new_context would copy a ChainMap per render.
                self._built = (env, dict(env.globals))
            return self._built

    # --- public API ------------------------------------------------------------

    def parse(self, template: str) -> None:
        """Parse `template` without rendering it; raises Jinja's TemplateSyntaxError,
        or a RenderError for what the Pebble layer refuses (lanner.expr.check)."""
        self._env.parse(template)

    def render(self, template: str, scope: Scope) -> str:
        """Render a template once (single pass)."""
        if "{" not in template:
            return template
        from lanner.expr import pebble
        from lanner.expr.pebble import RenderState

        state = RenderState(self, scope, template, deadline=self._deadline())
        token = pebble.enter(state)
        try:
            compiled = self._compiled(self._template, template, scope)
            return self._run(compiled, state)
        finally:
            pebble.leave(token)

    def render_value(self, value: Any, scope: Scope) -> Any:
        """Render the strings in a value; dicts and lists recursively (keys too)."""
        if isinstance(value, str):
            return self.render(value, scope)
        if isinstance(value, Mapping):
            return {
                self.render_value(k, scope): self.render_value(v, scope) for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.render_value(v, scope) for v in value]
        return value

    def evaluate(self, expression: str, scope: Scope) -> Any:
        """Evaluate a bare expression (no braces) to its Python value."""
        from lanner.expr import pebble
        from lanner.expr.pebble import RenderState

        state = RenderState(self, scope, expression, deadline=self._deadline())
        token = pebble.enter(state)
        try:
            compiled = self._compiled(self._expression, expression, scope)
            context = self._context(compiled, scope)
            try:
                for _ in compiled.root_render_func(context):
                    pass
                value = pebble.need(context.vars[_RESULT])
            except Exception as exc:
                raise self._error(exc, compiled, expression, scope) from exc
            return list(value) if isinstance(value, range | tuple) else value
        finally:
            pebble.leave(token)

    # --- used by the render() function ---------------------------------------------

    def render_nested(self, value: Any, state: RenderState, *, recursive: bool) -> Any:
        """Render a value again inside a render in progress (bounded depth)."""
        if isinstance(value, Mapping):
            return {
                self.render_nested(k, state, recursive=recursive): self.render_nested(
                    v, state, recursive=recursive
                )
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.render_nested(v, state, recursive=recursive) for v in value]
        if not isinstance(value, str):
            return value
        if state.depth >= self.max_depth:
            raise SandboxError(f"render() is nested more than {self.max_depth} levels deep")
        state.depth += 1
        try:
            for _ in range(self.max_depth):
                if "{" not in value:
                    return value
                rendered = self._run(self._nested_template(value), state)
                if not recursive or rendered == value:
                    return rendered
                value = rendered
            raise SandboxError(f"render() did not settle after {self.max_depth} passes")
        finally:
            state.depth -= 1

    # --- internals --------------------------------------------------------------

    def _deadline(self) -> float:
        return time.monotonic() + self.limits.render_seconds

    def _nested_template(self, source: str) -> Template:
        """A template made at run time: bounded in size before it is compiled,
        and cached only when small, so that generated text cannot fill the cache."""
        limit = self.limits.template_chars
        if len(source) > limit:
            raise SandboxError(
                f"render() was given {len(source)} characters, more than {limit}, "
                "the limit for a template made at run time"
            )
        if len(source) <= 4096:
            return self._template(source)
        return self._compile(source)

    def _compiled(self, cache: Callable[[str], Template], source: str, scope: Scope) -> Template:
        from jinja2.exceptions import TemplateSyntaxError

        try:
            return cache(source)
        except TemplateSyntaxError as exc:
            raise RenderError(
                f"{exc.message} in the expression `{source}` at line {exc.lineno}"
                + self._where(scope),
                expression=source,
                task_id=scope.task_id,
            ) from exc
        except RenderError as exc:
            raise self._located(exc, source, scope, 1) from exc

    def _compile(self, source: str) -> Template:
        return self._env.from_string(source)

    def _compile_expression(self, expression: str) -> Template:
        from jinja2 import nodes

        tree = self._env.parse("{{ " + expression + " }}")
        body = tree.body
        if not (len(body) == 1 and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1):
            raise RenderError(f"Not a single expression: `{expression}`", expression=expression)
        assign = nodes.Assign(nodes.Name(_RESULT, "store"), body[0].nodes[0], lineno=1)
        template = nodes.Template([assign], lineno=1)
        template.set_environment(self._env)
        return self._env.from_string(template)

    def _context(self, template: Template, scope: Scope) -> Context:
        from jinja2.runtime import new_context

        variables = self._globals.copy()
        variables.update(scope.variables)
        return new_context(self._env, template.name, template.blocks, variables, shared=True)

    def _run(self, template: Template, state: RenderState) -> str:
        context = self._context(template, state.scope)
        limit = self.max_output
        parts: list[str] = []
        size = 0
        try:
            for chunk in template.root_render_func(context):
                if type(chunk) is not str:  # a {% filter %} block yields its value
                    from lanner.expr.convert import to_output

                    chunk = to_output(chunk)
                size += len(chunk)
                if size > limit:
                    from lanner.expr.pebble import output_too_large

                    raise output_too_large(limit)
                parts.append(chunk)
        except Exception as exc:
            if state.depth:  # a nested render(): the outermost render reports
                raise
            raise self._error(exc, template, state.template, state.scope) from exc
        return taint.joined(parts, "".join(parts))

    @staticmethod
    def _where(scope: Scope) -> str:
        return f" (task `{scope.task_id}`)" if scope.task_id else ""

    def _located(self, exc: RenderError, source: str, scope: Scope, line: int) -> RenderError:
        if exc.expression is not None:
            return exc
        return type(exc)(
            f"{exc.message}, in the expression `{source}` at line {line}{self._where(scope)}",
            expression=source,
            variable=exc.variable,
            task_id=scope.task_id,
        )

    def _error(self, exc: Exception, template: Template, source: str, scope: Scope) -> RenderError:
        """Turn whatever a template raised into a RenderError naming the place."""
        from jinja2.exceptions import SecurityError, UndefinedError

        from lanner.expr.pebble import UndefinedVariable

        line = _template_line(exc.__traceback__, template)
        if isinstance(exc, UndefinedVariable):
            return RenderError(
                f"Unable to find `{exc.name}` used in the expression `{source}` "
                f"at line {line}{self._where(scope)}",
                expression=source,
                variable=exc.name,
                task_id=scope.task_id,
            )
        if isinstance(exc, RenderError):
            return self._located(exc, source, scope, line)
        return self._located(_unexpected(exc, SecurityError, UndefinedError), source, scope, line)


def _unexpected(
    exc: Exception, security: type[Exception], undefined: type[Exception]
) -> RenderError:
    """A RenderError for an exception that no hook turned into one: its
    message with Kestra's type names, never Python's."""
    from lanner.expr.typenames import scrub

    if isinstance(exc, RecursionError):
        return SandboxError("Expression is nested too deeply (macros, values or render() calls)")
    if isinstance(exc, MemoryError):
        return SandboxError("Expression ran out of memory")
    text = scrub(str(exc), type_error=isinstance(exc, TypeError | AttributeError | security))
    if isinstance(exc, security):
        return SandboxError(text or "Not allowed in an expression")
    if isinstance(exc, undefined):
        return RenderError(text)
    if isinstance(exc, KeyError):
        return RenderError(f"No such key: {text}")
    return RenderError(text or "Invalid expression")
