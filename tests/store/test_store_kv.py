"""The KV store contract (docs/kv.md), on both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from lanner.expr import taint
from lanner.expr.sealing import keyring
from lanner.model.kvtypes import KVEntry, KVType
from lanner.store import postgressql, sqlitesql
from lanner.store.base import Store
from tests.store.conftest import NOW

LATER = NOW + dt.timedelta(hours=1)


def _pair(key: str, value: object, namespace: str = "company.team", **fields: object) -> KVEntry:
    kind = fields.pop("type", KVType.STRING)
    return KVEntry(namespace, key, kind, value, **fields)  # type: ignore[arg-type]


def test_a_pair_reads_back_with_its_type_and_description(store: Store) -> None:
    value = {"a": [1, 2.5, True, None], "b": "é"}
    assert store.kv_put(_pair("doc", value, type=KVType.JSON, description="a map"), NOW)
    found = store.kv_get("company.team", "doc", NOW)
    assert found is not None
    assert (found.type, found.value, found.description) == (KVType.JSON, value, "a map")
    assert found.updated_at == NOW and found.expires_at is None


def test_types_keep_their_json_value(store: Store) -> None:
    for key, kind, value in [
        ("s", KVType.STRING, "text"),
        ("n", KVType.NUMBER, 42),
        ("f", KVType.NUMBER, 1.5),
        ("b", KVType.BOOLEAN, False),
        ("dt", KVType.DATETIME, "2025-01-02T03:04:05+00:00"),
        ("d", KVType.DATE, "2025-01-02"),
        ("du", KVType.DURATION, "PT1M30S"),
    ]:
        store.kv_put(_pair(key, value, type=kind), NOW)
        found = store.kv_get("company.team", key, NOW)
        assert found is not None and (found.type, found.value) == (kind, value)


def test_a_pair_belongs_to_its_namespace_only(store: Store) -> None:
    store.kv_put(_pair("k", "parent", namespace="company"), NOW)
    assert store.kv_get("company.team", "k", NOW) is None
    assert store.kv_get("company", "k", NOW) is not None


def test_overwrite_replaces_and_no_overwrite_keeps_a_live_pair(store: Store) -> None:
    assert store.kv_put(_pair("k", "one"), NOW)
    assert store.kv_put(_pair("k", "two"), LATER)
    assert not store.kv_put(_pair("k", "three"), LATER, overwrite=False)
    found = store.kv_get("company.team", "k", LATER)
    assert found is not None and found.value == "two" and found.updated_at == LATER
    assert store.kv_put(_pair("new", "x"), NOW, overwrite=False)


def test_an_expired_pair_reads_as_missing_and_may_be_created_again(store: Store) -> None:
    store.kv_put(_pair("t", "old", expires_at=NOW + dt.timedelta(seconds=5)), NOW)
    assert store.kv_get("company.team", "t", NOW + dt.timedelta(seconds=4)) is not None
    gone = NOW + dt.timedelta(seconds=5)
    assert store.kv_get("company.team", "t", gone) is None
    assert [e.key for e in store.kv_list("company.team", gone)] == []
    assert store.kv_put(_pair("t", "new"), gone, overwrite=False)
    found = store.kv_get("company.team", "t", gone)
    assert found is not None and found.value == "new" and found.expires_at is None


def test_list_is_by_key_and_skips_expired_pairs(store: Store) -> None:
    store.kv_put(_pair("b", 1, type=KVType.NUMBER), NOW)
    store.kv_put(_pair("a", 2, type=KVType.NUMBER), NOW)
    store.kv_put(_pair("c", 3, type=KVType.NUMBER, expires_at=NOW), NOW)
    store.kv_put(_pair("z", 4, type=KVType.NUMBER, namespace="other"), NOW)
    assert [(e.key, e.value) for e in store.kv_list("company.team", NOW)] == [("a", 2), ("b", 1)]


def test_delete_says_whether_a_live_pair_was_there(store: Store) -> None:
    store.kv_put(_pair("k", "v"), NOW)
    store.kv_put(_pair("old", "v", expires_at=NOW), NOW)
    assert store.kv_delete("company.team", "k", NOW)
    assert not store.kv_delete("company.team", "k", NOW)
    assert not store.kv_delete("company.team", "old", NOW)  # expired: as if missing
    assert store.kv_index() == []


def test_purges_delete_expired_pairs_and_keep_the_others(store: Store) -> None:
    store.kv_put(_pair("live", "v", expires_at=LATER), NOW)
    store.kv_put(_pair("dead", "v", expires_at=NOW), NOW)
    store.kv_put(_pair("kept", "v"), NOW)
    assert store.kv_purge_expired(NOW) == 1
    assert [k for _, k, _ in store.kv_index()] == ["kept", "live"]
    pairs = [("company.team", "kept"), ("company.team", "live")]
    assert store.kv_delete_many(pairs, expired_at=NOW) == 0  # neither expired at NOW
    assert store.kv_delete_many(pairs, expired_at=LATER) == 1
    assert store.kv_delete_many(pairs) == 1
    assert store.kv_index() == []


def test_index_lists_every_pair_with_its_expiry(store: Store) -> None:
    store.kv_put(_pair("k", "v", expires_at=NOW), NOW)
    store.kv_put(_pair("k", "v", namespace="a"), NOW)
    assert store.kv_index() == [("a", "k", None), ("company.team", "k", NOW)]


@pytest.fixture
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LANNER_HOME", str(tmp_path / "home"))
    keyring.configure(None)
    yield
    keyring.configure(None)


def _stored(store_url: str, tmp_path: Path) -> bytes:
    if store_url.startswith("sqlite"):
        return b"".join(p.read_bytes() for p in tmp_path.glob("lanner.db*"))
    with psycopg.connect(store_url) as conn:
        return "\n".join(r[0] for r in conn.execute("SELECT t::text FROM kv t")).encode()


def test_a_secret_value_is_sealed_at_rest_and_comes_back_tainted(
    store: Store, store_url: str, tmp_path: Path, key: None
) -> None:
    secret = taint.mark("kv-Secret-Value-1234")
    store.kv_put(_pair("token", secret), NOW)
    store.kv_put(
        _pair("doc", taint.taint({"nested": "kv-Secret-Value-1234"}), type=KVType.JSON), NOW
    )
    assert b"kv-Secret-Value-1234" not in _stored(store_url, tmp_path)
    found = store.kv_get("company.team", "token", NOW)
    assert found is not None and isinstance(found.value, taint.Secret)
    assert str.__str__(found.value) == "kv-Secret-Value-1234"
    doc = store.kv_get("company.team", "doc", NOW)
    assert doc is not None and taint.tainted(doc.value)
    assert taint.shown(doc.value) == {"nested": "******"}


def test_the_attempt_that_wrote_a_pair_may_write_it_again(store: Store) -> None:
    # A resubmitted Set (overwrite false) whose first run's write was committed
    # before its worker was lost finds its own write, not someone else's.
    assert store.kv_put(_pair("k", "v"), NOW, overwrite=False, writer="run1:1")
    assert store.kv_put(_pair("k", "v"), LATER, overwrite=False, writer="run1:1")
    assert not store.kv_put(_pair("k", "w"), LATER, overwrite=False, writer="run2:1")
    assert not store.kv_put(_pair("k", "w"), LATER, overwrite=False)
    found = store.kv_get("company.team", "k", LATER)
    assert found is not None and found.value == "v" and found.updated_at == LATER


def test_the_kv_statements_differ_only_by_their_placeholder() -> None:
    lite, pg = vars(sqlitesql.SQL.kv), vars(postgressql.SQL.kv)
    assert lite.keys() == pg.keys() and len(lite) >= 8
    for name, text in lite.items():
        assert "%" not in text and pg[name] == text.replace("?", "%s"), name
