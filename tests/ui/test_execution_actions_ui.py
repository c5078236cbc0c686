"""The execution actions the API gained, driven in headless Chromium and checked
through the API: Pause and Resume of a running execution, Replay from a task run
with a chosen revision, Set labels, and the executions list's bulk actions (by
ids, and on every execution matching the filter)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.api.conftest import API, ApiServer
from tests.api.flows import HELLO, SLEEPY
from tests.ui.conftest import UiPage

STEPS = """\
id: steps
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT4S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after the nap
"""

BROKEN = """\
id: report
namespace: company.team
tasks:
  - id: extract
    type: io.kestra.plugin.core.debug.Return
    format: "rows {{ execution.id }}"
  - id: load
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: the table is locked
"""
FIXED = BROKEN.replace(
    """    type: io.kestra.plugin.core.execution.Fail
    errorMessage: the table is locked""",
    """    type: io.kestra.plugin.core.log.Log
    message: "loaded {{ outputs.extract.value }}\"""",
)


def _execution(server: ApiServer, execution_id: str) -> dict[str, Any]:
    resp = server.client.get(f"{API}/executions/{execution_id}")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.1)


def test_pause_and_resume_a_running_execution(ui: UiPage, server: ApiServer) -> None:
    server.deploy(STEPS)
    run = server.start("company.team", "steps").json()
    page = ui.open(f"/ui/executions/{run['id']}")
    expect(page.locator("#execution-state")).to_have_text("RUNNING", timeout=30_000)
    expect(page.locator("#resume")).to_be_disabled()
    page.click("#pause")
    expect(page.locator("#execution-state")).to_have_text("PAUSED", timeout=30_000)
    expect(page.locator("#user-paused")).to_be_visible()
    expect(page.locator("#pause")).to_be_disabled()
    assert _execution(server, run["id"])["state"]["current"] == "PAUSED"
    # The nap ends while paused; the next task does not start.
    nap = page.locator(".gantt-row[data-task=nap]")
    expect(nap).to_have_attribute("data-state", "SUCCESS", timeout=30_000)
    time.sleep(1.0)
    paused = _execution(server, run["id"])
    assert paused["state"]["current"] == "PAUSED"
    assert [r["taskId"] for r in paused["taskRunList"]] == ["nap"]
    expect(page.locator(".gantt-row[data-task=after]")).to_have_count(0)
    page.click("#resume")
    # Followed live through the stream again until it ends.
    expect(page.locator("#execution-state")).to_have_text("SUCCESS", timeout=30_000)
    expect(page.locator("#user-paused")).to_have_count(0)
    expect(page.locator("#logs")).to_contain_text("after the nap")
    assert _execution(server, run["id"])["state"]["current"] == "SUCCESS"


def test_the_page_follows_a_pause_and_resume_made_elsewhere(ui: UiPage, server: ApiServer) -> None:
    server.deploy(SLEEPY)
    run = server.start("company.team", "sleepy").json()
    page = ui.open(f"/ui/executions/{run['id']}")
    expect(page.locator("#execution-state")).to_have_text("RUNNING", timeout=30_000)
    assert server.client.post(f"{API}/executions/{run['id']}/pause").status_code == 200
    expect(page.locator("#execution-state")).to_have_text("PAUSED", timeout=30_000)
    expect(page.locator("#resume")).to_be_enabled()
    expect(page.locator("#user-paused")).to_be_visible()
    assert server.client.post(f"{API}/executions/{run['id']}/resume").status_code == 200
    expect(page.locator("#execution-state")).to_have_text("RUNNING", timeout=30_000)
    expect(page.locator("#pause")).to_be_enabled()
    page.click("#kill")
    expect(page.locator("#execution-state")).to_have_text("KILLED", timeout=30_000)
    assert _execution(server, run["id"])["state"]["current"] == "KILLED"


