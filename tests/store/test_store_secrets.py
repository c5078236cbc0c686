"""Secret values at rest: sealed in every document and column, on both backends."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from lanner.config import Config
from lanner.expr.sealing import keyring
from lanner.expr.taint import Sealed, Secret, TaintedList, mark, taint
from lanner.model.states import State
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.process import Process
from lanner.store import codec, open_store

SECRET = "at-rest-Secret-9876"

PARENT = """
id: parent
namespace: test
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ secret('X') | upper }}"
  - id: labels
    type: io.kestra.plugin.core.execution.Labels
    labels:
      token: "{{ secret('X') | reverse }}"
  - id: vars
    type: io.kestra.plugin.core.execution.SetVariables
    variables:
      v: "{{ secret('X') | slugify }}"
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["{{ secret('X') | title }}", "plain"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
  - id: child
    type: io.kestra.plugin.core.flow.Subflow
    namespace: test
    flowId: child
    inputs:
      pw: "{{ secret('X') | lower }}"
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "failed with {{ secret('X') }} / {{ secret('X') | replace({'-': '+'}) }}"
"""

CHILD = """
id: child
namespace: test
inputs:
  - id: pw
    type: STRING
tasks:
  - id: echo
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.pw }}"
"""

FORMS = [
    SECRET,
    SECRET.upper(),
    SECRET[::-1],
    "at-rest-secret-9876",
    "At-rest-Secret-9876",
    SECRET.replace("-", "+"),
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("LANNER_HOME", str(tmp_path / "home"))
    keyring.configure(None)
    yield tmp_path / "home"
    keyring.configure(None)


def _stored_text(store_url: str, tmp_path: Path) -> bytes:
    if store_url.startswith("sqlite"):
        return b"".join(p.read_bytes() for p in tmp_path.glob("lanner.db*"))
    out = []
    with psycopg.connect(store_url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        for table in tables:
            for (row,) in conn.execute(f'SELECT t::text FROM "{table}" t'):
                out.append(row)
    return "\n".join(out).encode()


def test_a_run_leaves_no_secret_in_the_store(
    store_url: str, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_X", base64.b64encode(SECRET.encode()).decode())
    registry = TaskRegistry.from_entry_points()
    store = open_store(store_url)
    runtime = Process(store, registry, Config(), alone=True)
    runtime.start()
    try:
        store.deploy_flow("test", "child", CHILD)
        revision, _ = store.deploy_flow("test", "parent", PARENT)
        flow = load_flow(PARENT, registry)
        execution = runtime.create_execution(flow, revision, {})
        final = runtime.wait_finalized(execution.id, timeout=120)
        assert final.state is State.FAILED
        loaded = store.get_execution(execution.id)
        assert loaded is not None
        runs = {r.task_id: r for r in loaded.task_runs.values()}
        # Read back, the values are tainted and whole: downstream tasks get them.
        ret = (runs["ret"].outputs or {})["value"]
        assert isinstance(ret, Secret) and ret == SECRET.upper()
        assert isinstance(loaded.labels["token"], Secret)
        assert sorted(str.__str__(r.value) for r in loaded.task_runs.values() if r.value) == [
            "At-rest-Secret-9876",
            "plain",
        ]
        assert loaded.error is None or SECRET not in loaded.error.message
        text = _stored_text(store_url, tmp_path)
        assert [f for f in FORMS if f.encode() in text] == []
        assert b"$secret" in text
    finally:
        runtime.stop()
        store.close()
    assert (home / "instance.key").stat().st_mode & 0o777 == 0o600


def test_documents_round_trip_tainted(home: Path) -> None:
    listed = taint([1, 2, 3])
    doc = {"a": mark(SECRET), "n": 1, "l": listed, mark("secret-key-here"): "v"}
    text = codec.dump_value(doc)
    assert SECRET not in text and "secret-key-here" not in text
    back = codec.load_value(text)
    assert back["a"] == SECRET and isinstance(back["a"], Secret)
    assert back["l"] == [1, 2, 3] and isinstance(back["l"], TaintedList)
    assert back["secret-key-here"] == "v"
    # A plain string holding a known secret is sealed too.
    assert SECRET not in codec.dump_value({"msg": f"echo {SECRET}"})


def test_a_process_with_another_key_reads_a_placeholder(home: Path) -> None:
    keyring.configure("the-first-key-0123456789")
    text = codec.dump_value({"a": mark(SECRET)})
    keyring.configure("another-key-0123456789")
    sealed = codec.load_value(text)["a"]
    assert isinstance(sealed, Sealed)
    assert "another key" in sealed.reason
    # Written back unchanged: the process that has the key still reads it.
    again = codec.dump_value({"a": sealed})
    keyring.configure("the-first-key-0123456789")
    assert codec.load_value(again)["a"] == SECRET


def test_no_key_at_all(home: Path) -> None:
    text = codec.dump_value({"a": mark(SECRET)})
    (home / "instance.key").unlink()
    keyring.configure(None)
    sealed = codec.load_value(text)["a"]
    assert isinstance(sealed, Sealed)
    assert "no key" in sealed.reason
    assert not (home / "instance.key").exists()


def test_processes_creating_the_instance_key_at_once_agree(home: Path) -> None:
    code = (
        "from lanner.expr.sealing import keyring\n"
        "from lanner.expr.taint import mark\n"
        "from lanner.store import codec\n"
        "print(codec.dump_value(mark('raced-secret-value')))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    texts = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    keyring.configure(None)
    assert [codec.load_value(t) for t in texts] == ["raced-secret-value"] * 4
    assert [p.name for p in home.iterdir()] == ["instance.key"]
