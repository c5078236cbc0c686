"""ForEachItem end to end through `lanner run` (docs/flowables.md): batches of a
FILE input, one child execution per batch reading its batch file, the merged
outputs, a failing batch transmitted, and a batch file no other execution reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli import FLOWS, lanner, logs, run_json


def _deploy(env: dict[str, str]) -> None:
    for name in ("foreachitem_child.yml", "foreachitem_thief.yml"):
        proc = lanner("flows", "deploy", str(FLOWS / name), env=env)
        assert proc.returncode == 0, proc.stderr


def _orders(tmp_path: Path, *rows: str) -> str:
    path = tmp_path / "orders.txt"
    path.write_text("".join(f"{r}\n" for r in rows))
    return str(path)


def _show(execution_id: str, env: dict[str, str]) -> dict[str, Any]:
    proc = lanner("executions", "show", execution_id, env=env)
    assert proc.returncode == 0, proc.stderr
    shown: dict[str, Any] = json.loads(proc.stdout)
    return shown


def _outputs(execution: dict[str, Any], task_id: str) -> dict[str, Any]:
    [run] = [r for r in execution["taskRunList"] if r["taskId"] == task_id]
    outputs: dict[str, Any] = run["outputs"]
    return outputs


def test_one_child_per_batch_and_their_outputs_merged(tmp_path: Path, env: dict[str, str]) -> None:
    _deploy(env)
    orders = _orders(tmp_path, "o1", "o2", "o3", "o4", "o5")
    execution = run_json("foreachitem_parent.yml", env, "-i", f"file={orders}")
    assert execution["state"]["current"] == "SUCCESS"
    states = [(r["taskId"], r["state"]["current"]) for r in execution["taskRunList"]]
    assert states == [
        ("each", "SUCCESS"),
        ("each_split", "SUCCESS"),
        ("each_items", "SUCCESS"),
        ("each_merge", "SUCCESS"),
        ("summary", "SUCCESS"),
        ("merged", "SUCCESS"),
    ]
    items = _outputs(execution, "each_items")
    assert items["numberOfBatches"] == 3
    assert items["iterations"] == {"SUCCESS": 3}
    said = {t: m for t, _, m in logs(execution["id"], env)}
    assert said["merged"] == '{"orders":"o1,o2"}\n{"orders":"o3,o4"}\n{"orders":"o5"}'
    batch_uris = _outputs(execution, "each_split")["uris"]
    for n, (batch, uri) in enumerate(zip(items["batches"], batch_uris, strict=True), 1):
        child = _show(batch["executionId"], env)
        assert child["flowId"] == "order_batch"
        assert child["state"]["current"] == "SUCCESS"
        assert child["inputs"] == {"batch": uri, "number": n}
        labels = {label["key"]: label["value"] for label in child["labels"]}
        assert labels["source"] == "orders"
        assert labels["system.correlationId"] == execution["id"]


def test_a_failed_batch_fails_the_for_each_item_once_all_ended(
    tmp_path: Path, env: dict[str, str]
) -> None:
    _deploy(env)
    orders = _orders(tmp_path, "o1", "bad", "o3", "o4")
    execution = run_json("foreachitem_parent.yml", env, "-i", f"file={orders}", "-i", "rows=1")
    assert execution["state"]["current"] == "FAILED"
    items = _outputs(execution, "each_items")
    assert items["iterations"] == {"SUCCESS": 3, "FAILED": 1}
    assert [b["state"] for b in items["batches"]] == ["SUCCESS", "FAILED", "SUCCESS", "SUCCESS"]
    ran = {r["taskId"] for r in execution["taskRunList"]}
    assert "each_merge" not in ran and "summary" not in ran


def test_no_other_execution_reads_a_batch_file(tmp_path: Path, env: dict[str, str]) -> None:
    _deploy(env)
    orders = _orders(tmp_path, "o1", "o2")
    execution = run_json("foreachitem_parent.yml", env, "-i", f"file={orders}")
    assert execution["state"]["current"] == "SUCCESS"
    [first] = _outputs(execution, "each_split")["uris"]
    # A batch file is read by the child made for it, no other execution.
    stolen = run_json(FLOWS / "foreachitem_thief.yml", env, "-i", f"uri={first}")
    assert stolen["state"]["current"] == "FAILED"
    lines = [m for t, _, m in logs(stolen["id"], env) if t == "steal"]
    assert any("belongs to another flow" in m for m in lines), lines
