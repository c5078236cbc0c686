"""FilterItems and DeduplicateItems: validation at load, and runs on real Ion files
in a folder storage through LocalTaskContext."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import amazon.ion.simpleion as ion
import pytest

from lanner.errors import FlowValidationError, LannerError
from lanner.ion import read_values, write_values
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.storage import LocalStorage, storage_path, task_file_uri
from lanner.tasks import storage as st
from lanner.tasks import storageitems as items
from tests.support.task_context import LocalTaskContext

ROWS: list[dict[str, Any]] = [
    {"key": "k1", "value": 1},
    {"key": "k2", "value": 2},
    {"key": "k1", "value": 3},
    {"key": "k3", "value": None},
    {"key": "k4", "value": "four"},
]


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture
def ctx(storage: LocalStorage) -> LocalTaskContext:
    return LocalTaskContext(storage=storage, execution_id="E1", flow_id="etl")


def put_rows(storage: LocalStorage, rows: list[Any]) -> str:
    uri = task_file_uri("company.team", "etl", "E0", "src", "TR0", "rows.ion")
    data = io.BytesIO()
    write_values(data, rows)
    storage.put(storage_path(uri), io.BytesIO(data.getvalue()))
    return uri


def rows_of(storage: LocalStorage, uri: str) -> list[Any]:
    with storage.open(storage_path(uri)) as f:
        return list(read_values(f))


def filter_task(**props: Any) -> items.FilterItems:
    return items.FilterItems.model_validate({"id": "f", "type": "any", **props})


def test_registered_under_kestras_names_and_aliases() -> None:
    registry = TaskRegistry(st.task_types())
    for name in ("FilterItems", "DeduplicateItems"):
        assert registry.get(f"io.kestra.plugin.core.storage.{name}") is not None
        assert registry.get(f"io.kestra.core.tasks.storages.{name}") is not None


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ("type: io.kestra.plugin.core.storage.FilterItems\n    from: x", "filterCondition"),
        (
            "type: io.kestra.plugin.core.storage.FilterItems\n    from: x\n"
            "    filterCondition: '{{ a }}'\n    filterType: SOME",
            "filterType",
        ),
        (
            "type: io.kestra.plugin.core.storage.FilterItems\n    from: x\n"
            "    filterCondition: '{{ a }}'\n    errorOrNullBehavior: SKIP",
            "errorOrNullBehavior",
        ),
        (
            "type: io.kestra.plugin.core.storage.DeduplicateItems\n    from: x\n    expr: '{{ a'",
            "invalid expression",
        ),
        (
            "type: io.kestra.plugin.core.storage.DeduplicateItems\n    from: x\n"
            "    expr: '{% raw %}{{ a }}{% endraw %}'",
            "endraw",
        ),
        ("type: io.kestra.plugin.core.storage.DeduplicateItems\n    expr: '{{ a }}'", "from"),
        (
            "type: io.kestra.plugin.core.storage.DeduplicateItems\n    from: x\n"
            "    expr: '{{ a }}'\n    extra: 1",
            "extra",
        ),
    ],
)
def test_bad_properties_are_located_at_load(props: str, message: str) -> None:
    text = f"id: f\nnamespace: company.team\ntasks:\n  - id: t\n    {props}\n"
    with pytest.raises(FlowValidationError) as caught:
        load_flow(text, TaskRegistry(st.task_types()))
    assert message in caught.value.message
    assert "tasks[0]" in caught.value.message


def test_the_expression_reaches_the_task_as_written() -> None:
    """The executor renders dispatched properties: the dump wraps the per-item
    expression in raw, whose render gives back the text."""
    from datetime import UTC, datetime

    from lanner.expr import ExpressionEngine, Scope

    task = filter_task(**{"from": "kestra:///x.ion", "filterCondition": "{{ value > 1 }}"})
    dumped = task.model_dump(by_alias=True, exclude_none=True)
    rendered = ExpressionEngine().render_value(dumped, Scope({}, datetime.now(UTC)))
    assert rendered["filterCondition"] == "{{ value > 1 }}"
    assert filter_task(**rendered).filterCondition == "{{ value > 1 }}"


def test_include_and_exclude(storage: LocalStorage, ctx: LocalTaskContext) -> None:
    uri = put_rows(storage, ROWS[:3])
    out = items.run_filter(filter_task(**{"from": uri, "filterCondition": "{{ value > 1 }}"}), ctx)
    assert rows_of(storage, out.outputs["uri"]) == ROWS[1:3]
    assert out.outputs["processedItemsTotal"] == 3
    assert out.outputs["droppedItemsTotal"] == 1
    out = items.run_filter(
        filter_task(**{"from": uri, "filterCondition": "{{ value > 1 }}", "filterType": "EXCLUDE"}),
        ctx,
    )
    assert rows_of(storage, out.outputs["uri"]) == ROWS[:1]
    assert out.outputs["uri"].endswith(".ion")


def test_kestras_truthiness_on_rendered_text(storage: LocalStorage, ctx: LocalTaskContext) -> None:
    uri = put_rows(storage, [{"v": 0}, {"v": ""}, {"v": "no"}, {"v": "-0"}, {"v": 2}])
    out = items.run_filter(filter_task(**{"from": uri, "filterCondition": " {{ v }} "}), ctx)
    assert rows_of(storage, out.outputs["uri"]) == [{"v": "no"}, {"v": 2}]


@pytest.mark.parametrize(
    ("behaviour", "kept"),
    [("INCLUDE", ["k1", "k2", "k3", "k4"]), ("EXCLUDE", ["k2"])],
)
def test_errors_and_nulls(
    storage: LocalStorage, ctx: LocalTaskContext, behaviour: str, kept: list[str]
) -> None:
    """`value % 2` fails on a string; `missing` is undefined; k3's null is null."""
    uri = put_rows(storage, [ROWS[0], ROWS[1], ROWS[3], ROWS[4]])
    task = filter_task(
        **{
            "from": uri,
            "filterCondition": "{{ value is null ? null : value % 2 == 0 }}",
            "errorOrNullBehavior": behaviour,
        }
    )
    out = items.run_filter(task, ctx)
    # k1's 1 % 2 is not 0: dropped whatever the behaviour.
    expected = [r for r in (ROWS[1], ROWS[3], ROWS[4]) if r["key"] in kept]
    assert rows_of(storage, out.outputs["uri"]) == expected


