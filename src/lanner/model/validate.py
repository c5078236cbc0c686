"""Load a flow: YAML text to a validated Flow, or every problem at once.

Tasks are validated one by one through the task registry (their `type`
picks the model), bottom-up, so that a flowable's children are already
Task objects when the flowable itself is checked. Each problem carries the
file, line, column, YAML path and task of where it was found. Then the
flow-wide rules of SPEC §1.4 run over the whole flow.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from lanner.errors import FlowValidationError, InputError, Problem
from lanner.model.behaviour import DagSpec
from lanner.model.flow import Flow, PluginDefault, complete_flow_model, validate_flow
from lanner.model.flowfile import read_flow_text, too_large
from lanner.model.inputvalues import check_inputs
from lanner.model.limits import MAX_FLOW_BYTES, MAX_TASKS
from lanner.model.task import InvalidTask, Task
from lanner.model.unsupported import UNSUPPORTED_TYPES
from lanner.model.yamlsource import (
    Path,
    SourceMap,
    YamlError,
    format_path,
    load_yaml_collecting,
    split_documents,
)
from lanner.plugin import TaskRegistry

_TASK_LISTS = ("tasks", "errors", "finally", "afterExecution")
_EXPR_RE = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.S)
_HYPHEN_DOT_RE = re.compile(r"\b(inputs|outputs)\.([A-Za-z0-9_]+-[A-Za-z0-9_-]*)")


@dataclasses.dataclass(frozen=True)
class LoadedFlow:
    """One flow of a file, with its own source text (its YAML document)."""

    flow: Flow
    source: str
    line: int
    """The line of the file where the flow's document starts (1-based)."""


def load_flow_file(
    path: str | FsPath,
    registry: TaskRegistry,
    defaults: Sequence[PluginDefault] = (),
    *,
    flow_id: str | None = None,
) -> tuple[Flow, str]:
    """Read and validate a flow file; returns the flow and its source text.

    A file holding several flows needs `flow_id` (an id or namespace.id) to pick one.
    """
    name = str(path)
    loaded = pick_flow(load_flow_files(path, registry, defaults), name, flow_id)
    return loaded.flow, loaded.source


def load_flow_files(
    path: str | FsPath, registry: TaskRegistry, defaults: Sequence[PluginDefault] = ()
) -> list[LoadedFlow]:
    """Read and validate every flow of a file (documents separated by `---`)."""
    name = str(path)
    return load_flows(read_flow_text(path), registry, file=name, defaults=defaults)


def pick_flow(flows: Sequence[LoadedFlow], file: str, flow_id: str | None) -> LoadedFlow:
    """The one flow of a file, or the one `flow_id` (id or namespace.id) names."""
    listed = ", ".join(f"{f.flow.namespace}.{f.flow.id} at line {f.line}" for f in flows)
    if flow_id is None:
        if len(flows) == 1:
            return flows[0]
        raise InputError(f"{file} holds {len(flows)} flows ({listed}); choose one with --flow ID")
    found = [f for f in flows if flow_id in (f.flow.id, f"{f.flow.namespace}.{f.flow.id}")]
    if len(found) == 1:
        return found[0]
    if not found:
        raise InputError(f"{file} holds no flow '{flow_id}' (it holds {listed})")
    raise InputError(
        f"{file} holds several flows with id '{flow_id}' ({listed}); give NAMESPACE.ID"
    )


def load_flows(
    text: str,
    registry: TaskRegistry,
    *,
    file: str | None = None,
    defaults: Sequence[PluginDefault] = (),
) -> list[LoadedFlow]:
    """Validate every flow of a YAML text (documents separated by `---`).

    Each document is validated on its own; the problems of all of them are
    raised at once, each at its line in the whole text.
    """
    if len(text) > MAX_FLOW_BYTES or len(text.encode("utf-8")) > MAX_FLOW_BYTES:
        size = len(text.encode("utf-8"))
        raise FlowValidationError([Problem(too_large("the flow source", size), file=file)], file)
    documents = split_documents(text)
    if len(documents) <= 1:
        # The whole text is the flow's source: an unchanged file is an unchanged flow.
        documents = [(0, text)]
    problems: list[Problem] = []
    out: list[LoadedFlow] = []
    seen: dict[tuple[str, str], int] = {}
    for offset, part in documents:
        try:
            flow = _load_document(part, registry, file, defaults, offset)
        except FlowValidationError as exc:
            problems.extend(exc.problems)
            continue
        key = (flow.namespace, flow.id)
        if key in seen:
            problems.append(
                Problem(
                    f"flow {flow.namespace}.{flow.id} is also defined at line {seen[key]}",
                    file=file,
                    line=offset + 1,
                )
            )
            continue
        seen[key] = offset + 1
        out.append(LoadedFlow(flow, part, offset + 1))
    if problems:
        raise FlowValidationError(problems, file)
    return out


