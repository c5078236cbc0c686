"""Backfill a Schedule from the Triggers page and from a flow's Triggers tab,
download and preview an execution's output files (basic authentication on),
and the flow's topology drawn from the API's graph — in headless Chromium
against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect

from lanner.config import Config
from tests.api.conftest import API, ApiServer, start_server
from tests.ui.conftest import UiPage
from tests.ui.test_pages import BRANCHY

HOURLY = """\
id: hourly
namespace: company.team
inputs:
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "hello {{ inputs.who }}"
triggers:
  - id: every_hour
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 * * * *"
"""


def _dates(server: ApiServer) -> list[tuple[str, dict[str, Any]]]:
    found = server.client.get(
        f"{API}/executions/search", params={"flowId": "hourly", "size": 50}
    ).json()["results"]
    return sorted((e["trigger"]["date"], e) for e in found)


def _hour(page: Page, local: str) -> datetime:
    """A datetime-local value as the browser reads it (its time zone), in UTC."""
    text = page.evaluate("(v) => new Date(v).toISOString()", local)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_backfill_from_the_triggers_page_and_the_flow_page(ui: UiPage, server: ApiServer) -> None:
    server.deploy(HOURLY)
    page = ui.open("/ui/triggers")
    row = page.locator('[data-trigger="company.team.hourly.every_hour"]')
    expect(row).to_be_visible(timeout=30_000)
    row.locator("button.backfill").click()
    panel = page.locator("#backfill")
    expect(panel).to_contain_text("Backfill executions of company.team.hourly.every_hour")
    # Half past, so that three whole hours fall inside in any whole-hour time zone.
    page.fill("#backfill-start", "2026-01-01T00:30:00")
    page.fill("#backfill-end", "2026-01-01T03:30:00")
    page.click("#backfill-submit")
    expect(page.locator("#backfill-counts")).to_contain_text("3 of 3 ended", timeout=60_000)
    expect(page.locator("#backfill-executions tbody tr")).to_have_count(3)
    expect(page.locator("#backfill-executions")).to_contain_text("SUCCESS")
    first = _hour(page, "2026-01-01T00:30:00")
    dates = _dates(server)
    assert len(dates) == 3
    for date, execution in dates:
        when = datetime.fromisoformat(date.replace("Z", "+00:00"))
        assert when.minute == 0 and 0 < (when - first).total_seconds() < 3 * 3600
        assert execution["state"]["current"] == "SUCCESS"
        assert execution["inputs"] == {"who": "world"}

    # The flow page's Triggers tab: the same action, with inputs over the trigger's.
    page = ui.open("/ui/flows/company.team/hourly?tab=triggers")
    row = page.locator('[data-trigger="company.team.hourly.every_hour"]')
    row.locator("button.backfill").click()
    page.fill("#backfill-start", "2026-02-01T05:30:00")
    page.fill("#backfill-end", "2026-02-01T06:30:00")
    page.fill("#backfill-inputs", '{"who": "the past"}')
    page.click("#backfill-submit")
    expect(page.locator("#backfill-counts")).to_contain_text("1 of 1 ended", timeout=60_000)
    link = page.locator("#backfill-executions tbody tr a")
    execution_id = link.inner_text()
    got = server.client.get(f"{API}/executions/{execution_id}").json()
    assert got["inputs"] == {"who": "the past"}
    assert got["trigger"]["id"] == "every_hour"
    link.click()
    expect(page.locator("#execution-state")).to_have_text("SUCCESS")


def test_a_backfill_the_api_refuses_says_why(ui: UiPage, server: ApiServer) -> None:
    server.deploy(HOURLY)
    page = ui.open("/ui/flows/company.team/hourly?tab=triggers")
    page.locator('[data-trigger="company.team.hourly.every_hour"] button.backfill').click()
    page.fill("#backfill-start", "2026-02-01T05:30:00")
    page.fill("#backfill-end", "2026-01-01T05:30:00")
    # The 422 is expected: the browser logs the failed request.
    page.click("#backfill-submit")
    expect(page.locator("#banner")).to_contain_text("backfill.end is before backfill.start")
    ui.errors[:] = [e for e in ui.errors if "422" not in e]
    # Inputs the flow refuses: no execution, and each date says why.
    page.fill("#backfill-end", "2026-02-01T06:30:00")
    page.fill("#backfill-inputs", '{"who": ["not", "text"]}')
    page.click("#backfill-submit")
    expect(page.locator("#backfill-progress")).to_contain_text("0 date(s)")
    expect(page.locator("#backfill-warnings li")).to_have_count(1)
    expect(page.locator("#backfill-warnings")).to_contain_text("input 'who'")
    expect(page.locator("#banner")).to_contain_text("1 date(s) not")


FILES = """\
id: files
namespace: company.team
tasks:
  - id: produce
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["report.txt", "blob.bin"]
    commands:
      - printf 'total=7\\nrows=2\\n' > report.txt
      - head -c 200000 /dev/urandom > blob.bin
