"""A trigger type from another distribution, found through the `lanner.triggers` entry
points (tests/integration/plugintrigger/lanner_dropbox): flows using it validate, with
located errors; the JSON Schema and the API's plugin list show it; a real trigger
runtime over a real SQLite store polls it and starts the execution, once."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lanner.config import Config
from lanner.errors import FlowValidationError
from lanner.model.flow import PluginDefault
from lanner.model.schema import flow_json_schema
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.triggers import TriggerRuntime
from lanner.store import open_store
from lanner.store.base import Store

THIRD_PARTY = Path(__file__).parent / "plugintrigger"
NAME = "com.example.dropbox.Trigger"
T0 = datetime(2025, 1, 6, 12, 0, 0, tzinfo=UTC)


def _flow(trigger: str) -> str:
    return f"""id: inbox
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.file }}}}: {{{{ trigger.text }}}}"
triggers:
  - id: drop
{trigger}"""


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[TaskRegistry]:
    """The installed types, with the `lanner-dropbox` distribution on the path."""
    monkeypatch.delitem(sys.modules, "lanner_dropbox", raising=False)
    monkeypatch.syspath_prepend(str(THIRD_PARTY))
    yield TaskRegistry.from_entry_points()
    sys.modules.pop("lanner_dropbox", None)


def _problems(source: str, registry: TaskRegistry, **kw: Any) -> list[Any]:
    with pytest.raises(FlowValidationError) as caught:
        load_flow(source, registry, file="inbox.yml", **kw)
    return list(caught.value.problems)


def test_a_flow_using_it_validates_by_its_name_or_alias(registry: TaskRegistry) -> None:
    for name in (NAME, "com.example.Dropbox"):
        flow = load_flow(_flow(f"    type: {name}\n    folder: /tmp/in\n"), registry)
        trigger = (flow.triggers or ())[0]
        assert type(trigger).__module__ == "lanner_dropbox"
        assert getattr(trigger, "folder") == "/tmp/in"  # noqa: B009
    assert registry.load_errors == {}


def test_a_bad_property_is_rejected_where_it_is(registry: TaskRegistry) -> None:
    (problem,) = _problems(_flow(f"    type: {NAME}\n    folder: in\n"), registry)
    assert problem.path == "triggers[0].folder"
    assert (problem.file, problem.line) == ("inbox.yml", 10)
    assert "folder must be an absolute path" in problem.message

    (misspelt,) = _problems(_flow(f"    type: {NAME}\n    foldr: /in\n"), registry)
    assert misspelt.path == "triggers[0].foldr" and misspelt.line == 10
    assert "unknown property 'foldr'" in misspelt.message and "folder" in misspelt.message


def test_an_unknown_type_suggests_the_plugin_s_and_other_problems_are_kept(
    registry: TaskRegistry,
) -> None:
    source = _flow("    type: com.example.dropbox.Triger\n    folder: /in\n")
    source += "  - id: drop\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: '@daily'\n"
    problems = _problems(source, registry)
    assert [p.path for p in problems] == ["triggers[0].type", "triggers[1].id"]
    assert f"did you mean '{NAME}'" in problems[0].message
    assert "Duplicate trigger id 'drop'" in problems[1].message


def test_plugin_defaults_reach_it(registry: TaskRegistry) -> None:
    defaults = [PluginDefault(type="com.example.dropbox", values={"folder": "/srv/in"})]
    flow = load_flow(_flow(f"    type: {NAME}\n"), registry, defaults=defaults)
    assert getattr((flow.triggers or ())[0], "folder") == "/srv/in"  # noqa: B009


def test_the_schema_and_the_plugin_list_show_it(registry: TaskRegistry) -> None:
    schema = flow_json_schema(registry)
    definition = schema["$defs"][f"trigger:{NAME}"]
    assert definition["properties"]["type"]["enum"] == [NAME, "com.example.Dropbox"]
    assert "folder" in definition["required"]
    triggers = schema["properties"]["triggers"]
    listed = next(b for b in triggers["anyOf"] if b.get("type") == "array")
    refs = [v.get("$ref") for v in listed["items"]["oneOf"]]
    assert f"#/$defs/trigger:{NAME}" in refs and len(refs) > 10  # the built-ins too

    from lanner.api.plugins import _models, _plugins

    ctx: Any = SimpleNamespace(registry=registry)
    assert _models(ctx)[NAME][0] == "triggers"
    group = next(p for p in _plugins(ctx) if p["name"] == "com.example.dropbox")
    assert group["triggers"] == ["com.example.dropbox.RealtimeTrigger", NAME]


def test_flows_without_it_do_not_import_it(registry: TaskRegistry) -> None:
    schedule = "    type: io.kestra.plugin.core.trigger.Schedule\n    cron: '@daily'\n"
    load_flow(_flow(schedule), registry)
    assert "lanner_dropbox" not in sys.modules


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite://{tmp_path / 'lanner.db'}")
    opened.migrate()
    yield opened
    opened.close()


def test_a_trigger_runtime_polls_it_and_starts_the_execution_once(
    registry: TaskRegistry, store: Store, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    source = _flow(f"    type: com.example.Dropbox\n    folder: {inbox}\n    interval: PT30S\n")
    store.deploy_flow("company.team", "inbox", source)
    runtime = TriggerRuntime(store, registry, Config())

    assert runtime.tick(T0) == 0  # nothing dropped yet
    context = store.get_trigger_context("company.team", "inbox", "drop")
    assert context is not None and context.type == NAME
    assert context.next_date == T0 + timedelta(seconds=30)

    (inbox / "order-1.txt").write_text("two apples")
    assert runtime.tick(T0 + timedelta(seconds=10)) == 0  # not due yet
    assert runtime.tick(T0 + timedelta(seconds=30)) == 1
    (execution,) = store.list_executions(limit=10)
    assert execution.flow_id == "inbox"
    assert execution.trigger == {
        "id": "drop",
        "type": NAME,
        "file": "order-1.txt",
        "text": "two apples",
    }
    assert not (inbox / "order-1.txt").exists()  # its after_commit ran
    assert runtime.tick(T0 + timedelta(seconds=60)) == 0
    assert len(store.list_executions(limit=10)) == 1

    # A flow that no longer uses it, seen by a runtime started afresh (a restart): the
    # stored context's type is the plugin's, looked up then, and its context goes.
    store.deploy_flow("company.team", "inbox", _flow("").replace("triggers:\n  - id: drop\n", ""))
    TriggerRuntime(store, registry, Config()).tick(T0 + timedelta(seconds=90))
    assert store.get_trigger_context("company.team", "inbox", "drop") is None


def test_lanner_validate_and_lanner_schema_see_it(tmp_path: Path, env: dict[str, str]) -> None:
    from tests.support.cli import lanner

    env = {**env, "PYTHONPATH": f"{THIRD_PARTY}{os.pathsep}{env.get('PYTHONPATH', '')}"}
    good = tmp_path / "good.yml"
    good.write_text(_flow(f"    type: {NAME}\n    folder: /srv/in\n"))
    proc = lanner("validate", str(good), env=env)
    assert proc.returncode == 0, proc.stderr
    bad = tmp_path / "inbox.yml"
    bad.write_text(_flow(f"    type: {NAME}\n    folder: in\n"))
    proc = lanner("validate", str(bad), env=env)
    assert proc.returncode == 2
    assert f"{bad}:10:5: triggers[0].folder: folder must be an absolute path" in proc.stderr
    proc = lanner("schema", env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"trigger:{NAME}" in json.loads(proc.stdout)["$defs"]


def test_a_broken_trigger_plugin_is_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = tmp_path / "lanner_ghost-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lanner-ghost\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[lanner.triggers]\nghost = lanner_no_such:types\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = TaskRegistry.from_entry_points()
    assert registry.trigger("com.example.Ghost") is None
    assert registry.load_errors["ghost"].startswith("ModuleNotFoundError")
    assert registry.get("io.kestra.plugin.core.log.Log") is not None


def test_a_trigger_plugin_declares_how_it_is_evaluated() -> None:
    from lanner.model.triggers import PollingTrigger
    from lanner.plugin import TriggerPlugin

    with pytest.raises(ValueError, match="must declare evaluation POLLING or REALTIME"):
        TriggerPlugin("com.example.Nothing", PollingTrigger, object())
    registry = TaskRegistry()
    schedule_like = SimpleNamespace(evaluation="POLLING")
    registry.register_trigger(TriggerPlugin("com.example.A", PollingTrigger, schedule_like))
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_trigger(
            TriggerPlugin("com.example.B", PollingTrigger, schedule_like, ("com.example.A",))
        )


def test_a_realtime_plugin_trigger_gets_a_listener(
    registry: TaskRegistry, store: Store, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("first")
    (inbox / "b.txt").write_text("second")
    realtime = "com.example.dropbox.RealtimeTrigger"
    store.deploy_flow(
        "company.team", "inbox", _flow(f"    type: {realtime}\n    folder: {inbox}\n")
    )
    runtime = TriggerRuntime(store, registry, Config())
    try:
        runtime.tick()
        assert list(runtime.runners) == [("company.team", "inbox", "drop")]
        deadline = time.monotonic() + 60  # a loaded machine
        while len(store.list_executions(limit=10)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        texts = sorted(str((e.trigger or {}).get("text")) for e in store.list_executions(limit=10))
        assert texts == ["first", "second"]
        while any(inbox.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(inbox.iterdir())  # acknowledged once stored
    finally:
        runtime.close()
