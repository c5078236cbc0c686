"""Taint: what is computed from secret() stays secret, through every expression."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest

from lanner.errors import SecretUnavailableError
from lanner.expr import ExpressionEngine, Scope
from lanner.expr.secrets import MASK
from lanner.expr.taint import KNOWN, Sealed, Secret, TaintedList, mark, mask, shown, tainted

NOW = dt.datetime(2025, 1, 2, 10, 30, 15, tzinfo=dt.UTC)
SECRET = "sup3r-S3cret-Value-42"
JSON_SECRET = '{"user": "bob", "pw": "hunter-twenty-two"}'
SECRETS = {"X": SECRET, "J": JSON_SECRET}

# Each expression, printed as `{{ expression }}`, is computed from the secret.
TRANSFORMATIONS = [
    "secret('X')",
    "secret('X') | reverse",
    "secret('X')[2:12]",
    "secret('X')[:9]",
    "secret('X') | substringAfter('-')",
    "secret('X') | substringBefore('-V')",
    "secret('X') | split('-') | join('+')",
    "secret('X') | capitalize",
    "secret('X') | title",
    "secret('X') | upper",
    "secret('X') | lower",
    "secret('X') | replace({'-': '_'})",
    "secret('X') | slugify",
    "secret('X') | abbreviate(12)",
    "secret('X') | base64encode | base64encode",
    "secret('X') | urlencode | urlencode",
    "secret('X') | jq('explode')",
    "secret('X') | jq('ascii_downcase')",
    "secret('X') | trim | default('none')",
    "'Bearer ' ~ secret('X') ~ '!'",
    "'prefix:' + secret('X')",
    "secret('J', null, 'pw')",
    "fromJson(secret('J')).pw | upper",
    "[secret('X'), 'other']",
    "{'k': secret('X')} | toJson",
    "secret('X') | split('-V') | last | reverse",
    "render(secret('X') | reverse)",
    "(secret('X') | split('-'))[1]",
]


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return ExpressionEngine()


def _scope(variables: dict[str, object] | None = None) -> Scope:
    return Scope(variables or {}, NOW, secrets=SECRETS.__getitem__)


def _plain(text: str) -> str:
    return str.__str__(text)


@pytest.mark.parametrize("expression", TRANSFORMATIONS)
def test_every_transformation_of_a_secret_is_tainted(
    engine: ExpressionEngine, expression: str
) -> None:
    rendered = engine.render("{{ " + expression + " }}", _scope())
    assert isinstance(rendered, Secret), expression
    assert len(rendered) >= 4
    assert shown(rendered) == MASK


@pytest.mark.parametrize("expression", TRANSFORMATIONS)
def test_a_transformation_logged_inside_a_line_is_masked(
    engine: ExpressionEngine, expression: str
) -> None:
    rendered = engine.render("{{ " + expression + " }}", _scope())
    line = f"the value is {_plain(rendered)} here"
    assert mask(line) != line
    assert _plain(rendered) not in mask(line)


def test_a_concatenation_masks_its_secret_part_only(engine: ExpressionEngine) -> None:
    rendered = engine.render("{{ 'Bearer ' ~ secret('X') }}", _scope())
    assert mask(_plain(rendered)) == f"Bearer {MASK}"


def test_hashes_and_non_strings_are_not_secrets(engine: ExpressionEngine) -> None:
    digest = engine.render("{{ secret('X') | sha256 }}", _scope())
    assert not isinstance(digest, Secret)
    assert digest == hashlib.sha256(SECRET.encode()).hexdigest()
    assert engine.render("{{ secret('X') | length }}", _scope()) == str(len(SECRET))
    assert engine.render("{{ secret('X') == 'x' ? 'yes' : 'no' }}", _scope()) == "no"
    assert engine.evaluate("secret('X') | startsWith('sup')", _scope()) is True


def test_short_strings_are_never_masked(engine: ExpressionEngine) -> None:
    rendered = engine.render("{{ secret('X')[0:3] }}", _scope())
    assert isinstance(rendered, Secret)
    assert shown(rendered) == "sup"
    assert mask(mark("abc")) == "abc"


def test_tainted_values_from_the_scope_stay_tainted(engine: ExpressionEngine) -> None:
    scope = _scope({"outputs": {"t": {"value": mark("from-a-previous-task")}}})
    rendered = engine.render("{{ outputs.t.value | reverse }}", scope)
    assert isinstance(rendered, Secret)
    listed = engine.evaluate("outputs.t.value | split('-')", scope)
    assert isinstance(listed, TaintedList)
    assert all(isinstance(v, Secret) for v in listed)


def test_a_plain_render_is_not_tainted(engine: ExpressionEngine) -> None:
    rendered = engine.render("{{ 'hello' | upper }} {{ [1, 2] }}", _scope())
    assert type(rendered) is str


def test_print_context_holding_a_known_secret_is_tainted(engine: ExpressionEngine) -> None:
    scope = _scope({"inputs": {"pw": mark("printed-whole-context")}})
    assert isinstance(engine.render("{{ printContext() }}", scope), Secret)


def test_a_sealed_value_fails_the_render_that_reads_it(engine: ExpressionEngine) -> None:
    sealed = Sealed("token", "no key to decrypt it")
    scope = _scope({"outputs": {"t": {"value": sealed}, "l": [sealed]}})
    for template in ("{{ outputs.t.value }}", "{{ outputs.l[0] }}", "{{ outputs.t }}"):
        with pytest.raises(SecretUnavailableError, match="no key to decrypt it"):
            engine.render(template, scope)
    assert shown(sealed) == MASK


def test_repr_never_shows_the_value() -> None:
    assert SECRET not in repr(mark(SECRET))
    assert SECRET not in f"{[mark(SECRET)]}"


def test_secret_forms_are_known_for_masking(engine: ExpressionEngine) -> None:
    engine.render("{{ secret('X') }}", _scope())
    encoded = base64.b64encode(SECRET.encode()).decode()
    assert KNOWN.mask(f"x {encoded} y") == f"x {MASK} y"
    assert tainted({"a": [mark(SECRET)]})
    assert not tainted({"a": [SECRET]})
