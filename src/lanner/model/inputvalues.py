"""Input values (SPEC §1.3): parsing one value of a type, and all of an execution's.

Each converter takes a value and whether it came as text (CLI, HTML form)
or as a typed JSON value (API body), and returns what the execution stores:
JSON-compatible, in its JSON type (INT -> int, DATETIME -> an ISO-8601 UTC
string, ...), or raises ValueError saying what was expected. The input
models in :mod:`lanner.model.inputs` add their own checks (ranges, choices,
patterns) on top.

The flow-level rules (:func:`check_inputs`) and an execution's values
(:func:`parse_inputs`) are here too, written against the small
:class:`InputDecl` protocol; :mod:`lanner.model.inputs` re-exports them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, Self
from urllib.parse import urlsplit

import yaml

from lanner.errors import InputValueError, LannerError
from lanner.model import common, inputdeps
from lanner.model.limits import MAX_INPUT_CHARS, MAX_NESTING
from lanner.model.yamlsource import YamlError, check_bounds

try:
    _YamlLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _YamlLoader = yaml.SafeLoader

Path = tuple[str | int, ...]


def expected(what: str, value: Any) -> ValueError:
    return ValueError(f"expected {what}, got {value!r}")


def to_str(value: Any, text: bool) -> str:
    # Jackson coerces YAML/JSON scalars given to a string input (defaults: 100 -> "100").
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise expected("a string", value)


def to_int(value: Any, text: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    raise expected("an integer", value)


def to_float(value: Any, text: bool) -> float:
    result: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            result = None
    if result is None or not math.isfinite(result):
        raise expected("a number", value)
    return result


def to_bool(value: Any, text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise expected("true or false", value)


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and "T" in value.upper() and parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
    raise expected("an ISO-8601 date-time with a time zone, such as 2042-04-02T04:20:42Z", value)


def to_datetime(value: Any, text: bool) -> str:
    parsed = parse_datetime(value)
    # Java's Instant.toString(): no fraction when zero, else 3 or 6 digits.
    out = parsed.strftime("%Y-%m-%dT%H:%M:%S")
    if parsed.microsecond:
        frac = f"{parsed.microsecond:06d}"
        out += "." + (frac[:3] if frac.endswith("000") else frac)
    return out + "Z"


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$")


def parse_date(value: Any) -> date:
    # Python accepts more forms (20240412, 2024-W15) than Java's LocalDate.parse.
    if isinstance(value, str) and _DATE_RE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise expected("a date such as 2042-12-03", value)


def to_date(value: Any, text: bool) -> str:
    return parse_date(value).isoformat()


def parse_time(value: Any) -> time:
    if isinstance(value, str) and _TIME_RE.match(value.strip()):
        text_value = value.strip()
        if "." in text_value:  # Python takes at most 6 fraction digits
            head, frac = text_value.split(".")
            text_value = f"{head}.{frac[:6]:0<6}"
        try:
            return time.fromisoformat(text_value)
        except ValueError:
            pass
    raise expected("a time such as 10:15:30", value)


def to_time(value: Any, text: bool) -> str:
    parsed = parse_time(value)
    return parsed.isoformat(timespec="microseconds" if parsed.microsecond else "seconds")


def parse_iso_duration(value: Any) -> timedelta:
    if isinstance(value, str):
        try:
            return common.parse_duration(value)
        except ValueError:
            pass
    raise expected("an ISO-8601 duration such as PT5M6S", value)


def to_duration(value: Any, text: bool) -> str:
    return common.format_duration(parse_iso_duration(value))


_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


def to_uri(value: Any, text: bool) -> str:
    if isinstance(value, str) and value.strip() and not re.search(r"\s", value.strip()):
        try:
            parts = urlsplit(value.strip())
        except ValueError:
            parts = None
        if parts is not None and _SCHEME_RE.match(parts.scheme) and (parts.netloc or parts.path):
            return value.strip()
    raise expected("a URI with a scheme, such as https://example.com/data.csv", value)


_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)


def to_email(value: Any, text: bool) -> str:
    if isinstance(value, str) and _EMAIL_RE.match(value.strip()):
        return value.strip()
    raise expected("an email address", value)


def jsonable(value: Any) -> Any:
    """The value with JSON types only (YAML may produce dates and non-string keys)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no JSON form")
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    raise ValueError(f"{type(value).__name__} values have no JSON form")


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (JSON numbers are finite)")


