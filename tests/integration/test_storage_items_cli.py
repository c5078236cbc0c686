"""FilterItems then DeduplicateItems on an Ion file, through the real `lanner run`."""

from __future__ import annotations

from tests.support.cli import logs, run_json


def test_filter_then_deduplicate_through_lanner_run(env: dict[str, str]) -> None:
    final = run_json("storage_items.yml", env)
    assert final["state"]["current"] == "SUCCESS"
    outputs = {r["taskId"]: r.get("outputs") for r in final["taskRunList"]}
    assert outputs["filter"]["processedItemsTotal"] == 4
    assert outputs["filter"]["droppedItemsTotal"] == 1
    assert outputs["dedup"]["numKeys"] == 2
    assert outputs["dedup"]["droppedItemsTotal"] == 1
    assert outputs["dedup"]["uri"].endswith(".ion")  # whatever the source's extension
    lines = logs(final["id"], env)
    assert ("log", "INFO", '{"key":"k2","value":2}\n{"key":"k1","value":3}\n') in lines
