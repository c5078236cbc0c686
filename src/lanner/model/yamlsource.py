"""YAML text to plain data, remembering where every value came from.

Kestra parses flows strictly: a duplicated key in one mapping is an error.
PyYAML silently keeps the last one, so we compose the node graph ourselves
(with the C loader when available) and build the data while recording the
line and column of every mapping key and sequence item, keyed by its path.
Timestamps are kept as strings: a flow property typed as a string must not
turn into a ``datetime`` because it looks like one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from lanner.errors import Problem

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

    Raises YamlError listing syntax errors and duplicated keys.
    """
    data, smap, problems = load_yaml_collecting(text, file)
    if problems:
        raise YamlError([p for _, p in problems])
    return data, smap


def load_yaml_collecting(
    text: str, file: str | None = None
) -> tuple[Any, SourceMap, list[tuple[Path, Problem]]]:
    """Like :func:`load_yaml`, but structural problems (duplicated keys, merge keys,
    complex keys) are returned with their path instead of raised, so that the rest
    of the document can still be checked; the first of duplicated keys is kept.

    Raises YamlError for syntax errors only (there is no document to check then).
    """
    smap = SourceMap(file=file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        msg = f"invalid YAML: {exc.problem or exc}"
        if exc.context:
            msg += f" ({exc.context})"
        raise YamlError([Problem(msg, file=file, line=line, column=col)]) from None
    except yaml.YAMLError as exc:
        raise YamlError([Problem(f"invalid YAML: {exc}", file=file)]) from None
    finally:
        loader.dispose()
    if node is None:
        return None, smap, []
    problems: list[tuple[Path, Problem]] = []
    smap.positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
    data = _build(node, (), smap, problems, loader)
    return data, smap, problems


def _build(
    node: yaml.Node,
    path: Path,
    smap: SourceMap,
    problems: list[tuple[Path, Problem]],
    loader: Any,
) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(
                    (path, _problem(smap, key_node, path, "YAML merge keys (<<) are not supported"))
                )
                continue
            key = _scalar(key_node, loader) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None and not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    (path, _problem(smap, key_node, path, "a mapping key must be a plain value"))
                )
                continue
            key = "null" if key is None else str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in out:
                first = smap.positions.get(child)
                where = f" (first defined at line {first[0]})" if first else ""
                message = f"duplicated key '{key}'{where}"
                problems.append((child, _problem(smap, key_node, child, message)))
                continue
            smap.positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _build(value_node, child, smap, problems, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            child = (*path, i)
            smap.positions[child] = (item.start_mark.line + 1, item.start_mark.column + 1)
            items.append(_build(item, child, smap, problems, loader))
        return items
    return _scalar(node, loader)


def _scalar(node: yaml.Node, loader: Any) -> Any:
    # YAML 1.2 booleans: only true/false. `id: yes` or `on:` stay strings, as a
    # flow author means them (PyYAML's YAML 1.1 would turn them into booleans).
    if node.tag == "tag:yaml.org,2002:bool" and str(node.value).lower() not in ("true", "false"):
        return node.value
    construct = _SCALARS.get(node.tag)
    return construct(node) if construct is not None else node.value  # type: ignore[arg-type]


def _problem(smap: SourceMap, node: yaml.Node, path: Path, message: str) -> Problem:
    return Problem(
        message,
        path=format_path(path),
        file=smap.file,
        line=node.start_mark.line + 1,
        column=node.start_mark.column + 1,
    )
