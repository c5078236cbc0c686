"""Loading flows and inputs: the limits of docs/limits.md, where a YAML error is
reported, several flows in one file, and what Kestra accepts that a strict
reading would not (integer task ids, a blueprint's `extend:`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from lanner.errors import FileReadError, FlowValidationError, InputError, InputValueError
from lanner.model.common import parse_duration
from lanner.model.flowfile import read_flow_text
from lanner.model.inputs import parse_inputs
from lanner.model.limits import (
    MAX_DURATION_DAYS,
    MAX_FLOW_BYTES,
    MAX_INPUT_CHARS,
    MAX_NESTING,
    MAX_TASKS,
)
from lanner.model.validate import load_flow_file, load_flow_files, load_flows
from lanner.model.yamlsource import YamlError, check_bounds, load_yaml, split_documents
from tests.unit.model.flowtools import LOG, REGISTRY, SEQUENTIAL, load, one_problem

HEAD = "id: f\nnamespace: company.team\n"
TASK = f"tasks:\n  - id: a\n    type: {LOG}\n    message: hi\n"


def laughs(levels: int, *, prefix: str = "") -> str:
    """The billion laughs: each level repeats the one before nine times."""
    lines = [prefix + 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"{prefix}l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def nested_sequentials(depth: int) -> str:
    lines = [HEAD.rstrip(), "tasks:"]
    indent = ""
    for i in range(depth):
        lines += [f"{indent}- id: s{i}", f"{indent}  type: {SEQUENTIAL}", f"{indent}  tasks:"]
        indent += "  "
    lines += [f"{indent}- id: leaf", f"{indent}  type: {LOG}", f"{indent}  message: hi"]
    return "\n".join(lines) + "\n"


# --- YAML bounds ------------------------------------------------------------------------------


def test_alias_bomb_is_rejected_before_expansion() -> None:
    text = HEAD + "variables:\n" + laughs(9, prefix="  ") + TASK
    problem = one_problem(text)
    assert "aliases are expanded" in problem.message
    assert problem.line is not None and 4 <= problem.line <= 12


def test_aliases_that_stay_small_are_fine() -> None:
    text = HEAD + "variables:\n" + laughs(3, prefix="  ") + TASK
    assert (load(text).variables or {})["l2"][0][0] == ["lol"] * 9


def test_nesting_limit_in_a_flow() -> None:
    problem = one_problem(nested_sequentials(MAX_NESTING))
    assert f"nested more than {MAX_NESTING} levels deep" in problem.message
    assert problem.line is not None
    # Under the limit, flowables nest deep and the flow loads.
    flow = load(nested_sequentials(MAX_NESTING // 2 - 3))
    assert sum(1 for _ in flow.all_tasks()) == MAX_NESTING // 2 - 2


def test_an_alias_counts_the_depth_of_what_it_repeats() -> None:
    deep = "[" * 60 + "]" * 60
    text = f"a: &a {deep}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
    with pytest.raises(YamlError) as exc:
        load_yaml(text)
    assert "levels deep" in exc.value.problems[0].message
    assert exc.value.problems[0].line == 2


def test_value_count_limit_counts_plain_values() -> None:
    with pytest.raises(YamlError) as exc:
        check_bounds("[" + "1," * 300 + "1]", max_nodes=100)
    assert "more than 100 values" in str(exc.value)


def test_too_many_tasks_is_rejected_before_validation() -> None:
    tasks = "".join(f"  - {{id: t{i}, type: {LOG}, message: m}}\n" for i in range(MAX_TASKS + 1))
    problem = one_problem(HEAD + "tasks:\n" + tasks)
    assert f"more than the {MAX_TASKS} a flow may have" in problem.message
    assert problem.path == "tasks"


# --- YAML syntax errors -----------------------------------------------------------------------


def test_unclosed_quote_is_reported_where_it_opens() -> None:
    text = (
        HEAD
        + "tasks:\n"
        + f'  - id: a\n    type: {LOG}\n    message: "hello\n'
        + f"  - id: b\n    type: {LOG}\n    message: bye\n\n\n"
    )
    problem = one_problem(text)
    assert problem.line == 6, problem.render()
    assert "quoted scalar" in problem.message


def test_bad_indentation_is_reported_where_it_breaks() -> None:
    problem = one_problem(HEAD + "tasks:\n  - id: a\n    type: x\n   bad: 1\n")
    assert problem.line == 6, problem.render()


# --- files ------------------------------------------------------------------------------------


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yml"
    os.mkfifo(fifo)
    for path, fragment in [
        (fifo, "not a regular file"),
        (Path("/dev/zero"), "not a regular file"),
        (tmp_path, "is a directory"),
        (tmp_path / "missing.yml", "no such file"),
    ]:
        with pytest.raises(FileReadError) as exc:
            read_flow_text(path)
        assert fragment in exc.value.message
        assert exc.value.message.startswith(str(path))


def test_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_text(HEAD + TASK + "#" * MAX_FLOW_BYTES)
    with pytest.raises(FileReadError) as exc:
        read_flow_text(path)
    assert f"more than the {MAX_FLOW_BYTES} bytes" in exc.value.message
    # The same limit holds for a source given as text (from the store).
    with pytest.raises(FlowValidationError):
        load(HEAD + TASK + "#" * MAX_FLOW_BYTES)


# --- several flows in one file ----------------------------------------------------------------

TWO = (
    "# two flows\n"
    + HEAD
    + TASK
    + "---\n"
    + "id: g\nnamespace: company.team\n"
    + f"tasks:\n  - id: b\n    type: {LOG}\n    message: there\n"
)


def test_split_documents_keeps_lines() -> None:
    assert split_documents("# c\n---\na: 1\n---\nb: 2\n...\n") == [
        (1, "---\na: 1\n"),
        (3, "---\nb: 2\n...\n"),
    ]
    assert split_documents("a: 1\n") == [(0, "a: 1\n")]


def test_several_flows_in_one_text() -> None:
    flows = load_flows(TWO, REGISTRY, file="two.yml")
    assert [(f.flow.id, f.line) for f in flows] == [("f", 1), ("g", 8)]
    assert flows[1].source.startswith("---\nid: g\n")
    # Each document's own source is a valid flow on its own.
    assert load(flows[1].source).id == "g"


def test_problems_of_several_flows_are_at_their_file_lines() -> None:
    broken = TWO.replace("message: there", "mesage: there")
    with pytest.raises(FlowValidationError) as exc:
        load_flows(broken, REGISTRY, file="two.yml")
    (problem,) = exc.value.problems
    assert (problem.line, problem.task_id, problem.file) == (14, "b", "two.yml")


def test_the_same_flow_twice_in_one_file() -> None:
    with pytest.raises(FlowValidationError) as exc:
        load_flows(HEAD + TASK + "---\n" + HEAD + TASK, REGISTRY, file="x.yml")
    assert "also defined at line 1" in exc.value.problems[0].message
    assert exc.value.problems[0].line == 7


def test_one_flow_is_picked_from_several(tmp_path: Path) -> None:
    path = tmp_path / "two.yml"
    path.write_text(TWO)
    assert len(load_flow_files(path, REGISTRY)) == 2
    with pytest.raises(InputError) as exc:
        load_flow_file(path, REGISTRY)
    assert "holds 2 flows" in exc.value.message and "--flow" in exc.value.message
    flow, source = load_flow_file(path, REGISTRY, flow_id="g")
    assert flow.id == "g" and source.startswith("---\nid: g")
    assert load_flow_file(path, REGISTRY, flow_id="company.team.f")[0].id == "f"
    with pytest.raises(InputError, match="holds no flow 'nope'"):
        load_flow_file(path, REGISTRY, flow_id="nope")


def test_a_single_flow_keeps_its_whole_text_as_source(tmp_path: Path) -> None:
    path = tmp_path / "one.yml"
    path.write_text("# comment\n---\n" + HEAD + TASK)
    assert load_flow_file(path, REGISTRY)[1] == path.read_text()


# --- what Kestra accepts ----------------------------------------------------------------------


def test_integer_task_id_is_a_string() -> None:
    flow = load(HEAD + f"tasks:\n  - id: 1\n    type: {LOG}\n    message: hi\n")
    assert flow.tasks[0].id == "1"


def test_integer_flow_id_is_a_string() -> None:
    assert load("id: 2024\nnamespace: company.team\n" + TASK).id == "2024"


def test_integer_task_ids_are_checked_for_duplicates() -> None:
    text = (
        HEAD
        + f"tasks:\n  - {{id: 1, type: {LOG}, message: a}}\n  - {{id: '1', type: {LOG}, message: b}}\n"
    )
    problem = one_problem(text)
    assert "Duplicate task id with name [1]" in problem.message


def test_blueprint_extend_block_is_metadata() -> None:
    text = (
        HEAD
        + "extend:\n  title: Hello\n  description: A blueprint\n  tags: [Getting Started]\n"
        + "  ee: false\n  demo: true\n"
        + TASK
    )
    assert load(text).tasks[0].id == "a"
    problem = one_problem(HEAD + "extend: [not, a, map]\n" + TASK)
    assert problem.path == "extend"


# --- templates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("message", "{{ broken "),
        ("message", "{% if x %}no end"),
        ("runIf", "{{ a | }}"),
        ("message", "line one\n{{ 1 + }}"),
    ],
)
def test_broken_template_is_found_by_validation(prop: str, value: str) -> None:
    text = HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: hi\n    {prop}: {value!r}\n"
    text = text.replace("    message: hi\n", "") if prop == "message" else text
    problem = one_problem(text)
    assert problem.message.startswith("invalid expression: ")
    assert (problem.task_id, problem.line) == ("a", 6 if prop == "message" else 7)


def test_unrendered_properties_are_not_checked() -> None:
    text = HEAD + "variables:\n  raw: '{{ not rendered '\ndescription: '{{ nor this'\n" + TASK
    assert load(text).variables == {"raw": "{{ not rendered "}
    task = f"tasks:\n  - id: a\n    type: {LOG}\n    message: hi\n    description: '{{{{ x'\n"
    assert load(HEAD + task).tasks[0].id == "a"


def test_broken_template_in_flow_outputs() -> None:
    text = HEAD + TASK + "outputs:\n  - id: o\n    type: STRING\n    value: '{{ outputs.a. }}'\n"
    problem = one_problem(text)
    assert problem.path == "outputs[0].value"


# --- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "PT99999999999999999999S",
        "P999999999999D",
        f"P{MAX_DURATION_DAYS + 1}D",
        "P9" + "9" * 400 + "D",
    ],
)
def test_duration_range(text: str) -> None:
    with pytest.raises(ValueError, match=f"longest duration allowed, P{MAX_DURATION_DAYS}D"):
        parse_duration(text)


def test_longest_duration_is_accepted() -> None:
    assert parse_duration(f"P{MAX_DURATION_DAYS}D").days == MAX_DURATION_DAYS
    assert parse_duration("-PT1.5S").total_seconds() == -1.5


def test_giant_sleep_is_rejected_at_its_line() -> None:
    text = (
        HEAD
        + "tasks:\n  - id: s\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: P999999999999D\n"
    )
    problem = one_problem(text)
    assert (problem.line, problem.task_id) == (6, "s")


# --- inputs -----------------------------------------------------------------------------------


def _input(kind: str, extra: str = "") -> list[Any]:
    flow = load(HEAD + f"inputs:\n  - id: x\n    type: {kind}\n    required: false\n{extra}" + TASK)
    return list(flow.inputs or ())


@pytest.mark.parametrize(
    ("kind", "value", "fragment"),
    [
        ("JSON", "NaN", "NaN is not a JSON value"),
        ("JSON", '{"a": [1, Infinity]}', "Infinity is not a JSON value"),
        ("JSON", "-Infinity", "-Infinity"),
        ("JSON", "[" * 30_000 + "]" * 30_000, f"more than {MAX_NESTING} levels deep"),
        ("ARRAY", "[" * 30_000 + "]" * 30_000, f"more than {MAX_NESTING} levels deep"),
        ("YAML", laughs(9), "aliases are expanded"),
        ("YAML", "a: " + "[" * 200 + "]" * 200, "levels deep"),
        ("STRING", "x" * (MAX_INPUT_CHARS + 1), f"more than the {MAX_INPUT_CHARS}"),
    ],
)
def test_hostile_input_values(kind: str, value: str, fragment: str) -> None:
    declared = _input(kind, "    itemType: JSON\n" if kind == "ARRAY" else "")
    with pytest.raises(InputValueError) as exc:
        parse_inputs(declared, {"x": value})
    assert fragment in exc.value.message


def test_json_strings_with_brackets_are_not_nesting() -> None:
    value = '{"a": "' + "[" * 500 + '"}'
    assert parse_inputs(_input("JSON"), {"x": value}) == {"x": {"a": "[" * 500}}


def test_broken_template_in_an_input_default() -> None:
    text = HEAD + "inputs:\n  - id: x\n    type: STRING\n    defaults: '{{ now( }}'\n" + TASK
    problem = one_problem(text)
    assert (problem.path, problem.line) == ("inputs[0].defaults", 6)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("!!int nope", "'nope' is not a valid int"),
        ("!!float nope", "'nope' is not a valid float"),
        ("9" * 5000, "is not a valid int of at most"),
    ],
)
def test_scalar_that_does_not_fit_its_tag(value: str, fragment: str) -> None:
    problem = one_problem(HEAD + TASK + f"    description: {value}\n")
    assert fragment in problem.message
    assert (problem.line, problem.task_id) == (7, "a")


def test_exponential_retry_factor_must_be_finite() -> None:
    retry = "    retry: {type: exponential, interval: PT1S, maxInterval: PT2S, delayFactor: .nan}\n"
    problem = one_problem(HEAD + TASK + retry)
    assert "delayFactor must be a positive, finite number" in problem.message


def test_characters_yaml_refuses_are_located() -> None:
    problem = one_problem(HEAD + TASK.replace("hi", '"a\x00b"'))
    assert problem.line == 6 and "#x0000" in problem.message


def test_a_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes((HEAD + TASK).replace("hi", "caf\xe9").encode("latin-1"))
    with pytest.raises(FileReadError) as exc:
        read_flow_text(path)
    assert exc.value.message == f"{path}:6: not UTF-8 text (byte 0xe9 cannot be decoded)"


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("id: x\nnamespace: y\ntasks: [\n", 3, 8),
        ("id: x\nnamespace: y\nlabels: {a: 1,\n\n\n", 3, 9),
        ("id: x\nnamespace: y\nlabels: [a, {b: \n\n", 3, 13),
    ],
)
def test_unclosed_bracket_is_reported_where_it_opens(text: str, line: int, column: int) -> None:
    problem = one_problem(text)
    assert (problem.line, problem.column) == (line, column), problem.render()


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    problem = one_problem(HEAD + "variables:\n  a: &a [1, {b: *a}]\n" + TASK)
    assert (problem.line, problem.column) == (4, 17)
    assert "alias *a refers to a value that holds it" in problem.message
    with pytest.raises(InputValueError, match="holds it"):
        parse_inputs(_input("YAML"), {"x": "&a [1, *a]"})
