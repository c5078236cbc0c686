"""kv(key, namespace?, errorOnMissing?): the KV store read through the scope (docs/kv.md)."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.expr import ExpressionEngine, RenderError, Scope, taint
from tests.unit.expr.conftest import NOW

STORE: dict[tuple[str, str], Any] = {
    ("company.team", "own"): "team value",
    ("company", "parent_only"): "from company",
    ("company", "own"): "shadowed",
    ("company.team", "n"): 42,
    ("company.team", "doc"): {"a": [1, 2]},
    ("other", "x"): "other value",
}


def _scope(reads: list[tuple[str, str]] | None = None, **fields: Any) -> Scope:
    def lookup(namespace: str, key: str) -> Any:
        if reads is not None:
            reads.append((namespace, key))
        return STORE.get((namespace, key))

    variables = {"flow": {"id": "f", "namespace": "company.team"}}
    return Scope(variables=variables, now=NOW, kv=lookup, **fields)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ kv('own') }}", "team value"),
        ("{{ kv('n') + 1 }}", "43"),
        ("{{ kv('doc').a[1] }}", "2"),
        ("{{ kv('x', 'other') }}", "other value"),
        ("{{ kv('x', namespace='other') }}", "other value"),
        ("{{ kv('nope', errorOnMissing=false) is null }}", "true"),
        ("{{ kv('nope', 'other', false) ?? 'dflt' }}", "dflt"),
        # The flow's namespace inherits from its parents, nearest first.
        ("{{ kv('parent_only') }}", "from company"),
    ],
)
def test_kv_reads_the_store(engine: ExpressionEngine, template: str, expected: str) -> None:
    assert engine.render(template, _scope()) == expected


def test_an_explicit_namespace_is_read_alone(engine: ExpressionEngine) -> None:
    reads: list[tuple[str, str]] = []
    with pytest.raises(RenderError, match=r"'parent_only' does not exist in the namespace 'a\.b'"):
        engine.render("{{ kv('parent_only', 'a.b') }}", _scope(reads))
    # Even the flow's own namespace, named, is read without its parents (as in Kestra).
    template = "{{ kv('parent_only', 'company.team', false) is null }}"
    assert engine.render(template, _scope(reads)) == "true"
    assert reads == [("a.b", "parent_only"), ("company.team", "parent_only")]


def test_a_missing_key_fails_by_default_after_the_whole_lineage(engine: ExpressionEngine) -> None:
    reads: list[tuple[str, str]] = []
    with pytest.raises(
        RenderError, match=r"'nope' does not exist in the namespace 'company\.team'"
    ):
        engine.render("{{ kv('nope') }}", _scope(reads))
    assert reads == [("company.team", "nope"), ("company", "nope")]


def test_kv_without_a_reader_says_where_it_works(engine: ExpressionEngine) -> None:
    scope = Scope(variables={"flow": {"namespace": "a"}}, now=NOW)
    with pytest.raises(RenderError, match=r"kv\(\) is not available here"):
        engine.render("{{ kv('k') }}", scope)


def test_a_secret_value_stays_tainted_and_reaches_the_masker(engine: ExpressionEngine) -> None:
    secret = taint.mark("kv-secret-abcdef")
    seen: list[str] = []
    variables = {"flow": {"namespace": "ns"}}
    scope = Scope(variables=variables, now=NOW, kv=lambda ns, k: secret, on_secret=seen.append)
    out = engine.render("{{ kv('token') | upper }}", scope)
    assert isinstance(out, taint.Secret) and out == "KV-SECRET-ABCDEF"
    assert seen == ["kv-secret-abcdef"]
