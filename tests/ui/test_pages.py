"""Each page of the UI loads in headless Chromium with no JavaScript error."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.api.conftest import API, ApiServer
from tests.api.flows import HELLO
from tests.ui.conftest import UiPage


def test_root_redirects_to_the_flows_list(ui: UiPage) -> None:
    page = ui.open("/")
    expect(page).to_have_url(ui.url + "/ui/flows")
    expect(page.locator("h1")).to_have_text("Flows")


def test_every_page_loads(ui: UiPage, server: ApiServer) -> None:
    server.deploy(HELLO)
    run = server.start("company.team", "hello", wait="true").json()
    page = ui.open("/ui/flows")
    expect(page.locator("#flows tbody tr[data-flow='company.team.hello']")).to_be_visible()
    page.click("text=hello")
    expect(page.locator("#flow-revision")).to_have_text("revision 1")
    expect(page.locator("#validation")).to_have_text("Valid")
    page.click("[data-tab=execute]")
    expect(page.locator("#input-name")).to_have_value("world")
    page.click("[data-tab=executions]")
    expect(page.locator(f"#executions tr[data-execution='{run['id']}']")).to_be_visible()
    page.click("[data-tab=revisions]")
    expect(page.locator("#revisions li")).to_have_count(1)
    page.goto(ui.url + "/ui/executions")
    expect(page.locator(f"tr[data-execution='{run['id']}']")).to_be_visible()
    page.goto(ui.url + f"/ui/executions/{run['id']}")
    expect(page.locator("#execution-state")).to_have_text("SUCCESS")
    expect(page.locator("#logs .log")).to_have_count(2)
    page.click(".gantt-row[data-task=warn] .gantt-name")
    expect(page.locator("#log-task")).to_have_value("warn")
    expect(page.locator("#logs .log")).to_have_count(1)
    download = page.locator("#logs-download")
    expect(download).to_have_attribute("href", f"/api/v1/main/logs/{run['id']}/download")
    page.goto(ui.url + "/ui/dashboard")
    expect(page.locator("#executions-count")).to_have_text("1")
    expect(page.locator("#failure-rate")).to_have_text("0%")
    expect(page.locator("#slowest tbody tr")).to_have_count(1)
    for window in ("PT1H", "P7D"):
        page.select_option("#dashboard-window", window)
        expect(page.locator("#executions-count")).to_have_text("1")
    page.goto(ui.url + "/ui/flows/new")
    expect(page.locator("#validation")).to_have_text("Valid")


BRANCHY = """\
id: branchy
namespace: company.team
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
tasks:
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: left
        type: io.kestra.plugin.core.log.Log
        message: left
      - id: right
        type: io.kestra.plugin.core.log.Log
        message: right
  - id: choose
    type: io.kestra.plugin.core.flow.If
    condition: "{{ true }}"
    then:
      - id: accept
        type: io.kestra.plugin.core.log.Log
        message: yes
    else:
      - id: reject
        type: io.kestra.plugin.core.log.Log
        message: no
errors:
  - id: alert
    type: io.kestra.plugin.core.log.Log
    message: failed
finally:
  - id: cleanup
    type: io.kestra.plugin.core.log.Log
    message: done
"""


def test_topology_shows_flowables_and_blocks_apart(ui: UiPage, server: ApiServer) -> None:
    server.deploy(BRANCHY)
    page = ui.open("/ui/flows/company.team/branchy?tab=topology")
    tasks = page.locator("[data-block=tasks]")
    expect(tasks.locator("[data-task=fan] [data-task=left]")).to_be_visible()
    expect(tasks.locator("[data-task=choose] [data-task=reject]")).to_be_visible()
    expect(tasks.locator("[data-task=choose] .topo-label")).to_have_text(["then", "else"])
    expect(page.locator("[data-block=errors] [data-task=alert]")).to_be_visible()
    expect(page.locator("[data-block=finally] [data-task=cleanup]")).to_be_visible()
    expect(tasks.locator("[data-task=alert]")).to_have_count(0)
    expect(page.locator("[data-block=triggers] [data-trigger=nightly]")).to_contain_text(
        "0 2 * * *"
    )


def test_executions_time_range_filter(ui: UiPage, server: ApiServer) -> None:
    server.deploy(HELLO)
    run = server.start("company.team", "hello", wait="true").json()
    page = ui.open("/ui/executions?timeRange=PT1H")
    expect(page.locator("#filter-time")).to_have_value("PT1H")
    expect(page.locator(f"tr[data-execution='{run['id']}']")).to_be_visible()
    page.select_option("#filter-time", "P7D")
    expect(page).to_have_url(f"{ui.url}/ui/executions?timeRange=P7D")
    expect(page.locator(f"tr[data-execution='{run['id']}']")).to_be_visible()


def test_restore_a_revision_and_disable_the_flow(ui: UiPage, server: ApiServer) -> None:
    server.deploy(HELLO)
    server.client.put(
        f"{API}/flows/company.team/hello",
        content=HELLO.replace("careful", "changed"),
        headers={"Content-Type": "application/x-yaml"},
    )
    page = ui.open("/ui/flows/company.team/hello?tab=revisions")
    expect(page.locator("#revisions li")).to_have_count(2)
    expect(page.locator("pre.diff .add")).to_contain_text("changed")
    expect(page.locator("pre.diff .del")).to_contain_text("careful")
    expect(page.locator("#restore-revision")).to_have_count(0)  # the latest is shown first
    page.click("#revisions li[data-revision='1']")
    page.click("#restore-revision")
    expect(page.locator("textarea.source")).to_have_value(HELLO)
    page.click("#save-flow")
    expect(page.locator("#flow-revision")).to_have_text("revision 3")
    page.click("#toggle-flow")
    expect(page.locator("#flow-disabled")).to_be_visible()
    expect(page.locator("#flow-revision")).to_have_text("revision 4")
    assert "disabled: true" in server.client.get(f"{API}/flows/company.team/hello").json()["source"]
    page.click("#toggle-flow")
    expect(page.locator("#flow-disabled")).to_have_count(0)


def test_an_unknown_execution_says_so_and_stops_asking(ui: UiPage) -> None:
    page = ui.open("/ui/executions/doesnotexist")
    expect(page.locator("#banner")).to_contain_text("doesnotexist")
    page.wait_for_timeout(2500)  # several polling periods: no more requests
    assert all("404" in e for e in ui.errors), ui.errors
    assert 1 <= len(ui.errors) <= 2, ui.errors  # the execution and its logs, once
    ui.errors.clear()
