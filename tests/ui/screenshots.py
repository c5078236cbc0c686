"""Takes the screenshots of docs/ui.md (docs/ui/*.png) in headless Chromium
against a real server with a demo flow run a few times:

    .venv/bin/python -m tests.ui.screenshots [FOLDER]

Not a test: run it after a change to the UI's looks and review the pictures."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from lanner.config import Config
from tests.api.conftest import API, ApiServer, start_server
from tests.api.flows import SLEEPY
from tests.ui.conftest import ARGS, CHROMIUM

DEMO = """\
id: nightly_report
namespace: company.analytics
description: Builds the nightly report from three sources.
labels:
  team: analytics
inputs:
  - id: day
    type: DATE
    defaults: "2026-12-05"
  - id: region
    type: SELECT
    values: [eu, us, apac]
    defaults: eu
  - id: rows
    type: INT
    defaults: 1000
tasks:
  - id: start
    type: io.kestra.plugin.core.log.Log
    message: "Report for {{ inputs.day }} in {{ inputs.region }}"
  - id: extract
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: orders
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT0.6S
      - id: customers
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT0.3S
  - id: flaky_upload
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ taskrun.attemptsCount < 2 }}"
    errorMessage: "upload attempt {{ taskrun.attemptsCount }} timed out"
    retry:
      type: constant
      interval: PT0.2S
      maxAttempts: 3
  - id: summary
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.rows }} rows for {{ inputs.region }}"
  - id: done
    type: io.kestra.plugin.core.log.Log
    level: WARN
    message: "{{ outputs.summary.value }}, 2 late sources"
  - id: export
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["report.csv"]
    commands:
      - printf 'region,rows\\n{{ inputs.region }},{{ inputs.rows }}\\n' > report.csv
errors:
  - id: alert
    type: io.kestra.plugin.core.log.Log
    level: ERROR
    message: the report failed
finally:
  - id: cleanup
    type: io.kestra.plugin.core.log.Log
    message: temporary files removed
outputs:
  - id: report
    type: FILE
    value: "{{ outputs.export.outputFiles['report.csv'] }}"
