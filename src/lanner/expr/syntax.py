"""Pebble's grammar on top of Jinja2's lexer and parser.

Templates are *parsed*, never rewritten with regular expressions (which
would break on string literals). The lexer learns the tokens ``?``, ``??``,
``???`` and ``..``; the parser builds Lanner's own nodes for the places
where Pebble's grammar or semantics differ from Jinja2, and
:class:`PebbleCodeGenerator` compiles those nodes to calls into
``lanner.expr.pebble``:

* ``c ? a : b`` (lowest precedence), ``a ?? b``, ``a ??? b`` (tighter than
  every binary operator, as Kestra registers them at precedence 120);
* ``is``/``contains``/``isIn``/``notIn`` bind looser than comparisons
  (Pebble: ``a + b is even`` tests the sum);
* ``and``/``or``/``not``/``==``/``~`` get Pebble semantics;
* ``null`` literal, ``{% elseif %}``, ``a..b`` inclusive ranges;
* ``x is defined`` and ``x | default(...)`` tolerate a missing link
  anywhere in a chain;
* ``{% for %}`` iterates Pebble-style and counts against the loop budget;
* list, map and tuple literals are checked against the value limits, and a
  function, macro or ``loop`` read as a variable goes through the sandbox's
  ``p_name`` (see ``lanner.expr.sandbox``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.lexer import TOKEN_OPERATOR, Lexer, operators
from jinja2.parser import Parser

from lanner.errors import SandboxError

__all__ = ["PebbleCodeGenerator", "PebbleLexer", "PebbleParser"]

# Tokens Pebble/Kestra have and Jinja2 does not, longest first.
_EXTRA_OPERATORS = {"???": "undefcoalesce", "??": "nullcoalesce", "?": "question", "..": "range"}
_ALL_OPERATORS = sorted([*operators, *_EXTRA_OPERATORS], key=len, reverse=True)
_OPERATOR_RE = re.compile("|".join(re.escape(op) for op in _ALL_OPERATORS))

# Tags that need a template loader (there is none) or are Jinja-only.
_REFUSED_TAGS = frozenset({"extends", "include", "import", "from"})
# Names that would reach Jinja internals (`self` is a TemplateReference).
_REFUSED_NAMES = frozenset({"self"})


class PebbleLexer(Lexer):
    """Jinja2's lexer with Pebble's extra operators."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        for rules in self.rules.values():
            for i, rule in enumerate(rules):
                if rule.tokens == TOKEN_OPERATOR:
                    rules[i] = rule._replace(pattern=_OPERATOR_RE)

    def wrap(
        self,
        stream: Iterable[tuple[int, str, str]],
        name: str | None = None,
        filename: str | None = None,
    ) -> Iterator[Any]:
        # Give the new operators their own token types; Jinja's wrap passes
        # unknown token types through unchanged.
        def retype() -> Iterator[tuple[int, str, str]]:
            for lineno, token, value in stream:
                if token == TOKEN_OPERATOR and value in _EXTRA_OPERATORS:
                    yield lineno, _EXTRA_OPERATORS[value], value
                else:
                    yield lineno, token, value

        return super().wrap(retype(), name, filename)


# --- nodes ---------------------------------------------------------------
#
# Jinja2 forbids new node classes, so Lanner's constructs are ordinary
# ``Call`` nodes whose callee is an ``EnvironmentAttribute`` named ``p_*``.
# The parser never produces such a callee from template text, so only
# Lanner's parser can build them; PebbleCodeGenerator compiles them.


def _p(name: str, *args: nodes.Expr | Any, lineno: int) -> nodes.Call:
    values = [a if isinstance(a, nodes.Node) else nodes.Const(a, lineno=lineno) for a in args]
    callee = nodes.EnvironmentAttribute(name, lineno=lineno)
    return nodes.Call(callee, values, [], None, None, lineno=lineno)


def _truth(node: nodes.Expr, lineno: int, negate: bool = False) -> nodes.Call:
    return _p("p_not" if negate else "p_truth", node, lineno=lineno)


# --- parser ----------------------------------------------------------------

_BINARY = {"contains": "p_contains", "isIn": "p_is_in", "notIn": "p_not_in"}


