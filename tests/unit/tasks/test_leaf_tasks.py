"""Log, Fail, Sleep, Return, Echo and OutputValues (SPEC §5.1, §5.2, §5.4, §5.13, §5.14).

Each task type is validated from flow-like dicts, then run directly against a
real in-memory TaskContext.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from pydantic import ValidationError

from lanner.errors import RenderError
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskRegistry, TaskType
from lanner.tasks.core import debug, fail, log, outputs, sleep
from lanner.tasks.core.debug import Echo, Return, run_echo, run_return
from lanner.tasks.core.fail import Fail, condition_holds, run_fail
from lanner.tasks.core.log import Log, run_log
from lanner.tasks.core.outputs import OutputValues, run_output_values
from lanner.tasks.core.sleep import Sleep, run_sleep
from tests.support.task_context import LocalTaskContext

TYPES: list[TaskType] = [
    *log.TASK_TYPES,
    *fail.TASK_TYPES,
    *sleep.TASK_TYPES,
    *debug.TASK_TYPES,
    *outputs.TASK_TYPES,
]


def make(model: type[Task], **props: Any) -> Any:
    return model.model_validate({"id": "t1", "type": "any", **props})


def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError("condition not reached in time")
        threading.Event().wait(0.005)


# --- registration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "aliases"),
    [
        ("io.kestra.plugin.core.log.Log", ("io.kestra.core.tasks.log.Log",)),
        ("io.kestra.plugin.core.execution.Fail", ("io.kestra.core.tasks.executions.Fail",)),
        ("io.kestra.plugin.core.flow.Sleep", ()),
        ("io.kestra.plugin.core.debug.Return", ("io.kestra.core.tasks.debugs.Return",)),
        ("io.kestra.plugin.core.debug.Echo", ("io.kestra.core.tasks.debugs.Echo",)),
        ("io.kestra.plugin.core.output.OutputValues", ()),
    ],
)
def test_type_names_and_aliases(name: str, aliases: tuple[str, ...]) -> None:
    registry = TaskRegistry(TYPES)
    task_type = registry.get(name)
    assert task_type is not None
    assert task_type.aliases == aliases
    for alias in aliases:
        assert registry.get(alias) is task_type


@pytest.mark.parametrize("task_type", TYPES, ids=lambda t: t.name.rsplit(".", 1)[-1])
def test_models_document_themselves(task_type: TaskType) -> None:
    doc = (task_type.model.__doc__ or "").strip()
    assert doc and "\n" not in doc
    schema = task_type.model.model_json_schema()
    own = set(task_type.model.model_fields) - set(Task.model_fields)
    for prop in own:
        assert schema["properties"][prop].get("description"), prop


# --- property validation -----------------------------------------------------------------------

VALID: list[tuple[type[Task], dict[str, Any]]] = [
    (Log, {"message": "hello"}),
    (Log, {"message": ["one", "two"]}),
    (Log, {"message": 42}),
    (Log, {"message": [], "level": "ERROR"}),
    (Log, {"message": "x", "level": "TRACE"}),
    (Log, {"message": "x", "level": "{{ inputs.level }}"}),
    (Fail, {}),
    (Fail, {"errorMessage": "boom"}),
    (Fail, {"condition": "{{ inputs.fail }}"}),
    (Fail, {"condition": True}),
    (Sleep, {"duration": "PT5S"}),
    (Sleep, {"duration": "PT0.25S"}),
    (Sleep, {"duration": "{{ vars.wait }}"}),
    (Return, {}),
    (Return, {"format": "{{ task.id }}"}),
    (Echo, {"format": "hi"}),
    (Echo, {"format": "hi", "level": "WARN"}),
    (OutputValues, {}),
    (OutputValues, {"values": {"a": 1, "b": "{{ inputs.x }}", "c": [1, {"d": True}]}}),
]

INVALID: list[tuple[type[Task], dict[str, Any], str]] = [
    (Log, {}, "message"),
    (Log, {"message": {"a": 1}}, "message"),
    (Log, {"message": "x", "level": "LOUD"}, "level"),
    (Log, {"message": "x", "level": "info"}, "level"),
    (Log, {"message": "x", "format": "y"}, "format"),
    (Fail, {"errorMsg": "x"}, "errorMsg"),
    (Fail, {"condition": ["a"]}, "condition"),
    (Sleep, {}, "duration"),
    (Sleep, {"duration": "5 seconds"}, "duration"),
    (Sleep, {"duration": 5}, "duration"),
    (Return, {"value": "x"}, "value"),
    (Echo, {}, "format"),
    (Echo, {"format": "x", "level": "LOUD"}, "level"),
    (OutputValues, {"values": [1, 2]}, "values"),
    (OutputValues, {"values": "x"}, "values"),
]


@pytest.mark.parametrize(("model", "props"), VALID)
def test_valid_properties(model: type[Task], props: dict[str, Any]) -> None:
    make(model, **props)


@pytest.mark.parametrize(("model", "props", "field"), INVALID)
def test_invalid_properties(model: type[Task], props: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        make(model, **props)
    assert field in str(info.value)


# --- Log ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "logs"),
    [
        ({"message": "hello"}, [("INFO", "hello")]),
        (
            {"message": ["one", "two", "three"]},
            [("INFO", "one"), ("INFO", "two"), ("INFO", "three")],
        ),
        ({"message": 42}, [("INFO", "42")]),
        ({"message": []}, []),
        *(({"message": "m", "level": lv}, [(lv, "m")]) for lv in log.LOG_LEVELS),
    ],
)
def test_log_messages_in_order(props: dict[str, Any], logs: list[tuple[str, str]]) -> None:
    ctx = LocalTaskContext()
    outcome = run_log(make(Log, **props), ctx)
    assert ctx.logs == logs
    assert outcome == Outcome()  # SUCCESS, no outputs, whatever the level


def test_log_renders_each_message() -> None:
    ctx = LocalTaskContext({"inputs": {"name": "Ada"}})
    run_log(make(Log, message=["Hi {{ inputs.name }}", "{{ 1 + 1 }}"]), ctx)
    assert ctx.messages() == ["Hi Ada", "2"]


def test_log_rendering_error_propagates() -> None:
    with pytest.raises(RenderError):
        run_log(make(Log, message="{{ ko }}"), LocalTaskContext())


def test_log_level_from_expression() -> None:
    ctx = LocalTaskContext({"inputs": {"level": "WARN"}})
    run_log(make(Log, message="m", level="{{ inputs.level }}"), ctx)
    assert ctx.logs == [("WARN", "m")]


# --- Fail --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        (None, False),
        (False, False),
        (True, True),
        ("false", False),
        ("0", False),
        ("-0", False),
        ("", False),
        ("  false \n", False),
        ("\tfalse\r", False),
        ("true", True),
        ("1", True),
        ("False", True),
        ("FALSE", True),
        ("no", True),
        ("null", True),
        ("0.0", True),
        (0, False),
        (1, True),
    ],
)
def test_truthiness(value: Any, truthy: bool) -> None:
    assert condition_holds(value) is truthy


@pytest.mark.parametrize(
    ("props", "state", "error"),
    [
        ({}, State.FAILED, "Task failure"),
        ({"errorMessage": "Something went wrong"}, State.FAILED, "Something went wrong"),
        ({"condition": "true"}, State.FAILED, "Task failure"),
        ({"condition": True, "errorMessage": "boom"}, State.FAILED, "boom"),
        ({"condition": "False"}, State.FAILED, "Task failure"),
        ({"condition": "false"}, State.SUCCESS, None),
        ({"condition": False}, State.SUCCESS, None),
        ({"condition": "0"}, State.SUCCESS, None),
        ({"condition": "-0"}, State.SUCCESS, None),
        ({"condition": ""}, State.SUCCESS, None),
    ],
)
def test_fail(props: dict[str, Any], state: State, error: str | None) -> None:
    ctx = LocalTaskContext()
    outcome = run_fail(make(Fail, **props), ctx)
    assert outcome.state is state
    assert outcome.error == error
    assert ctx.logs == ([("ERROR", error)] if error else [])


@pytest.mark.parametrize(("param", "state"), [("fail", State.FAILED), ("ok", State.SUCCESS)])
def test_fail_on_rendered_condition(param: str, state: State) -> None:
    ctx = LocalTaskContext({"inputs": {"param": param}})
    task = make(
        Fail,
        condition="{{ inputs.param == 'fail' }}",
        errorMessage="param was {{ inputs.param }}",
    )
    outcome = run_fail(task, ctx)
    assert outcome.state is state
    if state is State.FAILED:
        assert outcome.error == "param was fail"


# --- Sleep -------------------------------------------------------------------------------------


def test_sleep_waits_and_succeeds() -> None:
    ctx = LocalTaskContext()
    started = time.monotonic()
    outcome = run_sleep(make(Sleep, duration="PT0.05S"), ctx)
    assert outcome == Outcome()
    assert time.monotonic() - started >= 0.05
    assert ctx.logs == [("INFO", "Waiting for PT0.05S")]


@pytest.mark.parametrize(
    ("duration", "shown"),
    [("PT5S", "PT5S"), ("PT0.25S", "PT0.25S"), ("PT90S", "PT1M30S"), ("P1D", "PT24H")],
)
def test_sleep_logs_the_duration(duration: str, shown: str) -> None:
    ctx = LocalTaskContext()
    ctx.cancel()  # do not really wait
    outcome = run_sleep(make(Sleep, duration=duration), ctx)
    assert outcome.state is State.KILLED
    assert ctx.logs == [("INFO", f"Waiting for {shown}")]


def test_sleep_cancelled_early_returns_promptly() -> None:
    ctx = LocalTaskContext()
    result: list[Outcome] = []
    worker = threading.Thread(
        target=lambda: result.append(run_sleep(make(Sleep, duration="PT60S"), ctx))
    )
    worker.start()
    wait_until(lambda: ctx.logs)
    cancelled_at = time.monotonic()
    ctx.cancel()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert time.monotonic() - cancelled_at < 30  # long before the 60 s would end
    assert result == [Outcome(State.KILLED)]


# --- Return and Echo ---------------------------------------------------------------------------


@pytest.mark.parametrize(("props", "value"), [({"format": "hello"}, "hello"), ({}, None)])
def test_return(props: dict[str, Any], value: str | None) -> None:
    ctx = LocalTaskContext()
    outcome = run_return(make(Return, **props), ctx)
    assert outcome.state is State.SUCCESS
    assert outcome.outputs == {"value": value}
    assert ctx.logs == [("DEBUG", value or "")]


def test_return_renders_format() -> None:
    ctx = LocalTaskContext({"task": {"id": "t1"}})
    outcome = run_return(make(Return, format="{{ task.id }} > done"), ctx)
    assert outcome.outputs == {"value": "t1 > done"}


@pytest.mark.parametrize(
    ("props", "logs"),
    [
        ({"format": "hello"}, [("INFO", "hello")]),
        ({"format": "careful", "level": "WARN"}, [("WARN", "careful")]),
    ],
)
def test_echo(props: dict[str, Any], logs: list[tuple[str, str]]) -> None:
    ctx = LocalTaskContext()
    assert run_echo(make(Echo, **props), ctx) == Outcome()
    assert ctx.logs == logs


# --- OutputValues ------------------------------------------------------------------------------


def test_output_values_keep_scalar_types() -> None:
    values = {"n": 1, "f": 2.5, "b": True, "none": None, "s": "x", "l": [1, "y"], "m": {"k": 2}}
    outcome = run_output_values(make(OutputValues, values=values), LocalTaskContext())
    assert outcome.state is State.SUCCESS
    assert outcome.outputs == {"values": values}
    assert outcome.outputs["values"]["n"] == 1
    assert isinstance(outcome.outputs["values"]["b"], bool)


def test_output_values_empty() -> None:
    assert run_output_values(make(OutputValues), LocalTaskContext()).outputs == {"values": {}}


def test_output_values_render_strings_only() -> None:
    ctx = LocalTaskContext({"inputs": {"name": "Ada", "n": 5}})
    task = make(
        OutputValues,
        values={"greeting": "Hi {{ inputs.name }}", "n": 1, "nested": {"who": "{{ inputs.name }}"}},
    )
    outcome = run_output_values(task, ctx)
    assert outcome.outputs == {"values": {"greeting": "Hi Ada", "n": 1, "nested": {"who": "Ada"}}}