def load_json(text: str) -> Any:
    """Strict JSON: no NaN or Infinity, nested at most MAX_NESTING deep (checked on
    the text before parsing, which would otherwise recurse that deep)."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group(0)
        if token in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise ValueError(
                    f"JSON nested more than {MAX_NESTING} levels deep (limit, see docs/limits.md)"
                )
        elif token in "]}":
            depth -= 1
    return json.loads(text, parse_constant=_no_constant)


def to_json(value: Any, text: bool) -> Any:
    if text and isinstance(value, str):
        try:
            return load_json(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"expected JSON text: {exc.msg} at line {exc.lineno}") from None
    return jsonable(value)


def to_yaml(value: Any, text: bool) -> Any:
    if text and isinstance(value, str):
        try:
            # Bounded first: anchors must not expand, nor nesting recurse, without limit.
            check_bounds(value)
            return jsonable(yaml.load(value, Loader=_YamlLoader))
        except YamlError as exc:
            problem = exc.problems[0]
            raise ValueError(
                f"expected YAML text: {problem.message} (line {problem.line})"
            ) from None
        except yaml.YAMLError as exc:
            raise ValueError(f"expected YAML text: {str(exc).splitlines()[0]}") from None
    return jsonable(value)


def to_list(value: Any, text: bool) -> list[Any]:
    # A string can never be a list, so it is parsed as JSON text in both modes.
    if isinstance(value, str):
        try:
            value = load_json(value)
        except json.JSONDecodeError:
            raise expected('a JSON array such as ["a", "b"]', value) from None
    if not isinstance(value, list):
        raise expected("a list", value)
    return value


CONVERTERS: dict[str, Callable[[Any, bool], Any]] = {
    "STRING": to_str,
    "SECRET": to_str,
    "SELECT": to_str,
    "ENUM": to_str,
    "INT": to_int,
    "FLOAT": to_float,
    "BOOL": to_bool,
    "BOOLEAN": to_bool,
    "DATETIME": to_datetime,
    "DATE": to_date,
    "TIME": to_time,
    "DURATION": to_duration,
    "URI": to_uri,
    "EMAIL": to_email,
    "JSON": to_json,
    "YAML": to_yaml,
}


def convert_items(values: list[Any], item_type: str) -> list[Any]:
    convert = CONVERTERS[item_type]
    out = []
    for i, item in enumerate(values):
        try:
            out.append(convert(item, False))
        except ValueError as exc:
            raise ValueError(f"item {i}: {exc}") from None
    return out


# ---- declarations, as the rules below see them ---------------------------------------

FILE_STORE_MISSING = (
    "FILE inputs are not supported here (only `lanner run` and `lanner executions start` take them)"
)

# Stores a FILE input's value (a local path, or a `kestra://` URI the execution may
# read) in internal storage: (input id, value) -> the `kestra://` URI that becomes the
# input's value. ValueError says what is wrong. lanner.storage.inputfiles makes one.
FileInputs = Callable[[str, str], str]


class DependsOnDecl(Protocol):
    @property
    def inputs(self) -> list[str]: ...
    @property
    def condition(self) -> str | None: ...


class InputDecl(Protocol):
    """What the rules need of an input declaration (the models in lanner.model.inputs)."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def required(self) -> bool: ...
    @property
    def defaults(self) -> Any: ...
    @property
    def dependsOn(self) -> DependsOnDecl | None: ...

    def convert(self, value: Any, text: bool) -> Any: ...
    def default_value(self) -> Any: ...
    def problems(self) -> list[tuple[str, str]]: ...
    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> Self: ...


# ---- flow-level rules and execution values -------------------------------------------


def leaves(declared: Sequence[InputDecl]) -> list[tuple[Path, InputDecl]]:
    """Every input with a value, FORMs expanded (ids become `form.child`), with its path."""
    out: list[tuple[Path, InputDecl]] = []
    for i, item in enumerate(declared):
        children = getattr(item, "inputs", None) if item.type == "FORM" else None
        if children is not None:
            for j, child in enumerate(children):
                copy = child.model_copy(update={"id": f"{item.id}.{child.id}"})
                out.append(((i, "inputs", j), copy))
        else:
            out.append(((i,), item))
    return out


def check_inputs(inputs: Sequence[InputDecl]) -> list[tuple[Path, str]]:
    """Flow-wide input rules (SPEC §1.4 rule 5), as (path in `inputs`, message).

    Each declaration's defaults, prefill and bounds parse and agree; ids unique (after FORM expansion) and not the prefix of another id
    (`a` and `a.b` would collide in `inputs.a`); `dependsOn` names declared
    inputs; `dependsOn` has no cycle.
    """
    problems: list[tuple[Path, str]] = []
    flat = leaves(inputs)
    paths: dict[str, Path] = {}
    for i, item in enumerate(inputs):
        problems.extend(((i, prop), message) for prop, message in item.problems())
    for path, item in flat:
        if len(path) > 1:  # FORM children: their own defaults and bounds
            problems.extend(((*path, prop), message) for prop, message in item.problems())
        if item.id in paths:
            problems.append(((*path, "id"), f"Duplicate input id '{item.id}'"))
        else:
            paths[item.id] = path
    for name in paths:
        for other in paths:
            if other.startswith(name + "."):
                problems.append(
                    ((*paths[other], "id"), f"input '{other}' conflicts with input '{name}'")
                )
    graph: dict[str, list[str]] = {}
    for path, item in flat:
        refs = item.dependsOn.inputs if item.dependsOn else []
        graph.setdefault(item.id, [])
        for k, ref in enumerate(refs):
            if ref in paths:
                graph[item.id].append(ref)
            else:
                import difflib  # only for a mistake's suggestion

                close = difflib.get_close_matches(ref, list(paths), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                problems.append(
                    ((*path, "dependsOn", "inputs", k), f"dependsOn: unknown input '{ref}'{hint}")
                )
    problems.extend(
        (paths[cycle[0]] + ("dependsOn",), _cycle_message(cycle)) for cycle in _cycles(graph)
    )
    return problems


def _cycle_message(cycle: list[str]) -> str:
    return "dependsOn cycle: " + " -> ".join([*cycle, cycle[0]])


def _cycles(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Each cycle once, found by depth-first search in declaration order."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found: list[list[str]] = []
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt) :])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)
    return found


