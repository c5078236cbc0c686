"""The execution page follows a running execution through the API's server-sent
events (no polling of the execution), and its Replay button (a dialog that asks the
revision) starts a new one."""

from __future__ import annotations

import re

from playwright.sync_api import Request, expect

from tests.api.conftest import API, ApiServer
from tests.api.flows import HELLO
from tests.ui.conftest import UiPage

NAPPING = """\
id: napping
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT2S
  - id: done
    type: io.kestra.plugin.core.log.Log
    message: awake
"""


def test_a_running_execution_is_followed_live_not_polled(ui: UiPage, server: ApiServer) -> None:
    server.deploy(NAPPING)
    run = server.start("company.team", "napping").json()
    asked: list[str] = []

    def on_request(request: Request) -> None:
        asked.append(request.url.split("?")[0])

    ui.page.on("request", on_request)
    page = ui.open(f"/ui/executions/{run['id']}")
    expect(page.locator("#execution-state")).to_have_text("RUNNING", timeout=30_000)
    expect(page.locator("#execution-state")).to_have_text("SUCCESS", timeout=30_000)
    expect(page.locator("#logs")).to_contain_text("awake")
    follows = [u for u in asked if u.endswith(f"/executions/{run['id']}/follow")]
    polls = [u for u in asked if u.endswith(f"{API}/executions/{run['id']}")]
    # One read at first (index.html preloads it), then the stream: no polling.
    assert len(follows) == 1 and len(polls) == 1, asked
    assert asked.index(polls[0]) < asked.index(follows[0]), asked


def test_replay_opens_the_new_execution(ui: UiPage, server: ApiServer) -> None:
    server.deploy(HELLO)
    run = server.start("company.team", "hello", {"name": "Rae"}, wait="true").json()
    page = ui.open(f"/ui/executions/{run['id']}")
    expect(page.locator("#execution-state")).to_have_text("SUCCESS")
    page.click("#replay")
    # Kestra's replay dialog: the execution's revision by default.
    expect(page.locator("#replay-dialog h2")).to_have_text("Replay")
    expect(page.locator("#replay-revision")).to_have_value("1")
    page.click("#replay-dialog-submit")
    expect(page).not_to_have_url(re.compile(re.escape(run["id"]) + "$"))
    expect(page.locator("#execution-state")).to_have_text("SUCCESS", timeout=30_000)
    expect(page.locator("#logs")).to_contain_text("hello Rae x1")
