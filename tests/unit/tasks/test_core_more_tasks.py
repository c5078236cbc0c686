"""Assert, TemplatedTask, the state store tasks and the namespace-file tasks, run directly
with a real SQLite store and a real local internal storage (docs/tasks-core.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanner.errors import InputError, NotFoundError
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import TaskRegistry
from lanner.runtime.kvaccess import StoreKV
from lanner.storage import LocalStorage
from lanner.store import open_store
from lanner.store.base import Store
from lanner.tasks.core import assertion, namespacefiles, state, templating
from tests.support.task_context import LocalTaskContext
from tests.unit.model.flowtools import flow_data, problems

REGISTRY = TaskRegistry.from_entry_points()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite://{tmp_path / 'lanner.db'}")
    yield s
    s.close()


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture
def ctx(store: Store, storage: LocalStorage) -> LocalTaskContext:
    return LocalTaskContext(
        {"inputs": {"param": "ok", "type": "io.kestra.plugin.core.debug.Return"}},
        kv=StoreKV(store, "company.team"),
        storage=storage,
        registry=REGISTRY,
    )


def make(model: type[Task], **props: Any) -> Any:
    return model.model_validate({"id": "t1", "type": "any", **props})


# -- Assert ------------------------------------------------------------------------------


def test_assert_succeeds_when_every_condition_holds(ctx: LocalTaskContext) -> None:
    task = make(assertion.Assert, conditions=["{{ inputs.param == 'ok' }}", "1", "yes"])
    assert assertion.run_assert(task, ctx).state is State.SUCCESS
    assert ctx.messages("ERROR") == []


def test_assert_fails_with_each_false_condition_logged(ctx: LocalTaskContext) -> None:
    task = make(
        assertion.Assert,
        conditions=["{{ 1 + 1 == 3 }}", "true", "0", ""],
        errorMessage="param was {{ inputs.param }}",
    )
    outcome = assertion.run_assert(task, ctx)
    assert outcome.state is State.FAILED
    assert outcome.error == "3 assertions failed: param was ok"
    assert [m.split(":")[0] for m in ctx.messages("ERROR")] == [
        "Assertion 1 failed",
        "Assertion 3 failed",
        "Assertion 4 failed",
    ]


# -- TemplatedTask -----------------------------------------------------------------------


def test_templated_task_renders_the_spec_and_runs_that_task(ctx: LocalTaskContext) -> None:
    task = make(
        templating.TemplatedTask, spec="type: {{ inputs.type }}\nformat: 'v {{ inputs.param }}'"
    )
    outcome = templating.run_templated(task, ctx)
    assert outcome.state is State.SUCCESS and outcome.outputs == {"value": "v ok"}


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("type: io.kestra.plugin.core.templating.TemplatedTask\nspec: x", "cannot be of type"),
        ("type: io.kestra.plugin.core.flow.Sequential\ntasks: []", "not a runnable task type"),
        ("type: io.kestra.plugin.core.log.Log", "message: Field required"),
        ("type: com.example.Nothing", "unknown task type"),
        ("[not, a, task]", "a mapping with the task's `type`"),
        ("type: [", "not YAML"),
    ],
)
def test_templated_task_refuses_what_it_cannot_run(
    ctx: LocalTaskContext, spec: str, fragment: str
) -> None:
    with pytest.raises(InputError) as info:
        templating.run_templated(make(templating.TemplatedTask, spec=spec), ctx)
    assert fragment in info.value.message


def test_template_is_rejected_at_validation_with_the_reason() -> None:
    found = problems(
        flow_data([{"id": "t", "type": "io.kestra.plugin.core.flow.Template", "templateId": "x"}])
    )
    assert [p.path for p in found] == ["tasks[0].type"]
    assert "not supported here" in found[0].message
    assert "templates" in found[0].message and "2.0" in found[0].message


# -- the state store ---------------------------------------------------------------------


def _state(model: type[Task], **props: Any) -> Any:
    return make(model, taskrunValue=False, **props)


def test_state_set_merges_get_reads_delete_removes(ctx: LocalTaskContext, store: Store) -> None:
    first = state.run_set(_state(state.SetState, data={"a": 1, "m": {"x": 1}}), ctx)
    assert first.outputs == {"count": 2, "key": "states_flow_default"}
    second = state.run_set(_state(state.SetState, data={"b": 2, "m": {"y": 2}}), ctx)
    assert second.outputs["count"] == 3
    got = state.run_get(_state(state.GetState), ctx).outputs
    assert got == {"count": 3, "data": {"a": 1, "b": 2, "m": {"x": 1, "y": 2}}}
    # The state is an ordinary KV pair of the flow's namespace.
    assert [e.key for e in store.kv_list("company.team", ctx.now)] == ["states_flow_default"]
    assert state.run_delete(_state(state.DeleteState), ctx).outputs == {"deleted": True}
    assert state.run_get(_state(state.GetState), ctx).outputs == {"count": 0, "data": {}}
    assert state.run_delete(_state(state.DeleteState), ctx).outputs == {"deleted": False}


def test_state_names_and_namespace_sharing_are_separate_keys(ctx: LocalTaskContext) -> None:
    state.run_set(_state(state.SetState, name="mine", data={"a": 1}), ctx)
    state.run_set(_state(state.SetState, name="mine", namespace=True, data={"b": 1}), ctx)
    assert state.run_get(_state(state.GetState, name="mine"), ctx).outputs["data"] == {"a": 1}
    shared = state.run_get(_state(state.GetState, name="mine", namespace=True), ctx)
    assert shared.outputs["data"] == {"b": 1}


def test_state_error_on_missing(ctx: LocalTaskContext) -> None:
    with pytest.raises(NotFoundError):
        state.run_get(_state(state.GetState, name="none", errorOnMissing=True), ctx)
    with pytest.raises(NotFoundError):
        state.run_delete(_state(state.DeleteState, name="none", errorOnMissing=True), ctx)


# -- namespace files ---------------------------------------------------------------------


def _task_file(ctx: LocalTaskContext, tmp_path: Path, name: str, text: str) -> str:
    local = tmp_path / name
    local.write_text(text)
    return ctx.put_file(local)


def _namespace_paths(ctx: LocalTaskContext, namespace: str = "company.team") -> dict[str, str]:
    return {f.path: _read(ctx, f.uri) for f in ctx.namespace_files(namespace)}


def _read(ctx: LocalTaskContext, uri: str) -> str:
    with ctx.open_file(uri) as data:
        return data.read().decode()


def test_upload_files_from_uris_a_map_and_the_working_directory(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    uri = _task_file(ctx, tmp_path, "report.csv", "a,b\n")
    (ctx.working_directory() / "dbt" / "models").mkdir(parents=True)
    (ctx.working_directory() / "dbt" / "models" / "m.sql").write_text("select 1")
    (ctx.working_directory() / "other.txt").write_text("no")
    listed = make(
        namespacefiles.UploadFiles,
        namespace="company.team",
        files=[uri, "glob:dbt/**", "kestra:///company/team/flow/executions/x/missing.txt"],
        destination="/in",
    )
    out = namespacefiles.run_upload(listed, ctx).outputs["files"]
    assert sorted(out) == ["/in/dbt/models/m.sql", "/in/report.csv"]
    mapped = make(
        namespacefiles.UploadFiles, namespace="company.team", filesMap={"/x/renamed.csv": uri}
    )
    assert list(namespacefiles.run_upload(mapped, ctx).outputs["files"]) == ["/x/renamed.csv"]
    assert _namespace_paths(ctx) == {
        "in/dbt/models/m.sql": "select 1",
        "in/report.csv": "a,b\n",
        "x/renamed.csv": "a,b\n",
    }


@pytest.mark.parametrize("conflict", ["OVERWRITE", "SKIP", "ERROR"])
def test_upload_files_conflict(ctx: LocalTaskContext, tmp_path: Path, conflict: str) -> None:
    old = _task_file(ctx, tmp_path, "old.txt", "old")
    new = _task_file(ctx, tmp_path, "new.txt", "new")
    first = make(namespacefiles.UploadFiles, namespace="company.team", files={"f.txt": old})
    namespacefiles.run_upload(first, ctx)
    again = make(
        namespacefiles.UploadFiles,
        namespace="company.team",
        files={"f.txt": new},
        conflict=conflict,
    )
    if conflict == "ERROR":
        with pytest.raises(InputError, match="exists"):
            namespacefiles.run_upload(again, ctx)
        return
    namespacefiles.run_upload(again, ctx)
    assert _namespace_paths(ctx) == {"f.txt": "new" if conflict == "OVERWRITE" else "old"}


def test_download_and_delete_files(ctx: LocalTaskContext, tmp_path: Path) -> None:
    uri = _task_file(ctx, tmp_path, "a.txt", "A")
    upload = make(
        namespacefiles.UploadFiles,
        namespace="company",
        files={"/q/a.sql": uri, "/q/b.sql": uri, "/readme.md": uri},
    )
    namespacefiles.run_upload(upload, ctx)
    down = namespacefiles.run_download(
        make(namespacefiles.DownloadFiles, namespace="company", files=["q/**"]), ctx
    ).outputs["files"]
    assert sorted(down) == ["/q/a.sql", "/q/b.sql"]
    assert all(_read(ctx, u) == "A" for u in down.values())
    assert "/executions/" in down["/q/a.sql"]  # this task run's files now
    gone = namespacefiles.run_delete(
        make(namespacefiles.DeleteFiles, namespace="company", files="**.sql"), ctx
    ).outputs["files"]
    assert sorted(gone) == ["/q/a.sql", "/q/b.sql"]
    assert list(_namespace_paths(ctx, "company")) == ["readme.md"]


def test_download_files_of_another_namespace_branch_is_refused(ctx: LocalTaskContext) -> None:
    with pytest.raises(InputError, match="may read"):
        namespacefiles.run_download(
            make(namespacefiles.DownloadFiles, namespace="other", files="**"), ctx
        )
