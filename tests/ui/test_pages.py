"""Each page of the UI loads in headless Chromium with no JavaScript error."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.api.conftest import ApiServer
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
    for tab in ("execute", "executions", "revisions"):
        page.click(f"[data-tab={tab}]")
    expect(page.locator("#revisions li")).to_have_count(1)
    page.goto(ui.url + "/ui/executions")
    expect(page.locator(f"tr[data-execution='{run['id']}']")).to_be_visible()
    page.goto(ui.url + f"/ui/executions/{run['id']}")
    expect(page.locator("#execution-state")).to_have_text("SUCCESS")
    expect(page.locator("#logs .log")).to_have_count(2)
    page.goto(ui.url + "/ui/dashboard")
    expect(page.locator("#executions-count")).to_have_text("1")
    expect(page.locator("#failure-rate")).to_have_text("0%")
    expect(page.locator("#slowest tbody tr")).to_have_count(1)
    for window in ("PT1H", "P7D"):
        page.select_option("#dashboard-window", window)
        expect(page.locator("#executions-count")).to_have_text("1")
    page.goto(ui.url + "/ui/flows/new")
    expect(page.locator("#validation")).to_have_text("Valid")
