"""io.kestra.plugin.core.http.Download against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from lanner.model.states import State
from lanner.plugin import TaskRegistry
from lanner.storage import LocalStorage
from lanner.tasks.http.download import Download, name_from_disposition, run_download, safe_name
from tests.support.http_origin import PATTERN, HttpOrigin
from tests.support.task_context import LocalTaskContext

NAME = "io.kestra.plugin.core.http.Download"


@pytest.fixture(scope="module")
def origin() -> Iterator[HttpOrigin]:
    with HttpOrigin() as server:
        yield server


@pytest.fixture
def ctx(tmp_path: Path) -> LocalTaskContext:
    return LocalTaskContext(storage=LocalStorage(tmp_path / "storage"))


def make(**props: Any) -> Download:
    return Download.model_validate({"id": "fetch", "type": NAME, **props})


def stored(ctx: LocalTaskContext, uri: str) -> bytes:
    with ctx.open_file(uri) as f:
        return f.read()


@pytest.mark.parametrize(
    "name", [NAME, "io.kestra.plugin.fs.http.Download", "io.kestra.core.tasks.http.Download"]
)
def test_download_is_registered_under_its_names(name: str) -> None:
    found = TaskRegistry.from_entry_points().get(name)
    assert found is not None and found.name == NAME


def test_download_stores_the_body_and_outputs_uri_code_length_headers(
    origin: HttpOrigin, ctx: LocalTaskContext
) -> None:
    outcome = run_download(make(uri=origin.url + "/bytes/300000"), ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    out = outcome.outputs
    assert out["code"] == 200 and out["length"] == 300000
    assert out["headers"]["Content-Length"] == ["300000"]
    assert out["uri"] == (
        "kestra:///company/team/flow/executions/exec-1/tasks/task/taskrun-1/300000"
    )
    data = stored(ctx, out["uri"])
    assert data == (PATTERN * 5)[:300000]


@pytest.mark.parametrize(
    ("disposition", "name"),
    [
        ('attachment; filename="orders.csv"', "orders.csv"),
        ("attachment; filename=plain.txt", "plain.txt"),
        ("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", "r_sum_.pdf"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="..\\\\windows\\\\evil.bat"', "evil.bat"),
        ('attachment; filename=".."', "named"),  # nothing usable: the URL's name
        ("inline", "named"),
    ],
)
def test_download_file_name_from_content_disposition_sanitised(
    origin: HttpOrigin, ctx: LocalTaskContext, disposition: str, name: str
) -> None:
    outcome = run_download(make(uri=f"{origin.url}/named?cd={quote(disposition)}"), ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["uri"].rsplit("/", 1)[1] == name
    assert stored(ctx, outcome.outputs["uri"]) == b"named"


def test_download_save_as_wins_and_is_sanitised(origin: HttpOrigin, ctx: LocalTaskContext) -> None:
    url = f"{origin.url}/named?cd={quote('attachment; filename=a.csv')}"
    for save_as, name in (("report-{{ inputs.n }}.csv", "report-7.csv"), ("../x/y.txt", "y.txt")):
        ctx.variables["inputs"] = {"n": 7}
        outcome = run_download(make(uri=url, saveAs=save_as), ctx)
        assert outcome.outputs["uri"].rsplit("/", 1)[1] == name


def test_safe_name_and_disposition_parsing() -> None:
    assert safe_name("a b&c.csv") == "a_b_c.csv"
    assert safe_name("") is None and safe_name("...") is None and safe_name("/") is None
    assert len(safe_name("x" * 500 + ".csv") or "") == 200
    assert (safe_name("x" * 500 + ".csv") or "").endswith(".csv")
    assert (
        name_from_disposition("attachment; filename=\"a.csv\"; filename*=UTF-8''b.csv") == "b.csv"
    )
    assert name_from_disposition(None) is None


def test_download_follows_redirects_and_names_the_file_from_the_final_url(
    origin: HttpOrigin, ctx: LocalTaskContext
) -> None:
    outcome = run_download(make(uri=origin.url + "/redirect/2"), ctx)
    assert outcome.state is State.SUCCESS
    assert outcome.outputs["uri"].endswith("/0")
    assert stored(ctx, outcome.outputs["uri"]) == b"arrived"


def test_download_error_code_fails_and_stores_nothing(
    origin: HttpOrigin, ctx: LocalTaskContext, tmp_path: Path
) -> None:
    outcome = run_download(make(uri=origin.url + "/status/404"), ctx)
    assert outcome.state is State.FAILED
    assert "response code 404" in (outcome.error or "") and "status 404" in (outcome.error or "")
    assert not (tmp_path / "storage").exists() or not any((tmp_path / "storage").rglob("*.*"))


def test_download_allow_failed_stores_the_error_body(
    origin: HttpOrigin, ctx: LocalTaskContext
) -> None:
    outcome = run_download(make(uri=origin.url + "/status/500", options={"allowFailed": True}), ctx)
    assert outcome.state is State.SUCCESS and outcome.outputs["code"] == 500
    assert stored(ctx, outcome.outputs["uri"]) == b"status 500"


def test_download_empty_body_fails_by_default(origin: HttpOrigin, ctx: LocalTaskContext) -> None:
    outcome = run_download(make(uri=origin.url + "/empty"), ctx)
    assert outcome.state is State.FAILED
    assert "empty" in (outcome.error or "") and "failOnEmptyResponse" in (outcome.error or "")


@pytest.mark.parametrize(
    "props", [{"failOnEmptyResponse": False}, {"options": {"allowFailed": True}}]
)
def test_download_empty_body_accepted_with_a_warning(
    origin: HttpOrigin, ctx: LocalTaskContext, props: dict[str, Any]
) -> None:
    outcome = run_download(make(uri=origin.url + "/empty", **props), ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["length"] == 0
    assert stored(ctx, outcome.outputs["uri"]) == b""
    assert any("is empty" in m for m in ctx.messages("WARN"))


def test_download_shorter_than_its_content_length_fails(
    origin: HttpOrigin, ctx: LocalTaskContext
) -> None:
    outcome = run_download(make(uri=origin.url + "/short"), ctx)
    assert outcome.state is State.FAILED
    assert outcome.error and origin.url + "/short" in outcome.error


def test_download_kill_stops_at_once(origin: HttpOrigin, ctx: LocalTaskContext) -> None:
    threading.Timer(0.3, ctx.cancel).start()
    started = time.monotonic()
    outcome = run_download(make(uri=origin.url + "/slow/10"), ctx)
    assert outcome.state is State.KILLED
    assert time.monotonic() - started < 3


def test_download_read_idle_timeout(origin: HttpOrigin, ctx: LocalTaskContext) -> None:
    task = make(uri=origin.url + "/slow/5", options={"timeout": {"readIdleTimeout": "PT0.2S"}})
    outcome = run_download(task, ctx)
    assert outcome.state is State.FAILED and "timed out" in (outcome.error or "")


def test_download_large_body_checksum(origin: HttpOrigin, ctx: LocalTaskContext) -> None:
    size = 20 * 1024 * 1024
    outcome = run_download(make(uri=f"{origin.url}/bytes/{size}"), ctx)
    assert outcome.outputs["length"] == size
    digest = hashlib.sha256()
    with ctx.open_file(outcome.outputs["uri"]) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    assert digest.hexdigest() == hashlib.sha256((PATTERN * 320)[:size]).hexdigest()
