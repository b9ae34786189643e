"""Fixtures for the web UI: a book with users, the app, and a live server for Chromium.

The live server is the real application under uvicorn in a background thread, on a free
port, over a book in a temporary folder; Playwright drives Debian's Chromium against it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

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
}
ROOT = Path(__file__).resolve().parents[2]


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