outputs:
  - id: report
    type: FILE
    value: "{{ outputs.produce.outputFiles['report.txt'] }}"
"""

USER = ("admin", "a long password")


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[ApiServer]:
    config = Config.model_validate(
        {"server": {"basicAuth": {"username": USER[0], "password": USER[1]}}}
    )
    running = start_server(tmp_path, config)
    server = next(running)
    server.client.auth = USER
    try:
        yield server
    finally:
        next(running, None)


def test_output_files_download_and_preview_with_basic_auth(
    browser: Browser, guarded: ApiServer, tmp_path: Path
) -> None:
    guarded.deploy(FILES)
    started = guarded.start("company.team", "files", wait="true")
    assert started.status_code == 200, started.text
    execution = started.json()
    assert execution["state"]["current"] == "SUCCESS", execution
    files = next(r for r in execution["taskRunList"] if r["taskId"] == "produce")["outputs"][
        "outputFiles"
    ]
    context = browser.new_context(
        viewport={"width": 1280, "height": 860},
        http_credentials={"username": USER[0], "password": USER[1]},
        accept_downloads=True,
    )
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    def on_error(error: Error) -> None:
        errors.append(f"page error: {error.message}")

    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("console", on_console)
        page.on("pageerror", on_error)
        page.goto(f"{guarded.url}/ui/executions/{execution['id']}")
        outputs = page.locator('[data-outputs="produce"]')
        expect(outputs.locator("a.file")).to_have_count(2)
        for name in ("report.txt", "blob.bin"):
            with page.expect_download() as info:
                outputs.locator(f'a.file[data-file="{files[name]}"]').click()
            saved = tmp_path / f"got-{name}"
            info.value.save_as(saved)
            assert info.value.suggested_filename == name
            wanted = guarded.client.get(
                f"{API}/executions/{execution['id']}/file", params={"path": files[name]}
            )
            assert saved.read_bytes() == wanted.content
        assert len((tmp_path / "got-blob.bin").read_bytes()) == 200_000
        # A small text file is shown; a large one is not read.
        outputs.locator(f'button[data-preview-of="{files["report.txt"]}"]').click()
        expect(outputs.locator("pre.preview")).to_have_text("total=7\nrows=2\n")
        outputs.locator(f'button[data-preview-of="{files["blob.bin"]}"]').click()
        expect(outputs).to_contain_text("too large to preview")
        # The flow's FILE output is a link too.
        expect(page.locator("#flow-outputs a.file")).to_have_attribute(
            "data-file", files["report.txt"]
        )
    finally:
        context.close()
    assert errors == [], "JavaScript errors:\n" + "\n".join(errors)


def test_topology_is_the_api_graph(ui: UiPage, server: ApiServer) -> None:
    server.deploy(BRANCHY)
    graph = server.client.get(f"{API}/flows/company.team/branchy/graph").json()
    page = ui.open("/ui/flows/company.team/branchy?tab=topology")
    topo = page.locator("#topology")
    expect(topo).to_be_visible()
    tasks = [n["uid"] for n in graph["nodes"] if n["type"].endswith("GraphTask")]
    assert len(tasks) == 8
    for uid in tasks:
        expect(topo.locator(f'[data-uid="{uid}"]')).to_have_count(1)
    for cluster in graph["clusters"]:
        expect(topo.locator(f'[data-cluster="{cluster["cluster"]["uid"]}"]')).to_have_count(1)
    # The edges' order and relations: fan, then choose; Parallel's side by side.
    main = page.locator("[data-block=tasks] > .topo-seq > .topo-task")
    expect(main).to_have_count(2)
    expect(main.nth(0)).to_have_attribute("data-uid", "root.fan")
    expect(main.nth(1)).to_have_attribute("data-uid", "root.choose")
    edges = {(e["source"], e["target"]): e["relation"]["relationType"] for e in graph["edges"]}
    drawn = page.locator(".topo-edge").evaluate_all(
        "(els) => els.map((e) => [e.dataset.source, e.dataset.target, e.dataset.relation])"
    )
    assert ["root.fan.end", "root.choose.root", "SEQUENTIAL"] in drawn
    for source, target, relation in drawn:
        assert edges[(source, target)] == relation
    fan = page.locator('[data-uid="root.fan"] [data-relation=PARALLEL] > .topo-parallel')
    expect(fan.locator("> .topo-task")).to_have_count(2)
    expect(page.locator('[data-uid="root.choose"] [data-relation=CHOICE]')).to_have_count(2)
    expect(page.locator("[data-block=errors]")).to_have_attribute(
        "data-cluster", "cluster_root.errors"
    )
    expect(page.locator('[data-block=errors] [data-uid="root.errors.alert"]')).to_be_visible()
    expect(page.locator('[data-block=finally] [data-uid="root.finally.cleanup"]')).to_be_visible()
