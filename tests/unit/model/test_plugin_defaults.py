"""Plugin defaults (SPEC §1.1 `pluginDefaults`, §0 decision 9): flow-level and
instance-level, forced or not, matched on the type or a prefix of it."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.model.flow import PluginDefault
from tests.unit.model.flowtools import (
    LOG,
    RETURN,
    SEED_DIR,
    SLACK,
    flow_data,
    load,
    log,
    one_problem,
)

HOOK = "https://hooks.slack.com/services/xxxxx"
LOCAL = "http://127.0.0.1:8765/hook"


def _levels(data: dict[str, Any], defaults: list[PluginDefault] | None = None) -> dict[str, Any]:
    flow = load(data, defaults=defaults or [])
    return {t.id: getattr(t, "level", None) for t in flow.all_tasks()}


def _default(type_name: str, values: dict[str, Any], forced: bool = False) -> dict[str, Any]:
    return {"type": type_name, "forced": forced, "values": values}


@pytest.mark.parametrize("key", ["pluginDefaults", "taskDefaults"])
def test_non_forced_default_fills_only_what_is_missing(key: str) -> None:
    data = flow_data(
        [log("plain"), log("own", level="ERROR")],
        **{key: [_default(LOG, {"level": "WARN"})]},
    )
    assert _levels(data) == {"plain": "WARN", "own": "ERROR"}


def test_forced_default_overrides_the_task() -> None:
    data = flow_data(
        [log("plain"), log("own", level="ERROR")],
        pluginDefaults=[_default(LOG, {"level": "DEBUG"}, forced=True)],
    )
    assert _levels(data) == {"plain": "DEBUG", "own": "DEBUG"}


def test_forced_wins_over_non_forced_whatever_the_order() -> None:
    data = flow_data(
        [log("t")],
        pluginDefaults=[
            _default(LOG, {"level": "TRACE"}, forced=True),
            _default(LOG, {"level": "WARN"}),
        ],
    )
    assert _levels(data) == {"t": "TRACE"}


@pytest.mark.parametrize(
    ("prefix", "applies"),
    [
        ("io.kestra.plugin.core.log.Log", True),
        ("io.kestra.plugin.core.log", True),
        ("io.kestra.plugin.core", True),
        ("io.kestra", True),
        ("io.kestra.plugin.core.flow", False),
        ("io.kestra.plugin.core.log.LogX", False),
    ],
)
def test_default_applies_to_a_type_prefix(prefix: str, applies: bool) -> None:
    data = flow_data([log("t")], pluginDefaults=[_default(prefix, {"level": "WARN"})])
    assert _levels(data) == {"t": "WARN" if applies else "INFO"}


def test_default_can_supply_a_required_property() -> None:
    data = flow_data(
        [{"id": "t", "type": LOG}],
        pluginDefaults=[_default(LOG, {"message": "from the defaults"})],
    )
    assert getattr(load(data).tasks[0], "message") == "from the defaults"  # noqa: B009


def test_default_reaches_nested_and_handler_tasks() -> None:
    seq = {"id": "s", "type": "io.kestra.plugin.core.flow.Sequential", "tasks": [log("inner")]}
    data = flow_data(
        [seq],
        errors=[log("err")],
        afterExecution=[log("after")],
        pluginDefaults=[_default(LOG, {"level": "WARN"})],
    )
    assert _levels(data) == {"s": None, "inner": "WARN", "err": "WARN", "after": "WARN"}


def test_keys_unknown_to_a_type_are_ignored() -> None:
    data = flow_data(
        [log("l"), {"id": "r", "type": RETURN}],
        pluginDefaults=[_default("io.kestra.plugin.core", {"level": "WARN", "format": "x"})],
    )
    flow = load(data)
    log_task, return_task = flow.tasks
    assert getattr(log_task, "level") == "WARN"  # noqa: B009
    assert not hasattr(log_task, "format")
    assert getattr(return_task, "format") == "x"  # noqa: B009


def test_map_values_are_merged_deeply() -> None:
    task: dict[str, Any] = {"id": "n", "type": SLACK, "url": HOOK, "messageText": "hi"}
    task["options"] = {"headers": {"X-Own": "1"}}
    data = flow_data(
        [task],
        pluginDefaults=[
            _default(SLACK, {"options": {"headers": {"X-Default": "2"}, "readTimeout": "PT3S"}})
        ],
    )
    options = getattr(load(data).tasks[0], "options")  # noqa: B009
    assert options.headers == {"X-Default": "2", "X-Own": "1"}
    assert options.readTimeout == "PT3S"


def test_default_applies_to_aliases_and_by_alias() -> None:
    data = flow_data(
        [
            log("canonical"),
            {"id": "legacy", "type": "io.kestra.core.tasks.log.Log", "message": "m"},
        ],
        pluginDefaults=[_default("io.kestra.plugin.core.log.Log", {"level": "WARN"})],
    )
    assert _levels(data) == {"canonical": "WARN", "legacy": "WARN"}


def test_invalid_default_value_is_reported_on_the_task() -> None:
    data = flow_data([log("t")], pluginDefaults=[_default(LOG, {"level": "LOUD"})])
    problem = one_problem(data)
    assert problem.path == "tasks[0].level"
    assert (problem.task_id, problem.task_type) == ("t", LOG)


# --- instance-level defaults (the `defaults=` argument; a Lanner config file) -----------------


def test_instance_default_fills_missing() -> None:
    levels = _levels(flow_data([log("t")]), [PluginDefault(type=LOG, values={"level": "WARN"})])
    assert levels == {"t": "WARN"}


def test_flow_default_wins_over_a_non_forced_instance_default() -> None:
    data = flow_data([log("t")], pluginDefaults=[_default(LOG, {"level": "ERROR"})])
    assert _levels(data, [PluginDefault(type=LOG, values={"level": "WARN"})]) == {"t": "ERROR"}


def test_forced_instance_default_overrides_the_flow_and_its_defaults() -> None:
    data = flow_data(
        [log("own", level="ERROR"), log("plain")],
        pluginDefaults=[_default(LOG, {"level": "DEBUG"}, forced=True)],
    )
    forced = [
        PluginDefault(type="io.kestra.plugin.core.log", forced=True, values={"level": "WARN"})
    ]
    assert _levels(data, forced) == {"own": "WARN", "plain": "WARN"}


def test_forced_instance_default_redirects_the_seed_slack_url() -> None:
    """How the tests send the unchanged seed flows' Slack messages to a local receiver."""
    path = SEED_DIR / "alerts_demo.yml"
    text = path.read_text(encoding="utf-8")
    assert HOOK in text
    defaults = [
        PluginDefault(
            type="io.kestra.plugin.slack",
            forced=True,
            values={"url": LOCAL, "notASlackProperty": 1},
        )
    ]
    flow = load(text, defaults=defaults)
    urls = {t.id: getattr(t, "url") for t in flow.afterExecution or ()}  # noqa: B009
    assert urls == {"onSuccess": LOCAL, "onFailure": LOCAL}
    # Without the instance default the flow keeps its own URL.
    plain = load(text)
    assert {getattr(t, "url") for t in plain.afterExecution or ()} == {HOOK}  # noqa: B009


def test_instance_defaults_do_not_change_other_types() -> None:
    defaults = [PluginDefault(type="io.kestra.plugin.slack", forced=True, values={"url": LOCAL})]
    flow = load(flow_data([log("t")]), defaults=defaults)
    assert not hasattr(flow.tasks[0], "url")


def test_plugin_default_model() -> None:
    default = PluginDefault(type="io.kestra.plugin.core.log")
    assert default.forced is False and default.values == {}
    assert default.applies_to("io.kestra.plugin.core.log.Log")
    assert default.applies_to("x.y", "io.kestra.plugin.core.log.Log")
    assert not default.applies_to("io.kestra.plugin.core.flow.If")
