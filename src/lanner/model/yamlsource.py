"""YAML text to plain data, remembering where every value came from.

Kestra parses flows strictly: a duplicated key in one mapping is an error.
PyYAML silently keeps the last one, so we compose the node graph ourselves
(with the C loader when available) and build the data while recording the
line and column of every mapping key and sequence item, keyed by its path.
Timestamps are kept as strings: a flow property typed as a string must not
turn into a ``datetime`` because it looks like one.

Loading is bounded (docs/limits.md): the event stream is scanned first, and
a text nested too deep or holding too many values (aliases counted as the
value they repeat) is rejected before any node is built. A file may hold
several documents separated by `---`; :func:`split_documents` cuts it into
them, each parsed with its own line offset so that every position is a line
of the file.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml

from lanner.errors import Problem
from lanner.model.limits import MAX_NESTING, MAX_YAML_NODES

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

Path = tuple[str | int, ...]

_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_SCALARS = {
    "tag:yaml.org,2002:null": _CONSTRUCTOR.construct_yaml_null,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
}


@dataclass
class SourceMap:
    """Line and column (1-based) of each path in a YAML document."""

    file: str | None = None
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path) -> tuple[int | None, int | None]:
        """The position of `path`, or of its nearest ancestor that has one."""
        p = tuple(path)
        while True:
            pos = self.positions.get(p)
            if pos is not None:
                return pos
            if not p:
                return None, None
            p = p[:-1]


class YamlError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.render() for p in problems))


def format_path(path: Path) -> str:
    """`('tasks', 2, 'retry', 'maxAttempts')` -> `tasks[2].retry.maxAttempts`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = str(part)
    return out


