"""The Triggers page (a Schedule's context, disabled and enabled again), the KV page
(set, show, delete a pair) and the namespace files page (browse, read, upload,
delete), in headless Chromium against a real server."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.api.conftest import API, ApiServer
from tests.ui.conftest import UiPage

YEARLY = """\
id: yearly
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: happy new year
triggers:
  - id: newyear
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 0 1 1 *"
"""


def test_disable_and_enable_a_schedule(ui: UiPage, server: ApiServer) -> None:
    server.deploy(YEARLY)
    page = ui.open("/ui/triggers")
    row = page.locator('[data-trigger="company.team.yearly.newyear"]')
    expect(row).to_be_visible(timeout=30_000)
    expect(row).to_contain_text("Schedule")
    row.locator("button.toggle").click()
    expect(row.locator("button.toggle")).to_have_text("Enable")
    expect(row).to_contain_text("disabled")
    found = server.client.get(f"{API}/triggers/search").json()["results"][0]
    assert found["state"]["disabled"] is True
    row.locator("button.toggle").click()
    expect(row.locator("button.toggle")).to_have_text("Disable")


def test_set_show_and_delete_a_pair(ui: UiPage, server: ApiServer) -> None:
    server.deploy(YEARLY)
    page = ui.open("/ui/kv?namespace=company.team")
    expect(page.locator("#kv")).to_contain_text("No pair")
    page.fill("#kv-key", "size")
    page.fill("#kv-new-value", "3")
    page.click("#kv-set")
    row = page.locator('[data-key="size"]')
    expect(row).to_be_visible()
    row.locator("button.show").click()
    expect(page.locator("#kv-value")).to_have_text("size (NUMBER): 3")
    got = server.client.get(f"{API}/namespaces/company.team/kv/size").json()
    assert got["type"] == "NUMBER" and got["value"] == 3
    row.locator("button.delete").click()
    expect(page.locator("#kv")).to_contain_text("No pair")


def test_upload_browse_read_and_delete_namespace_files(
    ui: UiPage, server: ApiServer, tmp_path: Path
) -> None:
    server.deploy(YEARLY)
    server.client.post(
        f"{API}/namespaces/company.team/files",
        params={"path": "/sql/one.sql"},
        files={"fileContent": ("one.sql", b"select 1")},
    )
    page = ui.open("/ui/files?namespace=company.team")
    page.locator('[data-file="/sql"] a.open').click()
    expect(page.locator("#nsfiles-path")).to_have_text("/sql")
    page.locator('[data-file="/sql/one.sql"] a.open').click()
    expect(page.locator("#nsfiles-content")).to_contain_text("select 1")
    upload = tmp_path / "two.sql"
    upload.write_text("select 2")
    page.set_input_files("#nsfiles-file", str(upload))
    page.click("#nsfiles-upload")
    expect(page.locator('[data-file="/sql/two.sql"]')).to_be_visible()
    got = server.client.get(f"{API}/namespaces/company.team/files", params={"path": "/sql/two.sql"})
    assert got.text == "select 2"
    page.locator('[data-file="/sql/one.sql"] button.delete').click()
    expect(page.locator('[data-file="/sql/one.sql"]')).to_have_count(0)