"""


NIGHTLY = """\
id: nightly_trigger
namespace: company.analytics
tasks:
  - id: run
    type: io.kestra.plugin.core.log.Log
    message: every night
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
"""


def _runs(server: ApiServer) -> str:
    server.deploy(DEMO)
    server.deploy(SLEEPY)
    server.deploy(NIGHTLY)
    for key, value in (("last_report_day", '"2026-12-05"'), ("row_limit", "5000")):
        server.client.put(
            f"{API}/namespaces/company.analytics/kv/{key}",
            content=value,
            headers={"Content-Type": "text/plain"},
        )
    last = ""
    for region in ("eu", "us", "apac"):
        last = server.start(
            "company.analytics", "nightly_report", {"region": region}, wait="true"
        ).json()["id"]
    server.start("company.team", "sleepy")
    return last


def _actions(page: Page, server: ApiServer, execution_id: str, folder: Path) -> None:
    """Pause, replay from a task run, set labels and a bulk action."""
    sleepy = server.client.get(
        f"{API}/executions/search", params={"filters[flowId][EQUALS]": "sleepy"}
    ).json()["results"][0]["id"]
    page.goto(server.url + f"/ui/executions/{sleepy}")
    expect(page.locator("#execution-state")).to_have_text("RUNNING")
    page.click("#pause")
    expect(page.locator("#user-paused")).to_be_visible()
    page.screenshot(path=str(folder / "paused.png"))
    server.client.put(
        f"{API}/flows/company.analytics/nightly_report",
        content=DEMO.replace("defaults: 1000", "defaults: 2000"),
        headers={"Content-Type": "application/x-yaml"},
    )
    page.goto(server.url + f"/ui/executions/{execution_id}")
    expect(page.locator("#execution-state")).to_have_text("SUCCESS")
    page.locator(".gantt-row[data-task=summary]").hover()
    page.locator(".gantt-row[data-task=summary] [data-replay]").click()
    expect(page.locator("#replay-revision option")).to_have_count(2)
    page.screenshot(path=str(folder / "replay.png"))
    page.click("#replay-dialog-cancel")
    page.click("#set-labels")
    rows = page.locator("#labels-dialog [data-label-row]")
    rows.last.locator(".label-key").fill("reviewed")
    rows.last.locator(".label-value").fill("yes")
    page.screenshot(path=str(folder / "labels.png"))
    page.click("#labels-dialog-submit")
    expect(page.locator(".facts .label")).to_have_count(2)
    page.goto(server.url + "/ui/executions?flowId=nightly_report")
    boxes = page.locator("#executions input[data-select]")
    expect(boxes).to_have_count(3)
    boxes.nth(1).check()
    boxes.nth(2).check()
    page.click("#bulk-replay")
    expect(page.locator("#bulk-dialog")).to_be_visible()
    page.screenshot(path=str(folder / "bulk.png"))
    page.click("#bulk-dialog-cancel")


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        os.environ["LANNER_HOME"] = home
        running = start_server(Path(home), Config())
        server = next(running)
        try:
            execution_id = _runs(server)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 760})
                page.goto(server.url + "/ui/flows")
                expect(page.locator("#flows tbody tr[data-flow]")).to_have_count(3)
                page.screenshot(path=str(folder / "flows.png"))
                page.goto(server.url + "/ui/flows/company.analytics/nightly_report")
                source = DEMO.replace("maxAttempts: 3", "maxAttempts: three")
                page.fill("textarea.source", source)
                expect(page.locator("#problems li")).to_have_count(1)
                page.screenshot(path=str(folder / "editor.png"))
                page.goto(server.url + f"/ui/executions/{execution_id}")
                expect(page.locator("#execution-state")).to_have_text("SUCCESS")
                expect(page.locator("#logs .log").first).to_be_visible()
                time.sleep(1.5)  # the last poll's drawing, for a still picture
                page.screenshot(path=str(folder / "execution.png"), full_page=True)
                outputs = page.locator('[data-outputs="export"]')
                outputs.locator("button.preview").click()
                expect(outputs.locator("pre.preview")).to_contain_text("region,rows")
                page.locator("section.outputs").screenshot(path=str(folder / "files.png"))
                page.goto(server.url + "/ui/flows/company.analytics/nightly_report?tab=topology")
                expect(page.locator("[data-block=finally] .topo-task")).to_have_count(1)
                page.screenshot(path=str(folder / "topology.png"), full_page=True)
                page.goto(server.url + "/ui/executions")
                expect(page.locator("#executions tbody tr[data-execution]")).to_have_count(4)
                page.screenshot(path=str(folder / "executions.png"))
                page.goto(server.url + "/ui/dashboard")
                expect(page.locator("#executions-count")).to_have_text("4")
                page.wait_for_timeout(500)  # the chart's drawing, for a still picture
                page.screenshot(path=str(folder / "dashboard.png"), full_page=True)
                page.goto(server.url + "/ui/triggers")
                expect(page.locator("#triggers tbody tr[data-trigger]")).to_have_count(1)
                page.screenshot(path=str(folder / "triggers.png"))
                page.locator("button.backfill").click()
                page.fill("#backfill-start", "2026-12-01T00:00:00")
                page.fill("#backfill-end", "2026-12-04T00:00:00")
                page.click("#backfill-submit")
                expect(page.locator("#backfill-counts")).to_contain_text("3 of 3 ended")
                # A longer one, with a label, paused: the panel's Resume and Delete.
                page.fill("#backfill-start", "2025-01-01T00:00:00")
                page.fill("#backfill-end", "2025-12-31T00:00:00")
                page.fill("#backfill-labels", "batch=2025")
                page.click("#backfill-submit")
                expect(page.locator("#backfill-status")).to_have_text("Running")
                page.wait_for_function(
                    "() => Number(document.querySelector('#backfill-progress')"
                    ".dataset.created) >= 20"
                )
                page.click("#backfill-pause")
                expect(page.locator("#backfill-status")).to_have_text("Paused")
                expect(page.locator("#backfill-counts")).to_contain_text("ended — SUCCESS")
                page.wait_for_timeout(1500)
                page.screenshot(path=str(folder / "backfill.png"), full_page=True)
                page.goto(server.url + "/ui/kv?namespace=company.analytics")
                expect(page.locator("#kv tbody tr[data-key]")).to_have_count(2)
                page.locator("[data-key=row_limit] button.show").click()
                expect(page.locator("#kv-value")).to_contain_text("5000")
                page.screenshot(path=str(folder / "kv.png"))
                _actions(page, server, execution_id, folder)
                browser.close()
            kill = server.client.get(f"{API}/executions/search").json()["results"]
            for e in kill:
                if e["state"]["current"] in ("RUNNING", "PAUSED"):
                    server.client.delete(f"{API}/executions/{e['id']}/kill")
        finally:
            next(running, None)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/ui"))
