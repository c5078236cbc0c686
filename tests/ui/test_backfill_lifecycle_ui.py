"""A long backfill in headless Chromium against a real server: its progress is read
from the trigger's state (a reload shows it, on the Triggers page and in the panel),
and the panel's Pause, Resume and Delete buttons drive it."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.api.conftest import API, ApiServer
from tests.ui.conftest import UiPage
from tests.ui.test_backfill_files_graph import HOURLY

ROW = '[data-trigger="company.team.hourly.every_hour"]'


def _created(server: ApiServer) -> int:
    found = server.client.get(f"{API}/executions/search", params={"flowId": "hourly"}).json()
    return int(found["total"])


def test_pause_resume_and_delete_a_backfill_that_survives_a_reload(
    ui: UiPage, server: ApiServer
) -> None:
    server.deploy(HOURLY)
    page = ui.open("/ui/triggers")
    expect(page.locator(ROW)).to_be_visible(timeout=30_000)
    page.locator(f"{ROW} button.backfill").click()
    expect(page.locator("#backfill-status")).to_have_text("No backfill.")
    # A year of hours: 8,760 dates, far more than the test lasts at 10 per tick.
    page.fill("#backfill-start", "2025-01-01T00:30:00")
    page.fill("#backfill-end", "2025-12-31T00:30:00")
    page.fill("#backfill-labels", "batch=ui\nteam=data")
    page.click("#backfill-submit")
    expect(page.locator("#backfill-status")).to_have_text("Running", timeout=30_000)
    page.wait_for_function(
        "() => Number(document.querySelector('#backfill-progress').dataset.created) > 0",
        timeout=60_000,
    )
    page.click("#backfill-pause")
    expect(page.locator("#backfill-status")).to_have_text("Paused")
    state = server.client.get(f"{API}/triggers/search").json()["results"][0]["state"]
    assert state["backfill"]["paused"] is True
    assert state["backfill"]["labels"] == [
        {"key": "batch", "value": "ui"},
        {"key": "team", "value": "data"},
    ]
    count = _created(server)
    time.sleep(2.5)  # a few of the server's ticks: a paused backfill makes nothing
    assert _created(server) == count

    # A reload: the Triggers page and the panel read the state the server holds.
    page = ui.open("/ui/triggers")
    expect(page.locator(f"{ROW} .backfill-state")).to_contain_text("backfill paused")
    page.locator(f"{ROW} button.backfill").click()
    expect(page.locator("#backfill-status")).to_have_text("Paused")
    expect(page.locator("#backfill-counts")).to_contain_text(f"{count} execution(s) created")
    execution = server.client.get(f"{API}/executions/search", params={"flowId": "hourly"})
    labels = execution.json()["results"][0]["labels"]
    assert {"key": "batch", "value": "ui"} in labels
    page.click("#backfill-resume")
    expect(page.locator("#backfill-status")).to_have_text("Running")
    page.wait_for_function(
        f"() => Number(document.querySelector('#backfill-progress').dataset.created) > {count}",
        timeout=60_000,
    )
    page.click("#backfill-delete")
    expect(page.locator("#backfill-status")).to_have_text("No backfill.")
    expect(page.locator(f"{ROW} .backfill-state")).to_have_count(0, timeout=30_000)
    state = server.client.get(f"{API}/triggers/search").json()["results"][0]["state"]
    assert state["backfill"] is None
    assert _created(server) > count  # what it made stays
