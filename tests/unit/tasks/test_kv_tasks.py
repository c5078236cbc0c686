"""The KV task types (io.kestra.plugin.core.kv.*) over a real SQLite store (docs/kv.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from lanner.errors import InputError, NotFoundError
from lanner.model.kvtypes import KVType
from lanner.model.task import Task
from lanner.runtime.kvaccess import StoreKV
from lanner.store import open_store
from lanner.store.base import Store
from lanner.tasks.core import kv as kvtasks
from tests.support.task_context import LocalTaskContext

START = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves by hand (the store takes `now` as an argument)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite://{tmp_path / 'lanner.db'}")
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(store: Store, clock: Clock) -> LocalTaskContext:
    return LocalTaskContext(kv=StoreKV(store, "company.team", clock))


def make(model: type[Task], **props: Any) -> Any:
    return model.model_validate({"id": "t1", "type": "any", **props})


def _set(ctx: LocalTaskContext, **props: Any) -> None:
    assert kvtasks.run_set(make(kvtasks.SetKV, **props), ctx).outputs == {}


def _get(ctx: LocalTaskContext, **props: Any) -> Any:
    return kvtasks.run_get(make(kvtasks.GetKV, **props), ctx).outputs["value"]


@pytest.mark.parametrize(
    ("value", "kv_type", "stored", "expected_type"),
    [
        ("text", None, "text", KVType.STRING),
        (42, None, 42, KVType.NUMBER),
        ("42", "NUMBER", 42, KVType.NUMBER),
        ("2.5", "NUMBER", 2.5, KVType.NUMBER),
        ("true", "BOOLEAN", True, KVType.BOOLEAN),
        (False, None, False, KVType.BOOLEAN),
        ("2025-01-02T03:04:05Z", "DATETIME", "2025-01-02T03:04:05+00:00", KVType.DATETIME),
        ("2025-01-02T03:04:05", "DATETIME", "2025-01-02T03:04:05+00:00", KVType.DATETIME),
        ("2025-01-02", "DATE", "2025-01-02", KVType.DATE),
        ("PT90S", "DURATION", "PT1M30S", KVType.DURATION),
        ('{"a": [1, 2]}', "JSON", {"a": [1, 2]}, KVType.JSON),
        ({"a": 1}, None, {"a": 1}, KVType.JSON),
        (7, "STRING", "7", KVType.STRING),
    ],
)
def test_set_stores_the_value_as_its_type(
    ctx: LocalTaskContext,
    store: Store,
    value: Any,
    kv_type: str | None,
    stored: Any,
    expected_type: KVType,
) -> None:
    props: dict[str, Any] = {"key": "k", "value": value}
    if kv_type is not None:
        props["kvType"] = kv_type
    _set(ctx, **props)
    entry = store.kv_get("company.team", "k", START)
    assert entry is not None and (entry.type, entry.value) == (expected_type, stored)
    assert _get(ctx, key="k") == stored


@pytest.mark.parametrize(
    ("value", "kv_type", "message"),
    [
        ("abc", "NUMBER", "'abc' is not a number"),
        ("yes", "BOOLEAN", "is not a boolean"),
        ("noon", "DATETIME", "not an ISO-8601 date-time"),
        ("{bad", "JSON", "the value is not JSON"),
        ("1d", "DURATION", "not an ISO-8601 duration"),
    ],
)
def test_a_value_that_is_not_its_type_fails_the_task(
    ctx: LocalTaskContext, value: str, kv_type: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        _set(ctx, key="k", value=value, kvType=kv_type)


def test_overwrite_false_fails_when_the_key_exists(ctx: LocalTaskContext) -> None:
    _set(ctx, key="k", value="one")
    with pytest.raises(InputError, match=r"already exists in the namespace 'company\.team'"):
        _set(ctx, key="k", value="two", overwrite=False)
    _set(ctx, key="k", value="three")
    assert _get(ctx, key="k") == "three"


def test_ttl_expires_the_pair(ctx: LocalTaskContext, store: Store, clock: Clock) -> None:
    _set(ctx, key="k", value="v", ttl="PT10M", kvDescription="short-lived")
    entry = store.kv_get("company.team", "k", START)
    assert entry is not None and entry.expires_at == START + dt.timedelta(minutes=10)
    assert entry.description == "short-lived"
    clock.now = START + dt.timedelta(minutes=10)
    assert _get(ctx, key="k") is None
    with pytest.raises(NotFoundError, match="'k' does not exist"):
        _get(ctx, key="k", errorOnMissing=True)
    _set(ctx, key="k", value="again", overwrite=False)  # an expired key is free
    assert _get(ctx, key="k") == "again"


def test_get_of_the_flow_namespace_inherits_from_parents(
    ctx: LocalTaskContext, store: Store
) -> None:
    _set(ctx, key="shared", value="from company", namespace="company")
    _set(ctx, key="mine", value="from team")
    assert _get(ctx, key="shared") == "from company"
    assert _get(ctx, key="mine") == "from team"
    assert _get(ctx, key="mine", namespace="company") is None  # another namespace: alone


def test_delete_says_whether_it_deleted(ctx: LocalTaskContext) -> None:
    _set(ctx, key="k", value="v", namespace="dev")
    delete = make(kvtasks.DeleteKV, key="k", namespace="dev")
    assert kvtasks.run_delete(delete, ctx).outputs == {"deleted": True}
    assert kvtasks.run_delete(delete, ctx).outputs == {"deleted": False}
    strict = make(kvtasks.DeleteKV, key="k", namespace="dev", errorOnMissing=True)
    with pytest.raises(NotFoundError):
        kvtasks.run_delete(strict, ctx)


def test_get_keys_lists_a_namespace_by_prefix(ctx: LocalTaskContext) -> None:
    for key in ("my_var", "my_other", "unrelated"):
        _set(ctx, key=key, value="v")
    _set(ctx, key="my_parent", value="v", namespace="company")
    keys = kvtasks.run_get_keys(make(kvtasks.GetKeys, prefix="my_"), ctx).outputs
    assert keys == {"keys": ["my_other", "my_var"]}
    every = kvtasks.run_get_keys(make(kvtasks.GetKeys), ctx).outputs["keys"]
    assert every == ["my_other", "my_var", "unrelated"]


def test_purge_kv_deletes_expired_pairs_of_the_chosen_namespaces(
    ctx: LocalTaskContext, store: Store, clock: Clock
) -> None:
    for namespace in ("company", "company.team", "other"):
        _set(ctx, key="old", value="v", ttl="PT1S", namespace=namespace)
        _set(ctx, key="AI_keep", value="v", namespace=namespace)
    clock.now = START + dt.timedelta(seconds=2)
    purge = make(kvtasks.PurgeKV, namespaces=["company"])
    assert kvtasks.run_purge_kv(purge, ctx).outputs == {"size": 2}
    assert [(n, k) for n, k, _ in store.kv_index()] == [
        ("company", "AI_keep"),
        ("company.team", "AI_keep"),
        ("other", "AI_keep"),
        ("other", "old"),
    ]
    no_children = make(
        kvtasks.PurgeKV, namespaces=["company"], includeChildNamespaces=False, expiredOnly=False
    )
    assert kvtasks.run_purge_kv(no_children, ctx).outputs == {"size": 1}
    pattern = make(kvtasks.PurgeKV, keyPattern="AI_*", behavior={"expiredOnly": False})
    assert kvtasks.run_purge_kv(pattern, ctx).outputs == {"size": 2}
    by_glob = make(kvtasks.PurgeKV, namespacePattern="oth*")
    assert kvtasks.run_purge_kv(by_glob, ctx).outputs == {"size": 1}
    assert store.kv_index() == []


@pytest.mark.parametrize(
    ("model", "props", "message"),
    [
        (kvtasks.SetKV, {"key": "k", "value": "v", "kvType": "TEXT"}, "kvType must be one of"),
        (kvtasks.SetKV, {"key": "k"}, "value"),
        (kvtasks.SetKV, {"key": "k", "value": "v", "ttl": "10 minutes"}, "ISO-8601 duration"),
        (kvtasks.GetKV, {"key": "k", "errorOnMissing": "maybe"}, "expected true, false"),
        (
            kvtasks.PurgeKV,
            {"namespaces": ["a"], "namespacePattern": "a*"},
            "either namespaces or namespacePattern",
        ),
        (kvtasks.PurgeKV, {"behavior": {"type": "version"}}, "behavior.type"),
        (kvtasks.GetKeys, {"prefix": "a", "limit": 3}, "limit"),
    ],
)
def test_bad_properties_are_refused_at_load(
    model: type[Task], props: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        make(model, **props)


def test_a_bad_key_fails_with_what_a_key_may_hold(ctx: LocalTaskContext) -> None:
    with pytest.raises(InputError, match="invalid KV key 'a b'"):
        _set(ctx, key="a b", value="v")
