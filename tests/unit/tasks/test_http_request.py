"""io.kestra.plugin.core.http.Request against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from lanner.expr import taint
from lanner.model.states import State
from lanner.plugin import TaskRegistry
from lanner.storage import LocalStorage
from lanner.storage.uris import StorageUriError
from lanner.tasks.http.request import Request, run_request
from tests.support.http_origin import HttpOrigin
from tests.support.task_context import LocalTaskContext

NAME = "io.kestra.plugin.core.http.Request"


@pytest.fixture(scope="module")
def origin() -> Iterator[HttpOrigin]:
    with HttpOrigin() as server:
        yield server


def make(**props: Any) -> Request:
    return Request.model_validate({"id": "call", "type": NAME, **props})


def echo(outcome: Any) -> dict[str, Any]:
    assert outcome.state is State.SUCCESS, outcome.error
    doc: dict[str, Any] = json.loads(outcome.outputs["body"])
    return doc


# --- names and validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [NAME, "io.kestra.plugin.fs.http.Request", "io.kestra.core.tasks.http.Request"]
)
def test_request_is_registered_under_its_names(name: str) -> None:
    registry = TaskRegistry.from_entry_points()
    found = registry.get(name)
    assert found is not None and found.name == NAME


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"uri": "ftp://host/x"}, "absolute http:// or https:// URL"),
        ({"uri": "/relative"}, "absolute http:// or https:// URL"),
        ({"uri": "http://h", "method": "FETCH"}, "method must be one of"),
        ({"uri": "http://h", "method": "CONNECT"}, "not supported here"),
        ({"uri": "http://h", "params": {"a": 1}}, "params"),
        ({"uri": "http://h", "options": {"auth": {"type": "NTLM"}}}, "NTLM"),
        ({"uri": "http://h", "options": {"connectTimeout": "soon"}}, "ISO-8601"),
        ({"uri": "http://h", "options": {"logs": ["EVERYTHING"]}}, "REQUEST_HEADERS"),
        ({"uri": "http://h", "options": {"allowedResponseCodes": "200"}}, "list of response"),
    ],
)
def test_request_bad_properties_are_rejected_at_load(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        make(**props)
    assert message in str(info.value)


def test_request_method_is_case_insensitive_and_dynamic_values_wait() -> None:
    assert make(uri="http://h", method="post").method == "POST"
    assert make(uri="{{ inputs.url }}", method="{{ inputs.m }}").uri == "{{ inputs.url }}"


# --- the request ---------------------------------------------------------------------------------


def test_request_get_outputs_code_headers_body_and_uri(origin: HttpOrigin) -> None:
    outcome = run_request(make(uri=origin.url + "/status/200"), LocalTaskContext())
    assert outcome.state is State.SUCCESS
    assert outcome.outputs["code"] == 200
    assert outcome.outputs["body"] == "status 200"
    assert outcome.outputs["uri"] == origin.url + "/status/200"
    assert outcome.outputs["headers"]["Content-Type"] == ["text/plain"]
    assert "encryptedBody" not in outcome.outputs


def test_request_body_is_sent_with_content_type_and_charset(origin: HttpOrigin) -> None:
    task = make(
        uri=origin.url + "/echo",
        method="POST",
        body='{"title": "Kestra Pen"}',
        headers={"X-Trace": "{{ inputs.trace }}"},
    )
    doc = echo(run_request(task, LocalTaskContext({"inputs": {"trace": "t-1"}})))
    assert doc["method"] == "POST"
    assert doc["body"] == '{"title": "Kestra Pen"}'
    assert doc["headers"]["content-type"] == "application/json; charset=UTF-8"
    assert doc["headers"]["x-trace"] == "t-1"


def test_request_body_in_another_charset(origin: HttpOrigin) -> None:
    task = make(
        uri=origin.url + "/echo",
        method="PUT",
        body="café",
        contentType="text/plain",
        options={"defaultCharset": "ISO-8859-1"},
    )
    run_request(task, LocalTaskContext())
    seen = origin.requests[-1]
    assert seen.body == "café".encode("latin-1")
    assert seen.headers["content-type"] == "text/plain; charset=ISO-8859-1"


def test_request_headers_win_over_content_type(origin: HttpOrigin) -> None:
    task = make(uri=origin.url + "/echo", headers={"content-type": "text/csv"})
    doc = echo(run_request(task, LocalTaskContext()))
    assert doc["headers"]["content-type"] == "text/csv"


def test_request_without_body_still_sends_its_content_type(origin: HttpOrigin) -> None:
    doc = echo(run_request(make(uri=origin.url + "/echo"), LocalTaskContext()))
    assert doc["headers"]["content-type"] == "application/json"
    assert doc["body"] == ""


def test_request_url_encoded_form(origin: HttpOrigin) -> None:
    task = make(
        uri=origin.url + "/echo", method="POST", formData={"user": "Ada L", "n": 3, "ok": True}
    )
    doc = echo(run_request(task, LocalTaskContext()))
    assert doc["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert doc["body"] == "user=Ada+L&n=3&ok=true"


def test_request_multipart_form_with_files_from_storage(origin: HttpOrigin, tmp_path: Path) -> None:
    ctx = LocalTaskContext(storage=LocalStorage(tmp_path / "storage"))
    source = tmp_path / "orders.csv"
    source.write_text("id,total\n1,9.5\n")
    uri = ctx.put_file(source)
    task = make(
        uri=origin.url + "/echo",
        method="POST",
        contentType="multipart/form-data",
        formData={
            "user": "John Doe",
            "data": uri,
            "renamed": {"name": "my-file.txt", "content": uri},
            "meta": {"k": [1, 2]},
        },
    )
    doc = echo(run_request(task, ctx))
    assert doc["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    body = doc["body"]
    assert 'name="user"\r\n\r\nJohn Doe\r\n' in body
    assert 'name="data"; filename="orders.csv"' in body
    assert 'name="renamed"; filename="my-file.txt"' in body
    assert body.count("id,total\n1,9.5\n") == 2
    assert '{"k":[1,2]}' in body


def test_request_multipart_file_of_another_flow_is_refused(
    origin: HttpOrigin, tmp_path: Path
) -> None:
    task = make(
        uri=origin.url + "/echo",
        method="POST",
        contentType="multipart/form-data",
        formData={"f": "kestra:///other/ns/flow/executions/e/tasks/t/r/x.csv"},
    )
    before = len(origin.requests)
    with pytest.raises(StorageUriError, match="another flow"):
        run_request(task, LocalTaskContext(storage=LocalStorage(tmp_path)))
    assert len(origin.requests) == before


def test_request_follows_redirects_by_default(origin: HttpOrigin) -> None:
    outcome = run_request(make(uri=origin.url + "/redirect/3"), LocalTaskContext())
    assert outcome.outputs["code"] == 200 and outcome.outputs["body"] == "arrived"


def test_request_does_not_follow_redirects_when_told(origin: HttpOrigin) -> None:
    task = make(uri=origin.url + "/redirect/2", options={"followRedirects": False})
    outcome = run_request(task, LocalTaskContext())
    assert outcome.state is State.SUCCESS
    assert outcome.outputs["code"] == 302
    assert outcome.outputs["headers"]["Location"] == ["/redirect/1"]
    assert "body" not in outcome.outputs


def test_request_error_code_fails_with_the_code_and_an_excerpt(origin: HttpOrigin) -> None:
    outcome = run_request(make(uri=origin.url + "/status/503"), LocalTaskContext())
    assert outcome.state is State.FAILED
    assert "response code 503" in (outcome.error or "")
    assert "status 503" in (outcome.error or "")


def test_request_allow_failed_keeps_the_answer(origin: HttpOrigin) -> None:
    for task in (
        make(uri=origin.url + "/status/404", options={"allowFailed": True}),
        make(uri=origin.url + "/status/404", allowFailed=True),  # its deprecated place
    ):
        outcome = run_request(task, LocalTaskContext())
        assert outcome.state is State.SUCCESS
        assert outcome.outputs["code"] == 404 and outcome.outputs["body"] == "status 404"


def test_request_allowed_response_codes(origin: HttpOrigin) -> None:
    allowed = {"allowedResponseCodes": [200, 404]}
    ok = run_request(make(uri=origin.url + "/status/404", options=allowed), LocalTaskContext())
    assert ok.state is State.SUCCESS and ok.outputs["code"] == 404
    refused = run_request(make(uri=origin.url + "/status/201", options=allowed), LocalTaskContext())
    assert refused.state is State.FAILED
    assert "not in options.allowedResponseCodes [200, 404]" in (refused.error or "")


def test_request_basic_auth_and_its_deprecated_form(origin: HttpOrigin) -> None:
    url = origin.url + "/basic/ada/s3cret"
    for options in (
        {"auth": {"type": "BASIC", "username": "ada", "password": "{{ inputs.pw }}"}},
        {"basicAuthUser": "ada", "basicAuthPassword": "s3cret"},
    ):
        task = make(uri=url, options=options)
        outcome = run_request(task, LocalTaskContext({"inputs": {"pw": "s3cret"}}))
        assert outcome.outputs["body"] == "welcome ada", outcome.error
    wrong = make(uri=url, options={"auth": {"type": "BASIC", "username": "ada", "password": "x"}})
    outcome = run_request(wrong, LocalTaskContext())
    assert outcome.state is State.FAILED and "401" in (outcome.error or "")


def test_request_digest_auth(origin: HttpOrigin) -> None:
    auth = {"type": "DIGEST", "username": "ada", "password": "s3cret"}
    task = make(uri=origin.url + "/digest/ada/s3cret", options={"auth": auth})
    assert run_request(task, LocalTaskContext()).outputs["body"] == "welcome ada"
    wrong = make(uri=origin.url + "/digest/ada/other", options={"auth": auth})
    assert run_request(wrong, LocalTaskContext()).state is State.FAILED


def test_request_bearer_auth(origin: HttpOrigin) -> None:
    task = make(
        uri=origin.url + "/bearer/tok-123", options={"auth": {"type": "BEARER", "token": "tok-123"}}
    )
    assert run_request(task, LocalTaskContext()).outputs["body"] == "welcome"


def test_request_logs_never_show_credentials(origin: HttpOrigin) -> None:
    task = make(
        uri=origin.url + "/basic/ada/s3cret",
        options={
            "auth": {"type": "BASIC", "username": "ada", "password": "s3cret"},
            "logs": ["REQUEST_HEADERS", "RESPONSE_HEADERS", "RESPONSE_BODY"],
        },
    )
    ctx = LocalTaskContext()
    assert run_request(task, ctx).state is State.SUCCESS
    text = "\n".join(ctx.messages())
    assert "Authorization: ******" in text
    assert "YWRhOnMzY3JldA" not in text  # base64 of ada:s3cret
    assert "Response body:\nwelcome ada" in text


def test_request_read_timeout(origin: HttpOrigin) -> None:
    task = make(uri=origin.url + "/slow/5", options={"timeout": {"readIdleTimeout": "PT0.3S"}})
    started = time.monotonic()
    outcome = run_request(task, LocalTaskContext())
    assert outcome.state is State.FAILED
    assert "timed out" in (outcome.error or "") and "readIdleTimeout" in (outcome.error or "")
    assert time.monotonic() - started < 3


def test_request_deprecated_read_timeout_is_the_idle_timeout(origin: HttpOrigin) -> None:
    task = make(uri=origin.url + "/slow/5", options={"readTimeout": "PT0.2S"})
    assert "timed out" in (run_request(task, LocalTaskContext()).error or "")


def test_request_connection_refused(origin: HttpOrigin) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outcome = run_request(make(uri=f"http://127.0.0.1:{port}/x"), LocalTaskContext())
    assert outcome.state is State.FAILED and "cannot connect" in (outcome.error or "")


def test_request_kill_closes_the_connection_at_once(origin: HttpOrigin) -> None:
    ctx = LocalTaskContext()
    threading.Timer(0.3, ctx.cancel).start()
    started = time.monotonic()
    outcome = run_request(make(uri=origin.url + "/slow/10"), ctx)
    assert outcome.state is State.KILLED
    assert time.monotonic() - started < 3


def test_request_body_longer_than_max_content_length_fails(origin: HttpOrigin) -> None:
    task = make(uri=origin.url + "/bytes/5000", options={"maxContentLength": 1000})
    outcome = run_request(task, LocalTaskContext())
    assert outcome.state is State.FAILED
    assert "maxContentLength (1000 bytes)" in (outcome.error or "")
    assert "Download" in (outcome.error or "")


def test_request_body_in_its_declared_charset(origin: HttpOrigin) -> None:
    assert (
        run_request(make(uri=origin.url + "/latin1"), LocalTaskContext()).outputs["body"] == "café"
    )


def test_request_binary_body_fails_and_points_to_download(origin: HttpOrigin) -> None:
    outcome = run_request(make(uri=origin.url + "/binary"), LocalTaskContext())
    assert outcome.state is State.FAILED and "not valid utf-8 text" in (outcome.error or "")


def test_request_encrypt_body_gives_a_secret_encrypted_body(origin: HttpOrigin) -> None:
    taint.reset()
    try:
        task = make(
            uri=origin.url + "/status/200", encryptBody=True, options={"logs": ["RESPONSE_BODY"]}
        )
        ctx = LocalTaskContext()
        outcome = run_request(task, ctx)
        assert "body" not in outcome.outputs
        value = outcome.outputs["encryptedBody"]
        assert isinstance(value, taint.Secret) and value == "status 200"
        # Known as secret before it was logged: the runtime's masking hides it.
        assert [taint.mask(m) for m in ctx.messages("INFO")] == ["Response body:\n******"]
    finally:
        taint.reset()


def test_request_refused_code_with_a_cut_multibyte_body_still_fails_clearly(
    origin: HttpOrigin,
) -> None:
    outcome = run_request(
        make(uri=origin.url + "/binary", options={"allowedResponseCodes": [201]}),
        LocalTaskContext(),
    )
    assert outcome.state is State.FAILED and "response code 200" in (outcome.error or "")


def test_request_head_has_no_body(origin: HttpOrigin) -> None:
    outcome = run_request(make(uri=origin.url + "/status/200", method="HEAD"), LocalTaskContext())
    assert outcome.state is State.SUCCESS and "body" not in outcome.outputs


def test_request_uri_rendered_with_spaces_encoded(origin: HttpOrigin) -> None:
    task = make(uri=origin.url + "/echo/{{ inputs.name }}")
    doc = echo(run_request(task, LocalTaskContext({"inputs": {"name": "a b"}})))
    assert doc["path"] == "/echo/a%20b"


def test_request_rendered_uri_that_is_not_http_fails(origin: HttpOrigin) -> None:
    task = make(uri="{{ inputs.url }}")
    outcome = run_request(task, LocalTaskContext({"inputs": {"url": "file:///etc/passwd"}}))
    assert outcome.state is State.FAILED and "http:// or https://" in (outcome.error or "")


def test_request_through_an_http_proxy(origin: HttpOrigin) -> None:
    port = origin.url.rsplit(":", 1)[1]
    for options in (
        {"proxy": {"type": "HTTP", "address": "127.0.0.1", "port": port}},
        {"proxyAddress": "127.0.0.1", "proxyPort": int(port)},  # the deprecated names
    ):
        task = make(uri="http://example.invalid/data.json", options=options)
        outcome = run_request(task, LocalTaskContext())
        assert outcome.outputs["body"] == "proxied http://example.invalid/data.json"
    direct = make(
        uri=origin.url + "/status/200",
        options={"proxy": {"type": "DIRECT", "address": "127.0.0.1", "port": 1}},
    )
    assert run_request(direct, LocalTaskContext()).outputs["body"] == "status 200"


def test_request_https_self_signed_needs_insecure_trust(tmp_path: Path) -> None:
    with HttpOrigin(tls_folder=tmp_path) as secure:
        url = secure.url + "/status/200"
        refused = run_request(make(uri=url), LocalTaskContext())
        assert refused.state is State.FAILED and "CERTIFICATE_VERIFY_FAILED" in (
            refused.error or ""
        )
        for task in (
            make(uri=url, options={"ssl": {"insecureTrustAllCertificates": True}}),
            make(uri=url, sslOptions={"insecureTrustAllCertificates": True}),  # deprecated place
        ):
            assert run_request(task, LocalTaskContext()).outputs["body"] == "status 200"
