"""The web UI in headless Chromium: Debian's `chromium` (never a downloaded
browser) driven by playwright, against a real server (`serve()` on a thread,
HTTP on 127.0.0.1, a fresh SQLite store) for each test.

Every page a test opens collects its console errors and uncaught page errors;
a test that ends with any fails, unless it declared them expected."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright

from lanner.config import Config
from tests.api.conftest import ApiServer, start_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",  # root (CI) cannot use Chromium's sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


@dataclass
class UiPage:
    page: Page
    url: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> Page:
        self.page.goto(self.url + path)
        return self.page


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    yield from start_server(tmp_path, Config())


@pytest.fixture
def ui(browser: Browser, server: ApiServer) -> Iterator[UiPage]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(20_000)
    found = UiPage(page, server.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.errors.append(f"console: {message.text} at {message.location}")

    def on_error(error: Error) -> None:
        found.errors.append(f"page error: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_error)
    try:
        yield found
    finally:
        context.close()
    assert found.errors == [], "JavaScript errors:\n" + "\n".join(found.errors)
