"""The KV store through the real CLI: a flow's kv tasks and kv() (`lanner run`), and
`lanner kv set|get|delete|list`, on a throw-away SQLite store (docs/kv.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.support.cli import FLOWS, lanner, logs, run_json

TOKEN = "kv-Token-Value-5678"


def test_a_flow_sets_reads_and_deletes_pairs(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "SECRET_KV_TOKEN": base64.b64encode(TOKEN.encode()).decode()}
    execution = run_json(FLOWS / "kv_store.yml", env)
    assert execution["state"]["current"] == "SUCCESS", execution
    outputs = {t["taskId"]: t.get("outputs") for t in execution["taskRunList"]}
    assert outputs["use"] == {"value": "43 / from the parent namespace"}
    assert outputs["get"] == {"value": 42}
    assert outputs["keys"] == {"keys": ["token", "x"]}
    assert outputs["delete"] == {"deleted": True}
    assert outputs["after"] == {"value": "gone"}
    # The secret value is masked wherever it shows, and sealed at rest.
    assert ("leak", "INFO", "token=******") in logs(execution["id"], env)
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("lanner.db*"))
    assert TOKEN.encode() not in stored
    shown = lanner("kv", "get", "company.team", "token", env=env)
    assert (shown.returncode, shown.stdout) == (0, "******\n")
    listed = lanner("kv", "list", "company", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    [pair] = json.loads(listed.stdout)
    assert (pair["key"], pair["type"], pair["value"]) == (
        "shared",
        "STRING",
        "from the parent namespace",
    )
    assert pair["description"] == "read by every child namespace"


def test_a_missing_key_fails_the_task_that_reads_it(env: dict[str, str], tmp_path: Path) -> None:
    flow = tmp_path / "missing.yml"
    flow.write_text(
        "id: missing\nnamespace: company.team\ntasks:\n"
        "  - id: use\n    type: io.kestra.plugin.core.debug.Return\n"
        "    format: \"{{ kv('nope') }}\"\n"
    )
    execution = run_json(flow, env)
    assert execution["state"]["current"] == "FAILED"
    messages = [m for _, _, m in logs(execution["id"], env)]
    assert any("'nope' does not exist in the namespace 'company.team'" in m for m in messages)


def test_kv_commands(env: dict[str, str]) -> None:
    def kv(*args: str) -> tuple[int, str, str]:
        proc = lanner("kv", *args, env=env)
        return proc.returncode, proc.stdout, proc.stderr

    assert kv("set", "dev", "n", "7", "--type", "NUMBER")[0] == 0
    assert kv("set", "dev", "doc", '{"a": [1]}', "--type", "json", "--ttl", "PT1H")[0] == 0
    assert kv("set", "dev", "s", "plain text")[0] == 0
    assert kv("get", "dev", "n")[:2] == (0, "7\n")
    assert kv("get", "dev", "doc")[:2] == (0, '{"a": [1]}\n')
    code, out, _ = kv("get", "dev", "doc", "--json")
    assert code == 0 and json.loads(out)["expirationDate"] is not None
    code, out, _ = kv("list", "dev")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["doc", "n", "s"]
    assert kv("delete", "dev", "n")[:2] == (0, "deleted dev n\n")
    code, _, err = kv("delete", "dev", "n")
    assert code == 2 and "the key 'n' does not exist in the namespace 'dev'" in err
    code, _, err = kv("get", "dev", "n")
    assert code == 2 and "does not exist" in err
    code, _, err = kv("set", "dev", "bad", "x", "--type", "BOOLEAN")
    assert code == 2 and "'x' is not a boolean" in err
    code, _, err = kv("set", "dev", "t", "x", "--ttl", "soon")
    assert code == 2 and "not an ISO-8601 duration" in err
    code, _, err = kv("list", "Not A Namespace")
    assert code == 2 and "invalid namespace" in err


def test_a_select_input_takes_its_values_from_kv(env: dict[str, str], tmp_path: Path) -> None:
    # Kestra renders a SELECT's `expression` with kv(): values kept in the KV store.
    stored = lanner("kv", "set", "company", "regions", '["eu", "us"]', "--type", "JSON", env=env)
    assert stored.returncode == 0, stored.stderr
    flow = tmp_path / "pick.yml"
    flow.write_text(
        "id: pick\nnamespace: company.team\ninputs:\n"
        "  - id: region\n    type: SELECT\n    expression: \"{{ kv('regions') }}\"\n"
        "tasks:\n  - id: say\n    type: io.kestra.plugin.core.debug.Return\n"
        '    format: "{{ inputs.region }}"\n'
    )
    execution = run_json(flow, env, "--input", "region=us")
    assert execution["state"]["current"] == "SUCCESS", execution
    assert execution["taskRunList"][0]["outputs"] == {"value": "us"}
    refused = lanner("run", str(flow), "--input", "region=asia", env=env)
    assert refused.returncode == 2 and "'asia'" in refused.stderr and "eu" in refused.stderr