def test_fail_names_the_item(storage: LocalStorage, ctx: LocalTaskContext) -> None:
    uri = put_rows(storage, ROWS)
    with pytest.raises(LannerError, match="item 4"):
        items.run_filter(filter_task(**{"from": uri, "filterCondition": "{{ value % 2 }}"}), ctx)


def test_deduplicate_keeps_the_last_of_each_key_in_order(
    storage: LocalStorage, ctx: LocalTaskContext
) -> None:
    uri = put_rows(storage, ROWS)
    task = items.DeduplicateItems.model_validate(
        {"id": "d", "type": "any", "from": uri, "expr": "{{ key }}"}
    )
    out = items.run_deduplicate(task, ctx)
    assert rows_of(storage, out.outputs["uri"]) == [ROWS[1], ROWS[2], ROWS[3], ROWS[4]]
    assert out.outputs["numKeys"] == 4
    assert out.outputs["processedItemsTotal"] == 5
    assert out.outputs["droppedItemsTotal"] == 1
    with storage.open(storage_path(out.outputs["uri"])) as f:
        assert [v["key"] for v in ion.load(f, single_value=False)] == ["k2", "k1", "k3", "k4"]


def test_deduplicate_on_a_composite_key(storage: LocalStorage, ctx: LocalTaskContext) -> None:
    uri = put_rows(storage, [{"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": 1, "b": 1, "c": 9}])
    task = items.DeduplicateItems.model_validate(
        {"id": "d", "type": "any", "from": uri, "expr": "{{ a }}-{{ b }}"}
    )
    out = items.run_deduplicate(task, ctx)
    assert rows_of(storage, out.outputs["uri"]) == [{"a": 1, "b": 2}, {"a": 1, "b": 1, "c": 9}]