def test_replay_from_a_task_run_with_the_fixed_revision(ui: UiPage, server: ApiServer) -> None:
    server.deploy(BROKEN)
    failed = server.start("company.team", "report", wait="true").json()
    assert failed["state"]["current"] == "FAILED"
    resp = server.client.put(
        f"{API}/flows/company.team/report",
        content=FIXED,
        headers={"Content-Type": "application/x-yaml"},
    )
    assert resp.status_code == 200 and resp.json()["revision"] == 2, resp.text
    page = ui.open(f"/ui/executions/{failed['id']}")
    expect(page.locator("#execution-state")).to_have_text("FAILED")
    page.locator(".gantt-row[data-task=load] [data-replay]").click()
    dialog = page.locator("#replay-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text("Replay from load")
    revision = page.locator("#replay-revision")
    expect(revision).to_have_value("1")  # the execution's, by default
    expect(revision.locator("option")).to_have_text(["2 (latest)", "1 (this execution's)"])
    revision.select_option("2")
    page.click("#replay-dialog-submit")
    expect(page).not_to_have_url(re.compile(re.escape(failed["id"]) + "$"))
    expect(page.locator("#replay-dialog")).to_have_count(0)
    expect(page.locator("#execution-state")).to_have_text("SUCCESS", timeout=30_000)
    expect(page.locator("#logs")).to_contain_text(f"loaded rows {failed['id']}")
    replayed = _execution(server, page.url.rsplit("/", 1)[1])
    assert replayed["flowRevision"] == 2
    # The task run before `load` was copied as it ended, not run again.
    extract = [r for r in replayed["taskRunList"] if r["taskId"] == "extract"]
    assert extract[0]["outputs"] == {"value": f"rows {failed['id']}"}


def test_replay_from_a_task_run_shows_the_refusal(ui: UiPage, server: ApiServer) -> None:
    server.deploy(BROKEN)
    failed = server.start("company.team", "report", wait="true").json()
    # Revision 2 renames the task the replay would copy: the API refuses that revision.
    renamed = BROKEN.replace("id: extract", "id: extract_all").replace("extract.value", "x")
    server.client.put(
        f"{API}/flows/company.team/report",
        content=renamed,
        headers={"Content-Type": "application/x-yaml"},
    )
    page = ui.open(f"/ui/executions/{failed['id']}")
    expect(page.locator("#execution-state")).to_have_text("FAILED")
    page.locator(".gantt-row[data-task=load] [data-replay]").click()
    page.locator("#replay-revision").select_option("2")
    page.click("#replay-dialog-submit")
    expect(page.locator("#replay-dialog-error")).to_contain_text("extract")
    page.click("#replay-dialog-cancel")
    expect(page.locator("#replay-dialog")).to_have_count(0)
    expect(page).to_have_url(re.compile(re.escape(failed["id"]) + "$"))
    assert len(server.client.get(f"{API}/executions/search").json()["results"]) == 1
    # The browser logs the API's expected 422 on its console.
    ui.errors[:] = [e for e in ui.errors if "422" not in e]


def test_set_labels_on_an_ended_execution(ui: UiPage, server: ApiServer) -> None:
    server.deploy(SLEEPY)
    running = server.start("company.team", "sleepy").json()
    page = ui.open(f"/ui/executions/{running['id']}")
    expect(page.locator("#execution-state")).to_have_text("RUNNING", timeout=30_000)
    expect(page.locator("#set-labels")).to_be_disabled()
    server.client.delete(f"{API}/executions/{running['id']}/kill")

    server.deploy(HELLO)
    run = server.start("company.team", "hello", wait="true").json()
    page = ui.open(f"/ui/executions/{run['id']}")
    expect(page.locator("#execution-state")).to_have_text("SUCCESS")
    page.click("#set-labels")
    rows = page.locator("#labels-dialog [data-label-row]")
    expect(rows).to_have_count(2)  # the flow's team:data, and an empty one
    expect(rows.nth(0).locator(".label-key")).to_have_value("team")
    rows.nth(0).locator(".label-value").fill("platform")
    rows.nth(1).locator(".label-key").fill("reviewed")
    rows.nth(1).locator(".label-value").fill("yes")
    page.click("#label-add")
    rows.nth(2).locator(".label-key").fill("half")
    page.click("#labels-dialog-submit")
    expect(page.locator("#labels-dialog-error")).to_contain_text("needs a key and a value")
    rows.nth(2).locator(".label-key").fill("")
    page.click("#labels-dialog-submit")
    expect(page.locator("#labels-dialog")).to_have_count(0)
    expect(page.locator(".facts .label")).to_have_text(
        ["team:platform", re.compile(r"system\.correlationId:"), "reviewed:yes"]
    )

    def labelled() -> bool:
        labels = _execution(server, run["id"])["labels"]
        return {(x["key"], x["value"]) for x in labels if not x["key"].startswith("system.")} == {
            ("team", "platform"),
            ("reviewed", "yes"),
        }

    _eventually(labelled)


def _states(server: ApiServer, flow_id: str) -> list[str]:
    resp = server.client.get(
        f"{API}/executions/search", params={"filters[flowId][EQUALS]": flow_id, "size": 100}
    )
    return sorted(e["state"]["current"] for e in resp.json()["results"])


def test_bulk_actions_by_ids(ui: UiPage, server: ApiServer) -> None:
    server.deploy(HELLO)
    ids = [server.start("company.team", "hello", wait="true").json()["id"] for _ in range(3)]
    page = ui.open("/ui/executions")
    rows = page.locator("#executions tbody tr[data-execution]")
    expect(rows).to_have_count(3)
    page.locator(f'[data-select="{ids[0]}"]').check()
    page.locator(f'[data-select="{ids[1]}"]').check()
    expect(page.locator("#bulk-count")).to_have_text("2 selected")
    # A finished execution cannot be killed: the whole batch is refused, said in the dialog.
    page.click("#bulk-kill")
    expect(page.locator("#bulk-dialog h2")).to_have_text("Kill 2 executions?")
    page.click("#bulk-dialog-submit")
    expect(page.locator("#bulk-dialog-error")).to_contain_text(ids[0])
    ui.errors[:] = [e for e in ui.errors if "422" not in e]
    page.click("#bulk-dialog-cancel")
    # The selection survives the list's refresh.
    time.sleep(2.5)
    expect(page.locator("#bulk-count")).to_have_text("2 selected")
    page.click("#bulk-replay")
    page.click("#bulk-dialog-submit")
    expect(page.locator("#banner")).to_have_text("Replay: 2 executions")
    expect(rows).to_have_count(5)
    _eventually(lambda: _states(server, "hello") == ["SUCCESS"] * 5)
    page.locator("#select-page").check()
    expect(page.locator("#bulk-count")).to_have_text("5 selected")
    page.locator(f'[data-select="{ids[2]}"]').uncheck()
    page.click("#bulk-delete")
    expect(page.locator("#bulk-dialog h2")).to_have_text("Delete 4 executions?")
    page.click("#bulk-dialog-submit")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-execution", ids[2])
    assert [e["id"] for e in server.client.get(f"{API}/executions/search").json()["results"]] == [
        ids[2]
    ]


def test_bulk_kill_of_everything_matching_the_filter(ui: UiPage, server: ApiServer) -> None:
    server.deploy(SLEEPY)
    server.deploy(HELLO)
    done = server.start("company.team", "hello", wait="true").json()
    for _ in range(3):
        server.start("company.team", "sleepy")
    page = ui.open("/ui/executions?flowId=sleepy")
    rows = page.locator("#executions tbody tr[data-execution]")
    expect(rows).to_have_count(3)
    rows.first.locator("input[data-select]").check()
    page.click("#bulk-all")
    expect(page.locator("#bulk-count")).to_have_text("All 3 executions matching the filter")
    expect(page.locator("#executions input[data-select]:checked")).to_have_count(3)
    page.click("#bulk-kill")
    expect(page.locator("#bulk-dialog h2")).to_have_text("Kill 3 executions?")
    page.click("#bulk-dialog-submit")
    expect(page.locator("#banner")).to_have_text("Kill: 3 executions")
    _eventually(lambda: _states(server, "sleepy") == ["KILLED"] * 3)
    expect(page.locator('#executions tbody tr[data-state="KILLED"]')).to_have_count(3)
    # The execution outside the filter was left alone.
    assert _execution(server, done["id"])["state"]["current"] == "SUCCESS"


def test_bulk_pause_resume_and_labels_on_a_flow_page(ui: UiPage, server: ApiServer) -> None:
    server.deploy(SLEEPY)
    ids = {server.start("company.team", "sleepy").json()["id"] for _ in range(2)}
    page = ui.open("/ui/flows/company.team/sleepy?tab=executions")
    rows = page.locator("#executions tbody tr[data-execution]")
    expect(page.locator('#executions tbody tr[data-state="RUNNING"]')).to_have_count(2)
    page.locator("#select-page").check()
    page.click("#bulk-pause")
    expect(page.locator("#bulk-dialog h2")).to_have_text("Pause 2 executions?")
    page.click("#bulk-dialog-submit")
    expect(page.locator("#banner")).to_have_text("Pause: 2 executions")
    _eventually(lambda: _states(server, "sleepy") == ["PAUSED"] * 2)
    expect(page.locator('#executions tbody tr[data-state="PAUSED"]')).to_have_count(2)
    page.locator("#select-page").check()
    page.click("#bulk-resume")
    page.click("#bulk-dialog-submit")
    _eventually(lambda: _states(server, "sleepy") == ["RUNNING"] * 2)
    page.locator("#select-page").check()
    page.click("#bulk-kill")
    page.click("#bulk-dialog-submit")
    _eventually(lambda: _states(server, "sleepy") == ["KILLED"] * 2)
    expect(page.locator('#executions tbody tr[data-state="KILLED"]')).to_have_count(2)
    page.locator("#select-page").check()
    page.click("#bulk-labels")
    expect(page.locator("#bulk-dialog h2")).to_have_text("Set labels on 2 executions?")
    page.click("#bulk-dialog-submit")
    expect(page.locator("#bulk-dialog-error")).to_contain_text("at least one label")
    row = page.locator("#bulk-dialog [data-label-row]").first
    row.locator(".label-key").fill("incident")
    row.locator(".label-value").fill("42")
    page.click("#bulk-dialog-submit")
    expect(page.locator("#banner")).to_have_text("Set labels: 2 executions")
    expect(rows.locator(".label", has_text="incident:42")).to_have_count(2, timeout=30_000)
    for execution_id in ids:
        labels = _execution(server, execution_id)["labels"]
        assert {"key": "incident", "value": "42"} in labels