def load_flow(
    text: str,
    registry: TaskRegistry,
    *,
    file: str | None = None,
    defaults: Sequence[PluginDefault] = (),
) -> Flow:
    """Validate a flow's YAML source. `defaults` are the instance-level plugin defaults."""
    return pick_flow(
        load_flows(text, registry, file=file, defaults=defaults), file or "<flow>", None
    ).flow


def _load_document(
    text: str,
    registry: TaskRegistry,
    file: str | None,
    defaults: Sequence[PluginDefault],
    line_offset: int,
) -> Flow:
    try:
        data, smap, yaml_problems = load_yaml_collecting(text, file, line_offset=line_offset)
    except YamlError as exc:
        raise FlowValidationError(exc.problems, file) from None
    if not isinstance(data, dict):
        line, col = smap.locate(())
        problem = Problem(
            "a flow must be a YAML mapping with id, namespace and tasks",
            file=file,
            line=line or line_offset + 1,
            column=col,
        )
        raise FlowValidationError([problem], file)
    checker = _FlowChecker(registry, smap, _flow_defaults(data), list(defaults))
    # Duplicated keys and the like do not stop the check: every problem is reported at once.
    for path, problem in yaml_problems:
        task_id, task_type = _task_at(data, path)
        checker.problems.append(dataclasses.replace(problem, task_id=task_id, task_type=task_type))
    flow = checker.check(data)
    if checker.problems or flow is None:
        problems = sorted(checker.problems, key=lambda p: (p.line or 0, p.column or 0))
        raise FlowValidationError(problems, file)
    return flow


def _flow_defaults(data: dict[str, Any]) -> list[PluginDefault]:
    raw = data.get("pluginDefaults", data.get("taskDefaults"))
    out = []
    for item in raw if isinstance(raw, list) else []:
        try:
            out.append(PluginDefault.model_validate(item))
        except ValidationError:
            continue  # reported when the flow itself is validated
    return out


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Maps merged recursively; `override` wins on conflicts."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def apply_plugin_defaults(
    raw: dict[str, Any],
    type_names: Sequence[str],
    model: type[BaseModel],
    defaults: Sequence[PluginDefault],
) -> dict[str, Any]:
    """Kestra's PluginDefaultService: non-forced defaults fill what the task did not set,
    forced ones overwrite it. Keys the task type does not know are ignored, since a
    default aimed at a type prefix covers types with different properties."""
    known = _property_names(model)
    result = raw
    for forced in (False, True):
        for d in defaults:
            if d.forced is forced and d.applies_to(*type_names):
                values = {k: v for k, v in d.values.items() if k in known}
                result = deep_merge(result, values) if forced else deep_merge(values, result)
    return result


