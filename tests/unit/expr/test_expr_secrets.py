"""Secrets: SECRET_<KEY> resolution and masking with transformations."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse

import pytest

from lanner.expr import RenderError, SecretMasker, env_secrets

SECRET = 'p@ss W/"ord'


def test_env_secrets_case_insensitive_base64() -> None:
    resolve = env_secrets({"SECRET_MY_KEY": base64.b64encode(b"value").decode(), "OTHER": "x"})
    assert resolve("my_key") == "value"
    assert resolve("MY_KEY") == "value"
    with pytest.raises(RenderError, match=r"Cannot find secret for key 'OTHER'\."):
        resolve("OTHER")


def test_env_secrets_invalid_base64() -> None:
    with pytest.raises(RenderError, match="not valid base64"):
        env_secrets({"SECRET_BAD": "@@@"})("bad")


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        SECRET.upper(),
        SECRET.lower(),
        base64.b64encode(SECRET.encode()).decode(),
        urllib.parse.quote(SECRET, safe=""),
        urllib.parse.quote_plus(SECRET),
        json.dumps(SECRET)[1:-1],
    ],
)
def test_mask_transformations(form: str) -> None:
    masker = SecretMasker()
    masker.add(SECRET)
    assert masker.mask(f"before {form} after") == "before ****** after"


def test_mask_longest_first_and_values() -> None:
    masker = SecretMasker()
    masker.add("abcd")
    masker.add("abcdefg")
    assert masker.mask("xabcdefgx abcd") == "x******x ******"
    value = {"k abcd": ["abcd", 1, None, {"n": "ABCD"}]}
    assert masker.mask_value(value) == {"k ******": ["******", 1, None, {"n": "******"}]}


def test_short_secrets_are_not_masked() -> None:
    masker = SecretMasker()
    masker.add("abc")
    assert masker.mask("abcabc") == "abcabc"


def test_masker_thread_safe() -> None:
    masker = SecretMasker()
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            secret = f"secret-{i:04d}"
            masker.add(secret)
            assert masker.mask(f"x {secret} y") == "x ****** y"
        except BaseException as exc:  # collected for the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