class PebbleParser(Parser):
    """Jinja2's parser, taught Pebble's grammar (see the module docstring)."""

    def parse_statement(self) -> nodes.Node | list[nodes.Node]:
        token = self.stream.current
        if token.type == "name" and token.value in _REFUSED_TAGS:
            raise SandboxError(f"The tag '{token.value}' is not allowed", task_id=None)
        return super().parse_statement()

    def parse_if(self) -> nodes.If:
        # As Jinja's, but `elseif` (Pebble) is accepted beside `elif`.
        node = result = nodes.If(lineno=self.stream.expect("name:if").lineno)
        ends = ("name:elif", "name:elseif", "name:else", "name:endif")
        while True:
            node.test = _truth(self.parse_tuple(with_condexpr=False), node.lineno)
            node.body = self.parse_statements(ends)
            node.elif_ = []
            node.else_ = []
            token = next(self.stream)
            if token.test_any("name:elif", "name:elseif"):
                node = nodes.If(lineno=self.stream.current.lineno)
                result.elif_.append(node)
                continue
            if token.test("name:else"):
                result.else_ = self.parse_statements(("name:endif",), drop_needle=True)
            break
        return result

    def parse_for(self) -> nodes.For:
        node = super().parse_for()
        if node.recursive:
            raise SandboxError("Recursive loops are not supported")
        pairs = isinstance(node.target, nodes.Tuple) and len(node.target.items) == 2
        node.iter = _p("p_iter", node.iter, pairs, lineno=node.lineno)
        if isinstance(node.test, nodes.Expr):
            node.test = _truth(node.test, node.lineno)
        return node

    def parse_condexpr(self) -> nodes.Expr:
        node = super().parse_condexpr()
        if isinstance(node, nodes.CondExpr):
            node.test = _truth(node.test, node.lineno)
        return node

    def parse_or(self) -> nodes.Expr:
        lineno = self.stream.current.lineno
        left = self.parse_and()
        while self.stream.skip_if("name:or"):
            left = _p("p_or", left, self.parse_and(), lineno=lineno)
        if self.stream.skip_if("question"):
            # Pebble's ternary: lowest precedence, right-associative.
            yes = self.parse_expression()
            self.stream.expect("colon")
            no = self.parse_expression()
            return _p("p_ternary", _truth(left, lineno), yes, no, lineno=lineno)
        return left

    def parse_and(self) -> nodes.Expr:
        lineno = self.stream.current.lineno
        left = self.parse_not()
        while self.stream.skip_if("name:and"):
            left = _p("p_and", left, self.parse_not(), lineno=lineno)
        return left

    def parse_not(self) -> nodes.Expr:
        if self.stream.current.test("name:not"):
            lineno = next(self.stream).lineno
            return _truth(self.parse_not(), lineno, negate=True)
        return self.parse_is()

    def parse_is(self) -> nodes.Expr:
        """Pebble's precedence-20 operators: ``is``, ``contains``, ``isIn``."""
        node = self.parse_compare()
        while True:
            token = self.stream.current
            lineno = token.lineno
            if token.test("name:is"):
                node = self._test(self.parse_test(node))
            elif token.test_any("name:contains", "name:isIn", "name:notIn"):
                next(self.stream)
                node = _p(_BINARY[token.value], node, self.parse_compare(), lineno=lineno)
            else:
                return node

    @staticmethod
    def _test(node: nodes.Expr) -> nodes.Expr:
        negate = isinstance(node, nodes.Not)
        test = node.node if isinstance(node, nodes.Not) else node
        if isinstance(test, nodes.Test) and test.name == "defined":
            return _p("p_undefined" if negate else "p_defined", test.node, lineno=test.lineno)
        return node

    def parse_compare(self) -> nodes.Expr:
        # Comparisons fold to the left (Pebble has no chained comparisons).
        lineno = self.stream.current.lineno
        expr = self.parse_range()
        while True:
            token = self.stream.current
            if token.type in ("eq", "ne", "lt", "lteq", "gt", "gteq"):
                op = token.type
                next(self.stream)
            elif token.test("name:equals"):
                op = "eq"
                next(self.stream)
            elif token.test("name:in"):
                op = "in"
                next(self.stream)
            elif token.test("name:not") and self.stream.look().test("name:in"):
                op = "notin"
                self.stream.skip(2)
            else:
                return expr
            expr = _p("p_compare", op, expr, self.parse_range(), lineno=lineno)

    def parse_range(self) -> nodes.Expr:
        lineno = self.stream.current.lineno
        node = self.parse_math1()
        if self.stream.skip_if("range"):
            return _p("p_range", node, self.parse_math1(), lineno=lineno)
        return node

    def parse_concat(self) -> nodes.Expr:
        lineno = self.stream.current.lineno
        items = [self.parse_math2()]
        while self.stream.skip_if("tilde"):
            items.append(self.parse_math2())
        return items[0] if len(items) == 1 else _p("p_concat", *items, lineno=lineno)

    def parse_unary(self, with_filter: bool = True) -> nodes.Expr:
        # `??`/`???` bind tighter than filters (Kestra's precedence 120 vs
        # Pebble's 100 for `|`): `a ?? 'b' | upper` is `(a ?? 'b') | upper`.
        # A filter's right side is only its invocation, so a coalescing operator
        # after it applies to the filtered value: `a | first ?? b` is
        # `(a | first) ?? b`, as in Pebble's precedence climbing.
        lineno = self.stream.current.lineno
        node = super().parse_unary(with_filter=False)
        while True:
            while self.stream.current.type in ("nullcoalesce", "undefcoalesce"):
                null_too = next(self.stream).type == "nullcoalesce"
                right = super().parse_unary(with_filter=False)
                node = _p("p_coalesce", node, right, null_too, lineno=lineno)
            if not with_filter:
                return node
            node = self.parse_filter_expr(node)
            if self.stream.current.type not in ("nullcoalesce", "undefcoalesce"):
                return node

    def parse_filter_expr(self, node: nodes.Expr) -> nodes.Expr:
        # As Jinja's minus `is`, which parse_is handles at Pebble's precedence.
        while True:
            token_type = self.stream.current.type
            if token_type == "pipe":
                node = self.parse_filter(node)  # type: ignore[assignment]
                if isinstance(node, nodes.Filter) and node.name == "default" and node.node:
                    fallback = node.args[0] if node.args else nodes.Const(None)
                    node = _p("p_default", node.node, fallback, lineno=node.lineno)
            elif token_type == "lparen":
                node = self.parse_call(node)
            else:
                return node

    def parse_primary(self, with_namespace: bool = False) -> nodes.Expr:
        token = self.stream.current
        if token.type == "name":
            if token.value == "null":
                next(self.stream)
                return nodes.Const(None, lineno=token.lineno)
            if token.value.startswith("_") or token.value in _REFUSED_NAMES:
                raise SandboxError(f"The name '{token.value}' is not allowed")
        return super().parse_primary(with_namespace=with_namespace)