def _property_names(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


class _FlowChecker:
    def __init__(
        self,
        registry: TaskRegistry,
        smap: SourceMap,
        flow_defaults: list[PluginDefault],
        instance_defaults: list[PluginDefault],
    ) -> None:
        self.registry = registry
        self.smap = smap
        self.defaults = [*flow_defaults, *instance_defaults]
        self.problems: list[Problem] = []
        self.task_ids: list[tuple[str, Path, str | None]] = []
        self.flow_key: tuple[str, str] | None = None  # (namespace, id), when both are strings

    def add(
        self, message: str, path: Path, task_id: str | None = None, task_type: str | None = None
    ) -> None:
        line, col = self.smap.locate(path)
        self.problems.append(
            Problem(message, format_path(path), self.smap.file, line, col, task_id, task_type)
        )

    def trigger_defaults(self, raw: Any) -> Any:
        """Plugin defaults apply to the polling triggers too (an S3 endpoint, a JDBC url,
        a broker's address), as Kestra applies them to triggers."""
        from lanner.model.brokers import BATCH_TRIGGERS
        from lanner.model.polltriggers import HTTP_TRIGGER_ALIASES, JDBC_TRIGGERS, S3_TRIGGER
        from lanner.model.triggers import TRIGGER_TYPES

        name = raw.get("type") if isinstance(raw, dict) else None
        if not isinstance(name, str):
            return raw
        canonical = HTTP_TRIGGER_ALIASES.get(name, BATCH_TRIGGERS.get(name, name))
        polling = {
            S3_TRIGGER,
            *JDBC_TRIGGERS,
            *HTTP_TRIGGER_ALIASES.values(),
            *BATCH_TRIGGERS.values(),
        }
        if canonical not in polling:
            return raw
        names = tuple(dict.fromkeys((name, canonical)))
        return apply_plugin_defaults(raw, names, TRIGGER_TYPES[name], self.defaults)

    def trigger(self, raw: Any, path: Path) -> Any:
        """A trigger with the plugin defaults it takes; a trigger of a plugin's type
        (`lanner.triggers`) validated here against its model, errors located, since the
        Flow model's trigger union knows the built-in types only."""
        from lanner.model.triggers import TRIGGER_NAMES

        name = raw.get("type") if isinstance(raw, dict) else None
        if not isinstance(name, str) or name in TRIGGER_NAMES:
            return self.trigger_defaults(raw) if self.defaults else raw
        # A name Lanner does not ship: the trigger plugins are loaded now, and only now.
        assert isinstance(raw, dict)
        plugin = self.registry.trigger(name)
        if plugin is None:
            names = {**self.registry.trigger_names(), **TRIGGER_NAMES}
            if len(names) == len(TRIGGER_NAMES):
                return raw  # no trigger plugin: the Flow model says what is wrong
            from lanner.model.conditions import unknown_type_message
            from lanner.model.triggers import plugin_trigger_placeholder

            self.add(unknown_type_message(name, names, "trigger"), (*path, "type"))
            return plugin_trigger_placeholder(raw)
        aliases = tuple(dict.fromkeys((name, plugin.name)))
        data = apply_plugin_defaults(raw, aliases, plugin.model, self.defaults)
        try:
            return plugin.model.model_validate(data)
        except ValidationError as exc:
            from lanner.model.triggers import plugin_trigger_placeholder

            # Located by their path (`triggers[0].x`), as a built-in trigger's problems are.
            self.pydantic_problems(exc, data, path, plugin.model)
            return plugin_trigger_placeholder(raw)

    # -- the flow ---------------------------------------------------------------
    def check(self, data: dict[str, Any]) -> Flow | None:
        namespace, flow_id = data.get("namespace"), data.get("id")
        if isinstance(namespace, str) and isinstance(flow_id, str):
            self.flow_key = (namespace, flow_id)
        walked = dict(data)
        # A Kestra blueprint's metadata (title, description, tags, ...): read, never run.
        if "extend" in walked and not isinstance(walked.pop("extend"), dict):
            self.add(
                "'extend' must be a mapping (a blueprint's title, description, tags, ...)",
                ("extend",),
            )
        flow_id = walked.get("id")
        if isinstance(flow_id, int) and not isinstance(flow_id, bool):
            walked["id"] = str(flow_id)  # as a task id: Kestra reads `id: 2024` as "2024"
        tasks = _count_tasks(data)
        if tasks > MAX_TASKS:
            # Counted on the plain data, before any task is validated.
            self.add(
                f"the flow has {tasks} tasks, more than the {MAX_TASKS} a flow may have "
                "(limit, see docs/limits.md)",
                ("tasks",),
            )
            return None
        for key in _TASK_LISTS:
            if key in walked:
                walked[key] = self.task_list(walked[key], (key,))
        if isinstance(walked.get("triggers"), list):
            walked["triggers"] = [
                self.trigger(t, ("triggers", i)) for i, t in enumerate(walked["triggers"])
            ]
        listeners = walked.get("listeners")
        if isinstance(listeners, list):
            walked["listeners"] = [
                {**item, "tasks": self.task_list(item["tasks"], ("listeners", i, "tasks"))}
                if isinstance(item, dict) and "tasks" in item
                else item
                for i, item in enumerate(listeners)
            ]
        self.duplicate_task_ids()
        self.hyphenated_references(data)
        self.template_syntax(data)
        try:
            flow = validate_flow(walked)
        except ValidationError as exc:
            self.pydantic_problems(exc, walked, (), Flow)
            # The flow-wide rules of the parts that are valid still apply.
            broken = {err["loc"][0] for err in exc.errors() if err["loc"]}
            parts = {
                name: _validate_part(name, walked) for name in _RULE_PARTS if name not in broken
            }
            self.flow_rules(parts.get("inputs"), parts.get("triggers"), data.get("outputs"))
            return None
        self.flow_rules(flow.inputs, flow.triggers, data.get("outputs"))
        return flow

    def flow_rules(self, inputs: Any, triggers: Any, raw_outputs: Any) -> None:
        """SPEC §1.4 rules on inputs, triggers and outputs (task ids are checked as they are walked)."""
        for rel, message in check_inputs(inputs or ()):
            self.add(message, ("inputs", *rel))
        if triggers:
            from lanner.model.triggers import check_triggers

            for rel, message in check_triggers(triggers):
                self.add(message, ("triggers", *rel))
        # On the raw data, so that a duplicate is reported even beside an invalid output.
        first: dict[str, int] = {}
        for i, output in enumerate(raw_outputs if isinstance(raw_outputs, list) else ()):
            output_id = output.get("id") if isinstance(output, dict) else None
            if not isinstance(output_id, str):
                continue
            if output_id in first:
                self.add(
                    f"duplicate output id '{output_id}' (also outputs[{first[output_id]}])",
                    ("outputs", i, "id"),
                )
            else:
                first[output_id] = i

    # -- tasks ------------------------------------------------------------------
    def task_list(self, raw: Any, path: Path) -> Any:
        if not isinstance(raw, list):
            return raw  # pydantic reports the wrong type with the right place
        return tuple(self.task(item, (*path, i)) for i, item in enumerate(raw))

    def task(self, raw: Any, path: Path) -> Task:
        if not isinstance(raw, dict):
            self.add("expected a task: a mapping with at least `id` and `type`", path)
            return _invalid(None, None)
        raw_id = raw.get("id")
        if isinstance(raw_id, int) and not isinstance(raw_id, bool):
            # Kestra (Jackson) reads `id: 1` as the string "1"; in place, so that
            # every later look at the raw data sees the string.
            raw["id"] = str(raw_id)
        task_id = raw.get("id") if isinstance(raw.get("id"), str) else None
        type_name = raw.get("type")
        if task_id:
            self.task_ids.append((task_id, path, type_name if isinstance(type_name, str) else None))
        if not isinstance(type_name, str) or not type_name:
            self.add(
                "missing required property 'type' (the task type, e.g. io.kestra.plugin.core.log.Log)",
                path,
                task_id,
            )
            return _invalid(task_id, None)
        task_type = self.registry.get(type_name)
        if task_type is None and type_name in UNSUPPORTED_TYPES:
            reason = UNSUPPORTED_TYPES[type_name]
            self.add(
                f"'{type_name}' is not supported here: {reason}",
                (*path, "type"),
                task_id,
                type_name,
            )
            return _invalid(task_id, type_name)
        if task_type is None:
            message = f"unknown task type '{type_name}'"
            suggestion = self.registry.suggest(type_name)
            if suggestion:
                message += f"; did you mean '{suggestion}'?"
            if self.registry.load_errors:
                broken = ", ".join(f"{k} ({v})" for k, v in self.registry.load_errors.items())
                message += f" (plugins that failed to load: {broken})"
            self.add(message, (*path, "type"), task_id, type_name)
            return _invalid(task_id, type_name)
        model = task_type.model
        # A copy: the raw data is read again afterwards (hyphenated references).
        data = dict(apply_plugin_defaults(raw, (type_name, task_type.name), model, self.defaults))
        dag = model.behaviour.dag
        for name in model.child_fields:
            key = model.model_fields[name].alias or name
            value = data.get(key)
            if dag is not None and name in model.behaviour.children:
                data[key] = self.dag_entries(value, (*path, key), dag, task_id, type_name)
            elif isinstance(value, dict):
                data[key] = {k: self.task_list(v, (*path, key, k)) for k, v in value.items()}
            elif value is not None:
                data[key] = self.task_list(value, (*path, key))
        try:
            task = model.model_validate(data)
        except ValidationError as exc:
            self.pydantic_problems(exc, data, path, model, task_id, type_name)
            return _invalid(task_id, type_name)
        if self.flow_key is not None:
            for prop, message in task.problems_in_flow(*self.flow_key):
                self.add(message, (*path, prop), task_id, type_name)
        return task

    def dag_entries(
        self, raw: Any, path: Path, dag: DagSpec, dag_id: str | None, dag_type: str
    ) -> Any:
        """A Dag's entries (`behaviour.dag`): each wrapped task validated as a task, then
        the edges checked: every `dependsOn` id names an entry of the list, and no cycle."""
        if not isinstance(raw, list):
            return raw  # pydantic reports the wrong type with the right place
        walked: list[Any] = []
        ids: dict[str, int] = {}
        for i, entry in enumerate(raw):
            if isinstance(entry, dict) and isinstance(entry.get(dag.task), dict):
                entry = {**entry, dag.task: self.task(entry[dag.task], (*path, i, dag.task))}
                task_id = entry[dag.task].id
                if task_id:
                    ids.setdefault(task_id, i)
            walked.append(entry)
        edges: dict[str, list[str]] = {}
        for i, entry in enumerate(walked):
            depends = entry.get(dag.depends_on) if isinstance(entry, dict) else None
            task = entry.get(dag.task) if isinstance(entry, dict) else None
            if not isinstance(depends, list) or not isinstance(task, Task):
                continue
            for j, other in enumerate(depends):
                if isinstance(other, str) and other not in ids:
                    self.add(
                        f"Not existing task id in dependency: '{other}' is no task of this Dag"
                        f" (its tasks: {', '.join(ids)})",
                        (*path, i, dag.depends_on, j),
                        dag_id,
                        dag_type,
                    )
            edges[task.id] = [d for d in depends if isinstance(d, str) and d in ids]
        cycle = _find_cycle(edges)
        if cycle:
            at = ids[cycle[0]]
            self.add(
                f"Cyclic dependency detected: {' -> '.join(cycle)}",
                (*path, at, dag.depends_on),
                dag_id,
                dag_type,
            )
        return walked

    # -- problems ---------------------------------------------------------------
    def pydantic_problems(
        self,
        exc: ValidationError,
        data: Any,
        base: Path,
        model: type[BaseModel],
        task_id: str | None = None,
        task_type: str | None = None,
    ) -> None:
        errors = [(_clean_loc(err["loc"], data), err) for err in exc.errors(include_url=False)]
        # A misspelt required property is one mistake: report the unknown name with its
        # suggestion, not also the missing property it was meant to be.
        missing = {loc for loc, err in errors if err["type"] == "missing"}
        suggested: set[Path] = set()
        for loc, err in errors:
            if err["type"] == "extra_forbidden" and loc:
                fields = _fields_at(model, loc[:-1])
                import difflib  # only for a mistake's suggestion

                close = difflib.get_close_matches(str(loc[-1]), sorted(fields), n=1, cutoff=0.6)
                if close and (*loc[:-1], close[0]) in missing:
                    suggested.add((*loc[:-1], close[0]))
        # A value that fits no member of a union gets one error per member, at one place.
        unions: dict[Path, list[str]] = {}
        order: list[Path] = []
        for loc, err in errors:
            kind = err["type"]
            name = str(loc[-1]) if loc else ""
            if kind == "missing" and loc in suggested:
                continue
            if kind == "extra_forbidden":
                message = f"unknown property '{name}'"
                fields = _fields_at(model, loc[:-1])
                import difflib  # only for a mistake's suggestion

                close = difflib.get_close_matches(name, sorted(fields), n=1, cutoff=0.6)
                if close:
                    message += f"; did you mean '{close[0]}'?"
                    if (*loc[:-1], close[0]) in suggested:
                        message += f" ('{close[0]}' is required)"
                if fields:
                    message += f" (expected one of: {', '.join(sorted(fields))})"
            elif kind == "missing":
                message = f"missing required property '{name}'"
            elif kind == "too_short" and isinstance(err.get("input"), list | tuple):
                least = (err.get("ctx") or {}).get("min_length", 1)
                message = f"'{name}' must not be empty (at least {least} item(s))"
            elif kind == "union_tag_invalid":
                ctx = err.get("ctx") or {}
                message = (
                    f"unknown {name or 'value'} type '{ctx.get('tag')}' "
                    f"(expected one of: {ctx.get('expected_tags')})"
                )
            else:
                message = str(err["msg"]).removeprefix("Value error, ")
                given = err.get("input")
                shown = repr(given)
                if (
                    isinstance(given, str | int | float | bool)
                    and len(shown) < 80
                    and shown not in message  # the message quotes it already
                ):
                    message += f" (got {shown})"
            if loc in unions:
                unions[loc].append(message)
                continue
            unions[loc] = [message]
            order.append(loc)
        for loc in order:
            self.add(_one_of(unions[loc]), (*base, *loc), task_id, task_type)

    def duplicate_task_ids(self) -> None:
        first: dict[str, Path] = {}
        for task_id, path, type_name in self.task_ids:
            if task_id in first:
                line, _ = self.smap.locate(first[task_id])
                self.add(
                    f"Duplicate task id with name [{task_id}] (first used at line {line}); "
                    "task ids must be unique in the whole flow",
                    (*path, "id"),
                    task_id,
                    type_name,
                )
            else:
                first[task_id] = path

    def hyphenated_references(self, data: dict[str, Any]) -> None:
        scopes = [*(k for k in (*_TASK_LISTS, "listeners", "outputs") if k in data)]
        for key in scopes:
            for path, text in _strings(data[key], (key,)):
                for match in _EXPR_RE.finditer(text):
                    body = match.group(1) or match.group(2) or ""
                    for ref in _HYPHEN_DOT_RE.finditer(body):
                        self.add(
                            f"'{ref.group(0)}' uses dot notation on an id with a hyphen; "
                            f"write {ref.group(1)}['{ref.group(2)}'] instead",
                            path,
                            *(_task_at(data, path) if key != "outputs" else (None, None)),
                        )

    def template_syntax(self, data: dict[str, Any]) -> None:
        """A `{{ ... }}` or `{% ... %}` that cannot be parsed, in any property that is
        rendered: found now rather than at run time. `variables` is not rendered
        (SPEC §1.1), nor is a `description`, so they are not checked."""
        from lanner.expr.check import syntax_error

        for key in _RENDERED_SCOPES:
            if key not in data:
                continue
            for path, text in _strings(data[key], (key,)):
                if path[-1] in _NOT_RENDERED or not ("{{" in text or "{%" in text):
                    continue
                if key == "inputs" and "defaults" not in path:
                    continue  # of an input, only the defaults are rendered
                error = syntax_error(text)
                if error is not None:
                    task = _task_at(data, path) if key in (*_TASK_LISTS, "listeners") else None
                    self.add(f"invalid expression: {error}", path, *(task or (None, None)))


_RENDERED_SCOPES = (
    "inputs",
    *_TASK_LISTS,
    "listeners",
    "outputs",
    "triggers",
    "pluginDefaults",
    "taskDefaults",
)
_NOT_RENDERED = frozenset({"description", "displayName"})


def _find_cycle(edges: dict[str, list[str]]) -> list[str]:
    """A cycle of the graph `node -> nodes it depends on`, as [a, b, ..., a]; [] for none.
    Iterative: a Dag may chain thousands of tasks."""
    done: set[str] = set()
    for root in edges:
        if root in done:
            continue
        path: list[str] = [root]
        on_path = {root}
        stack = [iter(edges.get(root, ()))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(edges.get(nxt, ())))
    return []


def _count_tasks(data: dict[str, Any]) -> int:
    """Mappings with an `id` and a `type` under the task lists: every task, flowables'
    children included (an upper bound when other typed mappings sit inside tasks)."""
    count = 0
    stack: list[Any] = [data.get(key) for key in (*_TASK_LISTS, "listeners")]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "id" in value and "type" in value:
                count += 1
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def _one_of(messages: list[str]) -> str:
    """`Input should be a valid list (got 3)` + `... a valid string (got 3)` as one message."""
    if len(messages) == 1:
        return messages[0]
    head = "Input should be "
    if all(m.startswith(head) for m in messages):
        got = ""
        parts = []
        for m in messages:
            body, sep, tail = m[len(head) :].partition(" (got ")
            parts.append(body)
            got = f" (got {tail}" if sep else got
        unique = list(dict.fromkeys(parts))
        return head + " or ".join(unique) + got
    return "; ".join(dict.fromkeys(messages))


_RULE_PARTS = ("inputs", "triggers")
_PART_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def _validate_part(name: str, data: dict[str, Any]) -> Any:
    """One top-level property of the flow on its own, or None when it is absent or invalid."""
    if name not in data:
        return None
    adapter = _PART_ADAPTERS.get(name)
    if adapter is None:
        complete_flow_model()
        Flow.model_rebuild()  # the fields' annotations, resolved (an invalid flow only)
        adapter = _PART_ADAPTERS[name] = TypeAdapter(
            Any if (t := Flow.model_fields[name].annotation) is None else t
        )
    try:
        return adapter.validate_python(data[name])
    except ValidationError:
        return None


def _task_at(data: Any, path: Path) -> tuple[str | None, str | None]:
    """The id and type of the innermost task (a mapping with `id` and `type` inside a
    task list) on `path` in the raw flow data."""
    found: tuple[str | None, str | None] = (None, None)
    if not path or path[0] not in (*_TASK_LISTS, "listeners"):
        return found
    cur = data
    for part in path:
        cur = _child(cur, part)
        if cur is _MISSING:
            break
        if (
            isinstance(cur, dict)
            and isinstance(cur.get("id"), str)
            and isinstance(cur.get("type"), str)
        ):
            found = (cur["id"], cur["type"])
    return found


_MISSING = object()


def _child(data: Any, part: str | int) -> Any:
    """`data[part]` in plain YAML data, or _MISSING."""
    if isinstance(data, dict):
        return data.get(part, _MISSING)
    if isinstance(data, list | tuple) and isinstance(part, int) and 0 <= part < len(data):
        return data[part]
    return _MISSING


def _invalid(task_id: str | None, type_name: str | None) -> Task:
    return InvalidTask.model_construct(id=task_id or "?", type=type_name or "?")


def _clean_loc(loc: Iterable[int | str], data: Any) -> Path:
    """Drop the union tags pydantic puts in error locations, keeping real YAML keys."""
    parts = list(loc)
    out: list[str | int] = []
    cur = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        child = _child(cur, part)
        if child is _MISSING and isinstance(cur, dict) and part in _OLD_NAMES:
            # Reported under the (old) name the flow used, e.g. retry.maxAttempt.
            part = _OLD_NAMES[part]
            child = _child(cur, part)
        if child is not _MISSING:
            out.append(part)
            cur = child
        elif isinstance(cur, BaseModel) and isinstance(part, str) and hasattr(cur, part):
            out.append(part)
            cur = getattr(cur, part)
        elif last and isinstance(part, str) and not _is_union_tag(part, cur):
            out.append(part)
    return tuple(out)


_OLD_NAMES = {"maxAttempts": "maxAttempt", "pluginDefaults": "taskDefaults"}
_UNION_MEMBERS = frozenset({"str", "int", "float", "bool", "none", "bytes", "list", "dict"})


def _is_union_tag(part: str, data: Any) -> bool:
    """Pydantic puts the union member it tried in error locations (`retry.constant`,
    `labels.dict[str,any]`)."""
    if part.startswith(("function-", "literal[", "tagged-union[")) or "." in part or "[" in part:
        return True
    if part in _UNION_MEMBERS:
        return True
    return isinstance(data, dict) and data.get("type") == part


def _fields_at(model: type[BaseModel], loc: Path) -> set[str]:
    """Property names of the (sub)model at `loc`, for suggestions."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields:
            return set()
        match = next((f for n, f in fields.items() if (f.alias or n) == part), None)
        if match is None:
            return set()
        current = _model_in(match.annotation)
    return (
        _property_names(current)
        if isinstance(current, type) and issubclass(current, BaseModel)
        else set()
    )


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))