def load_yaml(text: str, file: str | None = None) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data and its source map.

    Raises YamlError listing syntax errors, breached limits and duplicated keys.
    """
    data, smap, problems = load_yaml_collecting(text, file)
    if problems:
        raise YamlError([p for _, p in problems])
    return data, smap


def load_yaml_collecting(
    text: str, file: str | None = None, *, line_offset: int = 0
) -> tuple[Any, SourceMap, list[tuple[Path, Problem]]]:
    """Like :func:`load_yaml`, but structural problems (duplicated keys, merge keys,
    complex keys) are returned with their path instead of raised, so that the rest
    of the document can still be checked; the first of duplicated keys is kept.
    `line_offset` is added to every line (a document that starts further down a file).

    Raises YamlError for syntax errors and breached limits only (there is no
    document to check then).
    """
    check_bounds(text, file, line_offset=line_offset)
    smap = SourceMap(file=file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise YamlError([syntax_problem(exc, file, line_offset, text)]) from None
    finally:
        loader.dispose()
    if node is None:
        return None, smap, []
    problems: list[tuple[Path, Problem]] = []
    builder = _Builder(smap, problems, loader, line_offset)
    smap.positions[()] = builder.position(node)
    data = builder.build(node, ())
    return data, smap, problems


def check_bounds(
    text: str,
    file: str | None = None,
    *,
    line_offset: int = 0,
    max_nodes: int = MAX_YAML_NODES,
    max_depth: int = MAX_NESTING,
) -> None:
    """Reject a YAML text that would expand beyond the limits, before building anything.

    Walks the parser's events once, in constant memory: each value counts one,
    an alias counts the size of the value it names, and the depth of an alias
    is the depth of that value. Raises YamlError at the value where a limit is
    crossed (or at a syntax error).
    """
    loader = _Loader(text)
    anchors: dict[str, tuple[int, int]] = {}  # name -> (values, height)
    # Open collections: [values so far, height so far, anchor].
    stack: list[list[Any]] = []
    total = 0
    try:
        while True:
            event = loader.get_event()  # type: ignore[no-untyped-call]
            if event is None:
                break
            size = height = 0
            if isinstance(event, yaml.AliasEvent):
                if any(frame[2] == event.anchor for frame in stack):
                    # `&a [*a]`: a value that holds itself would never end.
                    _refuse(
                        f"alias *{event.anchor} refers to a value that holds it",
                        event,
                        file,
                        line_offset,
                    )
                size, height = anchors.get(event.anchor or "", (1, 0))
            elif isinstance(event, yaml.ScalarEvent):
                size, height = 1, 0
                if event.anchor:
                    anchors[event.anchor] = (1, 0)
            elif isinstance(event, yaml.CollectionStartEvent):
                stack.append([1, 1, event.anchor])
                total += 1
                _over_limits(total, len(stack), max_nodes, max_depth, event, file, line_offset)
                continue
            elif isinstance(event, yaml.CollectionEndEvent):
                size, height, anchor = stack.pop()
                if anchor:
                    anchors[anchor] = (size, height)
                if stack:
                    stack[-1][0] += size
                    stack[-1][1] = max(stack[-1][1], height + 1)
                continue
            else:
                continue
            total += size
            _over_limits(total, len(stack) + height, max_nodes, max_depth, event, file, line_offset)
            if stack:
                stack[-1][0] += size
                stack[-1][1] = max(stack[-1][1], height + 1)
    except yaml.YAMLError as exc:
        raise YamlError([syntax_problem(exc, file, line_offset, text)]) from None
    finally:
        loader.dispose()


def _over_limits(
    total: int,
    depth: int,
    max_nodes: int,
    max_depth: int,
    event: yaml.Event,
    file: str | None,
    line_offset: int,
) -> None:
    if depth > max_depth:
        message = f"nested more than {max_depth} levels deep (limit, see docs/limits.md)"
    elif total > max_nodes:
        message = (
            f"holds more than {max_nodes} values once its aliases are expanded "
            "(limit, see docs/limits.md)"
        )
    else:
        return
    _refuse(f"YAML {message}", event, file, line_offset)


def _refuse(message: str, event: yaml.Event, file: str | None, line_offset: int) -> NoReturn:
    mark = event.start_mark
    line = mark.line + 1 + line_offset if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    raise YamlError([Problem(message, file=file, line=line, column=column)])


# A problem found at the end of a construct that never closed (a quote, a
# bracket) is reported where the construct opened; the YAML parser's context
# mark holds that place. A block mapping or sequence is the exception: its
# start may be far above the line that broke it.
_BLOCK_CONTEXTS = ("while parsing a block",)


def syntax_problem(
    exc: yaml.YAMLError, file: str | None, line_offset: int = 0, text: str | None = None
) -> Problem:
    """A YAML syntax error as a Problem, at the line where the broken construct starts."""
    if isinstance(exc, yaml.reader.ReaderError):
        # A character YAML does not allow (a NUL, a control character): the
        # reader knows its position in the text only.
        line = None
        if text is not None and 0 <= exc.position <= len(text):
            line = text.count("\n", 0, exc.position) + 1 + line_offset
        message = f"invalid YAML: unacceptable character #x{exc.character:04x}: {exc.reason}"
        return Problem(message, file=file, line=line)
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Problem(f"invalid YAML: {exc}", file=file)
    problem, context = exc.problem_mark, exc.context_mark
    at_end = "end of stream" in (exc.problem or "")
    if text is not None and problem is not None and problem.index >= len(text.rstrip()):
        # The parser noticed at the end of the text: the construct that never
        # closed is the innermost open bracket, if any.
        opener = _unclosed_flow_collection(text)
        if opener is not None:
            context, at_end = opener, True
            exc = yaml.MarkedYAMLError(
                "while parsing a flow collection", context, exc.problem, problem
            )
    use_context = context is not None and (
        at_end or not (exc.context or "").startswith(_BLOCK_CONTEXTS)
    )
    mark = context if use_context else problem or context
    message = f"invalid YAML: {exc.problem or exc}"
    if exc.context:
        message += f" ({exc.context}"
        if use_context and problem is not None and context is not None:
            if problem.line != context.line:
                message += (
                    f" started here; the problem shows at line {problem.line + 1 + line_offset}"
                )
        elif context is not None and problem is not None and context.line != problem.line:
            message += f" started at line {context.line + 1 + line_offset}"
        message += ")"
    line = mark.line + 1 + line_offset if mark else None
    col = mark.column + 1 if mark else None
    return Problem(message, file=file, line=line, column=col)


def _unclosed_flow_collection(text: str) -> Any:
    """The mark of the innermost `[` or `{` still open where the scanner stops."""
    loader = _Loader(text)
    opened: list[Any] = []
    try:
        while True:
            token = loader.get_token()  # type: ignore[no-untyped-call]
            if token is None:
                break
            if isinstance(token, yaml.FlowSequenceStartToken | yaml.FlowMappingStartToken):
                opened.append(token.start_mark)
            elif opened and isinstance(token, yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken):
                opened.pop()
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return opened[-1] if opened else None


_DOCUMENT_MARKER = re.compile(r"^(---|\.\.\.)(?=\s|$)", re.M)


def split_documents(text: str) -> list[tuple[int, str]]:
    """The documents of a YAML stream as (index of first line, text), cut at `---`.

    A `---` or `...` at the start of a line always ends a document in YAML (it
    cannot be inside a scalar), so the cut agrees with the parser. Parts
    holding no value at all (comments, blank lines) are dropped.
    """
    starts = [0]
    for match in _DOCUMENT_MARKER.finditer(text):
        if match.group(1) == "---" and match.start() > 0:
            starts.append(match.start())
    out: list[tuple[int, str]] = []
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        part = text[begin:end]
        if _holds_a_value(part):
            out.append((text.count("\n", 0, begin), part))
    return out


def _holds_a_value(part: str) -> bool:
    for line in part.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            continue
        return True
    return False


class _Builder:
    """Plain data from a composed node graph, recording positions and problems."""

    def __init__(
        self,
        smap: SourceMap,
        problems: list[tuple[Path, Problem]],
        loader: Any,
        line_offset: int,
    ) -> None:
        self.smap = smap
        self.problems = problems
        self.loader = loader
        self.line_offset = line_offset

    def position(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1 + self.line_offset, node.start_mark.column + 1

    def problem(self, node: yaml.Node, path: Path, message: str) -> tuple[Path, Problem]:
        line, column = self.position(node)
        return path, Problem(
            message, path=format_path(path), file=self.smap.file, line=line, column=column
        )

    def build(self, node: yaml.Node, path: Path) -> Any:
        smap, problems = self.smap, self.problems
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    problems.append(
                        self.problem(key_node, path, "YAML merge keys (<<) are not supported")
                    )
                    continue
                key = self.scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
                if key is None and not isinstance(key_node, yaml.ScalarNode):
                    problems.append(
                        self.problem(key_node, path, "a mapping key must be a plain value")
                    )
                    continue
                key = "null" if key is None else str(key) if not isinstance(key, str) else key
                child = (*path, key)
                if key in out:
                    first = smap.positions.get(child)
                    where = f" (first defined at line {first[0]})" if first else ""
                    problems.append(self.problem(key_node, child, f"duplicated key '{key}'{where}"))
                    continue
                smap.positions[child] = self.position(key_node)
                out[key] = self.build(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                child = (*path, i)
                smap.positions[child] = self.position(item)
                items.append(self.build(item, child))
            return items
        return self.scalar(node, path)

    def scalar(self, node: yaml.Node, path: Path) -> Any:
        try:
            return _scalar(node, self.loader)
        except (ValueError, yaml.YAMLError):
            # An explicit tag the text does not fit (`!!int nope`), or an integer
            # too long for Python to convert: reported, kept as its text.
            kind = str(node.tag).rsplit(":", 1)[-1]
            text = str(node.value)
            shown = text if len(text) <= 40 else text[:40] + "..."
            message = f"'{shown}' is not a valid {kind}"
            if kind == "int" and len(text) > 4000:
                message += f" of at most {sys.get_int_max_str_digits()} digits"
            self.problems.append(self.problem(node, path, message))
            return node.value


def _scalar(node: yaml.Node, loader: Any) -> Any:
    # YAML 1.2 booleans: only true/false. `id: yes` or `on:` stay strings, as a
    # flow author means them (PyYAML's YAML 1.1 would turn them into booleans).
    if node.tag == "tag:yaml.org,2002:bool" and str(node.value).lower() not in ("true", "false"):
        return node.value
    construct = _SCALARS.get(node.tag)
    return construct(node) if construct is not None else node.value  # type: ignore[arg-type]