# --- code generation ---------------------------------------------------------


class PebbleCodeGenerator(CodeGenerator):
    """Compiles Lanner's ``p_*`` calls to direct calls into ``lanner.expr.pebble``.

    Its functions are reached through ``environment`` (a module
    global of every compiled template), without the sandbox's call check.
    Operands that may be undefined or must not be evaluated are passed as
    lambdas, so those functions can catch the strict-undefined error.
    """

    _LAZY = frozenset({"p_defined", "p_undefined", "p_default"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._callees: set[int] = set()
        self._guarded: frozenset[str] | None = None

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # Names whose value may be a function, a macro or Jinja's loop object.
        macros = {macro.name for macro in node.find_all(nodes.Macro)}
        self._guarded = frozenset({*self.environment.globals, *macros, "loop", "caller"})
        super().visit_Template(node, frame)

    def visit_Name(self, node: nodes.Name, frame: Frame) -> None:
        guarded = self._guarded or ()
        if node.ctx == "load" and node.name in guarded and id(node) not in self._callees:
            self.write("environment.p_name(")
            super().visit_Name(node, frame)
            self.write(f", {node.name!r})")
        else:
            super().visit_Name(node, frame)

    def _built(self, visit: Any, node: nodes.Expr, frame: Frame) -> None:
        self.write("environment.p_built(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._built(super().visit_List, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._built(super().visit_Dict, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx == "store":
            super().visit_Tuple(node, frame)
        else:
            self._built(super().visit_Tuple, node, frame)

    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        # Jinja writes a slice inline; through the sandbox's getitem, a slice of
        # a secret stays a secret (lanner.expr.taint).
        if not isinstance(node.arg, nodes.Slice):
            super().visit_Getitem(node, frame)
            return
        self.write("environment.getitem(")
        self.visit(node.node, frame)
        self.write(", slice(")
        for i, part in enumerate((node.arg.start, node.arg.stop, node.arg.step)):
            self.write(", " if i else "")
            if part is None:
                self.write("None")
            else:
                self.visit(part, frame)
        self.write("))")

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        callee = node.node
        if not (isinstance(callee, nodes.EnvironmentAttribute) and callee.name.startswith("p_")):
            self._callees.add(id(callee))  # a function called is not read as a value
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        name, args = callee.name, node.args
        if name == "p_ternary":
            self._parts(frame, "(", args[1], " if ", args[0], " else ", args[2], ")")
        elif name in ("p_and", "p_or"):
            op = name[2:]
            self._parts(frame, "(environment.p_logic(", args[0], f", {op!r}) {op} ")
            self._parts(frame, "environment.p_logic(", args[1], f", {op!r}))")
        elif name == "p_concat":
            self.write("environment.p_concat((")
            for arg in args:
                self._parts(frame, arg, ", ")
            self.write("))")
        elif name == "p_coalesce":
            self._parts(frame, "environment.p_coalesce(lambda: ", args[0], ", lambda: ")
            self._parts(frame, args[1], ", ", args[2], ")")
        elif name in self._LAZY:
            self._parts(frame, f"environment.{name}(lambda: ", args[0])
            for arg in args[1:]:
                self._parts(frame, ", ", arg)
            self.write(")")
        else:
            self.write(f"environment.{name}(")
            for i, arg in enumerate(args):
                self._parts(frame, ", " if i else "", arg)
            self.write(")")

    def _parts(self, frame: Frame, *parts: nodes.Expr | str) -> None:
        for part in parts:
            if isinstance(part, str):
                self.write(part)
            else:
                self.visit(part, frame)
