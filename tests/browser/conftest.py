"""Fixtures for the web UI: a book with users, the app, a live server and Chromium.

The live server is the real application under uvicorn in a background thread, on a free
port, over a book in a temporary folder; Playwright drives Debian's Chromium against it
(``open_session()`` opens a browser context that collects console errors; CSP violations
show up there). Chromium is never downloaded: without ``/usr/bin/chromium`` the browser
tests skip.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from crmledger.bootstrap import App, build, migrate
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.security import Argon2PasswordHasher
from crmledger.server import create_app

PASSWORD = "correct horse battery"
USERS = {
    "ann@example.com": "accountant",
    "vic@example.com": "viewer",
    "sue@example.com": "support",
    "aud@example.com": "auditor",
    "sam@example.com": "sales",
    "adm@example.com": "admin",
}
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


def make_book(folder: Path) -> App:
    """A migrated book (default chart, EUR) with one user per role the tests need."""
    settings = Settings(
        database_url=f"sqlite:///{folder / 'web.db'}", keyring_path=folder / "keys.json"
    )
    book = build(settings, hasher=Argon2PasswordHasher.fast_for_tests())
    migrate(book)
    book.ledger.init_book(chart("default"), "EUR")
    for email, role in USERS.items():
        book.access.add_user(email, role, PASSWORD)
    return book


def artifacts_dir() -> Path:
    """Where screenshots go: ``$CRMLEDGER_ARTIFACTS`` or ``build/artifacts`` (git-ignored),
    relative to the repository."""
    base = Path(os.environ.get("CRMLEDGER_ARTIFACTS", "build/artifacts"))
    folder = (base if base.is_absolute() else ROOT / base) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class LiveServer:
    """A running server and the book behind it."""

    url: str
    book: App


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The application under uvicorn, shared by the browser tests of a session."""
    book = make_book(tmp_path_factory.mktemp("web"))
    port = _free_port()
    config = uvicorn.Config(create_app(book), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the web server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", book)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        book.engine.dispose()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    yield browser
    browser.close()


@dataclass
class Session:
    """One browser context on the live server, collecting console errors."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)

    def watch(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        # A 4xx page itself (a 403, 404 or 422 the test asks for) is not a broken asset.
        if message.text.startswith("Failed to load resource") and "/static/" not in where:
            return
        self.errors.append(f"{message.text} ({where})")

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(artifacts_dir() / f"{name}.png"), full_page=True)

    def login(self, email: str, password: str = PASSWORD) -> None:
        self.go("/login")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.get_by_role("button", name="Log out")).to_be_visible()

    def csrf(self) -> str:
        token = self.page.locator('meta[name="csrf-token"]').get_attribute("content")
        assert token
        return token

    def assert_clean(self) -> None:
        assert self.errors == [], "console errors: " + "; ".join(self.errors)


@pytest.fixture
def open_session(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., Session]]:
    """Opens browser contexts (closed after the test): ``open_session(javascript=False)``."""
    contexts: list[BrowserContext] = []

    def make(*, viewport: ViewportSize = DESKTOP, javascript: bool = True) -> Session:
        context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
        context.set_default_timeout(5000)
        contexts.append(context)
        session = Session(context.new_page(), live_server.url)
        session.watch()
        return session

    yield make
    for context in contexts:
        context.close()
