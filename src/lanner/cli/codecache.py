"""Code that Python compiles from source text as classes are defined, kept beside
Lanner's bytecode from one `lanner run` to the next.

Two kinds of class definition compile source text at run time, every time:
`@dataclass` writes each class's `__init__`, `__repr__`, `__eq__`, `__hash__`
(and, frozen, `__setattr__` and `__delattr__`) as text and compiles it with
`exec`; and a string annotation that typing resolves (a TypedDict's field,
pydantic's fields under `from __future__ import annotations`) is compiled by
`typing.ForwardRef`. A cold one-task `lanner run` defines about 140
dataclasses (Lanner's, pydantic's, annotated_types') and resolves about 860
such annotations (most of them pydantic_core's schema TypedDicts): compiling
them was about a fifth of its CPU (docs/performance.md). A text compiles to
the same code each time, so that code can be kept as Python keeps a
module's: `install` hands dataclasses an `exec`, and typing a `compile`, that
look the text up among the code objects saved by earlier runs and compile
what is missing exactly as the builtins would; `save` writes what was missing.

The file follows the rules of bytecode: in Lanner's `__pycache__` (or under
`sys.pycache_prefix`), named with the interpreter's cache tag, read only under
the same magic number and optimisation level, never written when
`sys.dont_write_bytecode` is set (PYTHONDONTWRITEBYTECODE, `python -B`),
replaced atomically, ignored when unreadable. Its key is the whole source
text: a changed dataclass misses and is compiled, never gets another's code.

Regular expressions are a third kind: the modules a cold run imports compile
about seventy at import time (PyYAML's reader alone spends about 7 ms on one
character class it never uses under the C loader), about 8 % of the run. `re`
keeps compiled patterns per process only; `install` hands `re` a compiler that
keeps a pattern's program (the list of codes `_sre.compile` takes) in the same
file, for patterns compiled while a module is being imported: the patterns of
code, never of a flow's data (an expression's, which a secret may feed). A
program is saved only after the pattern it builds compared equal to the one
`re`'s own compiler built, and is keyed by `_sre`'s magic number as well.
"""

# No `from __future__ import annotations` here: `compile` inherits the future
# features of the module that calls it, and dataclasses and typing have none.
import contextlib
import dataclasses
import importlib.util
import marshal
import os
import re
import sys
import typing
from collections.abc import Mapping
from types import CodeType
from typing import Any

import lanner

# Entries kept at most: past this, a save keeps only what its process used
# (the texts of edited or removed classes would otherwise pile up).
MAX_ENTRIES = 8000

_Key = tuple[str, str]  # (mode, source): ("exec", a dataclass method), ("eval", an annotation)

# What `re` compiles a pattern with on a miss of its own cache (3.11+: re._compiler).
_RE_COMPILER: Any = getattr(re, "_compiler", None)
_COMPILE_REGEX: Any = getattr(_RE_COMPILER, "compile", None)
_sre: Any = getattr(_RE_COMPILER, "_sre", None)
# The key's mode names the format of the programs (`_sre`'s magic number).
_REGEX_MODE = f"re{getattr(_sre, 'MAGIC', '')}"
_IMPORTING = "<frozen importlib._bootstrap"


def cache_path() -> str | None:
    """The cache file of this interpreter, beside Lanner's bytecode; None when Python
    keeps no bytecode (no cache tag)."""
    if not lanner.__file__:
        return None
    try:
        package_pyc = importlib.util.cache_from_source(lanner.__file__)
    except NotImplementedError:
        return None
    name = f"classcode.{sys.implementation.cache_tag}.marshal"
    return os.path.join(os.path.dirname(package_pyc), name)


def _header() -> tuple[bytes, int]:
    return importlib.util.MAGIC_NUMBER, sys.flags.optimize