def secret_input_ids(declared: Sequence[InputDecl]) -> set[str]:
    """Ids of the SECRET inputs, whose values must be masked wherever shown."""
    return {item.id for _, item in leaves(declared) if item.type == "SECRET"}


# Types for which an empty text is a value; for the others it means "no value".
_EMPTY_IS_A_VALUE = frozenset({"STRING", "SECRET"})


def parse_inputs(
    declared: Sequence[InputDecl],
    given: Mapping[str, Any],
    *,
    from_strings: bool = True,
    render: inputdeps.Render | None = None,
    files: FileInputs | None = None,
) -> dict[str, Any]:
    """The execution's input values, keyed by input id (FORM children by `form.child`).

    `given` holds text (`from_strings=True`: CLI, HTML form; ARRAY, MULTISELECT
    and JSON as JSON text, YAML as YAML text) or typed JSON values
    (`from_strings=False`: API body). Missing inputs get their defaults; a
    default that is a `{{ expression }}` is rendered with `render`, or returned
    unchanged without it. An optional input without value or default is absent. Every
    problem is collected; one InputValueError lists them all. `render` evaluates
    `dependsOn.condition`, SELECT `expression` (:mod:`lanner.model.inputdeps`)
    and expression defaults; without it they are left alone. FILE inputs go
    through `files` (into internal storage), once every other input is valid; without
    it a FILE input's value is refused.
    """
    flat = [item for _, item in leaves(declared)]
    known = {item.id for item in flat}
    problems: list[str] = []
    for name in given:
        if name not in known:
            problems.append(_unknown(name, [item.id for item in flat]))
    result: dict[str, Any] = {}
    disabled: set[str] = set()
    pending_files: list[tuple[str, str]] = []
    for item in inputdeps.dependencies_first(flat):
        try:
            if not inputdeps.enabled(item, result, disabled, render):
                disabled.add(item.id)
                continue
            item = inputdeps.rendered_choices(item, result, render)
        except ValueError as exc:
            disabled.add(item.id)
            problems.append(f"input '{item.id}': {exc}")
            continue
        value = given.get(item.id)
        if isinstance(value, str) and len(value) > MAX_INPUT_CHARS:
            problems.append(
                f"input '{item.id}': {len(value)} characters, more than the {MAX_INPUT_CHARS} "
                "an input value may have (limit, see docs/limits.md)"
            )
            continue
        if isinstance(value, str) and value == "" and item.type not in _EMPTY_IS_A_VALUE:
            value = None
        if item.type == "FILE":
            if value is None:
                value = item.defaults
            if value is None:
                if item.required:
                    problems.append(
                        f"input '{item.id}': missing (it is required and has no default)"
                    )
            elif files is None:
                problems.append(f"input '{item.id}': {FILE_STORE_MISSING}")
            else:
                try:
                    pending_files.append((item.id, item.convert(value, from_strings)))
                except ValueError as exc:
                    problems.append(f"input '{item.id}': {exc}")
            continue
        text = from_strings
        if value is None:
            value = item.default_value()
            text = isinstance(value, str)
            if value is None:
                if item.required:
                    problems.append(
                        f"input '{item.id}': missing (it is required and has no default)"
                    )
                continue
            if common.is_dynamic(value):
                if render is None:
                    result[item.id] = value
                    continue
                try:
                    value = render(value, inputdeps.dependency_values(item, result))
                except LannerError as exc:
                    problems.append(f"input '{item.id}': defaults: {exc.message}")
                    continue
                text = True
        try:
            result[item.id] = item.convert(value, text)
        except ValueError as exc:
            problems.append(f"input '{item.id}': {exc}")
    # Copied last: invalid inputs leave no file behind.
    for input_id, path in pending_files if not problems else ():
        assert files is not None  # pending only with a files callback
        try:
            result[input_id] = files(input_id, path)
        except ValueError as exc:
            problems.append(f"input '{input_id}': {exc}")
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise InputValueError(
            f"Invalid inputs ({count}):\n" + "\n".join(f"  {p}" for p in problems)
        )
    order = {item.id: i for i, item in enumerate(flat)}
    return dict(sorted(result.items(), key=lambda kv: order[kv[0]]))


def _unknown(name: str, declared: list[str]) -> str:
    if not declared:
        return f"input '{name}': unknown input (this flow declares no inputs)"
    import difflib  # only for a mistake's suggestion

    close = difflib.get_close_matches(name, declared, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"input '{name}': unknown input{hint} (declared inputs: {', '.join(declared)})"


def nest_inputs(values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted ids as nested maps (`{'a.b': 1}` -> `{'a': {'b': 1}}`), as `inputs.*` shows them."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        node = out
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out
