"""Flows import (ZIP or YAML, failOnError) and export (by ids, by query) over HTTP."""

from __future__ import annotations

import io
import zipfile

from tests.api.conftest import API, ApiServer
from tests.api.flows import FAILING, HELLO, SLEEPY

BROKEN = """\
id: broken
namespace: company.team
tasks:
  - id: x
    type: io.kestra.plugin.core.log.Log
"""


def _names(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {n: archive.read(n).decode() for n in archive.namelist()}


def test_export_by_ids_and_by_query_then_import_the_zip(api: ApiServer) -> None:
    for source in (HELLO, SLEEPY, FAILING):
        api.deploy(source)
    by_ids = api.client.post(
        f"{API}/flows/export/by-ids", json=[{"namespace": "company.team", "id": "hello"}]
    )
    assert by_ids.status_code == 200
    assert _names(by_ids.content) == {"company.team.hello.yml": HELLO}
    by_query = api.client.get(
        f"{API}/flows/export/by-query", params={"filters[namespace][EQUALS]": "company.team"}
    )
    assert sorted(_names(by_query.content)) == ["company.team.hello.yml", "company.team.sleepy.yml"]
    missing = api.client.post(
        f"{API}/flows/export/by-ids", json=[{"namespace": "company.team", "id": "nope"}]
    )
    assert missing.status_code == 404

    api.client.delete(f"{API}/flows/company.team/hello")
    api.client.delete(f"{API}/flows/company.team/sleepy")
    resp = api.client.post(
        f"{API}/flows/import", files={"fileUpload": ("flows.zip", by_query.content)}
    )
    assert resp.status_code == 200 and resp.json() == []
    got = api.client.get(f"{API}/flows/company.team/hello").json()
    assert got["source"] == HELLO


def test_import_yaml_documents_with_and_without_fail_on_error(api: ApiServer) -> None:
    text = HELLO + "---\n" + BROKEN
    strict = api.client.post(
        f"{API}/flows/import",
        params={"failOnError": "true"},
        files={"fileUpload": ("flows.yml", text.encode())},
    )
    assert strict.status_code == 422 and "message" in strict.json()["message"]
    assert api.client.get(f"{API}/flows/company.team/hello").status_code == 404

    lenient = api.client.post(
        f"{API}/flows/import", files={"fileUpload": ("flows.yml", text.encode())}
    )
    assert lenient.status_code == 200
    [problem] = lenient.json()
    assert "message" in problem
    assert api.client.get(f"{API}/flows/company.team/hello").status_code == 200
    assert api.client.get(f"{API}/flows/company.team/broken").status_code == 404
    nothing = api.client.post(f"{API}/flows/import", content=b"x")
    assert nothing.status_code == 422 and "fileUpload" in nothing.json()["message"]