class CodeCache:
    """Code objects of the source texts given to `exec` and `compile`, by text."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._known: dict[_Key, bytes] = self._read(path) if path else {}
        self._used: set[_Key] = set()
        self._new: dict[_Key, bytes] = {}

    @staticmethod
    def _read(path: str) -> dict[_Key, bytes]:
        try:
            with open(path, "rb") as f:
                header, entries = marshal.load(f)
        except (OSError, EOFError, ValueError, TypeError):
            return {}  # none yet, or unreadable: compile as if there were none
        if header != _header() or not isinstance(entries, dict):
            return {}
        return entries

    def code(self, mode: str, source: str) -> CodeType:
        """What `compile(source, "<string>", mode)` gives in a module without
        `__future__` imports."""
        key = (mode, source)
        blob = self._known.get(key)
        if blob is not None:
            try:
                code = marshal.loads(blob)
            except (EOFError, ValueError, TypeError):
                code = None
            if isinstance(code, CodeType):
                self._used.add(key)
                return code
        code = compile(source, "<string>", mode, dont_inherit=True)
        self._new[key] = marshal.dumps(code)
        return code

    def exec(
        self,
        source: Any,
        globals: dict[str, Any] | None = None,
        locals: Mapping[str, object] | None = None,
        /,
    ) -> None:
        """`exec` as dataclasses calls it: a source text's code comes from the cache."""
        if type(source) is str:
            source = self.code("exec", source)
        exec(source, globals, locals)

    def compile(
        self,
        source: Any,
        filename: str,
        mode: str,
        flags: int = 0,
        dont_inherit: bool = False,
        optimize: int = -1,
    ) -> Any:
        """`compile` as typing calls it (`compile(text, "<string>", "eval")`): the
        code comes from the cache; any other call goes to the builtin unchanged."""
        if type(source) is str and filename == "<string>" and (flags, optimize) == (0, -1):
            return self.code(mode, source)
        return compile(source, filename, mode, flags, dont_inherit, optimize)

    def regex(self, pattern: Any, flags: int = 0) -> Any:
        """`re._compiler.compile` as `re` calls it: a pattern compiled as a module is
        imported comes from the cache; any other goes to the compiler unchanged."""
        if type(pattern) is not str or flags & re.DEBUG or _sre is None:
            return _COMPILE_REGEX(pattern, flags)
        key = (_REGEX_MODE, f"{flags}:{pattern}")
        blob = self._known.get(key)
        if blob is not None:
            try:
                compiled = _sre.compile(pattern, *marshal.loads(blob))
            except Exception:  # an unreadable entry: compiled again below
                compiled = None
            if compiled is not None:
                self._used.add(key)
                return compiled
        compiled = _COMPILE_REGEX(pattern, flags)
        if _importing():
            program = _program(pattern, flags)
            with contextlib.suppress(Exception):  # a compiler this code does not know
                if program is not None and _sre.compile(pattern, *program) == compiled:
                    self._new[key] = marshal.dumps(program)
        return compiled

    @property
    def pending(self) -> bool:
        """Whether `save` has something to write."""
        return bool(self._new) and self.path is not None and not sys.dont_write_bytecode

    def save(self) -> None:
        """Write the cache with what this process compiled; nothing when it compiled
        nothing, when bytecode is not to be written, or when the file cannot be."""
        if not self.pending or self.path is None:
            return
        entries = {**self._known, **self._new}
        if len(entries) > MAX_ENTRIES:
            entries = {key: entries[key] for key in self._used} | self._new
        data = marshal.dumps((_header(), entries))
        temporary = f"{self.path}.{os.getpid()}"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(temporary, "wb") as f:
                f.write(data)
            os.replace(temporary, self.path)
        except OSError:  # a read-only install: the next process compiles as this one did
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            return
        self._known, self._new = entries, {}


def _importing() -> bool:
    """Whether the calling thread is importing a module (its code is on the stack)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith(_IMPORTING):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _program(pattern: str, flags: int) -> tuple[Any, ...] | None:
    """What re's compiler passes `_sre.compile` after the pattern: its flags, codes,
    group count and group names; None when this Python's compiler differs."""
    try:
        parsed = re._parser.parse(pattern, flags)  # type: ignore[attr-defined]
        codes = _RE_COMPILER._code(parsed, flags)
        state = parsed.state
        names: list[str | None] = [None] * state.groups
        for name, index in state.groupdict.items():
            names[index] = name
        # Plain ints: the compiler's opcodes are int subclasses, which marshal refuses.
        program = [int(code) for code in codes]
        return (int(flags | state.flags), program, state.groups - 1, state.groupdict, tuple(names))
    except Exception:
        return None


def install(cache: CodeCache | None = None) -> CodeCache:
    """Give dataclasses the cache's `exec`, typing its `compile` and `re` its pattern
    compiler, for every class defined and pattern compiled from now on in this
    process; the cache, to `save` before it leaves."""
    cache = cache or CodeCache(cache_path())
    # Both modules look these names up in their globals first, then in builtins.
    vars(dataclasses)["exec"] = cache.exec
    vars(typing)["compile"] = cache.compile
    if _COMPILE_REGEX is not None:
        _RE_COMPILER.compile = cache.regex  # re._compile looks it up at each miss
    return cache


def uninstall() -> None:
    """Give dataclasses, typing and `re` their own back."""
    vars(dataclasses).pop("exec", None)
    vars(typing).pop("compile", None)
    if _COMPILE_REGEX is not None:
        _RE_COMPILER.compile = _COMPILE_REGEX
