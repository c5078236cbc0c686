"""Files over real HTTP: a FILE input sent in the multipart create-execution call,
downloaded back through the execution's file endpoints; outputs as kestrapy 2.x
reads them; namespace files uploaded, listed, read and deleted."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import API, ApiServer

WITH_FILE = """\
id: withfile
namespace: company.team
inputs:
  - id: data
    type: FILE
  - id: note
    type: STRING
    defaults: none
  - id: count
    type: INT
    defaults: 1
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.data) }}"
outputs:
  - id: content
    type: STRING
    value: "{{ outputs.read.value }}"
"""

READS_NSFILE = """\
id: readsns
namespace: company.team
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('queries/q.sql') }}"
"""


def test_a_file_input_is_stored_and_downloaded(api: ApiServer) -> None:
    api.deploy(WITH_FILE)
    resp = api.client.post(
        f"{API}/executions/company.team/withfile",
        params={"wait": "true"},
        files={"data": ("in.csv", b"a,b\n1,2\n", "text/csv"), "note": (None, "hi")},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["state"]["current"] == "SUCCESS", body
    uri = body["inputs"]["data"]
    assert uri.startswith("kestra:///company/team/withfile/executions/")
    assert uri.endswith("/inputs/data/in.csv")
    assert body["inputs"]["note"] == "hi"
    base = f"{API}/executions/{body['id']}/file"
    got = api.client.get(base, params={"path": uri})
    assert got.status_code == 200 and got.content == b"a,b\n1,2\n"
    assert "in.csv" in got.headers["content-disposition"]
    assert api.client.get(f"{base}/metas", params={"path": uri}).json() == {"size": 8}
    other = api.client.get(base, params={"path": "kestra:///company/team/other/x.txt"})
    assert other.status_code == 422 and "not a file of execution" in other.json()["message"]
    bad = api.client.get(base, params={"path": "/etc/passwd"})
    assert bad.status_code == 422
    gone = api.client.get(base, params={"path": uri.replace("in.csv", "no.csv")})
    assert gone.status_code == 404
    # 2.x's outputs endpoints
    out = f"{API}/outputs"
    assert api.client.get(f"{out}/executions/{body['id']}").json() == {"content": "a,b\n1,2\n"}
    tasks = api.client.get(f"{out}/tasks/{body['id']}").json()
    assert [t["taskId"] for t in tasks] == ["read"]
    one = api.client.get(f"{out}/tasks/{body['id']}/{tasks[0]['taskRunId']}").json()
    assert one == {"value": "a,b\n1,2\n"}
    assert api.client.get(f"{out}/tasks/{body['id']}/nope").status_code == 404


def test_a_refused_execution_leaves_no_file(api: ApiServer, tmp_path: Path) -> None:
    api.deploy(WITH_FILE)
    resp = api.client.post(
        f"{API}/executions/company.team/withfile",
        files={"data": ("in.csv", b"x", "text/csv"), "count": (None, "many")},
    )
    assert resp.status_code == 422 and "count" in resp.json()["message"]
    assert list(tmp_path.rglob("in.csv")) == []


def test_namespace_files(api: ApiServer) -> None:
    files = f"{API}/namespaces/company.team/files"
    for path, content in (("/queries/q.sql", b"select 1"), ("/readme.md", b"# hi")):
        up = api.client.post(files, params={"path": path}, files={"fileContent": ("file", content)})
        assert up.status_code == 200, up.text
    root = api.client.get(f"{files}/directory").json()
    assert [(f["fileName"], f["type"]) for f in root] == [
        ("queries", "Directory"),
        ("readme.md", "File"),
    ]
    inner = api.client.get(f"{files}/directory", params={"path": "/queries"}).json()
    assert [(f["fileName"], f["size"]) for f in inner] == [("q.sql", 8)]
    assert api.client.get(files, params={"path": "/queries/q.sql"}).content == b"select 1"
    stats = api.client.get(f"{files}/stats", params={"path": "queries"}).json()
    assert stats["type"] == "Directory"
    # An execution of the namespace reads it.
    api.deploy(READS_NSFILE)
    run = api.start("company.team", "readsns", wait="true").json()
    assert run["taskRunList"][0]["outputs"] == {"value": "select 1"}
    assert api.client.delete(files, params={"path": "/queries"}).status_code == 204
    assert api.client.get(files, params={"path": "/queries/q.sql"}).status_code == 404
    assert api.client.delete(files, params={"path": "/queries"}).status_code == 404
    escape = api.client.get(files, params={"path": "../../etc/passwd"})
    assert escape.status_code == 422
